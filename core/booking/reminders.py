"""Reminders: one mail per confirmed booking shortly before it starts, never two."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.booking import notifications
from core.extensions import db
from core.models import Booking, Slot
from core.models.types import utcnow


def send_reminders(now: datetime | None = None, lead: timedelta = timedelta(hours=24)) -> int:
    """Queue a reminder for each confirmed booking starting within ``lead``; returns how many.

    Each booking is claimed with a conditional UPDATE on ``reminder_sent_at IS NULL`` before
    its mail is queued, in the same transaction: two runs at once never remind twice (on
    PostgreSQL the second waits for the first's row lock, then finds the column set).
    """
    now = now or utcnow()
    ids = db.session.scalars(
        select(Booking.id)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.status == "confirmed",
            Booking.reminder_sent_at.is_(None),
            Slot.starts_at > now,
            Slot.starts_at <= now + lead,
            Slot.cancelled.is_(False),
        )
        .order_by(Slot.starts_at, Booking.id)
    ).all()
    sent = 0
    for booking_id in ids:
        claimed = db.session.execute(
            update(Booking)
            .where(
                Booking.id == booking_id,
                Booking.reminder_sent_at.is_(None),
                Booking.status == "confirmed",
            )
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            db.session.rollback()
            continue
        booking = db.session.get(Booking, booking_id)
        assert booking is not None
        db.session.refresh(booking)
        notifications.booking_event(booking, "reminder")
        db.session.commit()
        sent += 1
    return sent
