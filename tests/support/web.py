"""Helpers for driving the app through its test client like a browser would."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token the page at ``path`` would put in its forms."""
    response = client.get(path)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {response.status_code})"
    return match.group(1)


def submit(
    client: FlaskClient, path: str, data: dict[str, Any], *, page: str | None = None, **kwargs: Any
) -> TestResponse:
    """POST ``data`` to ``path`` with the CSRF token of ``page`` (default: ``path``)."""
    token = csrf_token(client, page or path)
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


def form_login(client: FlaskClient, email: str, password: str) -> TestResponse:
    """Log in through the login form itself (CSRF token included), as a person would."""
    return submit(client, "/login", {"email": email, "password": password})
