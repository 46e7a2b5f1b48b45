"""Booking events, handed to the plugins inside the transaction that makes them.

The engine records an event whenever a booking is created or changes state
(:func:`record`). Just before that transaction commits, the plugins' ``booking_events``
hook receives all of them at once, so a plugin can write its own outbox rows (webhook
deliveries, an audit feed) in the same transaction: they commit with the change, or not at
all, and no event is lost if the process dies right after the commit. What the plugins do
over the network belongs after the commit, in ``booking_created`` / ``booking_state_changed``
or in a worker that reads their outbox.

The engine publishes explicitly where it matters (before it claims seats, so the plugins'
reads do not run while the slot's row is locked); a session listener publishes whatever is
left at commit, and a rollback forgets the events with the changes they described.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from core.extensions import db
from core.models import Booking

PENDING_KEY = "concilia_booking_events"


@dataclass(frozen=True)
class BookingEvent:
    """Something that happened to a booking in the current transaction.

    ``name`` is ``booking.created`` or ``booking.<new status>``; ``status`` is the booking's
    status right after the event (later events in the same transaction may change it again);
    ``old`` the status before (``None`` for a new booking).
    """

    booking: Booking
    name: str
    status: str
    old: str | None = None


def record(booking: Booking, name: str, *, old: str | None = None) -> None:
    """Note an event of ``booking`` for the plugins, in the current transaction."""
    pending = db.session.info.setdefault(PENDING_KEY, [])
    pending.append(BookingEvent(booking, name, booking.status, old))


def publish_pending(session: Session | None = None) -> None:
    """Hand the events recorded so far to the plugins' ``booking_events`` hook, now.

    Runs in the caller's transaction; a plugin that raises aborts the change (its rows would
    have been written with it).
    """
    target = session if session is not None else db.session()
    events = target.info.pop(PENDING_KEY, None)
    if events:
        current_app.extensions["concilia"].hook.booking_events(events=events)


def _forget(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:  # a savepoint's rollback keeps the outer transaction's events
        session.info.pop(PENDING_KEY, None)


def install() -> None:
    """Publish pending events before every commit and forget them on rollback (idempotent)."""
    if not event.contains(Session, "before_commit", publish_pending):
        event.listen(Session, "before_commit", publish_pending)
        event.listen(Session, "after_soft_rollback", _forget)
