"""Logging a test client in without going through the login form."""

from __future__ import annotations

from flask.testing import FlaskClient

from core.models import User


def login_as(client: FlaskClient, user: User) -> None:
    """Make ``client``'s session belong to ``user`` (as Flask-Login would after a login)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
