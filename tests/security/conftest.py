"""Fixtures of the security tests: the seeded scenario, and an app without CSRF checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.security.scenario import Scenario, seed


@pytest.fixture
def scenario(app: Flask) -> Scenario:
    """Two districts, three organisations, a booking, one user per role (committed)."""
    return seed()


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[Flask]:
    """The app with CSRF checks off, for tests that are about something else (then restored)."""
    previous = app.config.get("WTF_CSRF_ENABLED", True)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        yield app
    finally:
        app.config["WTF_CSRF_ENABLED"] = previous
