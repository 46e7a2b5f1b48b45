"""The booking flow through the web: each step, its validation, the final engine checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core.extensions import db
from core.models import Booking, Slot
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.booking_factories import beneficiary, booking_in
from tests.support.booking_web import (
    ChildAgeField,
    base,
    borgo_service,
    confirm,
    key_of,
    logged_in,
    walk_to_summary,
)
from tests.support.test_plugins import TEST_PLUGINS
from tests.support.web import csrf_token


def bookings() -> list[Booking]:
    """Every booking row, oldest first, read fresh."""
    db.session.expire_all()
    return list(db.session.scalars(select(Booking).order_by(Booking.id)))


def taken(slot: Slot) -> int:
    """The slot's taken seats, read fresh."""
    db.session.expire_all()
    return db.session.scalar(select(Slot.taken).where(Slot.id == slot.id)) or 0


def post_slot(client: FlaskClient, svc: Any, choice: str) -> Any:
    """Submit step 1."""
    return client.post(base(svc), data={"slot": choice, "csrf_token": csrf_token(client, "/")})


# --- access ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login_with_a_local_next(
    app: Flask, client: FlaskClient
) -> None:
    svc = borgo_service()
    response = client.get(base(svc))
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert "next=%2Fborgo-test%2Fservices%2F" in response.location
    assert "http" not in response.location.split("next=", 1)[1]


def test_unknown_unpublished_or_other_district_services_are_404(
    app: Flask, client: FlaskClient
) -> None:
    logged_in(client)
    draft = borgo_service(status="draft")
    other = f.service(f.organisation(f.district("altra-citta")))
    db.session.commit()
    assert client.get(base(draft)).status_code == 404
    assert client.get(f"/borgo-test/services/{other.id}/book").status_code == 404
    assert client.get(f"/altra-citta/services/{other.id}/book").status_code == 200
    assert client.get("/borgo-test/services/999999/book").status_code == 404
    assert client.get(f"/nowhere/services/{other.id}/book").status_code == 404


# --- the whole flow -------------------------------------------------------------------------


def test_a_resident_books_through_the_four_steps(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client, full_name="Anna Rossi", phone="+39 333 1234567")
    svc = borgo_service(price_cents=1500, place_name="Casa del quartiere", address="Via Roma 1")
    slot = f.slot(svc, capacity=3)
    full = f.slot(svc, capacity=1, starts_in=timedelta(days=3))
    booking_in(full, "confirmed")
    db.session.commit()

    page = client.get(base(svc))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-element="appointment-booking"' in html
    assert 'aria-current="step"' in html
    assert f'value="{slot.id}"' in html
    assert "Places left: 3" in html
    assert f'value="waitlist-{full.id}"' in html  # the waiting list is on by default

    response = post_slot(client, svc, str(slot.id))
    assert response.status_code == 302
    assert response.location.endswith("/applicant")  # no details to ask: step 2 is skipped

    applicant = client.get(f"{base(svc)}/applicant").get_data(as_text=True)
    assert 'value="Anna Rossi"' in applicant
    assert f'value="{person.email}"' in applicant
    assert 'value="+39 333 1234567"' in applicant

    summary = walk_to_summary(client, svc, slot)
    text = summary.get_data(as_text=True)
    assert "Casa del quartiere" in text and "Via Roma 1" in text
    assert "15.00" in text
    assert "privacy" in text.lower()

    response = confirm(client, svc, key_of(summary))
    assert response.status_code == 302
    [booking] = [b for b in bookings() if b.slot_id == slot.id]
    assert response.location == f"/me/bookings/{booking.public_id}"
    assert booking.status == "confirmed"
    assert booking.user_id == person.id
    assert booking.applicant_name == "Anna Rossi"
    assert booking.price_cents == 1500
    assert taken(slot) == 1

    done = client.get(response.location)
    body = done.get_data(as_text=True)
    assert "Your booking is confirmed." in body
    assert f"/me/bookings/{booking.public_id}.ics" in body


def test_submitting_the_summary_twice_books_once(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc, capacity=5)
    db.session.commit()
    key = key_of(walk_to_summary(client, svc, slot))
    first = confirm(client, svc, key)
    second = confirm(client, svc, key)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert len(bookings()) == 1
    assert taken(slot) == 1


def test_the_summary_keeps_one_key_until_the_booking_is_made(
    app: Flask, client: FlaskClient
) -> None:
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc)
    db.session.commit()
    first = key_of(walk_to_summary(client, svc, slot))
    assert key_of(client.get(f"{base(svc)}/summary")) == first


def test_missing_consent_is_refused_with_a_summary_and_a_field_error(
    app: Flask, client: FlaskClient
) -> None:
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc)
    db.session.commit()
    key = key_of(walk_to_summary(client, svc, slot))
    response = confirm(client, svc, key, consent=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in html
    assert "You must accept the privacy notice to book." in html
    assert 'id="consent-error"' in html
    assert bookings() == []


def test_a_confirm_without_csrf_or_key_is_400(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc)
    db.session.commit()
    walk_to_summary(client, svc, slot)
    assert client.post(f"{base(svc)}/confirm", data={"consent": "y"}).status_code == 400
    token = csrf_token(client, "/")
    response = client.post(
        f"{base(svc)}/confirm", data={"consent": "y", "csrf_token": token, "idempotency_key": "x"}
    )
    assert response.status_code == 400
    assert bookings() == []


def test_the_summary_without_earlier_steps_goes_back_to_step_one(
    app: Flask, client: FlaskClient
) -> None:
    logged_in(client)
    svc = borgo_service()
    response = client.get(f"{base(svc)}/summary")
    assert response.status_code == 302
    assert response.location.endswith(base(svc))
    assert client.get(f"{base(svc)}/applicant").status_code == 302


# --- step 1 validation ----------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["", "abc", "999999", "waitlist-", "-1", "1" * 40])
def test_step_one_refuses_unknown_choices(app: Flask, client: FlaskClient, choice: str) -> None:
    logged_in(client)
    svc = borgo_service()
    f.slot(svc)
    db.session.commit()
    response = post_slot(client, svc, choice)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in html
    assert 'id="slot-error"' in html


def test_step_one_refuses_a_slot_of_another_service(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service()
    other_slot = f.slot(borgo_service())
    db.session.commit()
    response = post_slot(client, svc, str(other_slot.id))
    assert response.status_code == 422
    assert "Choose one of the times listed." in response.get_data(as_text=True)


def test_step_one_refuses_past_and_cancelled_slots(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service()
    past = f.slot(svc, starts_in=timedelta(hours=-3))
    cancelled = f.slot(svc, starts_in=timedelta(days=4), cancelled=True)
    db.session.commit()
    page = client.get(base(svc)).get_data(as_text=True)
    assert f'value="{past.id}"' not in page
    assert f'value="{cancelled.id}"' not in page
    for slot in (past, cancelled):
        response = post_slot(client, svc, str(slot.id))
        assert response.status_code == 422
        assert "no longer available" in response.get_data(as_text=True)


def test_step_one_refuses_times_outside_the_booking_window(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service(max_advance_days=7, min_notice_minutes=24 * 60)
    too_far = f.slot(svc, starts_in=timedelta(days=20))
    too_soon = f.slot(svc, starts_in=timedelta(hours=2))
    db.session.commit()
    for slot in (too_far, too_soon):
        assert post_slot(client, svc, str(slot.id)).status_code == 422


def test_a_full_slot_is_409_unless_joining_its_waiting_list(
    app: Flask, client: FlaskClient
) -> None:
    person = logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc, capacity=1)
    booking_in(slot, "confirmed")
    response = post_slot(client, svc, str(slot.id))
    assert response.status_code == 409
    assert "no longer available" in response.get_data(as_text=True)

    summary = walk_to_summary(client, svc, slot, waitlist=True)
    assert "Join the waiting list" in summary.get_data(as_text=True)
    response = confirm(client, svc, key_of(summary))
    assert response.status_code == 302
    mine = [b for b in bookings() if b.user_id == person.id]
    assert [b.status for b in mine] == ["waitlisted"]
    assert "waiting list" in client.get(response.location).get_data(as_text=True)


def test_no_waiting_list_option_when_the_service_has_none(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service(waitlist_enabled=False)
    slot = f.slot(svc, capacity=1)
    booking_in(slot, "confirmed")
    assert f"waitlist-{slot.id}" not in client.get(base(svc)).get_data(as_text=True)
    assert post_slot(client, svc, f"waitlist-{slot.id}").status_code == 422


def test_the_waiting_list_is_refused_while_places_are_free(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc, capacity=2)
    db.session.commit()
    assert post_slot(client, svc, f"waitlist-{slot.id}").status_code == 422


# --- step 2: seats and plugin fields --------------------------------------------------------


def test_seats_are_asked_when_more_than_one_is_allowed(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service(max_seats_per_booking=3)
    slot = f.slot(svc, capacity=5)
    db.session.commit()
    response = post_slot(client, svc, str(slot.id))
    assert response.location.endswith("/details")
    token = csrf_token(client, "/")
    for bad in ("0", "4", "-1", "two", ""):
        response = client.post(f"{base(svc)}/details", data={"seats": bad, "csrf_token": token})
        html = response.get_data(as_text=True)
        assert response.status_code == 422, bad
        assert 'id="seats-error"' in html
        assert 'role="alert"' in html
    summary = walk_to_summary(client, svc, slot, details={"seats": "3"})
    confirm(client, svc, key_of(summary))
    [booking] = bookings()
    assert booking.seats == 3
    assert taken(slot) == 3


@pytest.fixture
def plugin_client(make_app: Any) -> Iterator[FlaskClient]:
    """A client of an app with the test plugin that asks the child's age."""
    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, ChildAgeField()])
    with app.app_context():
        yield app.test_client()


def test_plugin_fields_are_validated_and_stored(plugin_client: FlaskClient) -> None:
    client = plugin_client
    logged_in(client)
    svc = borgo_service(category="test-care")
    slot = f.slot(svc)
    db.session.commit()
    response = post_slot(client, svc, str(slot.id))
    assert response.location.endswith("/details")
    page = client.get(f"{base(svc)}/details").get_data(as_text=True)
    assert "Child&#39;s age" in page or "Child's age" in page
    token = csrf_token(client, "/")
    for bad, message in (("15", "up to 14"), ("", "Enter the child"), ("x", "")):
        response = client.post(f"{base(svc)}/details", data={"child_age": bad, "csrf_token": token})
        assert response.status_code == 422, bad
        assert message in response.get_data(as_text=True)
    summary = walk_to_summary(client, svc, slot, details={"child_age": "7"})
    assert "Child" in summary.get_data(as_text=True)
    assert confirm(client, svc, key_of(summary)).status_code == 302
    [booking] = bookings()
    assert booking.answers == {"child_age": 7}


# --- final step: the engine decides ---------------------------------------------------------


def test_a_slot_taken_meanwhile_is_a_clear_409(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc, capacity=1)
    db.session.commit()
    key = key_of(walk_to_summary(client, svc, slot))
    booking_in(db.session.get(Slot, slot.id), "confirmed")  # someone else was faster
    response = confirm(client, svc, key)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This time is no longer available." in html
    assert 'role="alert"' in html
    assert len(bookings()) == 1
    assert taken(slot) == 1
    # no confirmation that cannot succeed: the way on is another time, answers kept
    assert f'action="{base(svc)}/confirm"' not in html and "Confirm the booking" not in html
    assert f'href="{base(svc)}">Choose another time</a>' in html
    assert "join this time's waiting list" in html  # the service has a waiting list
    other = f.slot(svc, capacity=1, starts_in=timedelta(days=3))
    db.session.commit()
    assert client.get(base(svc)).status_code == 200
    assert post_slot(client, svc, str(other.id)).location.endswith("/applicant")
    assert 'value="Anna Rossi"' in client.get(f"{base(svc)}/applicant").get_data(as_text=True)


def test_a_slot_taken_meanwhile_in_italian(app: Flask, client: FlaskClient) -> None:
    logged_in(client, locale="it")
    svc = borgo_service(waitlist_enabled=False)
    slot = f.slot(svc, capacity=1)
    db.session.commit()
    key = key_of(walk_to_summary(client, svc, slot))
    booking_in(db.session.get(Slot, slot.id), "confirmed")
    response = confirm(client, svc, key)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Non è stato possibile completare la prenotazione:" in html
    assert "Scegli un altro orario" in html and "Choose another time" not in html
    assert "lista d'attesa" not in html  # no waiting list to offer


def test_booking_the_same_time_twice_is_409(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc, capacity=3)
    db.session.commit()
    booking_in(slot, "confirmed", person)
    key = key_of(walk_to_summary(client, svc, slot))
    response = confirm(client, svc, key)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "You already have a booking for this time." in html
    assert '<a class="btn btn-primary" href="/me/bookings">See your bookings</a>' in html
    assert f'action="{base(svc)}/confirm"' not in html


def test_rule_refusals_are_422_with_their_messages(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service(beneficiaries_only=True)
    slot = f.slot(svc)
    db.session.commit()
    key = key_of(walk_to_summary(client, svc, slot))
    response = confirm(client, svc, key)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "reserved for approved beneficiaries" in html
    assert 'name="idempotency_key"' in html  # the summary is shown again, ready to retry
    assert bookings() == []
    assert taken(slot) == 0


def test_the_beneficiary_price_is_shown_and_charged(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    svc = borgo_service(price_cents=2000, beneficiary_price_cents=500)
    slot = f.slot(svc)
    beneficiary(person, svc.district_id)
    db.session.commit()
    summary = walk_to_summary(client, svc, slot).get_data(as_text=True)
    assert "5.00" in summary and "20.00" not in summary
    assert "Beneficiary price" in summary
    confirm(client, svc, key_of(client.get(f"{base(svc)}/summary")))
    assert bookings()[0].price_cents == 500


def test_a_service_needing_approval_books_as_pending(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service(requires_approval=True)
    slot = f.slot(svc)
    db.session.commit()
    summary = walk_to_summary(client, svc, slot)
    assert "The provider confirms each booking" in summary.get_data(as_text=True)
    response = confirm(client, svc, key_of(summary))
    assert bookings()[0].status == "pending"
    assert "The provider will confirm it." in client.get(response.location).get_data(as_text=True)


def test_the_applicant_step_validates_its_fields(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc)
    db.session.commit()
    post_slot(client, svc, str(slot.id))
    token = csrf_token(client, "/")
    response = client.post(
        f"{base(svc)}/applicant",
        data={"name": "", "email": "not-an-email", "phone": "call me", "csrf_token": token},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("name", "email", "phone"):
        assert f'id="{field}-error"' in html
    assert 'aria-describedby="name-error"' in html


def test_another_users_flow_state_does_not_leak(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc)
    db.session.commit()
    walk_to_summary(client, svc, slot)
    other = app.test_client()
    person = f.user()
    db.session.commit()
    login_as(other, person)
    assert other.get(f"{base(svc)}/summary").status_code == 302
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_choices_are_validated_again_at_the_final_step(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service(max_seats_per_booking=4)
    slot = f.slot(svc, capacity=5)
    db.session.commit()
    key = key_of(walk_to_summary(client, svc, slot, details={"seats": "4"}))
    svc.max_seats_per_booking = 2  # the provider changed the rules meanwhile
    db.session.commit()
    response = confirm(client, svc, key)
    assert response.status_code == 302
    assert response.location.endswith("/details")
    assert bookings() == []
    page = client.get(response.location)
    assert "no longer valid" in page.get_data(as_text=True)
    assert 'value="4"' in page.get_data(as_text=True)  # the earlier answer, to correct


def test_a_slot_cancelled_after_step_one_is_refused_at_the_end(
    app: Flask, client: FlaskClient
) -> None:
    logged_in(client)
    svc = borgo_service()
    slot = f.slot(svc)
    db.session.commit()
    key = key_of(walk_to_summary(client, svc, slot))
    db.session.get(Slot, slot.id).cancelled = True
    db.session.commit()
    response = confirm(client, svc, key)
    assert response.status_code == 422
    assert "cancelled by the provider" in response.get_data(as_text=True)
    assert bookings() == []


def test_the_flow_speaks_italian(app: Flask, client: FlaskClient) -> None:
    logged_in(client, locale="it")
    svc = borgo_service(title_it="Massaggio", title_en="Massage")
    slot = f.slot(svc, capacity=2)
    db.session.commit()
    html = client.get(base(svc)).get_data(as_text=True)
    assert "Massaggio" in html
    assert "Scegli data e orario" in html
    assert "Posti liberi: 2" in html
    summary = walk_to_summary(client, svc, slot).get_data(as_text=True)
    assert "Conferma la prenotazione" in summary
    assert "informativa sulla privacy" in summary
