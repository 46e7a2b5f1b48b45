"""The booking engine: every rule and refusal code, prices, idempotency, mail and hooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select

from core.booking import (
    Applicant,
    BookingRefused,
    approve,
    book,
    cancel,
    cancel_slot,
    claim_seats,
    join_waitlist,
    mark_attended,
    mark_no_show,
    rate,
    reject,
    release_seats,
)
from core.extensions import db
from core.models import Booking, OutboxMessage, Slot
from core.plugins import hookimpl
from tests.support import factories as f
from tests.support.booking_factories import Recorder, beneficiary, bookable, booking_in
from tests.support.mail import composed
from tests.support.test_plugins import TEST_PLUGINS

NOW = datetime(2030, 1, 10, 8, 0, tzinfo=UTC)


def refusal_codes(**kwargs: Any) -> list[str]:
    """The codes ``book(**kwargs)`` refuses with (fails if it books)."""
    with pytest.raises(BookingRefused) as refused:
        book(**kwargs)
    return refused.value.codes


def mails(kind: str | None = None) -> list[OutboxMessage]:
    """Outbox messages, oldest first, optionally of one kind, composed as the sender would."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return [composed(message) for message in db.session.scalars(query)]


def slot_at(svc: Any, starts_at: datetime, capacity: int = 2) -> Slot:
    """A committed slot of ``svc`` at a fixed time."""
    row = f.slot(svc, starts_at=starts_at, capacity=capacity)
    db.session.commit()
    return row


@pytest.fixture
def recorder_app(make_app: Any) -> Iterator[tuple[Flask, Recorder]]:
    """An app with the recording (and refusing) test plugin, inside its app context."""
    recorder = Recorder()
    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, recorder])
    with app.app_context():
        yield app, recorder


# -- booking ------------------------------------------------------------------------------


def test_a_booking_is_confirmed_takes_a_seat_and_mails_the_resident(app: Flask) -> None:
    svc, slot = bookable(capacity=2, price_cents=1500)
    person = f.user(full_name="Anna Rossi", phone="+39 02 1234", locale="en")
    db.session.commit()

    booking = book(user=person, slot_id=slot.id, answers={"note": "wheelchair"})

    assert booking.status == "confirmed"
    assert booking.applicant_name == "Anna Rossi"
    assert booking.applicant_email == person.email
    assert booking.applicant_phone == "+39 02 1234"
    assert booking.price_cents == 1500
    assert booking.answers == {"note": "wheelchair"}
    db.session.refresh(slot)
    assert slot.taken == 1
    (mail,) = mails()
    assert mail.kind == "booking_confirmed"
    assert mail.recipient == person.email
    assert mail.subject == f"Booking confirmed: {svc.title_en}"
    assert f"/me/bookings/{booking.public_id}" in mail.body_text
    assert f"/me/bookings/{booking.public_id}" in mail.body_html


def test_the_applicant_may_differ_from_the_account_holder(app: Flask) -> None:
    _svc, slot = bookable()
    person = f.user()
    db.session.commit()
    applicant = Applicant(name="Marco Bianchi", email="marco@example.org", phone="333")
    booking = book(user=person, slot_id=slot.id, applicant=applicant)
    assert (booking.applicant_name, booking.applicant_email, booking.applicant_phone) == (
        "Marco Bianchi",
        "marco@example.org",
        "333",
    )
    assert mails()[0].recipient == "marco@example.org"


def test_a_service_requiring_approval_makes_a_pending_booking(app: Flask) -> None:
    _svc, slot = bookable(requires_approval=True)
    person = f.user()
    db.session.commit()
    booking = book(user=person, slot_id=slot.id)
    assert booking.status == "pending"
    db.session.refresh(slot)
    assert slot.taken == 1  # a pending booking holds its seat
    assert [m.kind for m in mails()] == ["booking_pending"]


def test_mail_is_in_the_residents_language_with_the_local_time(app: Flask) -> None:
    svc = f.service(title_it="Yoga al parco", title_en="Yoga in the park")
    slot = slot_at(svc, datetime(2030, 1, 21, 8, 0, tzinfo=UTC))  # 09:00 in Rome (winter)
    italian = f.user(locale=None)  # falls back to the district's default (it)
    english = f.user(locale="en")
    db.session.commit()
    book(user=italian, slot_id=slot.id, now=NOW)
    book(user=english, slot_id=slot.id, now=NOW)
    it_mail, en_mail = mails()
    assert it_mail.subject == "Prenotazione confermata: Yoga al parco"
    assert "lunedì 21 gennaio 2030, 09:00" in it_mail.body_text
    assert "La tua prenotazione è confermata" in it_mail.body_html
    assert "Your booking is confirmed" in en_mail.body_html
    assert en_mail.subject == "Booking confirmed: Yoga in the park"
    assert "Monday, January 21, 2030, 09:00" in en_mail.body_text


def test_slot_not_found(app: Flask) -> None:
    person = f.user()
    db.session.commit()
    assert refusal_codes(user=person, slot_id=999_999) == ["slot_not_found"]


@pytest.mark.parametrize(
    ("service_status", "org_status"),
    [
        ("draft", "active"),
        ("withdrawn", "active"),
        ("pending_approval", "active"),
        ("published", "suspended"),
    ],
)
def test_service_unavailable(app: Flask, service_status: str, org_status: str) -> None:
    svc, slot = bookable(status=service_status)
    svc.organisation.status = org_status
    person = f.user()
    db.session.commit()
    assert refusal_codes(user=person, slot_id=slot.id) == ["service_unavailable"]
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_cancelled_and_past_slots_are_refused(app: Flask) -> None:
    svc, slot = bookable()
    cancelled = f.slot(svc, starts_in=timedelta(days=3), cancelled=True)
    past = f.slot(svc, starts_in=timedelta(hours=-1))
    person = f.user()
    db.session.commit()
    assert refusal_codes(user=person, slot_id=cancelled.id) == ["slot_cancelled"]
    assert refusal_codes(user=person, slot_id=past.id) == ["slot_past"]
    assert book(user=person, slot_id=slot.id).status == "confirmed"


def test_the_booking_window(app: Flask) -> None:
    svc = f.service(min_notice_minutes=120, max_advance_days=30)
    soon = slot_at(svc, NOW + timedelta(minutes=119))
    just_in_time = slot_at(svc, NOW + timedelta(minutes=120))
    far = slot_at(svc, NOW + timedelta(days=30, minutes=1))
    furthest = slot_at(svc, NOW + timedelta(days=30))
    person = f.user()
    db.session.commit()
    assert refusal_codes(user=person, slot_id=soon.id, now=NOW) == ["too_late"]
    assert refusal_codes(user=person, slot_id=far.id, now=NOW) == ["too_early"]
    assert book(user=person, slot_id=just_in_time.id, now=NOW).status == "confirmed"
    assert book(user=person, slot_id=furthest.id, now=NOW).status == "confirmed"


@pytest.mark.parametrize(("seats", "ok"), [(0, False), (1, True), (3, True), (4, False)])
def test_seats_per_booking(app: Flask, seats: int, ok: bool) -> None:
    _svc, slot = bookable(capacity=10, max_seats_per_booking=3, price_cents=500)
    person = f.user()
    db.session.commit()
    if ok:
        booking = book(user=person, slot_id=slot.id, seats=seats)
        assert booking.price_cents == 500 * seats
        db.session.refresh(slot)
        assert slot.taken == seats
    else:
        assert refusal_codes(user=person, slot_id=slot.id, seats=seats) == ["too_many_seats"]


def test_a_full_slot_is_refused(app: Flask) -> None:
    _svc, slot = bookable(capacity=1, max_seats_per_booking=2)
    first, second = f.user(), f.user()
    db.session.commit()
    book(user=first, slot_id=slot.id)
    assert refusal_codes(user=second, slot_id=slot.id) == ["slot_full"]
    with pytest.raises(BookingRefused) as refused:
        book(user=second, slot_id=slot.id)
    assert refused.value.messages == ["Questo orario non è più disponibile."]  # default: it
    with force_locale("en"):
        assert refused.value.messages == ["This time is no longer available."]


def test_beneficiaries_only_services(app: Flask) -> None:
    svc, slot = bookable(beneficiaries_only=True)
    other_district = f.district("borgo-test")
    outsider, waiting, elsewhere, admitted = f.user(), f.user(), f.user(), f.user()
    beneficiary(waiting, svc.district_id, status="pending")
    beneficiary(elsewhere, other_district.id)
    beneficiary(admitted, svc.district_id)
    db.session.commit()
    for person in (outsider, waiting, elsewhere):
        assert refusal_codes(user=person, slot_id=slot.id) == ["not_eligible"]
    assert book(user=admitted, slot_id=slot.id).status == "confirmed"


def test_beneficiaries_pay_the_beneficiary_price(app: Flask) -> None:
    svc, slot = bookable(
        capacity=4, price_cents=2000, beneficiary_price_cents=500, max_seats_per_booking=2
    )
    resident, admitted = f.user(), f.user()
    beneficiary(admitted, svc.district_id)
    db.session.commit()
    assert book(user=resident, slot_id=slot.id).price_cents == 2000
    assert book(user=admitted, slot_id=slot.id, seats=2).price_cents == 1000


def test_no_beneficiary_price_means_the_normal_price(app: Flask) -> None:
    svc, slot = bookable(price_cents=2000)
    admitted = f.user()
    beneficiary(admitted, svc.district_id)
    db.session.commit()
    assert book(user=admitted, slot_id=slot.id).price_cents == 2000


def test_monthly_quota_per_service_counts_the_local_month(app: Flask) -> None:
    svc = f.service(quota_per_month=2)
    jan_a = slot_at(svc, datetime(2030, 1, 15, 9, tzinfo=UTC))
    jan_b = slot_at(svc, datetime(2030, 1, 31, 22, 30, tzinfo=UTC))  # 23:30 on 31 Jan in Rome
    feb_local = slot_at(svc, datetime(2030, 1, 31, 23, 30, tzinfo=UTC))  # 00:30 on 1 Feb
    jan_c = slot_at(svc, datetime(2030, 1, 20, 9, tzinfo=UTC))
    person = f.user()
    db.session.commit()
    book(user=person, slot_id=jan_a.id, now=NOW)
    book(user=person, slot_id=jan_b.id, now=NOW)
    assert refusal_codes(user=person, slot_id=jan_c.id, now=NOW) == ["quota_reached"]
    assert book(user=person, slot_id=feb_local.id, now=NOW).status == "confirmed"


def test_cancelled_bookings_do_not_count_towards_the_quota(app: Flask) -> None:
    svc = f.service(quota_per_month=1)
    first = slot_at(svc, datetime(2030, 1, 15, 9, tzinfo=UTC))
    second = slot_at(svc, datetime(2030, 1, 16, 9, tzinfo=UTC))
    person = f.user()
    db.session.commit()
    booking = book(user=person, slot_id=first.id, now=NOW)
    assert refusal_codes(user=person, slot_id=second.id, now=NOW) == ["quota_reached"]
    cancel(booking, by="resident", actor=person, now=NOW)
    assert book(user=person, slot_id=second.id, now=NOW).status == "confirmed"


def test_attended_bookings_count_towards_the_quota(app: Flask) -> None:
    svc = f.service(quota_per_month=1)
    earlier = slot_at(svc, datetime(2030, 1, 5, 9, tzinfo=UTC))
    later = slot_at(svc, datetime(2030, 1, 25, 9, tzinfo=UTC))
    person = f.user()
    db.session.commit()
    booking_in(earlier, "attended", person)
    assert refusal_codes(user=person, slot_id=later.id, now=NOW) == ["quota_reached"]


def test_monthly_quota_per_category(app: Flask) -> None:
    org = f.organisation()
    yoga = f.service(org, category="test-wellness", quota_per_month=1, quota_scope="category")
    massage = f.service(org, category="test-wellness")
    care = f.service(org, category="test-care")
    yoga_slot = slot_at(yoga, datetime(2030, 1, 20, 9, tzinfo=UTC))
    massage_slot = slot_at(massage, datetime(2030, 1, 12, 9, tzinfo=UTC))
    care_slot = slot_at(care, datetime(2030, 1, 13, 9, tzinfo=UTC))
    person = f.user()
    db.session.commit()
    book(user=person, slot_id=care_slot.id, now=NOW)  # another category: not counted
    book(user=person, slot_id=massage_slot.id, now=NOW)
    assert refusal_codes(user=person, slot_id=yoga_slot.id, now=NOW) == ["quota_reached"]


def test_a_refusal_names_every_problem_and_a_repeat_gets_the_first_booking(app: Flask) -> None:
    """Earlier bookings are read on the refusing path only (the booking path leaves them to
    the unique indexes): the refusal still names ``already_booked`` beside the other
    problems, and a repeated key still gets its first booking even when the rules now refuse."""
    svc = f.service(quota_per_month=1)
    slot = slot_at(svc, datetime(2030, 1, 15, 9, tzinfo=UTC), capacity=3)
    person = f.user()
    db.session.commit()
    first = book(user=person, slot_id=slot.id, now=NOW, idempotency_key="first-form")
    codes = refusal_codes(user=person, slot_id=slot.id, now=NOW, idempotency_key="other")
    assert codes == ["quota_reached", "already_booked"]
    again = book(user=person, slot_id=slot.id, now=NOW, idempotency_key="first-form")
    assert again.id == first.id
    assert db.session.scalar(select(func.count(Booking.id))) == 1


def test_one_live_booking_per_person_and_slot(app: Flask) -> None:
    _svc, slot = bookable(capacity=5)
    person = f.user()
    db.session.commit()
    booking = book(user=person, slot_id=slot.id)
    assert refusal_codes(user=person, slot_id=slot.id) == ["already_booked"]
    cancel(booking, by="resident", actor=person)
    assert book(user=person, slot_id=slot.id).status == "confirmed"  # a new one is fine


def test_every_problem_is_reported_together(recorder_app: tuple[Flask, Recorder]) -> None:
    _app, recorder = recorder_app
    recorder.refusals = ["Bring a doctor's note.", "Children only."]
    svc, slot = bookable(beneficiaries_only=True, max_seats_per_booking=1, district="borgo-test")
    person = f.user()
    db.session.commit()
    with pytest.raises(BookingRefused) as refused:
        book(user=person, slot_id=slot.id, seats=2, answers={"age": 40})
    assert refused.value.codes == [
        "too_many_seats",
        "not_eligible",
        "plugin_refused",
        "plugin_refused",
    ]
    assert refused.value.messages[2:] == ["Bring a doctor's note.", "Children only."]
    request = recorder.requests[-1]
    assert (request.user, request.service, request.slot, request.seats) == (person, svc, slot, 2)
    assert request.answers == {"age": 40}
    assert request.district.slug == "borgo-test"
    db.session.refresh(slot)
    assert slot.taken == 0
    assert mails() == []


def test_booking_created_is_called_after_the_commit(recorder_app: tuple[Flask, Recorder]) -> None:
    _app, recorder = recorder_app
    _svc, slot = bookable()
    person = f.user()
    db.session.commit()
    booking = book(user=person, slot_id=slot.id)
    assert recorder.created == [(booking.id, "confirmed", True)]


def test_the_same_idempotency_key_returns_the_first_booking(app: Flask) -> None:
    _svc, slot = bookable(capacity=3, max_seats_per_booking=2)
    person = f.user()
    db.session.commit()
    first = book(user=person, slot_id=slot.id, seats=2, idempotency_key="form-123")
    again = book(user=person, slot_id=slot.id, seats=1, idempotency_key="form-123")
    assert again.id == first.id and again.seats == 2
    db.session.refresh(slot)
    assert slot.taken == 2
    assert db.session.scalar(select(func.count(Booking.id))) == 1
    assert len(mails()) == 1


def test_idempotency_keys_belong_to_one_user(app: Flask) -> None:
    _svc, slot = bookable(capacity=3)
    one, two = f.user(), f.user()
    db.session.commit()
    a = book(user=one, slot_id=slot.id, idempotency_key="same")
    b = book(user=two, slot_id=slot.id, idempotency_key="same")
    assert a.id != b.id


def test_a_refused_request_leaves_no_trace(app: Flask) -> None:
    _svc, slot = bookable(capacity=1)
    first, second = f.user(), f.user()
    db.session.commit()
    book(user=first, slot_id=slot.id)
    with pytest.raises(BookingRefused):
        book(user=second, slot_id=slot.id, idempotency_key="k")
    assert db.session.scalar(select(func.count(Booking.id))) == 1


def test_claim_and_release_seats_never_cross_the_bounds(app: Flask) -> None:
    _svc, slot = bookable(capacity=2)
    assert claim_seats(slot.id, 2)
    assert not claim_seats(slot.id, 1)
    assert not release_seats(slot.id, 3)
    assert release_seats(slot.id, 2)
    assert not release_seats(slot.id, 1)
    slot.cancelled = True
    db.session.commit()
    assert not claim_seats(slot.id, 1)
    db.session.refresh(slot)
    assert slot.taken == 0


# -- cancel -------------------------------------------------------------------------------


def test_a_resident_cancels_before_the_deadline(app: Flask) -> None:
    _svc, slot = bookable(capacity=2, cancel_deadline_minutes=60, org_email="org@example.org")
    person = f.user()
    db.session.commit()
    booking = book(user=person, slot_id=slot.id)
    cancel(booking, by="resident", actor=person, reason="ill")
    assert (booking.status, booking.cancelled_by, booking.cancel_reason) == (
        "cancelled",
        "resident",
        "ill",
    )
    db.session.refresh(slot)
    assert slot.taken == 0
    kinds = [(m.kind, m.recipient) for m in mails()]
    assert ("booking_cancelled", person.email) in kinds
    assert ("booking_provider_cancelled", "org@example.org") in kinds
    (to_provider,) = mails("booking_provider_cancelled")
    assert "/isola-garibaldi/provider/bookings" in to_provider.body_text
    assert person.full_name in to_provider.body_text


def test_residents_cannot_cancel_after_the_deadline(app: Flask) -> None:
    svc = f.service(cancel_deadline_minutes=24 * 60)
    slot = slot_at(svc, NOW + timedelta(hours=30))
    person = f.user()
    db.session.commit()
    booking = book(user=person, slot_id=slot.id, now=NOW)
    with pytest.raises(BookingRefused) as refused:
        cancel(booking, by="resident", actor=person, now=NOW + timedelta(hours=7))
    assert refused.value.codes == ["cancel_deadline_passed"]
    assert booking.status == "confirmed"
    # The provider still can, and no mail goes to the provider then.
    cancel(booking, by="provider", actor=None, reason="closed", now=NOW + timedelta(hours=7))
    assert booking.status == "cancelled"
    assert "booking_provider_cancelled" not in [m.kind for m in mails()]


def test_residents_cancel_only_their_own_bookings(app: Flask) -> None:
    _svc, slot = bookable()
    owner, stranger = f.user(), f.user()
    db.session.commit()
    booking = book(user=owner, slot_id=slot.id)
    with pytest.raises(BookingRefused) as refused:
        cancel(booking, by="resident", actor=stranger)
    assert refused.value.codes == ["not_owner"]


def test_cancelling_twice_releases_the_seats_once(app: Flask) -> None:
    _svc, slot = bookable(capacity=3)
    a, b = f.user(), f.user()
    db.session.commit()
    book(user=a, slot_id=slot.id)
    booking = book(user=b, slot_id=slot.id)
    cancel(booking, by="admin", actor=None)
    with pytest.raises(BookingRefused) as refused:
        cancel(booking, by="admin", actor=None)
    assert refused.value.codes == ["invalid_transition"]
    db.session.refresh(slot)
    assert slot.taken == 1


def test_cancel_checks_who_cancels(app: Flask) -> None:
    _svc, slot = bookable()
    person = f.user()
    db.session.commit()
    booking = book(user=person, slot_id=slot.id)
    with pytest.raises(ValueError):
        cancel(booking, by="robot", actor=None)


# -- approval, attendance, ratings ------------------------------------------------------


def test_approve_and_reject(recorder_app: tuple[Flask, Recorder]) -> None:
    _app, recorder = recorder_app
    _svc, slot = bookable(capacity=2, requires_approval=True)
    a, b, provider = f.user(), f.user(), f.user()
    db.session.commit()
    first = book(user=a, slot_id=slot.id)
    second = book(user=b, slot_id=slot.id)
    approve(first, provider, now=NOW)
    reject(second, provider, "Fully booked by a group", now=NOW)
    assert (first.status, first.decided_at) == ("confirmed", NOW)
    assert (second.status, second.cancel_reason) == ("rejected", "Fully booked by a group")
    db.session.refresh(slot)
    assert slot.taken == 1
    kinds = [m.kind for m in mails()]
    assert kinds.count("booking_approved") == 1 and kinds.count("booking_rejected") == 1
    assert "Fully booked by a group" in mails("booking_rejected")[0].body_text
    assert recorder.changes == [
        (first.id, "pending", "confirmed", True),
        (second.id, "pending", "rejected", True),
    ]
    with pytest.raises(BookingRefused) as refused:
        approve(first, provider)
    assert refused.value.codes == ["invalid_transition"]


@pytest.mark.parametrize("state", ["waitlisted", "offered"])
def test_only_pending_bookings_are_approved(app: Flask, state: str) -> None:
    """Regression (found by the engine state machine): approving a waiting booking confirmed
    it without claiming its seats (taken 1, held 3 on a 2-seat slot), ahead of the line; an
    offer was confirmed without the resident accepting it.
    """
    _svc, slot = bookable(capacity=2, max_seats_per_booking=2, waitlist_hold_minutes=30)
    holder, first, second = f.user(), f.user(), f.user()
    db.session.commit()
    held = book(user=holder, slot_id=slot.id, seats=1)
    ahead = join_waitlist(user=first, slot_id=slot.id, seats=2)
    behind = join_waitlist(user=second, slot_id=slot.id, seats=2)
    if state == "offered":  # the holder leaves: both seats are held for the first in line
        cancel(held, by="provider", actor=None)
    target = ahead if state == "offered" else behind
    assert target.status == state
    with pytest.raises(BookingRefused) as refused:
        approve(target, None)
    assert refused.value.codes == ["invalid_transition"]
    db.session.rollback()
    db.session.expire_all()
    assert (target.status, target.decided_at) == (state, None)
    assert slot.taken == (2 if state == "offered" else 1)
    assert mails("booking_approved") == []


def test_attendance_only_after_the_start(app: Flask) -> None:
    _svc, slot = bookable(capacity=3, starts_in=timedelta(hours=2))
    a, b = f.user(), f.user()
    db.session.commit()
    came = book(user=a, slot_id=slot.id)
    missed = book(user=b, slot_id=slot.id)
    with pytest.raises(BookingRefused) as refused:
        mark_attended(came, None)
    assert refused.value.codes == ["not_started"]
    with pytest.raises(BookingRefused):
        mark_no_show(missed, None)
    later = slot.starts_at + timedelta(minutes=5)
    mark_attended(came, None, now=later)
    mark_no_show(missed, None, now=later)
    assert (came.status, missed.status) == ("attended", "no_show")
    db.session.refresh(slot)
    assert slot.taken == 2  # the seats stay used


def test_only_confirmed_bookings_are_marked(app: Flask) -> None:
    _svc, slot = bookable(capacity=3, requires_approval=True)
    person = f.user()
    db.session.commit()
    pending = book(user=person, slot_id=slot.id)
    later = slot.starts_at + timedelta(minutes=5)
    for mark in (mark_attended, mark_no_show):
        with pytest.raises(BookingRefused) as refused:
            mark(pending, None, now=later)
        assert refused.value.codes == ["invalid_transition"]


def test_rating_an_attended_booking_once(app: Flask) -> None:
    _svc, slot = bookable()
    owner, stranger = f.user(), f.user()
    db.session.commit()
    booking = booking_in(slot, "confirmed", owner)
    with pytest.raises(BookingRefused) as refused:
        rate(booking, owner, 5)
    assert refused.value.codes == ["invalid_transition"]
    booking.status = "attended"
    db.session.commit()
    for bad in (0, 6):
        with pytest.raises(BookingRefused) as refused:
            rate(booking, owner, bad)
        assert refused.value.codes == ["invalid_rating"]
    with pytest.raises(BookingRefused) as refused:
        rate(booking, stranger, 4)
    assert refused.value.codes == ["not_owner"]
    rate(booking, owner, 4, "  Very kind staff ")
    assert (booking.rating, booking.rating_comment) == (4, "Very kind staff")
    assert booking.rated_at is not None
    with pytest.raises(BookingRefused) as refused:
        rate(booking, owner, 5)
    assert refused.value.codes == ["already_rated"]
    db.session.refresh(booking)
    assert booking.rating == 4


def test_cancelling_a_whole_slot(recorder_app: tuple[Flask, Recorder]) -> None:
    _app, recorder = recorder_app
    _svc, slot = bookable(capacity=2, requires_approval=True)
    a, b, c, d = f.user(), f.user(), f.user(), f.user()
    db.session.commit()
    confirmed = book(user=a, slot_id=slot.id)
    approve(confirmed, None)
    pending = book(user=b, slot_id=slot.id)
    waiting = join_waitlist(user=c, slot_id=slot.id)

    assert cancel_slot(slot, by="provider", actor=None, reason="Teacher ill") == 3

    for booking in (confirmed, pending, waiting):
        db.session.refresh(booking)
        assert (booking.status, booking.cancelled_by, booking.cancel_reason) == (
            "cancelled",
            "provider",
            "Teacher ill",
        )
    assert (slot.cancelled, slot.taken) == (True, 0)
    cancelled_to = {m.recipient for m in mails("booking_cancelled")}
    assert cancelled_to == {a.email, b.email, c.email}
    assert {(bid, new) for bid, _old, new, _seen in recorder.changes[-3:]} == {
        (confirmed.id, "cancelled"),
        (pending.id, "cancelled"),
        (waiting.id, "cancelled"),
    }
    assert refusal_codes(user=d, slot_id=slot.id) == ["slot_cancelled"]


class Broken:
    """A plugin whose after-commit hooks fail."""

    PLUGIN_NAME = "aaa-broken-notifier"

    @hookimpl
    def booking_created(self, booking: Any) -> None:
        raise RuntimeError("webhook down")

    @hookimpl
    def booking_state_changed(self, booking: Any, old: str, new: str) -> None:
        raise RuntimeError("webhook down")


def test_a_failing_plugin_after_the_commit_does_not_undo_the_booking(make_app: Any) -> None:
    recorder = Recorder()
    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, Broken(), recorder])
    with app.app_context():
        _svc, slot = bookable()
        person = f.user()
        db.session.commit()
        booking = book(user=person, slot_id=slot.id)
        cancel(booking, by="resident", actor=person)
        assert recorder.created == [(booking.id, "confirmed", True)]
        assert recorder.changes == [(booking.id, "confirmed", "cancelled", True)]
        db.session.refresh(booking)
        assert booking.status == "cancelled"


def test_an_overlong_idempotency_key_is_a_programming_error(app: Flask) -> None:
    _svc, slot = bookable()
    person = f.user()
    db.session.commit()
    with pytest.raises(ValueError):
        book(user=person, slot_id=slot.id, idempotency_key="k" * 81)


def test_the_confirmation_tells_the_price_the_cancel_deadline_and_the_calendar_link(
    app: Flask,
) -> None:
    svc = f.service(price_cents=1250, cancel_deadline_minutes=24 * 60, title_en="Pilates")
    slot = slot_at(svc, datetime(2030, 1, 21, 8, 0, tzinfo=UTC))  # 09:00 in Rome
    person = f.user(locale="en")
    db.session.commit()
    booking = book(user=person, slot_id=slot.id, now=NOW)
    (mail,) = mails()
    for body in (mail.body_text, mail.body_html):
        assert "€12.50" in body
        assert "You can cancel online until Sunday, January 20, 2030, 09:00." in body
        assert f"/me/bookings/{booking.public_id}.ics" in body
    cancel(booking, by="provider", actor=None)
    cancelled = mails("booking_cancelled")[0]
    assert ".ics" not in cancelled.body_text
    assert "cancel online" not in cancelled.body_text
