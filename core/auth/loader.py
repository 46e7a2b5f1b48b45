"""Flask-Login's user loader: the session id carries a version so a password change logs out."""

from __future__ import annotations

from core.extensions import db
from core.models import User


def load_user(session_id: str) -> User | None:
    """Return the user of ``"<id>:<session_version>"``, or None if stale or malformed."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user
