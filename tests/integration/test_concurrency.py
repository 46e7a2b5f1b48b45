"""Many people booking the last seats at the same moment: nobody overbooks, nobody is lost.

Each thread has its own app context, session and database connection, and all start
together at a barrier. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from core.booking import BookingRefused, book, cancel
from core.extensions import db
from core.models import Booking, Slot, User
from tests.support import factories as f
from tests.support.booking_factories import bookable, run_together


def attempt(user_id: int, slot_id: int, key: str | None = None) -> str:
    """Book as ``user_id``: the booking's status, or the refusal codes."""
    user = db.session.get(User, user_id)
    assert user is not None
    try:
        return book(user=user, slot_id=slot_id, idempotency_key=key).status
    except BookingRefused as refused:
        return ",".join(refused.codes)


def test_thirty_people_three_seats(app: Flask) -> None:
    _svc, slot = bookable(capacity=3)
    people = [f.user().id for _ in range(30)]
    db.session.commit()

    results = run_together(app, attempt, [(uid, slot.id) for uid in people])

    assert sorted(results) == ["confirmed"] * 3 + ["slot_full"] * 27, results
    db.session.refresh(slot)
    assert slot.taken == 3
    statuses = db.session.scalars(select(Booking.status).where(Booking.slot_id == slot.id)).all()
    assert statuses == ["confirmed"] * 3


def test_many_slots_many_people(app: Flask) -> None:
    svc, first = bookable(capacity=2)
    slots = [first] + [
        f.slot(svc, starts_in=timedelta(days=2, hours=n), capacity=n % 3 + 1) for n in range(1, 5)
    ]
    people = [f.user().id for _ in range(24)]
    db.session.commit()
    # Every person tries one slot; some slots get more candidates than seats.
    wishes = [(uid, slots[i % len(slots)].id) for i, uid in enumerate(people)]

    results = run_together(app, attempt, wishes)

    assert all(r in ("confirmed", "slot_full") for r in results), results
    for slot in slots:
        db.session.refresh(slot)
        candidates = sum(1 for _uid, sid in wishes if sid == slot.id)
        confirmed = db.session.scalar(
            select(func.count(Booking.id)).where(
                Booking.slot_id == slot.id, Booking.status == "confirmed"
            )
        )
        assert confirmed == slot.taken == min(slot.capacity, candidates)
    assert results.count("confirmed") == sum(s.taken for s in slots)
    assert db.session.scalar(select(func.count(Slot.id)).where(Slot.taken > Slot.capacity)) == 0


def test_a_double_submit_books_once(app: Flask) -> None:
    _svc, slot = bookable(capacity=5)
    person = f.user().id
    db.session.commit()

    results = run_together(app, attempt, [(person, slot.id, "double-click")] * 8)

    assert results == ["confirmed"] * 8, results
    assert db.session.scalar(select(func.count(Booking.id))) == 1
    db.session.refresh(slot)
    assert slot.taken == 1


def test_the_same_person_without_a_key_books_once(app: Flask) -> None:
    _svc, slot = bookable(capacity=5)
    person = f.user().id
    db.session.commit()

    results = run_together(app, attempt, [(person, slot.id)] * 6)

    assert sorted(results) == ["already_booked"] * 5 + ["confirmed"], results
    db.session.refresh(slot)
    assert slot.taken == 1


def test_concurrent_cancels_free_the_seats_once(app: Flask) -> None:
    _svc, slot = bookable(capacity=3)
    others = [f.user() for _ in range(2)]
    owner = f.user()
    db.session.commit()
    for person in others:
        book(user=person, slot_id=slot.id)
    booking_id = book(user=owner, slot_id=slot.id).id

    def cancel_it() -> str:
        booking = db.session.get(Booking, booking_id)
        assert booking is not None
        try:
            return cancel(booking, by="admin", actor=None).status
        except BookingRefused as refused:
            return ",".join(refused.codes)

    results = run_together(app, cancel_it, [()] * 6)

    assert results.count("cancelled") == 1, results
    assert set(results) <= {"cancelled", "invalid_transition"}
    db.session.refresh(slot)
    assert slot.taken == 2


def test_one_person_cannot_beat_the_monthly_quota_by_booking_at_once(app: Flask) -> None:
    # Six slots an hour apart on the 10th of a coming month: all in one local month.
    tenth = (datetime.now(UTC) + timedelta(days=40)).replace(day=10, hour=8, microsecond=0)
    svc, first = bookable(capacity=3, quota_per_month=2, starts_in=tenth - datetime.now(UTC))
    base = first.starts_at
    slots = [first] + [
        f.slot(svc, starts_at=base + timedelta(hours=n), capacity=3) for n in range(1, 6)
    ]
    person = f.user().id
    db.session.commit()

    results = run_together(app, attempt, [(person, s.id) for s in slots])

    assert sorted(results) == ["confirmed"] * 2 + ["quota_reached"] * 4, results
    assert sum(db.session.scalars(select(Slot.taken)).all()) == 2


def test_concurrent_cancellations_serve_the_waiting_list_in_order(app: Flask) -> None:
    from core.booking import join_waitlist

    _svc, slot = bookable(capacity=2, waitlist_hold_minutes=0)
    holders = [f.user() for _ in range(2)]
    waiting_people = [f.user() for _ in range(3)]
    db.session.commit()
    held = [book(user=p, slot_id=slot.id).id for p in holders]
    waiting = [join_waitlist(user=p, slot_id=slot.id).id for p in waiting_people]

    def cancel_one(booking_id: int) -> str:
        booking = db.session.get(Booking, booking_id)
        assert booking is not None
        return cancel(booking, by="provider", actor=None).status

    results = run_together(app, cancel_one, [(bid,) for bid in held])

    assert results == ["cancelled", "cancelled"], results
    db.session.expire_all()
    statuses = [db.session.get(Booking, bid).status for bid in waiting]  # type: ignore[union-attr]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    db.session.refresh(slot)
    assert slot.taken == 2


def test_two_slot_generators_at_once_never_duplicate(app: Flask) -> None:
    from datetime import time

    from core.booking import generate_slots
    from core.models import Service

    svc = f.service()
    for weekday in range(7):
        f.opening_rule(svc, weekday=weekday, start=time(9), end=time(12))
    db.session.commit()
    service_id = svc.id  # read here: svc belongs to this thread's session

    def generate() -> int:
        service = db.session.get(Service, service_id)
        assert service is not None
        return generate_slots(service, horizon_days=20)

    results = run_together(app, generate, [()] * 3)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 60
    assert db.session.scalar(select(func.count(Slot.id))) == 60
