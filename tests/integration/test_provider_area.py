"""The provider area: staff manage their organisation's services; everyone else is refused."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core.extensions import db
from core.models import Closure, OpeningRule, Service
from tests.support import catalogue_factories as cf
from tests.support import factories
from tests.support.auth import login_as
from tests.support.web import submit

EN = {"Accept-Language": "en"}


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "test-wellness",
        "service_type": "yoga",
        "title_it": "Yoga al parco",
        "title_en": "Yoga in the park",
        "description_it": "Lezioni all'aperto",
        "description_en": "Outdoor lessons",
        "place_name": "Parco",
        "address": "Via Verdi 3",
        "postcode": "10125",
        "price": "12,50",
        "beneficiary_price": "5.5",
        "min_notice_hours": "1,5",
        "max_advance_days": "30",
        "cancel_deadline_hours": "24",
        "max_seats_per_booking": "2",
        "quota_per_month": "4",
        "quota_scope": "category",
        "waitlist_enabled": "y",
        "waitlist_hold_minutes": "30",
        "requires_approval": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _staff_client(client: FlaskClient, district: str = cf.BORGO, **org_fields: Any) -> Any:
    org = cf.provider(district, **org_fields)
    person = factories.staff(org)
    cf.commit()
    login_as(client, person)
    return org, person


def _count_services() -> int:
    return db.session.scalar(select(func.count(Service.id))) or 0


def test_anonymous_people_are_sent_to_log_in(client: FlaskClient) -> None:
    service = cf.published(cf.provider(slug="aurora"))
    cf.commit()
    for path in (
        "/borgo-test/provider/",
        "/borgo-test/provider/aurora/services/new",
        f"/borgo-test/provider/services/{service.id}/edit",
        f"/borgo-test/provider/services/{service.id}/schedule",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_people_without_an_organisation_here_get_403(client: FlaskClient) -> None:
    resident = factories.user()
    elsewhere = factories.staff(cf.provider(cf.ALTRA))
    cf.commit()
    login_as(client, resident)
    assert client.get("/borgo-test/provider/").status_code == 403
    login_as(client, elsewhere)
    assert client.get("/borgo-test/provider/").status_code == 403
    assert client.get("/altra-citta/provider/").status_code == 200


def test_dashboard_lists_every_organisation_of_the_person_in_this_district(
    client: FlaskClient,
) -> None:
    first = cf.provider(name="Alpha Coop")
    second = cf.provider(name="Beta Srl")
    other_district = cf.provider(cf.ALTRA, name="Gamma Spa")
    not_mine = cf.provider(name="Delta")
    person = factories.staff(first)
    db.session.add_all(
        [
            factories.Membership(user_id=person.id, organisation_id=second.id),
            factories.Membership(user_id=person.id, organisation_id=other_district.id),
        ]
    )
    cf.published(first, title_en="Alpha yoga", status="draft")
    cf.published(second, title_en="Beta care", status="published")
    cf.published(not_mine, title_en="Delta thing")
    cf.commit()
    login_as(client, person)
    html = client.get("/borgo-test/provider/", headers=EN).get_data(as_text=True)
    assert "Alpha Coop" in html and "Beta Srl" in html
    assert "Gamma Spa" not in html and "Delta" not in html
    assert "Alpha yoga" in html and "Beta care" in html
    assert "Draft" in html and "Published" in html
    assert html.count("<h1") == 1


def test_create_a_service_parses_euros_and_hours(client: FlaskClient) -> None:
    org, _person = _staff_client(client, slug="aurora")
    response = submit(client, "/borgo-test/provider/aurora/services/new", _form())
    assert response.status_code == 302
    service = db.session.scalar(select(Service))
    assert service is not None
    assert response.headers["Location"] == f"/borgo-test/provider/services/{service.id}/schedule"
    assert service.organisation_id == org.id and service.status == "draft"
    assert service.price_cents == 1250 and service.beneficiary_price_cents == 550
    assert service.min_notice_minutes == 90 and service.cancel_deadline_minutes == 24 * 60
    assert service.max_advance_days == 30 and service.max_seats_per_booking == 2
    assert service.quota_per_month == 4 and service.quota_scope == "category"
    assert service.requires_approval and service.waitlist_enabled and not service.ical_public
    assert service.waitlist_hold_minutes == 30
    assert "yoga al parco" in service.search_text


def test_the_new_service_form_offers_only_the_districts_areas(client: FlaskClient) -> None:
    _staff_client(client, cf.ALTRA, slug="altra-org")
    html = client.get("/altra-citta/provider/altra-org/services/new", headers=EN).get_data(
        as_text=True
    )
    assert 'value="test-care"' in html and 'value="test-wellness"' not in html
    assert 'for="price"' in html  # labelled fields


def test_bad_input_is_refused_with_a_message_and_nothing_saved(client: FlaskClient) -> None:
    _staff_client(client, slug="aurora")
    cases = [
        ({"price": "abc"}, "Enter an amount in euros"),
        ({"price": "-3"}, "The price cannot be negative."),
        ({"beneficiary_price": "20"}, "cannot be higher than the full price"),
        ({"title_it": "", "title_en": ""}, "Give the service a title"),
        ({"category": "unknown"}, "Choose one of the areas offered in this district."),
        ({"service_type": "babysitting"}, "does not belong to the chosen area"),
        ({"max_seats_per_booking": "0"}, "Places per booking"),
        ({"min_notice_hours": "lots"}, "Minimum notice"),
        ({"quota_scope": "district"}, "Not a valid choice"),
    ]
    for overrides, message in cases:
        response = submit(
            client, "/borgo-test/provider/aurora/services/new", _form(**overrides), headers=EN
        )
        assert response.status_code == 422, overrides
        html = response.get_data(as_text=True)
        assert message in html, (overrides, message)
        assert 'aria-invalid="true"' in html or "is-invalid" in html
    assert _count_services() == 0


def test_a_service_of_a_category_not_enabled_in_the_district_is_refused(
    client: FlaskClient,
) -> None:
    _staff_client(client, cf.ALTRA, slug="altra-org")
    response = submit(
        client, "/altra-citta/provider/altra-org/services/new", _form(service_type=""), headers=EN
    )
    assert response.status_code == 422
    assert _count_services() == 0


def test_a_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    _staff_client(client, slug="aurora")
    response = client.post("/borgo-test/provider/aurora/services/new", data=_form())
    assert response.status_code == 400
    assert _count_services() == 0


def test_edit_a_service(client: FlaskClient) -> None:
    org, _person = _staff_client(client)
    service = cf.published(
        org, title_en="Old", price_cents=1250, min_notice_minutes=90, service_type="yoga"
    )
    cf.commit()
    path = f"/borgo-test/provider/services/{service.id}/edit"
    html = client.get(path, headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert 'value="12,50"' in html and 'value="1,5"' in html and 'value="Old"' in html
    response = submit(client, path, _form(title_en="New", price="0", beneficiary_price=""))
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.title_en == "New" and service.price_cents == 0
    assert service.beneficiary_price_cents is None
    assert service.status == "published"
    response = submit(client, path, _form(beneficiary_price="99"), headers=EN)
    assert response.status_code == 422
    db.session.refresh(service)
    assert service.beneficiary_price_cents is None


def test_titles_are_rendered_escaped_in_the_provider_area(client: FlaskClient) -> None:
    _staff_client(client, slug="aurora")
    payload = "<script>alert(1)</script>"
    assert (
        submit(
            client, "/borgo-test/provider/aurora/services/new", _form(title_en=payload)
        ).status_code
        == 302
    )
    service = db.session.scalar(select(Service))
    assert service is not None and service.title_en == payload
    for path in ("/borgo-test/provider/", f"/borgo-test/provider/services/{service.id}/schedule"):
        html = client.get(path, headers=EN).get_data(as_text=True)
        assert payload not in html and "&lt;script&gt;" in html


def test_opening_hours_editor(client: FlaskClient) -> None:
    org, _person = _staff_client(client)
    service = cf.published(org)
    cf.commit()
    base = f"/borgo-test/provider/services/{service.id}"
    page = f"{base}/schedule"
    good = {"weekday": "2", "start": "09:00", "end": "12:00", "slot_minutes": "60", "seats": "3"}
    response = submit(client, f"{base}/hours", good, page=page)
    assert response.status_code == 302
    rule = db.session.scalar(select(OpeningRule))
    assert rule is not None and (rule.weekday, rule.seats) == (2, 3)
    assert "09:00" in client.get(page).get_data(as_text=True)
    bad_cases = [
        ({"start": "12:00", "end": "09:00"}, "The end must be later than the start."),
        ({"weekday": "3", "slot_minutes": "240"}, "A slot must fit"),
        ({"weekday": "3", "seats": "0"}, "Places per slot"),
        ({"weekday": "3", "seats": "501"}, "Places per slot"),
        ({"start": "11:00", "end": "13:00"}, "overlaps another one"),
        ({"weekday": "9"}, "Not a valid choice"),
        ({"start": "nine"}, "Not a valid time value"),
    ]
    for overrides, message in bad_cases:
        response = submit(client, f"{base}/hours", {**good, **overrides}, page=page, headers=EN)
        assert response.status_code == 422, overrides
        assert message in response.get_data(as_text=True), (overrides, message)
    assert db.session.scalar(select(func.count(OpeningRule.id))) == 1
    response = submit(client, f"{base}/hours/{rule.id}/delete", {}, page=page)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(OpeningRule.id))) == 0
    assert submit(client, f"{base}/hours/{rule.id}/delete", {}, page=page).status_code == 404


def test_closures_editor(client: FlaskClient) -> None:
    org, _person = _staff_client(client)
    service = cf.published(org)
    cf.commit()
    base = f"/borgo-test/provider/services/{service.id}"
    page = f"{base}/schedule"
    day = date.today() + timedelta(days=10)
    response = submit(
        client, f"{base}/closures", {"day": day.isoformat(), "reason": "Festa"}, page=page
    )
    assert response.status_code == 302
    closure = db.session.scalar(select(Closure))
    assert closure is not None and closure.day == day and closure.reason == "Festa"
    for data, message in (
        ({"day": day.isoformat()}, "already closed"),
        ({"day": "2001-01-01"}, "Choose today or a later day."),
        ({"day": "tomorrow"}, "Not a valid date value"),
    ):
        response = submit(client, f"{base}/closures", data, page=page, headers=EN)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert submit(client, f"{base}/closures/{closure.id}/delete", {}, page=page).status_code == 302
    assert db.session.scalar(select(func.count(Closure.id))) == 0


def test_publish_and_withdraw_without_approval(client: FlaskClient) -> None:
    org, _person = _staff_client(client)
    service = cf.published(org, title_en="Fresh", status="draft", published_at=None)
    cf.commit()
    base = f"/borgo-test/provider/services/{service.id}"
    assert client.get(f"/borgo-test/services/{service.id}").status_code == 404
    response = submit(client, f"{base}/publish", {}, page="/borgo-test/provider/")
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.status == "published" and service.published_at is not None
    assert client.get(f"/borgo-test/services/{service.id}").status_code == 200
    assert submit(client, f"{base}/publish", {}, page="/borgo-test/provider/").status_code == 409
    response = submit(client, f"{base}/withdraw", {}, page="/borgo-test/provider/")
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.status == "withdrawn"
    assert client.get(f"/borgo-test/services/{service.id}").status_code == 404
    assert submit(client, f"{base}/withdraw", {}, page="/borgo-test/provider/").status_code == 409


def test_publishing_in_a_district_requiring_approval_waits_for_the_admin(
    client: FlaskClient,
) -> None:
    org, _person = _staff_client(client, cf.ALTRA)
    service = cf.published(org, status="draft", published_at=None)
    cf.commit()
    html = client.get("/altra-citta/provider/", headers=EN).get_data(as_text=True)
    assert "Send for approval" in html
    response = submit(
        client,
        f"/altra-citta/provider/services/{service.id}/publish",
        {},
        page="/altra-citta/provider/",
    )
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.status == "pending_approval" and service.published_at is None
    assert client.get(f"/altra-citta/services/{service.id}").status_code == 404


def test_staff_of_another_organisation_get_403(client: FlaskClient) -> None:
    mine = cf.provider(slug="mine")
    theirs = cf.provider(slug="theirs")
    person = factories.staff(mine)
    their_service = cf.published(theirs, status="draft")
    rule = factories.opening_rule(their_service)
    cf.commit()
    login_as(client, person)
    page = "/borgo-test/provider/"
    base = f"/borgo-test/provider/services/{their_service.id}"
    assert client.get("/borgo-test/provider/theirs/services/new").status_code == 403
    assert (
        submit(client, "/borgo-test/provider/theirs/services/new", _form(), page=page).status_code
        == 403
    )
    assert client.get(f"{base}/edit").status_code == 403
    assert client.get(f"{base}/schedule").status_code == 403
    assert submit(client, f"{base}/edit", _form(), page=page).status_code == 403
    for action in ("publish", "withdraw", f"hours/{rule.id}/delete"):
        assert submit(client, f"{base}/{action}", {}, page=page).status_code == 403, action
    assert submit(client, f"{base}/hours", {"weekday": "1"}, page=page).status_code == 403
    assert submit(client, f"{base}/closures", {"day": "2030-01-01"}, page=page).status_code == 403
    db.session.refresh(their_service)
    assert their_service.status == "draft" and len(their_service.opening_rules) == 1
    assert client.get("/borgo-test/provider/nobody/services/new").status_code == 404
    assert client.get("/borgo-test/provider/a%00b/services/new").status_code == 404
    assert client.get("/borgo-test/provider/services/999999/edit").status_code == 404
    assert client.get("/borgo-test/provider/services/9999999999999/edit").status_code == 404


def test_a_sent_back_service_shows_the_reason_to_its_provider(
    app: Flask, client: FlaskClient
) -> None:
    from core.catalogue.services import send_back

    org, _person = _staff_client(client, cf.ALTRA)
    service = cf.published(org, status="pending_approval")
    send_back(db.session, service, "Please add the English title")
    cf.commit()
    html = client.get("/altra-citta/provider/", headers=EN).get_data(as_text=True)
    assert "Sent back by the district:" in html and "Please add the English title" in html
