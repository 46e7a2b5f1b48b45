"""The catalogue's order and its bounds: titles sorted accent- and case-insensitively in the
reader's language (stored sort titles, kept in step with every title change), at most 50 pages
and 600 counted services, and plans that read a page in order from an index."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from core.catalogue.queries import (
    MAX_PAGES,
    MAX_RESULTS,
    PAGE_SIZE,
    CatalogueFilters,
    catalogue_page,
    counts_by_category,
)
from core.catalogue.search import service_sort_titles
from core.catalogue.services import ServiceData, update_service
from core.extensions import db
from core.models import District, Organisation, Service
from tests.support import catalogue_factories as cf
from tests.support import factories
from tests.support.auth import login_as
from tests.support.pages import card_titles as _titles
from tests.support.pages import html
from tests.support.pages import result_total as _total
from tests.support.web import submit

EN = {"Accept-Language": "en"}
IT = {"Accept-Language": "it"}

# (title_it, title_en): accents, capitals and an empty title in either language.
TITLES = [
    ("Zumba serale", "Evening zumba"),
    ("èlite yoga", "Yoga elite"),
    ("Elisir di benessere", ""),
    ("", "Aqua gym"),
    ("ÉLITE pilates", "Pilates elite"),
    ("acqua", "Water"),
]
ORDER_IT = [
    "acqua",
    "Aqua gym",
    "Elisir di benessere",
    "ÉLITE pilates",
    "èlite yoga",
    "Zumba serale",
]
ORDER_EN = [
    "Aqua gym",
    "Elisir di benessere",
    "Evening zumba",
    "Pilates elite",
    "Water",
    "Yoga elite",
]


def _html(client: FlaskClient, path: str, headers: dict[str, str] = EN) -> str:
    return html(client, path, headers=headers)


def _config(app: Flask) -> Any:
    return app.extensions["concilia"].districts[cf.BORGO]


def test_titles_sort_without_accents_or_case_falling_back_to_the_other_language(
    client: FlaskClient,
) -> None:
    org = cf.provider(slug="aurora")
    for title_it, title_en in TITLES:
        cf.published(org, title_it=title_it, title_en=title_en)
    cf.commit()
    assert _titles(_html(client, "/borgo-test/services", IT)) == ORDER_IT
    assert _titles(_html(client, "/borgo-test/services", EN)) == ORDER_EN
    assert _titles(_html(client, "/borgo-test/services?category=test-wellness", IT)) == ORDER_IT
    assert _titles(_html(client, "/borgo-test/providers/aurora", IT)) == ORDER_IT
    assert _titles(_html(client, "/borgo-test/providers/aurora", EN)) == ORDER_EN
    api = client.get("/api/v1/districts/borgo-test/services", headers=EN).get_json()
    assert [item["title"] for item in api["items"]] == ORDER_EN


def test_equal_titles_keep_a_stable_order_by_id(client: FlaskClient) -> None:
    org = cf.provider()
    ids = [cf.published(org, title_it=title, title_en="").id for title in ("Yoga", "YOGA", "yòga")]
    cf.commit()
    html = _html(client, "/borgo-test/services", IT)
    links = re.findall(r'<h3 class="card-title h5"><a href="/borgo-test/services/(\d+)"', html)
    assert [int(i) for i in links] == sorted(ids)


def _sort_titles(service_id: int) -> tuple[str, str]:
    db.session.expire_all()
    service = db.session.get(Service, service_id)
    assert service is not None
    return service.sort_title_it, service.sort_title_en


def test_sort_titles_follow_title_changes_in_the_provider_area(client: FlaskClient) -> None:
    org = cf.provider(slug="aurora")
    person = factories.staff(org)
    cf.published(org, title_it="Mezzo", title_en="Middle")
    cf.commit()
    login_as(client, person)
    form = {
        "category": "test-wellness",
        "service_type": "yoga",
        "title_it": "Ùltimo corso",
        "title_en": "",
        "price": "0",
        "min_notice_hours": "1",
        "max_advance_days": "30",
        "cancel_deadline_hours": "0",
        "max_seats_per_booking": "1",
        "quota_scope": "service",
        "waitlist_hold_minutes": "0",
    }
    assert submit(client, "/borgo-test/provider/aurora/services/new", form).status_code == 302
    new = db.session.scalar(select(Service).where(Service.title_it == "Ùltimo corso"))
    assert new is not None
    assert _sort_titles(new.id) == ("ultimo corso", "ultimo corso")
    path = f"/borgo-test/provider/services/{new.id}/edit"
    edited = {**form, "title_it": "  Àbaco ", "title_en": "Zither"}
    assert submit(client, path, edited).status_code == 302
    assert _sort_titles(new.id) == ("abaco", "zither")
    new.status = "published"
    db.session.commit()
    assert _titles(_html(client, "/borgo-test/services", IT)) == ["Àbaco", "Mezzo"]
    assert _titles(_html(client, "/borgo-test/services", EN)) == ["Middle", "Zither"]


def test_sort_titles_follow_every_orm_write(app: Flask) -> None:
    org = cf.provider()
    service = cf.published(org, title_it="Primo", title_en="First")
    assert (service.sort_title_it, service.sort_title_en) == ("primo", "first")
    service.title_en = ""
    db.session.flush()
    assert service.sort_title_en == "primo"  # falls back to the Italian title
    service.sort_title_it = "zzz"  # a derived column cannot be set by hand
    db.session.flush()
    assert service.sort_title_it == "primo"
    data = ServiceData.from_service(service)
    data.title_it, data.title_en = "Secondo", "Second"
    update_service(db.session, service, data, _config(app), app.extensions["concilia"].categories)
    db.session.commit()
    assert _sort_titles(service.id) == ("secondo", "second")


def test_demo_services_are_loaded_with_their_sort_titles(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load", "--district", "isola-garibaldi"]).exit_code == 0
    services = list(db.session.scalars(select(Service)))
    assert services
    for service in services:
        expected = service_sort_titles(service.title_it, service.title_en)
        assert (service.sort_title_it, service.sort_title_en) == expected, service.slug


def _many(org: Organisation, count: int, category: str = "test-wellness") -> None:
    """``count`` published services titled "Service 0000"… in one flush."""
    now = datetime.now(UTC)
    db.session.add_all(
        Service(
            district_id=org.district_id,
            organisation_id=org.id,
            category=category,
            title_it="",
            title_en=f"Service {n:04d}",
            status="published",
            published_at=now,
        )
        for n in range(count)
    )
    cf.commit()


def test_a_large_search_is_bounded_to_50_pages_and_says_so(client: FlaskClient) -> None:
    org = cf.provider()
    _many(org, MAX_RESULTS + 1)
    for n in range(3):
        cf.published(org, category="test-care", title_en=f"Care {n}")
    cf.commit()
    base = "/borgo-test/services"
    html = _html(client, base)
    assert "More than 600 services found" in html and 'data-more="true"' in html
    assert "More than 600 services: choose an area or a filter." in html
    assert _total(html) == MAX_RESULTS
    assert f"page={MAX_PAGES}" in html and f"page={MAX_PAGES + 1}" not in html
    italian = _html(client, base, IT)
    assert "Più di 600 servizi trovati" in italian and "scegli un'area o un filtro" in italian
    last = _titles(_html(client, f"{base}?category=test-wellness&page={MAX_PAGES}"))
    first_on_last = (MAX_PAGES - 1) * PAGE_SIZE
    assert last == [f"Service {n:04d}" for n in range(first_on_last, first_on_last + PAGE_SIZE)]
    beyond = _html(client, f"{base}?category=test-wellness&page={MAX_PAGES + 1}")
    assert _titles(beyond) == last  # past the last page: the last page
    for junk in ("0", "-3", "x", "10001", "1" * 30):
        assert _titles(_html(client, f"{base}?category=test-wellness&page={junk}"))[0] == (
            "Service 0000"
        )
    narrow = _html(client, f"{base}?category=test-care")
    assert _total(narrow) == 3 and "data-more" not in narrow and "choose an area" not in narrow

    one = db.session.scalar(select(Service).where(Service.title_en == "Service 0600"))
    assert one is not None
    one.status = "withdrawn"
    db.session.commit()
    exact = _html(client, f"{base}?category=test-wellness")
    assert _total(exact) == MAX_RESULTS and "600 services found" in exact
    assert "More than" not in exact


def test_the_api_says_when_more_services_match_than_its_pages_reach(client: FlaskClient) -> None:
    _many(cf.provider(), MAX_RESULTS + 5)
    base = "/api/v1/districts/borgo-test/services"
    body = client.get(f"{base}?page={MAX_PAGES}", headers=EN).get_json()
    assert (body["total"], body["pages"], body["more"]) == (MAX_RESULTS, MAX_PAGES, True)
    assert len(body["items"]) == PAGE_SIZE
    response = client.get(f"{base}?page={MAX_PAGES + 1}", headers=EN)
    assert response.status_code == 404
    assert "Only the first 50 pages" in response.get_data(as_text=True)
    small = client.get(f"{base}?category=test-care", headers=EN).get_json()
    assert (small["total"], small["more"]) == (0, False)


def test_district_home_counts_each_area_up_to_600(client: FlaskClient) -> None:
    org = cf.provider()
    _many(org, MAX_RESULTS + 1)
    cf.published(org, category="test-care")
    cf.commit()
    html = _html(client, "/borgo-test/")
    assert "More than 600 services" in html and "1 service<" in html
    assert re.search(r'data-element="all-services">All the services</a>', html)


def test_suspended_providers_stay_out_of_the_lists_and_counts(app: Flask) -> None:
    active, suspended = cf.provider(slug="on"), cf.provider(slug="off")
    shown = cf.published(active, title_en="Shown")
    cf.published(suspended, title_en="Hidden")
    suspended.status = "suspended"
    cf.commit()
    district = db.session.scalar(select(District).where(District.slug == cf.BORGO))
    assert district is not None
    page = catalogue_page(db.session, district, _config(app), CatalogueFilters(), locale="en")
    assert [s.id for s in page.services] == [shown.id] and page.total == 1
    assert not page.more
    only_off = catalogue_page(
        db.session, district, _config(app), CatalogueFilters(provider="off"), locale="en"
    )
    assert only_off.services == [] and only_off.total == 0
    assert counts_by_category(db.session, district, ["test-wellness", "test-care"]) == {
        "test-wellness": 1
    }


# --- query plans ------------------------------------------------------------------------------


@contextmanager
def _captured(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _plan(statement: str, params: Any) -> str:
    """The plan of a statement: PostgreSQL is told to avoid sorts and full scans whenever an
    index can do, so a plan still sorting means no index serves the order."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        for setting in ("enable_sort", "enable_seqscan", "enable_bitmapscan"):
            connection.exec_driver_sql(f"SET LOCAL {setting} = off")
        rows = connection.exec_driver_sql("EXPLAIN " + statement, params).all()
        return "\n".join(str(r[0]) for r in rows)
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
    return "\n".join(str(r[-1]) for r in rows)


@pytest.mark.parametrize(
    ("locale", "category", "index"),
    [
        ("it", "", "ix_service_order_it"),
        ("en", "", "ix_service_order_en"),
        ("it", "test-wellness", "ix_service_area_order_it"),
        ("en", "test-wellness", "ix_service_area_order_en"),
    ],
)
def test_a_page_and_its_count_are_read_from_an_index_without_sorting(
    app: Flask, locale: str, category: str, index: str
) -> None:
    org = cf.provider()
    for n in range(30):
        cf.published(org, title_it=f"Servizio {n}", title_en=f"Service {n}")
    cf.published(cf.provider(slug="off", status="suspended"))  # a NOT IN list in the query
    cf.commit()
    district = db.session.scalar(select(District).where(District.slug == cf.BORGO))
    assert district is not None
    with _captured(app) as seen:
        page = catalogue_page(
            db.session, district, _config(app), CatalogueFilters(category=category), 2, locale
        )
    assert len(page.services) == PAGE_SIZE
    ordered = [(s, p) for s, p in seen if "ORDER BY" in s and "LIMIT" in s]
    counted = [(s, p) for s, p in seen if "count(*)" in s]
    assert len(ordered) == 1 and len(counted) == 1
    page_plan = _plan(*ordered[0])
    count_plan = _plan(*counted[0])
    sqlite = db.session.connection().dialect.name == "sqlite"
    db.session.rollback()
    # Either order index of the reader's language serves the order (PostgreSQL may prefer the
    # one without the area on a table this small); SQLite's choice is exact and index-only.
    assert re.search(rf"ix_service_(area_)?order_{locale}\b", page_plan), page_plan
    assert "Sort" not in page_plan and "B-TREE FOR ORDER BY" not in page_plan, page_plan
    assert "Seq Scan" not in count_plan and "SCAN service" not in count_plan, count_plan
    assert "ix_service_" in count_plan, count_plan
    if sqlite:
        assert f"COVERING INDEX {index}" in page_plan, page_plan
        counted_on = "ix_service_area_order_" if category else "ix_service_order_"
        assert f"COVERING INDEX {counted_on}" in count_plan, count_plan  # either language
