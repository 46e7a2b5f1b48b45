"""Password hashing (scrypt through Werkzeug) and the strength rule."""

from __future__ import annotations

import secrets
import string

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


def hash_password(password: str) -> str:
    """Hash a password with scrypt and a random salt."""
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against its stored hash (constant-time)."""
    return bool(password_hash) and check_password_hash(password_hash, password)


# A hash of a random password, checked when an account does not exist so that a wrong email
# takes as long as a wrong password (no enumeration by timing).
DUMMY_HASH = hash_password("not-a-real-password-0123456789")


def character_classes(password: str) -> set[str]:
    """The kinds of characters in ``password``: lower, upper, digit, other.

    >>> sorted(character_classes("abc1"))
    ['digit', 'lower']
    """
    classes: set[str] = set()
    for char in password:
        if char.isdigit():
            classes.add("digit")
        elif char.isalpha():
            classes.add("upper" if char.isupper() else "lower")
        else:
            classes.add("other")
    return classes


def password_problems(password: str, email: str = "") -> list[str]:
    """What is wrong with ``password`` as a new password, as localized sentences (empty: fine).

    The rule: at least :data:`MIN_PASSWORD_LENGTH` characters, not all of one kind (only
    lower-case letters, only digits…), and not the account's email address.
    """
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            _("The password must be at least %(count)d characters long.", count=MIN_PASSWORD_LENGTH)
        )
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems.append(
            _("The password must be at most %(count)d characters long.", count=MAX_PASSWORD_LENGTH)
        )
    elif len(character_classes(password)) < 2:
        problems.append(
            _(
                "The password must mix different kinds of characters: for example letters"
                " and numbers, or upper- and lower-case letters."
            )
        )
    if email and password.strip().casefold() == email.strip().casefold():
        problems.append(_("The password must not be your email address."))
    return problems


def generate_password(length: int = 16) -> str:
    """A random password that satisfies :func:`password_problems` (letters, digits, symbols)."""
    alphabet = string.ascii_letters + string.digits + "-_.!?"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _position in range(length))
        if len(character_classes(candidate)) >= 3:
            return candidate
