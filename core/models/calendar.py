"""Private calendar feeds: a secret URL per person that calendar apps subscribe to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.types import UTCDateTime, utcnow
from core.models.users import User


class CalendarFeed(db.Model):
    """A person's iCal feed secret. Only its SHA-256 is stored; a revoked feed stays revoked."""

    __tablename__ = "calendar_feed"
    __table_args__ = (Index("ix_calendar_feed_user_revoked", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        """Whether the feed still answers."""
        return self.revoked_at is None
