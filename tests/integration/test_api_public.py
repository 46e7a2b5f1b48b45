"""The public API: districts, categories, services (filters, pages), a service, its slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from core.extensions import db
from core.models import Organisation
from tests.support import catalogue_factories as cf
from tests.support.api import Api, error_code
from tests.support.booking_web import ChildAgeField
from tests.support.test_plugins import TEST_PLUGINS


def test_districts_lists_installed_districts(client: FlaskClient) -> None:
    status, body = Api(client).get("/api/v1/districts")
    assert status == 200
    slugs = [d["slug"] for d in body["items"]]
    assert {"borgo-test", "altra-citta"} <= set(slugs)
    borgo = next(d for d in body["items"] if d["slug"] == "borgo-test")
    assert borgo["municipality"] == "Comune di Prova"
    assert borgo["timezone"] == "Europe/Rome"


def test_categories_of_a_district_and_unknown_district(client: FlaskClient) -> None:
    api = Api(client)
    status, body = api.get("/api/v1/districts/borgo-test/categories")
    assert status == 200
    assert [c["slug"] for c in body["items"]] == ["test-wellness", "test-care"]
    assert {"slug": "yoga", "name": "Yoga"} in body["items"][0]["service_types"]
    status, body = api.get("/api/v1/districts/nowhere/categories")
    assert status == 404 and error_code(body) == "not_found"


def test_services_filters_and_pagination(app: Flask, client: FlaskClient) -> None:
    org = cf.provider(slug="acme", name="Acme")
    other = cf.provider(slug="other", name="Other")
    yoga = [
        cf.published(org, title_en=f"Yoga {i:02d}", service_type="yoga", price_cents=0)
        for i in range(13)
    ]
    yoga[7].title_en = "Yoga 07 Sunrise"
    paid = cf.published(other, title_en="Massage", service_type="massage", price_cents=2500)
    cf.published(org, title_en="Draft", status="draft")
    cf.provider(district="altra-citta")
    cf.commit()
    api = Api(client)

    status, page1 = api.get("/api/v1/districts/borgo-test/services")
    assert status == 200
    assert page1["total"] == 14 and page1["pages"] == 2 and page1["page"] == 1
    assert len(page1["items"]) == page1["page_size"] == 12
    status, page2 = api.get("/api/v1/districts/borgo-test/services?page=2")
    assert [s["title"] for s in page2["items"]] == ["Yoga 11", "Yoga 12"]

    status, body = api.get("/api/v1/districts/borgo-test/services?price=free&provider=acme")
    assert status == 200 and body["total"] == 13
    status, body = api.get("/api/v1/districts/borgo-test/services?service_type=massage")
    assert [s["id"] for s in body["items"]] == [paid.id]
    assert body["items"][0]["organisation"] == {"slug": "other", "name": "Other"}
    status, body = api.get("/api/v1/districts/borgo-test/services?q=sunrise")
    assert [s["id"] for s in body["items"]] == [yoga[7].id]

    day = datetime.now(ZoneInfo("Europe/Rome")).date() + timedelta(days=3)
    cf.free_slot(
        yoga[3],
        starts_at=datetime.combine(day, datetime.min.time(), ZoneInfo("Europe/Rome"))
        .replace(hour=10)
        .astimezone(UTC),
    )
    cf.commit()
    status, body = api.get(f"/api/v1/districts/borgo-test/services?day={day.isoformat()}")
    assert [s["id"] for s in body["items"]] == [yoga[3].id]


def test_services_invalid_filters_and_pages(client: FlaskClient) -> None:
    api = Api(client)
    for query in (
        "category=nope",
        "price=cheap",
        "day=31-12-2030",
        "provider=ghost",
        "day=2000-01-01",
    ):
        status, body = api.get(f"/api/v1/districts/borgo-test/services?{query}")
        assert status == 422, query
        assert error_code(body) == "validation_error"
        assert body["error"]["problems"][0]["message"]
    for page in ("0", "abc", "-1", "10001"):
        status, body = api.get(f"/api/v1/districts/borgo-test/services?page={page}")
        assert status == 422 and body["error"]["problems"][0]["field"] == "page"
    status, body = api.get("/api/v1/districts/borgo-test/services?page=2")
    assert status == 404 and error_code(body) == "not_found"
    status, body = api.get("/api/v1/districts/ghost/services")
    assert status == 404


def test_error_messages_are_localized(client: FlaskClient) -> None:
    response = client.get(
        "/api/v1/districts/borgo-test/services?page=0", headers={"Accept-Language": "it"}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    assert response.get_json()["error"]["message"] == "Alcuni dati inviati non sono validi."


def test_one_service_and_its_booking_fields(make_app: object) -> None:
    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, ChildAgeField()])  # type: ignore[operator]
    client = app.test_client()
    with app.app_context():
        org = cf.provider()
        care = cf.published(org, category="test-care", title_en="After school", ical_public=True)
        hidden = cf.published(org, status="draft")
        slot = cf.free_slot(care)
        cf.commit()
        care_id, hidden_id, slot_id = care.id, hidden.id, slot.id
    api = Api(client)
    status, body = api.get(f"/api/v1/services/{care_id}")
    assert status == 200
    assert body["title"] == "After school" and body["district"] == "borgo-test"
    assert body["booking_fields"] == [
        {"name": "child_age", "label": "Child's age", "type": "IntegerField", "required": True}
    ]
    assert [s["id"] for s in body["next_slots"]] == [slot_id]
    assert api.get(f"/api/v1/services/{hidden_id}")[0] == 404
    assert api.get("/api/v1/services/99999999")[0] == 404
    status, body = api.get("/api/v1/services/99999999999999")
    assert status == 404 and error_code(body) == "not_found"


def test_service_of_suspended_provider_is_not_found(client: FlaskClient) -> None:
    org = cf.provider(status="suspended")
    svc = cf.published(org)
    cf.commit()
    status, body = Api(client).get(f"/api/v1/services/{svc.id}")
    assert status == 404 and error_code(body) == "not_found"


def test_slots_in_a_date_range(client: FlaskClient) -> None:
    zone = ZoneInfo("Europe/Rome")
    svc = cf.published(cf.provider())
    today = datetime.now(zone).date()

    def at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)

    near = cf.free_slot(svc, starts_at=at(today + timedelta(days=2), 9), capacity=3, taken=1)
    far = cf.free_slot(svc, starts_at=at(today + timedelta(days=20), 9))
    cf.free_slot(svc, starts_at=at(today + timedelta(days=3), 9), cancelled=True)
    cf.free_slot(svc, starts_at=datetime.now(UTC) - timedelta(hours=3))
    cf.commit()
    api = Api(client)

    status, body = api.get(f"/api/v1/services/{svc.id}/slots")
    assert status == 200
    assert [s["id"] for s in body["items"]] == [near.id]
    item = body["items"][0]
    assert item["capacity"] == 3 and item["available"] == 2
    assert datetime.fromisoformat(item["starts_at"]) == near.starts_at
    assert datetime.fromisoformat(item["ends_at"]) == near.ends_at
    assert body["from"] == today.isoformat()
    assert body["to"] == (today + timedelta(days=13)).isoformat()

    last = today + timedelta(days=20)
    status, body = api.get(f"/api/v1/services/{svc.id}/slots?from={today}&to={last}")
    assert [s["id"] for s in body["items"]] == [near.id, far.id]
    status, body = api.get(f"/api/v1/services/{svc.id}/slots?from={last}&to={last}")
    assert [s["id"] for s in body["items"]] == [far.id]


def test_slots_bad_ranges(client: FlaskClient) -> None:
    svc = cf.published(cf.provider())
    cf.commit()
    api = Api(client)
    base = f"/api/v1/services/{svc.id}/slots"
    for query, field in (
        ("from=tomorrow", "from"),
        ("to=2026-02-30", "to"),
        ("from=2030-01-10&to=2030-01-09", "to"),
        ("from=2030-01-01&to=2030-06-01", "to"),
    ):
        status, body = api.get(f"{base}?{query}")
        assert status == 422, query
        assert body["error"]["problems"][0]["field"] == field
    assert api.get("/api/v1/services/424242/slots")[0] == 404


def test_unknown_api_paths_and_methods_answer_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    response = client.put("/api/v1/districts")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_openapi_document_is_served(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")
    assert db.session.query(Organisation).count() == 0


def test_values_the_database_cannot_take_are_refused(client: FlaskClient) -> None:
    svc = cf.published(cf.provider())
    cf.commit()
    api = Api(client)
    for url in (
        "/api/v1/districts/borgo-test/services?day=9999-12-31",
        "/api/v1/districts/borgo-test/services?q=yoga%00",
        f"/api/v1/services/{svc.id}/slots?from=9999-12-25",
        f"/api/v1/services/{svc.id}/slots?from=2030-01-01&to=9999-12-31",
        f"/api/v1/services/{svc.id}/slots?to=1999-12-31",
    ):
        status, body = api.get(url)
        assert status == 422, url
        assert error_code(body) == "validation_error"
