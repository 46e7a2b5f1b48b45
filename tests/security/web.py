"""Request helpers for security tests."""

from __future__ import annotations

import secrets

from flask import current_app
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer


def csrf_for(client: FlaskClient) -> str:
    """A valid CSRF token for ``client``'s session, made as Flask-WTF makes it (no page load)."""
    app = client.application
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    with client.session_transaction() as session:
        raw = session.get(field)
        if raw is None:
            raw = session[field] = secrets.token_hex(20)
    with app.app_context():
        secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)
