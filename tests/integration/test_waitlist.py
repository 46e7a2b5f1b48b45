"""The waiting list: joining, first-come-first-served offers, direct confirmation, holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core.booking import (
    BookingRefused,
    accept_offer,
    book,
    cancel,
    expire_offers,
    join_waitlist,
    reject,
)
from core.booking.waitlist import waiting_line
from core.extensions import db
from core.models import Booking, OutboxMessage, Slot, User
from tests.support import factories as f
from tests.support.booking_factories import Recorder, bookable, booking_in
from tests.support.mail import composed
from tests.support.test_plugins import TEST_PLUGINS


def kinds_for(person: User) -> list[str]:
    """The kinds of mail queued for ``person``, oldest first."""
    return list(
        db.session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.recipient == person.email)
            .order_by(OutboxMessage.id)
        )
    )


def full_slot(capacity: int = 1, **service_fields: Any) -> tuple[Slot, Booking, User]:
    """A full slot, the booking that fills it, and its owner."""
    _svc, slot = bookable(capacity=capacity, max_seats_per_booking=3, **service_fields)
    holder = f.user()
    db.session.commit()
    booking = book(user=holder, slot_id=slot.id, seats=capacity)
    return slot, booking, holder


def queue(slot: Slot, n: int) -> list[tuple[User, Booking]]:
    """``n`` people on the slot's waiting list, in order."""
    people = [f.user() for _ in range(n)]
    db.session.commit()
    return [(p, join_waitlist(user=p, slot_id=slot.id)) for p in people]


@pytest.fixture
def recorder(make_app: Any) -> Iterator[Recorder]:
    """The booking-hook recorder, on an app whose context is active."""
    rec = Recorder()
    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, rec])
    with app.app_context():
        yield rec


def test_joining_the_waiting_list_of_a_full_slot(app: Flask) -> None:
    slot, _booking, _holder = full_slot()
    person = f.user()
    db.session.commit()
    waiting = join_waitlist(user=person, slot_id=slot.id)
    assert waiting.status == "waitlisted"
    db.session.refresh(slot)
    assert slot.taken == 1  # waiting holds no seat
    assert kinds_for(person) == ["booking_waitlisted"]
    with pytest.raises(BookingRefused) as refused:
        join_waitlist(user=person, slot_id=slot.id)
    assert refused.value.codes == ["already_booked"]


def test_a_slot_with_free_seats_has_no_waiting_list(app: Flask) -> None:
    _svc, slot = bookable(capacity=2)
    person = f.user()
    db.session.commit()
    with pytest.raises(BookingRefused) as refused:
        join_waitlist(user=person, slot_id=slot.id)
    assert refused.value.codes == ["slot_not_full"]


def test_services_without_a_waiting_list(app: Flask) -> None:
    slot, _booking, _holder = full_slot(waitlist_enabled=False)
    person = f.user()
    db.session.commit()
    with pytest.raises(BookingRefused) as refused:
        join_waitlist(user=person, slot_id=slot.id)
    assert refused.value.codes == ["waitlist_disabled"]


def test_the_booking_rules_apply_to_the_waiting_list(app: Flask) -> None:
    slot, _booking, _holder = full_slot()
    slot.service.quota_per_month = 0
    person = f.user()
    db.session.commit()
    with pytest.raises(BookingRefused) as refused:
        join_waitlist(user=person, slot_id=slot.id, seats=5)
    assert refused.value.codes == ["too_many_seats", "quota_reached"]


def test_freed_seats_confirm_the_first_in_line_directly(recorder: Recorder) -> None:
    slot, booking, holder = full_slot(waitlist_hold_minutes=0)
    (first, b1), (second, b2), (_third, b3) = queue(slot, 3)
    assert [b.id for b in waiting_line(slot.id)] == [b1.id, b2.id, b3.id]

    cancel(booking, by="resident", actor=holder)

    for b in (b1, b2, b3):
        db.session.refresh(b)
    assert (b1.status, b2.status, b3.status) == ("confirmed", "waitlisted", "waitlisted")
    db.session.refresh(slot)
    assert slot.taken == 1
    assert kinds_for(first) == ["booking_waitlisted", "booking_confirmed"]
    assert kinds_for(second) == ["booking_waitlisted"]
    assert (b1.id, "waitlisted", "confirmed", True) in recorder.changes
    assert (booking.id, "confirmed", "cancelled", True) in recorder.changes

    # The next cancellation serves the second in line.
    cancel(b1, by="provider", actor=None)
    db.session.refresh(b2)
    assert b2.status == "confirmed"


def test_freed_seats_are_held_for_the_first_in_line(app: Flask) -> None:
    slot, booking, holder = full_slot(waitlist_hold_minutes=30)
    (first, b1), (second, _b2) = queue(slot, 2)
    now = datetime.now(UTC)

    cancel(booking, by="resident", actor=holder, now=now)

    db.session.refresh(b1)
    assert b1.status == "offered"
    assert abs(b1.offer_expires_at - (now + timedelta(minutes=30))) < timedelta(milliseconds=1)
    db.session.refresh(slot)
    assert slot.taken == 1  # held for the offer
    assert kinds_for(first)[-1] == "booking_offered"
    mail = composed(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "booking_offered")
        ).one()
    )
    assert "entro" in mail.body_text  # the deadline, in Italian by default

    with pytest.raises(BookingRefused) as refused:
        accept_offer(b1, second)
    assert refused.value.codes == ["not_owner"]
    accept_offer(b1, first, now=now + timedelta(minutes=10))
    assert (b1.status, b1.offer_expires_at) == ("confirmed", None)
    assert kinds_for(first)[-1] == "booking_confirmed"
    db.session.refresh(slot)
    assert slot.taken == 1
    with pytest.raises(BookingRefused) as refused:
        accept_offer(b1, first)
    assert refused.value.codes == ["invalid_transition"]


def test_expired_offers_move_to_the_next_in_line(app: Flask) -> None:
    slot, booking, holder = full_slot(waitlist_hold_minutes=30)
    (first, b1), (second, b2) = queue(slot, 2)
    now = datetime.now(UTC)
    cancel(booking, by="resident", actor=holder, now=now)

    assert expire_offers(now + timedelta(minutes=29)) == 0
    with pytest.raises(BookingRefused) as refused:
        accept_offer(b1, first, now=now + timedelta(minutes=31))
    assert refused.value.codes == ["offer_expired"]
    assert expire_offers(now + timedelta(minutes=31)) == 1

    db.session.refresh(b1)
    db.session.refresh(b2)
    assert (b1.status, b1.cancelled_by) == ("cancelled", "system")
    assert b2.status == "offered"
    assert kinds_for(first)[-1] == "booking_offer_expired"
    assert kinds_for(second)[-1] == "booking_offered"
    db.session.refresh(slot)
    assert slot.taken == 1
    # The second offer expires too: nobody is left, the seat is free again.
    assert expire_offers(now + timedelta(minutes=62)) == 1
    db.session.refresh(slot)
    assert slot.taken == 0


def test_the_expire_offers_command(app: Flask) -> None:
    slot, _booking, _holder = full_slot(waitlist_hold_minutes=30)
    ((_first, b1),) = queue(slot, 1)
    db.session.execute(
        Booking.__table__.update()
        .where(Booking.id == b1.id)
        .values(status="offered", offer_expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["bookings", "expire-offers"])
    assert result.exit_code == 0, result.output
    assert "1 offer(s) expired." in result.output


def test_the_line_is_strict_when_the_first_needs_more_seats(app: Flask) -> None:
    slot, _booking, _holder = full_slot(capacity=2)
    big, small = f.user(), f.user()
    db.session.commit()
    # Two single bookings fill the slot instead, so one cancellation frees one seat.
    b_big = join_waitlist(user=big, slot_id=slot.id, seats=2)
    b_small = join_waitlist(user=small, slot_id=slot.id, seats=1)
    db.session.execute(Slot.__table__.update().where(Slot.id == slot.id).values(taken=1))
    db.session.commit()
    from core.booking.waitlist import offer_freed_seats

    assert offer_freed_seats(slot.id) == []
    db.session.commit()
    db.session.refresh(b_big)
    db.session.refresh(b_small)
    assert (b_big.status, b_small.status) == ("waitlisted", "waitlisted")


def test_when_the_first_in_line_leaves_the_next_who_fits_is_served(app: Flask) -> None:
    """Regression: a seat freed while the first in line needed two stayed idle after they left
    (anyone could then book it directly, ahead of the person waiting for it)."""
    _svc, slot = bookable(capacity=2, max_seats_per_booking=2, waitlist_hold_minutes=0)
    one, two, big, small = f.user(), f.user(), f.user(), f.user()
    db.session.commit()
    leaving = book(user=one, slot_id=slot.id)
    book(user=two, slot_id=slot.id)
    b_big = join_waitlist(user=big, slot_id=slot.id, seats=2)
    b_small = join_waitlist(user=small, slot_id=slot.id, seats=1)
    cancel(leaving, by="resident", actor=one)  # one seat free: the first in line needs two
    assert (b_big.status, b_small.status) == ("waitlisted", "waitlisted")
    cancel(b_big, by="resident", actor=big)
    db.session.refresh(b_small)
    assert b_small.status == "confirmed"
    db.session.refresh(slot)
    assert slot.taken == 2


def test_nobody_waits_for_more_seats_than_the_slot_has(app: Flask) -> None:
    """Regression: such a booking could never be served and blocked everyone behind it."""
    _svc, slot = bookable(capacity=1, max_seats_per_booking=2)
    person = f.user()
    db.session.commit()
    with pytest.raises(BookingRefused) as refused:
        join_waitlist(user=person, slot_id=slot.id, seats=2)
    assert refused.value.codes == ["too_many_seats"]
    assert waiting_line(slot.id) == []


def test_approval_services_turn_waiting_into_pending(app: Flask) -> None:
    _svc, slot = bookable(capacity=1, requires_approval=True, waitlist_hold_minutes=0)
    holder, person = f.user(), f.user()
    db.session.commit()
    booking = book(user=holder, slot_id=slot.id)
    waiting = join_waitlist(user=person, slot_id=slot.id)
    reject(booking, None, "No")
    db.session.refresh(waiting)
    assert waiting.status == "pending"
    assert kinds_for(person)[-1] == "booking_pending"


def test_leaving_the_waiting_list_frees_nothing(app: Flask) -> None:
    slot, _booking, _holder = full_slot()
    ((person, waiting),) = queue(slot, 1)
    cancel(waiting, by="resident", actor=person)
    assert waiting.status == "cancelled"
    db.session.refresh(slot)
    assert slot.taken == 1


def test_declining_an_offer_serves_the_next(app: Flask) -> None:
    slot, booking, holder = full_slot(waitlist_hold_minutes=60)
    (first, b1), (_second, b2) = queue(slot, 2)
    cancel(booking, by="resident", actor=holder)
    db.session.refresh(b1)
    assert b1.status == "offered"
    cancel(b1, by="resident", actor=first)
    db.session.refresh(b2)
    assert b2.status == "offered"
    db.session.refresh(slot)
    assert slot.taken == 1


def test_a_late_joiner_takes_a_seat_freed_meanwhile(app: Flask) -> None:
    _svc, slot = bookable(capacity=1)
    person = f.user()
    db.session.commit()
    # A waiting entry written while the slot was full; the seat is free again now.
    waiting = booking_in(slot, "waitlisted", person)
    from core.booking.waitlist import offer_freed_seats

    offer_freed_seats(slot.id)
    db.session.commit()
    db.session.refresh(waiting)
    assert waiting.status == "confirmed"
    db.session.refresh(slot)
    assert slot.taken == 1
