"""The personal area's bookings: list, detail, cancel, accept an offer, rate, owner-only access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.extensions import db
from core.models import Booking, Slot
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.booking_factories import booking_in
from tests.support.booking_web import borgo_service, logged_in
from tests.support.web import csrf_token


def fresh(booking: Booking) -> Booking:
    """The booking re-read from the database."""
    db.session.expire_all()
    row = db.session.scalar(select(Booking).where(Booking.id == booking.id))
    assert row is not None
    return row


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None):
    """POST with a valid CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/")})


def test_anonymous_visitors_are_sent_to_login(app: Flask, client: FlaskClient) -> None:
    response = client.get("/me/bookings")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=%2Fme%2Fbookings")


def test_the_list_splits_upcoming_and_past_with_translated_states(
    app: Flask, client: FlaskClient
) -> None:
    person = logged_in(client)
    svc = borgo_service(title_en="Yoga in the park")
    upcoming = booking_in(f.slot(svc, starts_in=timedelta(days=2)), "confirmed", person)
    waiting = booking_in(f.slot(svc, starts_in=timedelta(days=3)), "waitlisted", person)
    past = booking_in(f.slot(svc, starts_in=timedelta(days=-2)), "attended", person)
    missed = booking_in(f.slot(svc, starts_in=timedelta(days=-3)), "no_show", person)
    someone_else = booking_in(f.slot(svc, starts_in=timedelta(days=4)), "confirmed")
    html = client.get("/me/bookings").get_data(as_text=True)
    head, tail = html.split('id="past-title"')
    assert upcoming.public_id in head and waiting.public_id in head
    assert past.public_id in tail and missed.public_id in tail
    assert someone_else.public_id not in html
    for label in ("Confirmed", "On the waiting list", "Attended", "Did not attend"):
        assert label in html
    assert "Yoga in the park" in html

    italian = app.test_client()
    other = f.user(locale="it")
    db.session.commit()
    booking_in(f.slot(svc, starts_in=timedelta(days=5)), "pending", other)
    login_as(italian, other)
    text = italian.get("/me/bookings").get_data(as_text=True)
    assert "In attesa di conferma" in text
    assert "Le mie prenotazioni" in text


def test_only_the_owner_sees_a_booking(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    svc = borgo_service()
    theirs = booking_in(f.slot(svc), "confirmed")
    for path in (
        f"/me/bookings/{theirs.public_id}",
        f"/me/bookings/{theirs.public_id}.ics",
        f"/me/bookings/{theirs.id}",
    ):
        assert client.get(path).status_code == 404, path
    for action in ("cancel", "accept", "rate"):
        response = post(client, f"/me/bookings/{theirs.public_id}/{action}", {"rating": "5"})
        assert response.status_code == 404, action
    assert fresh(theirs).status == "confirmed"


def test_the_detail_page_shows_the_deadline_and_cancels(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    svc = borgo_service(cancel_deadline_minutes=120)
    slot = f.slot(svc, starts_in=timedelta(days=2), capacity=2)
    booking = booking_in(slot, "confirmed", person)
    html = client.get(f"/me/bookings/{booking.public_id}").get_data(as_text=True)
    assert "You can cancel until" in html
    assert f"/me/bookings/{booking.public_id}.ics" in html
    response = post(client, f"/me/bookings/{booking.public_id}/cancel")
    assert response.status_code == 302
    assert fresh(booking).status == "cancelled"
    assert db.session.get(Slot, slot.id).taken == 0
    page = client.get(response.location).get_data(as_text=True)
    assert "Your booking has been cancelled." in page
    assert "Cancel this booking" not in page


def test_cancelling_after_the_deadline_is_refused(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    svc = borgo_service(cancel_deadline_minutes=24 * 60)
    booking = booking_in(f.slot(svc, starts_in=timedelta(hours=3)), "confirmed", person)
    html = client.get(f"/me/bookings/{booking.public_id}").get_data(as_text=True)
    assert "The deadline to cancel was" in html
    assert "Cancel this booking" not in html
    response = post(client, f"/me/bookings/{booking.public_id}/cancel")
    assert response.status_code == 409
    assert "too late to cancel" in response.get_data(as_text=True)
    assert fresh(booking).status == "confirmed"


def test_a_cancel_without_csrf_is_400(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    booking = booking_in(f.slot(borgo_service()), "confirmed", person)
    assert client.post(f"/me/bookings/{booking.public_id}/cancel").status_code == 400
    assert fresh(booking).status == "confirmed"


def test_accepting_a_waiting_list_offer(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    slot = f.slot(borgo_service(waitlist_hold_minutes=60))
    offer = booking_in(
        slot,
        "offered",
        person,
        offer_expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )
    html = client.get(f"/me/bookings/{offer.public_id}").get_data(as_text=True)
    assert "Accept the place" in html
    response = post(client, f"/me/bookings/{offer.public_id}/accept")
    assert response.status_code == 302
    assert fresh(offer).status == "confirmed"
    again = post(client, f"/me/bookings/{offer.public_id}/accept")
    assert again.status_code == 409


def test_an_expired_offer_cannot_be_accepted(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    offer = booking_in(
        f.slot(borgo_service()),
        "offered",
        person,
        offer_expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    response = post(client, f"/me/bookings/{offer.public_id}/accept")
    assert response.status_code == 409
    assert "The offer has expired." in response.get_data(as_text=True)


def test_rating_after_attending(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    booking = booking_in(f.slot(borgo_service(), starts_in=timedelta(days=-1)), "attended", person)
    html = client.get(f"/me/bookings/{booking.public_id}").get_data(as_text=True)
    assert "How was it?" in html
    response = post(
        client, f"/me/bookings/{booking.public_id}/rate", {"rating": "4", "comment": "Great"}
    )
    assert response.status_code == 302
    row = fresh(booking)
    assert (row.rating, row.rating_comment) == (4, "Great")
    page = client.get(f"/me/bookings/{booking.public_id}").get_data(as_text=True)
    assert "4 out of 5" in page and "How was it?" not in page
    assert (
        post(client, f"/me/bookings/{booking.public_id}/rate", {"rating": "5"}).status_code == 409
    )
    assert fresh(booking).rating == 4


@pytest.mark.parametrize("rating", ["", "0", "6", "five"])
def test_bad_ratings_are_422(app: Flask, client: FlaskClient, rating: str) -> None:
    person = logged_in(client)
    booking = booking_in(f.slot(borgo_service(), starts_in=timedelta(days=-1)), "attended", person)
    response = post(client, f"/me/bookings/{booking.public_id}/rate", {"rating": rating})
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert fresh(booking).rating is None


def test_a_booking_not_attended_cannot_be_rated(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    booking = booking_in(f.slot(borgo_service()), "confirmed", person)
    assert "How was it?" not in client.get(f"/me/bookings/{booking.public_id}").get_data(
        as_text=True
    )
    response = post(client, f"/me/bookings/{booking.public_id}/rate", {"rating": "5"})
    assert response.status_code == 409
    assert fresh(booking).rating is None


def test_the_list_reads_in_a_constant_number_of_statements(app: Flask, client: FlaskClient) -> None:
    from sqlalchemy import event

    person = logged_in(client)

    def count_selects() -> int:
        statements: list[str] = []

        def record(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get("/me/bookings").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))

    booking_in(f.slot(borgo_service()), "confirmed", person)
    few = count_selects()
    for n in range(8):
        booking_in(f.slot(borgo_service(), starts_in=timedelta(days=n + 3)), "confirmed", person)
    assert count_selects() == few


def test_the_list_spans_districts(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    here = booking_in(f.slot(borgo_service(title_en="Yoga")), "confirmed", person)
    elsewhere_service = f.service(
        f.organisation(f.district("altra-citta", name="Altra Città")), title_en="Babysitting"
    )
    there = booking_in(f.slot(elsewhere_service), "pending", person)
    html = client.get("/me/bookings").get_data(as_text=True)
    assert here.public_id in html and there.public_id in html
    assert "Altra Città" in html and "Yoga" in html and "Babysitting" in html
    assert client.get(f"/me/bookings/{there.public_id}").status_code == 200
