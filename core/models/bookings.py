"""Bookings: a resident's claim on seats of a slot, and its life from pending to attended."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from core.extensions import db
from core.models.catalogue import Service, Slot
from core.models.types import UTCDateTime, utcnow
from core.models.users import User

BOOKING_STATES = (
    "pending",
    "confirmed",
    "waitlisted",
    "offered",
    "cancelled",
    "rejected",
    "attended",
    "no_show",
)
LIVE_STATES = ("pending", "confirmed", "waitlisted", "offered")
SEAT_HOLDING_STATES = ("pending", "confirmed", "offered")
_LIVE_SQL = "status IN ('pending', 'confirmed', 'waitlisted', 'offered')"
_WAITING_SQL = "status IN ('waitlisted', 'offered')"


def new_public_id() -> str:
    """An unguessable identifier for URLs (bookings are never addressed by their row id).

    Sixteen URL-safe characters, the first a letter or a digit: a reference that began with
    ``-`` would be read as a formula by spreadsheets, so CSV exports would have to escape it.
    """
    while True:
        candidate = secrets.token_urlsafe(12)
        if candidate[0].isalnum():
            return candidate


class Booking(db.Model):
    """One booking. At most one live booking per person and slot (partial unique index)."""

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'waitlisted', 'offered', 'cancelled', "
            "'rejected', 'attended', 'no_show')",
            name="known_status",
        ),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        Index(
            "uq_booking_live_per_user_slot",
            "slot_id",
            "user_id",
            unique=True,
            sqlite_where=text(_LIVE_SQL),
            postgresql_where=text(_LIVE_SQL),
        ),
        Index("uq_booking_idempotency", "user_id", "idempotency_key", unique=True),
        Index("ix_booking_user_created", "user_id", "created_at"),
        # "My bookings": a person's bookings by slot end (history, newest first; upcoming is the
        # range not yet ended), with what the two lists filter and sort on, so the counts are
        # index-only and the pages read no other person's rows.
        Index(
            "ix_booking_user_slot_ends",
            "user_id",
            "slot_ends_at",
            "id",
            "status",
            "slot_starts_at",
        ),
        # The reports read a district's bookings from this index alone (index-only scans, one
        # probe per service of the district): every column they aggregate is in it.
        Index(
            "ix_booking_service_status",
            "service_id",
            "status",
            "slot_id",
            "seats",
            "cancelled_by",
            "rating",
        ),
        # The few bookings waiting for a seat, for the waiting-list figure.
        Index(
            "ix_booking_waiting",
            "service_id",
            "slot_id",
            sqlite_where=text(_WAITING_SQL),
            postgresql_where=text(_WAITING_SQL),
        ),
        Index("ix_booking_slot_status", "slot_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), nullable=True
    )
    # Copies of the slot's times, so "my bookings" sorts and pages on one index of this table.
    # A slot's start never changes; its end only through ``regenerate_slots``, which updates
    # these. Filled from the slot on insert when not given (see ``_copy_slot_times``).
    slot_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seats: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    applicant_name: Mapped[str] = mapped_column(String(200), default="")
    applicant_email: Mapped[str] = mapped_column(String(254), default="")
    applicant_phone: Mapped[str] = mapped_column(String(40), default="")
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_by: Mapped[str] = mapped_column(String(16), default="")
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    slot: Mapped[Slot] = relationship()
    service: Mapped[Service] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def is_live(self) -> bool:
        """Whether the booking still holds or waits for a seat."""
        return self.status in LIVE_STATES


@event.listens_for(Booking, "before_insert")
def _copy_slot_times(_mapper: Mapper[Booking], connection: Connection, target: Booking) -> None:
    """Fill ``slot_starts_at``/``slot_ends_at`` from the slot when the caller did not."""
    if target.slot_starts_at is not None and target.slot_ends_at is not None:
        return
    slot = target.__dict__.get("slot")
    if slot is not None:
        starts, ends = slot.starts_at, slot.ends_at
    else:
        starts, ends = connection.execute(
            select(Slot.starts_at, Slot.ends_at).where(Slot.id == target.slot_id)
        ).one()
    target.slot_starts_at, target.slot_ends_at = starts, ends
