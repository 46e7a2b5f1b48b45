"""Personal access tokens: create (the secret is shown once), revoke, and authenticate.

Plain functions over a session; the secret is ``cnc_`` and 43 URL-safe characters, and only
its SHA-256 is stored, so a database leak does not leak working tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import ApiToken, User
from core.models.tokens import TOKEN_SCOPES
from core.models.types import utcnow

PREFIX = "cnc_"
MAX_ACTIVE = 20
_TOKEN_RE = re.compile(r"^cnc_[A-Za-z0-9_-]{20,100}$")


class TokenError(ValueError):
    """A token could not be made (bad scope or name, too many tokens)."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token: its row and its secret (shown once, never stored)."""

    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def active_tokens(session: Session, user: User) -> list[ApiToken]:
    """The person's tokens that still work, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def create_token(session: Session, user: User, name: str, scope: str = "read") -> IssuedToken:
    """Make a token for ``user`` (flushed, not committed); the secret is returned once."""
    name = name.strip()
    if scope not in TOKEN_SCOPES:
        raise TokenError(f"scope must be one of {', '.join(TOKEN_SCOPES)}")
    if not name or len(name) > 100:
        raise TokenError("the name must be 1 to 100 characters")
    if len(active_tokens(session, user)) >= MAX_ACTIVE:
        raise TokenError(f"at most {MAX_ACTIVE} active tokens per person")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret), scope=scope)
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


def revoke_token(session: Session, user: User, token_id: int) -> bool:
    """Revoke one of ``user``'s tokens (not committed); False if it is not theirs or gone."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret whose owner may log in; ``None`` otherwise.

    Records ``last_used_at`` (at most one write a minute per token).
    """
    if not _TOKEN_RE.match(secret):
        return None
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.commit()
    return token
