"""The booking state machine: one table of allowed transitions, one function to move.

::

    pending    -> confirmed (approve), rejected (reject), cancelled
    confirmed  -> cancelled, attended, no_show
    waitlisted -> confirmed / pending (seat freed, no hold), offered (seat held), cancelled
    offered    -> confirmed / pending (offer accepted), cancelled (declined or expired)

``cancelled``, ``rejected``, ``attended`` and ``no_show`` are final.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from core.booking import events
from core.booking.errors import BookingRefused
from core.extensions import db
from core.models import Booking
from core.models.bookings import SEAT_HOLDING_STATES
from core.models.types import utcnow

log = logging.getLogger(__name__)

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"confirmed", "rejected", "cancelled"}),
    "confirmed": frozenset({"cancelled", "attended", "no_show"}),
    "waitlisted": frozenset({"confirmed", "pending", "offered", "cancelled"}),
    "offered": frozenset({"confirmed", "pending", "cancelled"}),
    "cancelled": frozenset(),
    "rejected": frozenset(),
    "attended": frozenset(),
    "no_show": frozenset(),
}
FINAL_STATES = frozenset(state for state, targets in TRANSITIONS.items() if not targets)


@dataclass(frozen=True)
class StateChange:
    """A committed-to-be change of one booking, reported to ``booking_state_changed``."""

    booking: Booking
    old: str
    new: str


def can_transition(old: str, new: str) -> bool:
    """Whether the table allows ``old`` -> ``new``."""
    return new in TRANSITIONS.get(old, frozenset())


def holds_seats(status: str) -> bool:
    """Whether a booking in ``status`` holds its seats on the slot."""
    return status in SEAT_HOLDING_STATES


def transition(
    booking: Booking, new: str, *, now: datetime | None = None, **fields: Any
) -> StateChange:
    """Move ``booking`` to ``new`` (and set ``fields``) if the table allows it.

    The change is one conditional UPDATE on the status the caller saw, so two concurrent
    changes of the same booking cannot both succeed (e.g. a double cancel releasing seats
    twice). Runs in the caller's transaction, where it records the event for the plugins'
    ``booking_events``; raises ``BookingRefused(invalid_transition)``.
    """
    old = booking.status
    if not can_transition(old, new):
        raise BookingRefused.single("invalid_transition")
    values = {"status": new, "updated_at": now or utcnow(), **fields}
    result = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == old)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # someone else changed it first
        db.session.refresh(booking)
        raise BookingRefused.single("invalid_transition")
    for key, value in values.items():  # mirror the row without a second UPDATE
        set_committed_value(booking, key, value)
    events.record(booking, f"booking.{new}", old=old)
    return StateChange(booking, old, new)


def call_after_commit(hook_name: str, **kwargs: Any) -> None:
    """Call an after-commit hook plugin by plugin; a plugin that raises is logged and skipped.

    The change is already committed: a broken webhook or SMS plugin must neither hide it
    from the person who made it nor stop the other plugins from hearing about it.
    """
    caller = getattr(current_app.extensions["concilia"].hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        try:
            impl.function(**{name: kwargs[name] for name in impl.argnames})
        except Exception:
            log.exception("plugin %s failed in %s", impl.plugin_name, hook_name)


def announce(changes: Iterable[StateChange]) -> None:
    """Call ``booking_state_changed`` for each change (after the commit)."""
    for change in changes:
        call_after_commit(
            "booking_state_changed", booking=change.booking, old=change.old, new=change.new
        )
