"""The API's bookings: authentication, booking (idempotent), refusals, cancel, provider
decisions, provider listing and the district report. Every answer is checked against the
OpenAPI document by :class:`tests.support.api.Api`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core.extensions import db
from core.models import ApiToken, Booking, Slot
from tests.support import factories as f
from tests.support.api import Api, error_code, token_for
from tests.support.auth import login_as
from tests.support.booking_factories import booking_in
from tests.support.booking_web import ChildAgeField, borgo_service
from tests.support.test_plugins import TEST_PLUGINS
from tests.support.web import csrf_token


def resident_api(client: FlaskClient, scope: str = "read-write") -> tuple[Api, Any]:
    person = f.user(locale="en")
    db.session.commit()
    return Api(client, token_for(person, scope)), person


def test_writes_need_authentication_and_a_valid_token(client: FlaskClient) -> None:
    svc = borgo_service()
    slot = f.slot(svc)
    db.session.commit()
    status, body = Api(client).post("/api/v1/bookings", json={"slot_id": slot.id})
    assert status == 401 and error_code(body) == "unauthorized"
    status, body = Api(client).get("/api/v1/me/bookings")
    assert status == 401 and error_code(body) == "unauthorized"
    for header in ("Bearer cnc_not-a-real-token-at-all-xxxxxx", "Basic dXNlcjpwYXNz", "Bearer"):
        response = client.get("/api/v1/me/bookings", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_and_inactive_account_are_refused(client: FlaskClient) -> None:
    api, person = resident_api(client)
    assert api.get("/api/v1/me/bookings")[0] == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == person.id))
    assert token.last_used_at is not None
    token.revoked_at = datetime.now(UTC)
    db.session.commit()
    status, body = api.get("/api/v1/me/bookings")
    assert status == 401 and error_code(body) == "invalid_token"
    api2, person2 = resident_api(client)
    person2.active = False
    db.session.commit()
    assert api2.get("/api/v1/me/bookings")[0] == 401


def test_read_only_token_reads_but_cannot_write(client: FlaskClient) -> None:
    svc = borgo_service()
    slot = f.slot(svc)
    api, person = resident_api(client, "read")
    mine = booking_in(slot, "confirmed", person)
    assert api.get("/api/v1/me/bookings")[1]["total"] == 1
    status, body = api.post("/api/v1/bookings", json={"slot_id": slot.id})
    assert status == 403 and error_code(body) == "insufficient_scope"
    status, body = api.delete(f"/api/v1/bookings/{mine.public_id}")
    assert status == 403 and error_code(body) == "insufficient_scope"


def test_book_is_idempotent_with_a_key(client: FlaskClient) -> None:
    svc = borgo_service()
    slot = f.slot(svc, capacity=3)
    other = f.slot(svc, starts_in=timedelta(days=3))
    api, person = resident_api(client)
    key = {"Idempotency-Key": "order-123"}
    response = client.post(
        "/api/v1/bookings",
        json={"slot_id": slot.id},
        headers={**key, "Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 201
    first = response.get_json()
    assert response.headers["Location"] == f"/api/v1/bookings/{first['id']}"
    booking = db.session.scalar(select(Booking).where(Booking.user_id == person.id))
    assert first["id"] == booking.public_id and first["id"] != str(booking.id)
    assert first["slot_id"] == slot.id and first["status"] == "confirmed"
    assert first["applicant"]["email"] == person.email

    status, again = api.post("/api/v1/bookings", json={"slot_id": slot.id}, headers=key)
    assert status == 200 and again["id"] == first["id"]
    status, body = api.post("/api/v1/bookings", json={"slot_id": other.id}, headers=key)
    assert status == 409 and error_code(body) == "idempotency_conflict"
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 1
    assert db.session.get(Slot, slot.id).taken == 1

    status, body = api.post(
        "/api/v1/bookings", json={"slot_id": slot.id}, headers={"Idempotency-Key": "no spaces!"}
    )
    assert status == 422 and body["error"]["problems"][0]["field"] == "Idempotency-Key"


def test_engine_refusals_keep_their_codes(client: FlaskClient) -> None:
    svc = borgo_service()
    full = f.slot(svc, capacity=1)
    booking_in(full, "confirmed")
    free = f.slot(svc, starts_in=timedelta(days=4))
    past = f.slot(svc, starts_in=-timedelta(hours=2))
    api, _person = resident_api(client)

    status, body = api.post("/api/v1/bookings", json={"slot_id": full.id})
    assert status == 409 and error_code(body) == "slot_full"
    assert body["error"]["message"] == "This time is no longer available."
    assert api.post("/api/v1/bookings", json={"slot_id": free.id})[0] == 201
    status, body = api.post("/api/v1/bookings", json={"slot_id": free.id})
    assert status == 409 and error_code(body) == "already_booked"
    status, body = api.post("/api/v1/bookings", json={"slot_id": 987654})
    assert status == 404 and error_code(body) == "slot_not_found"
    status, body = api.post("/api/v1/bookings", json={"slot_id": past.id})
    assert status == 422 and error_code(body) == "slot_past"
    status, body = api.post("/api/v1/bookings", json={"slot_id": free.id, "seats": 2})
    assert status in (409, 422)
    assert "too_many_seats" in [p["code"] for p in body["error"]["problems"]]


def test_booking_body_validation(client: FlaskClient) -> None:
    svc = borgo_service()
    slot = f.slot(svc)
    api, _person = resident_api(client)
    response = client.post(
        "/api/v1/bookings", data="slot_id=1", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"
    status, body = api.post("/api/v1/bookings", json=[slot.id])
    assert status == 400 and error_code(body) == "invalid_json"
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "slot_id"),
        ({"slot_id": "1"}, "slot_id"),
        ({"slot_id": True}, "slot_id"),
        ({"slot_id": 2**40}, "slot_id"),
        ({"slot_id": slot.id, "seats": 0}, "seats"),
        ({"slot_id": slot.id, "colour": "red"}, "colour"),
        ({"slot_id": slot.id, "waitlist": "yes"}, "waitlist"),
        ({"slot_id": slot.id, "answers": [1]}, "answers"),
        ({"slot_id": slot.id, "answers": {"child_age": 3}}, "answers.child_age"),
        ({"slot_id": slot.id, "applicant": {"name": "A", "email": "nope"}}, "applicant.email"),
        ({"slot_id": slot.id, "applicant": "Anna"}, "applicant"),
    ]
    for payload, field in cases:
        status, body = api.post("/api/v1/bookings", json=payload)
        assert status == 422, payload
        assert error_code(body) == "validation_error"
        assert field in [p.get("field") for p in body["error"]["problems"]], (payload, body)
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_applicant_details_are_kept(client: FlaskClient) -> None:
    svc = borgo_service()
    slot = f.slot(svc)
    api, _person = resident_api(client)
    applicant = {"name": "Maria Bianchi", "email": "maria@example.org", "phone": "+39 02 555 123"}
    status, body = api.post("/api/v1/bookings", json={"slot_id": slot.id, "applicant": applicant})
    assert status == 201 and body["applicant"] == applicant


def test_plugin_fields_are_validated_like_the_web_flow(make_app: Any) -> None:
    app: Flask = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, ChildAgeField()])
    client = app.test_client()
    with app.app_context():
        svc = borgo_service(category="test-care")
        slot = f.slot(svc)
        person = f.user(locale="en")
        db.session.commit()
        api = Api(client, token_for(person))
        status, body = api.post("/api/v1/bookings", json={"slot_id": slot.id})
        assert status == 422
        assert body["error"]["problems"] == [
            {"code": "invalid", "field": "answers.child_age", "message": "Enter the child's age."}
        ]
        status, body = api.post(
            "/api/v1/bookings", json={"slot_id": slot.id, "answers": {"child_age": 20}}
        )
        assert status == 422
        assert body["error"]["problems"][0]["message"] == "The service is for children up to 14."
        status, body = api.post(
            "/api/v1/bookings", json={"slot_id": slot.id, "answers": {"child_age": 6}}
        )
        assert status == 201 and body["answers"] == {"child_age": 6}


def test_join_the_waiting_list(client: FlaskClient) -> None:
    svc = borgo_service()
    full = f.slot(svc, capacity=1)
    booking_in(full, "confirmed")
    free = f.slot(svc, starts_in=timedelta(days=5))
    api, _person = resident_api(client)
    status, body = api.post("/api/v1/bookings", json={"slot_id": full.id, "waitlist": True})
    assert status == 201 and body["status"] == "waitlisted"
    status, body = api.post("/api/v1/bookings", json={"slot_id": free.id, "waitlist": True})
    assert status == 422 and error_code(body) == "slot_not_full"


def test_session_requests_need_the_csrf_header(client: FlaskClient) -> None:
    svc = borgo_service()
    slot = f.slot(svc)
    person = f.user(locale="en")
    db.session.commit()
    login_as(client, person)
    api = Api(client)
    assert api.get("/api/v1/me/bookings")[0] == 200
    status, body = api.post("/api/v1/bookings", json={"slot_id": slot.id})
    assert status == 400 and error_code(body) == "csrf_failed"
    token = csrf_token(client, "/me")
    status, body = api.post(
        "/api/v1/bookings", json={"slot_id": slot.id}, headers={"X-CSRFToken": token}
    )
    assert status == 201 and body["status"] == "confirmed"


def test_my_bookings_filter_and_pages(client: FlaskClient) -> None:
    svc = borgo_service()
    api, person = resident_api(client)
    confirmed = booking_in(f.slot(svc), "confirmed", person)
    booking_in(f.slot(svc, starts_in=timedelta(days=3)), "cancelled", person)
    booking_in(f.slot(svc, starts_in=timedelta(days=4)), "confirmed")  # someone else's
    status, body = api.get("/api/v1/me/bookings")
    assert status == 200 and body["total"] == 2
    status, body = api.get("/api/v1/me/bookings?status=confirmed")
    assert [b["id"] for b in body["items"]] == [confirmed.public_id]
    status, body = api.get("/api/v1/me/bookings?status=lost")
    assert status == 422 and body["error"]["problems"][0]["field"] == "status"
    assert api.get("/api/v1/me/bookings?page=2")[0] == 404


def test_a_booking_is_seen_by_its_owner_provider_and_admin_only(client: FlaskClient) -> None:
    svc = borgo_service()
    org = svc.organisation
    owner = f.user()
    booking = booking_in(f.slot(svc), "confirmed", owner)
    staff = f.staff(org)
    admin = f.district_admin(f.district("borgo-test"))
    outsider_staff = f.staff(f.organisation(f.district("borgo-test")))
    stranger = f.user()
    db.session.commit()
    url = f"/api/v1/bookings/{booking.public_id}"
    for person in (owner, staff, admin):
        status, body = Api(client, token_for(person)).get(url)
        assert status == 200 and body["id"] == booking.public_id
    for person in (outsider_staff, stranger):
        status, body = Api(client, token_for(person)).get(url)
        assert status == 404 and error_code(body) == "not_found"
    api = Api(client, token_for(owner))
    assert api.get("/api/v1/bookings/unknown")[0] == 404
    assert api.get("/api/v1/bookings/" + "x" * 40)[0] == 404


def test_cancel_by_owner_provider_and_deadline(client: FlaskClient) -> None:
    svc = borgo_service(cancel_deadline_minutes=24 * 60)
    api, person = resident_api(client)
    slot = f.slot(svc, starts_in=timedelta(days=3))
    booking = booking_in(slot, "confirmed", person)
    status, body = api.delete(f"/api/v1/bookings/{booking.public_id}")
    assert status == 200 and body["status"] == "cancelled" and body["cancelled_by"] == "resident"
    db.session.expire_all()
    assert db.session.get(Slot, slot.id).taken == 0
    status, body = api.delete(f"/api/v1/bookings/{booking.public_id}")
    assert status == 409 and error_code(body) == "invalid_transition"

    soon = booking_in(f.slot(svc, starts_in=timedelta(hours=3)), "confirmed", person)
    status, body = api.delete(f"/api/v1/bookings/{soon.public_id}")
    assert status == 422 and error_code(body) == "cancel_deadline_passed"
    staff = f.staff(svc.organisation)
    db.session.commit()
    status, body = Api(client, token_for(staff)).delete(
        f"/api/v1/bookings/{soon.public_id}", json={"reason": "Instructor ill"}
    )
    assert status == 200 and body["cancelled_by"] == "provider"
    assert body["cancel_reason"] == "Instructor ill"
    stranger_api, _stranger = resident_api(client)
    other = booking_in(f.slot(svc, starts_in=timedelta(days=6)), "confirmed")
    assert stranger_api.delete(f"/api/v1/bookings/{other.public_id}")[0] == 404
    status, body = api.delete(f"/api/v1/bookings/{other.public_id}", json={"reason": 5})
    assert status == 404


def test_provider_decisions(client: FlaskClient) -> None:
    svc = borgo_service(requires_approval=True)
    staff = f.staff(svc.organisation)
    first_slot = f.slot(svc)
    db.session.commit()
    resident, person = resident_api(client)
    provider = Api(client, token_for(staff))
    status, pending = resident.post("/api/v1/bookings", json={"slot_id": first_slot.id})
    assert status == 201 and pending["status"] == "pending"

    status, body = resident.post(f"/api/v1/bookings/{pending['id']}/approve")
    assert status == 403 and error_code(body) == "forbidden"
    admin = Api(client, token_for(f.district_admin(f.district("borgo-test"))))
    for action in ("approve", "attended", "no-show"):  # the provider's decisions, as on the web
        status, body = admin.post(f"/api/v1/bookings/{pending['id']}/{action}")
        assert status == 403 and error_code(body) == "forbidden", action
    status, body = provider.post(f"/api/v1/bookings/{pending['id']}/approve")
    assert status == 200 and body["status"] == "confirmed"
    status, body = provider.post(f"/api/v1/bookings/{pending['id']}/approve")
    assert status == 409 and error_code(body) == "invalid_transition"

    second = booking_in(f.slot(svc, starts_in=timedelta(days=3)), "pending", person)
    url = f"/api/v1/bookings/{second.public_id}/reject"
    status, body = provider.post(url, json={})
    assert status == 422 and body["error"]["problems"][0]["field"] == "reason"
    status, body = provider.post(url)
    assert status == 400 and error_code(body) == "invalid_json"
    status, body = provider.post(url, json={"reason": "Fully booked that week"})
    assert status == 200 and body["status"] == "rejected"

    status, body = provider.post(f"/api/v1/bookings/{pending['id']}/attended")
    assert status == 422 and error_code(body) == "not_started"
    started = f.slot(svc, starts_in=-timedelta(minutes=30))
    came = booking_in(started, "confirmed", person)
    absent = booking_in(started, "confirmed")
    status, body = provider.post(f"/api/v1/bookings/{came.public_id}/attended")
    assert status == 200 and body["status"] == "attended"
    status, body = provider.post(f"/api/v1/bookings/{absent.public_id}/no-show")
    assert status == 200 and body["status"] == "no_show"
    status, body = provider.post(f"/api/v1/bookings/{absent.public_id}/no-show")
    assert status == 409


def test_provider_bookings_listing(client: FlaskClient) -> None:
    svc = borgo_service()
    staff = f.staff(svc.organisation)
    other_svc = borgo_service()
    ours = booking_in(f.slot(svc, starts_in=timedelta(days=1)), "confirmed")
    booking_in(f.slot(other_svc, starts_in=timedelta(days=1)), "confirmed")
    later = booking_in(f.slot(svc, starts_in=timedelta(days=40)), "pending")
    db.session.commit()
    api = Api(client, token_for(staff))
    status, body = api.get("/api/v1/districts/borgo-test/provider/bookings?to=" + _day(7))
    assert status == 200 and [b["id"] for b in body["items"]] == [ours.public_id]
    status, body = api.get(
        f"/api/v1/districts/borgo-test/provider/bookings?to={_day(60)}&status=pending&service={svc.id}"
    )
    assert [b["id"] for b in body["items"]] == [later.public_id]
    status, body = api.get("/api/v1/districts/borgo-test/provider/bookings?service=abc")
    assert status == 422
    for big in ("99999999999999", "2147483648"):
        status, body = api.get(f"/api/v1/districts/borgo-test/provider/bookings?service={big}")
        assert status == 422
    resident, _person = resident_api(client)
    status, body = resident.get("/api/v1/districts/borgo-test/provider/bookings")
    assert status == 403 and error_code(body) == "forbidden"
    assert api.get("/api/v1/districts/nowhere/provider/bookings")[0] == 404


def _day(days: int) -> str:
    from zoneinfo import ZoneInfo

    return (datetime.now(ZoneInfo("Europe/Rome")).date() + timedelta(days=days)).isoformat()


def test_district_report_for_admins(client: FlaskClient) -> None:
    svc = borgo_service()
    slot = f.slot(svc, starts_in=timedelta(days=1), capacity=4)
    booking_in(slot, "confirmed")
    booking_in(slot, "cancelled")
    booking_in(f.slot(svc, starts_in=-timedelta(days=2)), "no_show")
    admin = f.district_admin(f.district("borgo-test"))
    db.session.commit()
    api = Api(client, token_for(admin))
    status, body = api.get(f"/api/v1/districts/borgo-test/report?from={_day(-10)}&to={_day(10)}")
    assert status == 200
    assert body["totals"]["bookings"] == 3
    assert body["totals"]["cancellations"] == 1 and body["totals"]["no_shows"] == 1
    assert sum(cell["bookings"] for cell in body["by_area_month"]) == 3
    assert {cell["area"] for cell in body["by_area_month"]} == {"test-wellness"}
    wellness = body["utilisation"][0]
    assert wellness["area"] == "test-wellness" and wellness["capacity"] == 6
    assert wellness["taken"] == 2 and wellness["rate"] == round(2 / 6, 4)
    status, body = api.get(f"/api/v1/districts/borgo-test/report?from={_day(0)}&to={_day(-1)}")
    assert status == 422
    resident, _person = resident_api(client)
    status, body = resident.get("/api/v1/districts/borgo-test/report")
    assert status == 403 and error_code(body) == "forbidden"
    status, body = Api(client).get("/api/v1/districts/borgo-test/report")
    assert status == 401
    altra_admin = f.district_admin(f.district("altra-citta"))
    db.session.commit()
    assert Api(client, token_for(altra_admin)).get("/api/v1/districts/borgo-test/report")[0] == 403


def test_nul_characters_never_reach_the_database(client: FlaskClient) -> None:
    svc = borgo_service()
    slot = f.slot(svc)
    api, _person = resident_api(client)
    applicant = {"name": "A\u0000B", "email": "a@example.org"}
    status, body = api.post("/api/v1/bookings", json={"slot_id": slot.id, "applicant": applicant})
    assert status == 400 and error_code(body) == "invalid_json"
    status, body = api.get("/api/v1/bookings/ab%00cd")
    assert status == 404
    assert db.session.scalar(select(func.count(Booking.id))) == 0
