"""Personal access tokens for the JSON API: only the SHA-256 of the secret is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.types import UTCDateTime, utcnow
from core.models.users import User

TOKEN_SCOPES = ("read", "read-write")


class ApiToken(db.Model):
    """A person's API token (``Authorization: Bearer …``); a revoked token stays revoked."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user_revoked", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16), default="read")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        """Whether the token still authenticates."""
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        """Whether the token may change things (book, cancel, decide)."""
        return self.scope == "read-write"
