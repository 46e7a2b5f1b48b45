"""Webhooks (the ``webhooks`` plugin's tables) and their delivery log.

The models live in the core's model package, not in ``plugins/webhooks``, so that the one
Alembic migration of the core creates them (the migration environment only sees the tables
``core.models`` imports, and the core must not import a plugin). The plugin owns the behaviour.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.types import UTCDateTime, utcnow

DELIVERY_STATES = ("pending", "delivered", "failed")


def event_names(events: str) -> list[str]:
    """The event names of a webhook's comma-separated ``events`` setting."""
    return [e.strip() for e in events.split(",") if e.strip()]


def wants(events: str, event: str) -> bool:
    """Whether a webhook whose ``events`` setting is this gets ``event`` (``*``: all)."""
    names = event_names(events)
    return "*" in names or event in names


class Webhook(db.Model):
    """A URL that receives a district's (or one organisation's) booking events, signed."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("district.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=True, index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[str] = mapped_column(String(500), default="*")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="webhook", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def event_list(self) -> list[str]:
        """The event names this webhook wants (``*``: all)."""
        return event_names(self.events)

    def wants(self, event: str) -> bool:
        """Whether ``event`` is delivered to this webhook."""
        return wants(self.events, event)


class WebhookDelivery(db.Model):
    """One event to deliver to one webhook: the outbox row and its log (attempts, answer)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhook.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")
