"""The state machine: every transition the table allows works, every other one is refused."""

from __future__ import annotations

from itertools import product

import pytest
from flask import Flask

from core.booking import TRANSITIONS, BookingRefused, can_transition
from core.booking.states import FINAL_STATES, transition
from core.extensions import db
from core.models import BOOKING_STATES
from tests.support.booking_factories import bookable, booking_in

PAIRS = list(product(BOOKING_STATES, BOOKING_STATES))


def test_the_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(BOOKING_STATES)
    assert {"cancelled", "rejected", "attended", "no_show"} == FINAL_STATES
    assert all(targets <= set(BOOKING_STATES) for targets in TRANSITIONS.values())


def test_the_allowed_transitions() -> None:
    allowed = {(old, new) for old, new in PAIRS if can_transition(old, new)}
    assert allowed == {
        ("pending", "confirmed"),
        ("pending", "rejected"),
        ("pending", "cancelled"),
        ("confirmed", "cancelled"),
        ("confirmed", "attended"),
        ("confirmed", "no_show"),
        ("waitlisted", "confirmed"),
        ("waitlisted", "pending"),
        ("waitlisted", "offered"),
        ("waitlisted", "cancelled"),
        ("offered", "confirmed"),
        ("offered", "pending"),
        ("offered", "cancelled"),
    }


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{o}->{n}" for o, n in PAIRS])
def test_transition(app: Flask, old: str, new: str) -> None:
    _svc, slot = bookable(capacity=5)
    booking = booking_in(slot, old)
    if can_transition(old, new):
        change = transition(booking, new)
        db.session.commit()
        assert (change.old, change.new, change.booking) == (old, new, booking)
        db.session.expire_all()
        assert booking.status == new
    else:
        with pytest.raises(BookingRefused) as refused:
            transition(booking, new)
        assert refused.value.codes == ["invalid_transition"]
        db.session.rollback()
        db.session.expire_all()
        assert booking.status == old


def test_a_stale_transition_is_refused(app: Flask) -> None:
    """Two sessions saw the booking pending; only the first change wins."""
    _svc, slot = bookable(capacity=5)
    booking = booking_in(slot, "pending")
    db.session.execute(
        booking.__table__.update()
        .where(booking.__table__.c.id == booking.id)
        .values(status="cancelled")
    )  # another request changed it behind this session's back
    with pytest.raises(BookingRefused) as refused:
        transition(booking, "confirmed")
    assert refused.value.codes == ["invalid_transition"]
    assert booking.status == "cancelled"  # refreshed from the row
