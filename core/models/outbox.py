"""The mail outbox: every message is written here in the same transaction as its cause.

Most messages are written whole. A booking's mail is written *unrendered* (empty subject and
body, with its booking and language) and composed by the sender just before it is sent: the
booking's request does not pay for rendering two templates.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from core.models.bookings import Booking


class OutboxMessage(db.Model):
    """An email waiting to be sent, or already sent (``sent_at``)."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), default="")
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # what an unrendered message is about: its mail goes if the booking is deleted
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), nullable=True, index=True
    )
    locale: Mapped[str] = mapped_column(String(8), default="")

    booking: Mapped[Booking | None] = relationship()

    @property
    def unrendered(self) -> bool:
        """Whether the sender still has to compose it (see ``core.notifications.outbox``)."""
        return not self.subject and not self.body_text
