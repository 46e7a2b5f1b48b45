"""Slot generation from weekly rules: local wall-clock times, closures, validity, DST, changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.booking import (
    BookingRefused,
    add_event,
    book,
    cancel,
    generate_all,
    generate_slots,
    regenerate_slots,
)
from core.booking.slots import local_to_utc
from core.extensions import db
from core.models import Booking, Closure, Service, Slot
from tests.support import factories as f
from tests.support.booking_factories import booking_in

ROME = ZoneInfo("Europe/Rome")
MONDAY = date(2030, 1, 7)


def slots_of(svc: Service) -> list[Slot]:
    """The service's slots, earliest first."""
    return list(
        db.session.scalars(select(Slot).where(Slot.service_id == svc.id).order_by(Slot.starts_at))
    )


def local(slot: Slot) -> datetime:
    """The slot's start on the Rome wall clock."""
    return slot.starts_at.astimezone(ROME)


def test_weekly_rules_make_slots_in_local_time(app: Flask) -> None:
    svc = f.service()
    f.opening_rule(svc, weekday=0, start=time(9), end=time(12), seats=2)  # Mondays
    f.opening_rule(svc, weekday=2, start=time(14), end=time(16), slot_minutes=30, seats=4)
    db.session.commit()

    created = generate_slots(svc, start=MONDAY, horizon_days=7)

    slots = slots_of(svc)
    assert created == len(slots) == 3 + 4
    assert [local(s).strftime("%a %H:%M") for s in slots] == [
        "Mon 09:00", "Mon 10:00", "Mon 11:00",
        "Wed 14:00", "Wed 14:30", "Wed 15:00", "Wed 15:30",
    ]  # fmt: skip
    assert slots[0].starts_at == datetime(2030, 1, 7, 8, tzinfo=UTC)  # stored in UTC
    assert slots[0].ends_at - slots[0].starts_at == timedelta(hours=1)
    assert [s.capacity for s in slots] == [2, 2, 2, 4, 4, 4, 4]
    assert {s.kind for s in slots} == {"regular"}
    assert all(s.taken == 0 for s in slots)


def test_generating_again_never_duplicates(app: Flask) -> None:
    svc = f.service()
    f.opening_rule(svc, weekday=0)
    db.session.commit()
    assert generate_slots(svc, start=MONDAY, horizon_days=14) == 6
    assert generate_slots(svc, start=MONDAY, horizon_days=14) == 0
    assert generate_slots(svc, start=MONDAY, horizon_days=21) == 3  # only the new week
    assert len(slots_of(svc)) == 9


def test_closures_and_validity_ranges_are_skipped(app: Flask) -> None:
    svc = f.service()
    f.opening_rule(svc, weekday=0, start=time(9), end=time(10))
    f.opening_rule(
        svc,
        weekday=1,
        start=time(9),
        end=time(10),
        valid_from=date(2030, 1, 15),
        valid_until=date(2030, 1, 22),
    )
    db.session.add(Closure(service_id=svc.id, day=date(2030, 1, 14), reason="Holiday"))
    db.session.commit()

    generate_slots(svc, start=MONDAY, horizon_days=28)

    days = [local(s).date() for s in slots_of(svc)]
    assert days == [
        date(2030, 1, 7),
        date(2030, 1, 15),
        date(2030, 1, 21),
        date(2030, 1, 22),
        date(2030, 1, 28),
    ]


def test_the_default_start_is_today_in_the_district(app: Flask) -> None:
    svc = f.service()
    for weekday in range(7):
        f.opening_rule(svc, weekday=weekday, start=time(0), end=time(23, 59), slot_minutes=1439)
    db.session.commit()
    assert generate_slots(svc, horizon_days=3) == 3
    today = datetime.now(ROME).date()
    assert [local(s).date() for s in slots_of(svc)] == [today + timedelta(days=n) for n in range(3)]


@pytest.mark.parametrize(
    ("start", "offsets"),
    [
        # Spring forward on Sunday 29 March 2026: +01:00 on Saturday, +02:00 from Sunday.
        (date(2026, 3, 28), [1, 2, 2]),
        # Fall back on Sunday 25 October 2026: +02:00 on Saturday, +01:00 from Sunday.
        (date(2026, 10, 24), [2, 1, 1]),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_nine_oclock_stays_nine_oclock_across_dst(
    app: Flask, start: date, offsets: list[int]
) -> None:
    svc = f.service()
    for weekday in (5, 6, 0):  # Saturday, Sunday, Monday
        f.opening_rule(svc, weekday=weekday, start=time(9), end=time(10))
    db.session.commit()

    generate_slots(svc, start=start, horizon_days=3)

    slots = slots_of(svc)
    assert [local(s).date() for s in slots] == [start + timedelta(days=n) for n in range(3)]
    assert [local(s).time() for s in slots] == [time(9)] * 3
    assert [local(s).utcoffset() for s in slots] == [timedelta(hours=h) for h in offsets]
    assert [s.starts_at.hour for s in slots] == [9 - h for h in offsets]
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for s in slots)


def test_nonexistent_local_times_are_skipped_on_the_spring_forward_day(app: Flask) -> None:
    svc = f.service()
    f.opening_rule(svc, weekday=6, start=time(1), end=time(4), slot_minutes=30)
    db.session.commit()

    generate_slots(svc, start=date(2026, 3, 29), horizon_days=1)

    slots = slots_of(svc)
    # 02:00 and 02:30 do not exist that night (the clock jumps from 02:00 to 03:00).
    assert [local(s).strftime("%H:%M") for s in slots] == ["01:00", "01:30", "03:00", "03:30"]
    assert [s.starts_at.strftime("%H:%M") for s in slots] == ["00:00", "00:30", "01:00", "01:30"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)
    assert local_to_utc(date(2026, 3, 29), time(2, 30), ROME) is None


def test_ambiguous_local_times_use_the_first_occurrence_on_the_fall_back_day(
    app: Flask,
) -> None:
    svc = f.service()
    f.opening_rule(svc, weekday=6, start=time(1), end=time(4), slot_minutes=30)
    db.session.commit()

    generate_slots(svc, start=date(2026, 10, 25), horizon_days=1)

    slots = slots_of(svc)
    assert [local(s).strftime("%H:%M") for s in slots] == [
        "01:00", "01:30", "02:00", "02:30", "03:00", "03:30",
    ]  # fmt: skip
    # 02:30 happens twice; the slot is the first one, still in summer time (fold=0).
    two_thirty = slots[3]
    assert two_thirty.starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert local(two_thirty).utcoffset() == timedelta(hours=2)
    assert slots[4].starts_at == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)  # 03:00 +01:00
    assert local_to_utc(date(2026, 10, 25), time(2, 30), ROME) == two_thirty.starts_at


def test_the_districts_zone_is_used(app: Flask) -> None:
    far_away = f.district("borgo-test", timezone="America/New_York")
    svc = f.service(f.organisation(far_away))
    f.opening_rule(svc, weekday=0, start=time(9), end=time(10))
    db.session.commit()
    generate_slots(svc, start=MONDAY, horizon_days=1)
    (slot,) = slots_of(svc)
    assert slot.starts_at == datetime(2030, 1, 7, 14, tzinfo=UTC)


def test_regenerating_after_a_rule_change(app: Flask) -> None:
    svc = f.service()
    monday = f.opening_rule(svc, weekday=0, start=time(9), end=time(12), seats=2)
    tuesday = f.opening_rule(svc, weekday=1, start=time(9), end=time(11), seats=2)
    db.session.commit()
    generate_slots(svc, start=MONDAY, horizon_days=7)
    by_start = {local(s).strftime("%a %H"): s for s in slots_of(svc)}
    booked_twice = by_start["Mon 09"]
    booking_in(booked_twice, "confirmed")
    booking_in(booked_twice, "confirmed")
    booked_tuesday = by_start["Tue 09"]
    booking_in(booked_tuesday, "confirmed")
    only_history = by_start["Tue 10"]
    booking_in(only_history, "cancelled")

    # Mondays now have 1 seat per slot from 10 to 13; Tuesdays are gone.
    monday.seats = 1
    monday.start, monday.end = time(10), time(13)
    db.session.delete(tuesday)
    db.session.commit()
    db.session.refresh(svc)
    report = regenerate_slots(
        svc, start=MONDAY, horizon_days=7, now=datetime(2030, 1, 1, tzinfo=UTC)
    )

    remaining = {local(s).strftime("%a %H"): s for s in slots_of(svc)}
    assert set(remaining) == {"Mon 09", "Mon 10", "Mon 11", "Mon 12", "Tue 09", "Tue 10"}
    # Booked slots stay; their capacity never drops below what is taken.
    assert remaining["Mon 09"].capacity == 2 and not remaining["Mon 09"].cancelled
    assert remaining["Tue 09"].capacity == 2 and not remaining["Tue 09"].cancelled
    assert remaining["Tue 10"].cancelled  # history kept, no longer bookable
    assert (remaining["Mon 10"].capacity, remaining["Mon 11"].capacity) == (1, 1)
    assert remaining["Mon 12"].capacity == 1
    assert (report.added, report.removed, report.cancelled, report.kept, report.resized) == (
        1, 0, 1, 2, 2,
    )  # fmt: skip


def test_regenerating_removes_unbooked_slots_and_keeps_past_ones(app: Flask) -> None:
    svc = f.service()
    rule = f.opening_rule(svc, weekday=0, start=time(9), end=time(11))
    db.session.commit()
    generate_slots(svc, start=MONDAY, horizon_days=14)
    db.session.delete(rule)
    db.session.commit()
    db.session.refresh(svc)
    # "Now" is after the first Monday: its slots are past and stay as they are.
    report = regenerate_slots(
        svc, start=MONDAY, horizon_days=14, now=datetime(2030, 1, 8, tzinfo=UTC)
    )
    assert report.removed == 2
    assert [local(s).date() for s in slots_of(svc)] == [MONDAY, MONDAY]


def test_capacity_never_drops_below_taken(app: Flask) -> None:
    svc = f.service()
    rule = f.opening_rule(svc, weekday=0, start=time(9), end=time(10), seats=5)
    db.session.commit()
    generate_slots(svc, start=MONDAY, horizon_days=1)
    (slot,) = slots_of(svc)
    for _ in range(3):
        booking_in(slot, "confirmed")
    rule.seats = 1
    db.session.commit()
    regenerate_slots(svc, start=MONDAY, horizon_days=1, now=datetime(2030, 1, 1, tzinfo=UTC))
    db.session.refresh(slot)
    assert (slot.capacity, slot.taken) == (3, 3)


def test_a_shrunk_slot_serves_its_line_past_a_request_it_can_no_longer_fit(app: Flask) -> None:
    """Regression: after the provider lowered a slot's seats below what the first in line
    waits for, that request could never be served and blocked everyone behind it."""
    svc = f.service(waitlist_enabled=True, max_seats_per_booking=3, waitlist_hold_minutes=0)
    rule = f.opening_rule(svc, weekday=0, start=time(9), end=time(10), seats=3)
    db.session.commit()
    generate_slots(svc, start=MONDAY, horizon_days=1)
    (slot,) = slots_of(svc)
    leaving, staying = f.user(), f.user()
    first = booking_in(slot, "confirmed", leaving)
    booking_in(slot, "confirmed", staying)
    joined = datetime(2029, 12, 1, tzinfo=UTC)
    big = booking_in(slot, "waitlisted", seats=3, created_at=joined)
    small = booking_in(slot, "waitlisted", seats=1, created_at=joined + timedelta(minutes=1))
    rule.seats = 2
    db.session.commit()
    regenerate_slots(svc, start=MONDAY, horizon_days=1, now=datetime(2030, 1, 1, tzinfo=UTC))
    db.session.refresh(slot)
    assert (slot.capacity, slot.taken) == (2, 2)

    cancel(first, by="resident", actor=leaving)  # one seat free: the first in line needs three
    db.session.refresh(big)
    db.session.refresh(small)
    assert (big.status, small.status) == ("waitlisted", "confirmed")
    db.session.refresh(slot)
    assert slot.taken == 2


def test_events_are_one_off_slots(app: Flask) -> None:
    svc = f.service()
    starts = datetime(2030, 2, 1, 18, tzinfo=ROME)
    event = add_event(svc, starts, starts + timedelta(hours=2), 30, "Open day")
    assert (event.kind, event.title, event.capacity, event.taken) == ("event", "Open day", 30, 0)
    assert event.starts_at == datetime(2030, 2, 1, 17, tzinfo=UTC)
    person = f.user()
    db.session.commit()
    assert book(user=person, slot_id=event.id, now=datetime(2030, 1, 20, tzinfo=UTC)).seats == 1
    # Regeneration never touches events.
    regenerate_slots(svc, start=date(2030, 1, 28), now=datetime(2030, 1, 20, tzinfo=UTC))
    assert db.session.get(Slot, event.id) is not None


@pytest.mark.parametrize(
    ("starts", "ends", "capacity"),
    [
        (datetime(2030, 2, 1, 18), datetime(2030, 2, 1, 19), 5),  # naive
        (datetime(2030, 2, 1, 18, tzinfo=UTC), datetime(2030, 2, 1, 18, tzinfo=UTC), 5),
        (datetime(2030, 2, 1, 18, tzinfo=UTC), datetime(2030, 2, 1, 19, tzinfo=UTC), 0),
    ],
)
def test_bad_events_are_refused(
    app: Flask, starts: datetime, ends: datetime, capacity: int
) -> None:
    svc = f.service()
    db.session.commit()
    with pytest.raises(ValueError):
        add_event(svc, starts, ends, capacity, "Bad")
    assert db.session.scalar(select(func.count(Slot.id))) == 0


def test_generate_all_covers_published_services_only(app: Flask) -> None:
    published = f.service()
    draft = f.service(status="draft")
    for svc in (published, draft):
        f.opening_rule(svc, weekday=0, start=time(9), end=time(10))
    db.session.commit()
    assert generate_all(horizon_days=7, start=MONDAY) == 1
    assert len(slots_of(published)) == 1 and slots_of(draft) == []


def test_the_generate_slots_command(app: Flask) -> None:
    svc = f.service()
    for weekday in range(7):
        f.opening_rule(svc, weekday=weekday, start=time(9), end=time(10))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["bookings", "generate-slots", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert "10 slot(s) created for the next 10 day(s)." in result.output
    again = app.test_cli_runner().invoke(args=["bookings", "generate-slots", "--days", "10"])
    assert "0 slot(s) created" in again.output


def test_booking_a_cancelled_regenerated_slot_is_refused(app: Flask) -> None:
    svc = f.service()
    rule = f.opening_rule(svc, weekday=0, start=time(9), end=time(10))
    db.session.commit()
    generate_slots(svc, start=MONDAY, horizon_days=1)
    (slot,) = slots_of(svc)
    booking_in(slot, "cancelled")
    db.session.delete(rule)
    db.session.commit()
    db.session.refresh(svc)
    regenerate_slots(svc, start=MONDAY, horizon_days=1, now=datetime(2030, 1, 1, tzinfo=UTC))
    person = f.user()
    db.session.commit()
    with pytest.raises(BookingRefused) as refused:
        book(user=person, slot_id=slot.id, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert refused.value.codes == ["slot_cancelled"]
    assert db.session.scalar(select(func.count(Booking.id))) == 1


def test_seats_added_by_a_rule_change_go_to_the_waiting_list(app: Flask) -> None:
    from core.booking import join_waitlist

    svc = f.service()
    rule = f.opening_rule(svc, weekday=0, start=time(9), end=time(10), seats=1)
    db.session.commit()
    next_monday = datetime.now(ROME).date() + timedelta(days=7 - datetime.now(ROME).weekday())
    generate_slots(svc, start=next_monday, horizon_days=1)
    (slot,) = slots_of(svc)
    holder, waiting_person = f.user(), f.user()
    db.session.commit()
    book(user=holder, slot_id=slot.id)
    waiting = join_waitlist(user=waiting_person, slot_id=slot.id)

    rule.seats = 2
    db.session.commit()
    db.session.refresh(svc)
    report = regenerate_slots(svc, start=next_monday, horizon_days=1, now=datetime.now(UTC))

    assert report.resized == 1
    db.session.refresh(waiting)
    db.session.refresh(slot)
    assert waiting.status == "confirmed"
    assert (slot.capacity, slot.taken) == (2, 2)


def test_the_catalogues_call_runs_in_its_transaction(app: Flask) -> None:
    """``regenerate_slots(session, service)`` flushes only: the caller commits or rolls back."""
    svc = f.service()
    rule = f.opening_rule(svc, weekday=0, start=time(9), end=time(10))
    db.session.commit()
    assert regenerate_slots(db.session, svc).added > 0
    db.session.rollback()
    assert slots_of(svc) == []
    regenerate_slots(db.session, svc)
    db.session.commit()
    assert len(slots_of(svc)) >= 8  # Mondays of the coming 60 days
    assert rule.id is not None


def test_a_new_closure_removes_that_days_free_slots(app: Flask) -> None:
    svc = f.service()
    f.opening_rule(svc, weekday=0, start=time(9), end=time(11))
    db.session.commit()
    now = datetime(2030, 1, 1, tzinfo=UTC)
    generate_slots(svc, start=MONDAY, horizon_days=14)
    booked = slots_of(svc)[0]
    booking_in(booked, "confirmed")
    db.session.add(Closure(service_id=svc.id, day=MONDAY, reason="Strike"))
    db.session.add(Closure(service_id=svc.id, day=MONDAY + timedelta(days=7)))
    db.session.commit()

    report = regenerate_slots(svc, start=MONDAY, horizon_days=14, now=now)

    assert (report.removed, report.kept) == (3, 1)  # the booked one stays for the provider
    assert [s.id for s in slots_of(svc)] == [booked.id]


def test_regenerating_reaches_slots_beyond_the_horizon(app: Flask) -> None:
    svc = f.service()
    rule = f.opening_rule(svc, weekday=0, start=time(9), end=time(10))
    db.session.commit()
    generate_slots(svc, start=MONDAY, horizon_days=90)
    rule.seats = 7
    db.session.commit()
    regenerate_slots(svc, start=MONDAY, horizon_days=30, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert {s.capacity for s in slots_of(svc)} == {7}


def test_demo_load_generates_the_slots(app: Flask) -> None:
    svc = f.service()
    for weekday in range(7):
        f.opening_rule(svc, weekday=weekday, start=time(9), end=time(10))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "slot(s) generated from the opening hours." in result.output  # installed demos too
    # the installed demo may add its own past history; the opening hours give 60 days ahead
    today = datetime.now(ROME).replace(hour=0, minute=0, second=0, microsecond=0)
    from_today = [s for s in slots_of(svc) if s.kind == "regular" and s.starts_at >= today]
    assert len(from_today) == 60
