"""Password hashing (scrypt through Werkzeug) and the strength rule."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """Hash a password with scrypt and a random salt."""
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against its stored hash (constant-time)."""
    return bool(password_hash) and check_password_hash(password_hash, password)


# A hash of a random password, checked when an account does not exist so that a wrong email
# takes as long as a wrong password (no enumeration by timing).
DUMMY_HASH = hash_password("not-a-real-password-0123456789")
