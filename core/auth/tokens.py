"""Signed, expiring links: email verification and password reset.

Each purpose has its own salt, so a token made for one can never be used for the other. A reset
token carries a fingerprint of the account's current password hash: once the password changes
(the reset itself, or any other change) every earlier reset link stops working.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from core.models import User

VERIFY_SALT = "concilia.verify-email.v1"
RESET_SALT = "concilia.reset-password.v1"


class TokenError(Exception):
    """A link that cannot be used; ``expired`` tells a stale link from a forged or used one."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class TokenPayload:
    """What a valid token says: the account, and the extra value it was bound to."""

    user_id: int
    bound_to: str


def _serializer(salt: str, issued_at: datetime | None = None) -> URLSafeTimedSerializer:
    signer: type[TimestampSigner] = TimestampSigner
    if issued_at is not None:
        stamp = int(issued_at.timestamp())

        class _IssuedAt(TimestampSigner):
            def get_timestamp(self) -> int:
                """The back-dated issue time."""
                return stamp

        signer = _IssuedAt
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=signer)


def password_fingerprint(password_hash: str) -> str:
    """A short keyed digest of a password hash: changes whenever the password changes."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def _dump(salt: str, payload: dict[str, Any], issued_at: datetime | None) -> str:
    return str(_serializer(salt, issued_at).dumps(payload))


def _load(salt: str, token: str, max_age: int) -> TokenPayload:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError(expired=True) from None
    except BadSignature:
        raise TokenError(expired=False) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise TokenError(expired=False)
    return TokenPayload(user_id=data["u"], bound_to=str(data.get("b", "")))


def make_verify_token(user: User, *, issued_at: datetime | None = None) -> str:
    """A link token confirming ``user``'s current email address.

    ``issued_at`` back-dates the token (tests use it to make an expired link).
    """
    return _dump(VERIFY_SALT, {"u": user.id, "b": user.email}, issued_at)


def read_verify_token(token: str) -> TokenPayload:
    """Decode a verification token; ``bound_to`` is the email it confirms. Raises TokenError."""
    return _load(VERIFY_SALT, token, current_app.config["CONCILIA_VERIFY_TOKEN_MAX_AGE"])


def make_reset_token(user: User, *, issued_at: datetime | None = None) -> str:
    """A single-use link token for choosing a new password."""
    return _dump(
        RESET_SALT, {"u": user.id, "b": password_fingerprint(user.password_hash)}, issued_at
    )


def read_reset_token(token: str) -> TokenPayload:
    """Decode a reset token; ``bound_to`` is the password fingerprint. Raises TokenError."""
    return _load(RESET_SALT, token, current_app.config["CONCILIA_RESET_TOKEN_MAX_AGE"])
