"""Fixtures of the security tests: the seeded scenario."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.security.scenario import Scenario, seed


@pytest.fixture
def scenario(app: Flask) -> Scenario:
    """Two districts, three organisations, a booking, one user per role (committed)."""
    return seed()
