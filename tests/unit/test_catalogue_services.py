"""The catalogue's rules as plain functions: validation, status transitions, hours, closures."""

from __future__ import annotations

import sys
import types
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core.catalogue import services as rules
from core.catalogue.events import service_schedule_changed
from core.catalogue.queries import day_bounds
from core.catalogue.services import CatalogueError, InvalidTransition, ServiceData
from core.extensions import db
from core.models import AuditEntry, Service
from core.plugins.types import DistrictConfig
from tests.support import catalogue_factories as cf
from tests.support import factories


def _config(app: Flask, slug: str = cf.BORGO) -> DistrictConfig:
    return app.extensions["concilia"].districts[slug]


def _categories(app: Flask) -> dict[str, Any]:
    return app.extensions["concilia"].categories


def _data(**overrides: Any) -> ServiceData:
    base = ServiceData(
        category="test-wellness",
        service_type="yoga",
        title_it="Yoga al parco",
        title_en="Yoga in the park",
        price_cents=1000,
        beneficiary_price_cents=500,
    )
    return replace(base, **overrides)


def _errors(app: Flask, data: ServiceData, slug: str = cf.BORGO) -> dict[str, list[Any]]:
    with pytest.raises(CatalogueError) as info:
        rules.validate_service_data(data, _config(app, slug), _categories(app))
    return info.value.errors


def test_valid_data_passes(app: Flask) -> None:
    rules.validate_service_data(_data(), _config(app), _categories(app))
    rules.validate_service_data(
        _data(title_it="", service_type="", beneficiary_price_cents=None),
        _config(app),
        _categories(app),
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "unknown"}, "category"),
        ({"service_type": "babysitting"}, "service_type"),  # a type of test-care
        ({"title_it": " ", "title_en": ""}, "title_it"),
        ({"price_cents": -1, "beneficiary_price_cents": None}, "price"),
        ({"beneficiary_price_cents": 1500}, "beneficiary_price"),
        ({"beneficiary_price_cents": -1}, "beneficiary_price"),
        ({"min_notice_minutes": -60}, "min_notice_hours"),
        ({"max_advance_days": 0}, "max_advance_days"),
        ({"max_advance_days": 731}, "max_advance_days"),
        ({"min_notice_minutes": 3 * 24 * 60, "max_advance_days": 2}, "max_advance_days"),
        ({"cancel_deadline_minutes": 10**7}, "cancel_deadline_hours"),
        ({"max_seats_per_booking": 0}, "max_seats_per_booking"),
        ({"max_seats_per_booking": 51}, "max_seats_per_booking"),
        ({"quota_per_month": 0}, "quota_per_month"),
        ({"quota_scope": "district"}, "quota_scope"),
        ({"waitlist_hold_minutes": -1}, "waitlist_hold_minutes"),
        ({"title_en": "x" * 201}, "title_en"),
    ],
)
def test_invalid_data_is_refused_on_the_right_field(
    app: Flask, overrides: dict[str, Any], field: str
) -> None:
    assert field in _errors(app, _data(**overrides))


def test_only_categories_enabled_in_the_district_are_accepted(app: Flask) -> None:
    # altra-citta enables test-care only
    assert "category" in _errors(app, _data(service_type=""), cf.ALTRA)
    rules.validate_service_data(
        _data(category="test-care", service_type="babysitting"),
        _config(app, cf.ALTRA),
        _categories(app),
    )


def test_enabled_categories_follow_the_registry_order(app: Flask) -> None:
    config = replace(_config(app), categories=("test-care", "missing", "test-wellness"))
    slugs = [c.slug for c in rules.enabled_categories(config, _categories(app))]
    assert slugs == ["test-wellness", "test-care"]


def test_create_service_makes_a_searchable_draft_and_audits(app: Flask) -> None:
    org = cf.provider(name="Cooperativa Città Aperta")
    actor = factories.staff(org)
    data = _data(title_it="  Ginnastica dolce ")
    service = rules.create_service(db.session, org, data, _config(app), _categories(app), actor)
    db.session.commit()
    assert service.status == "draft"
    assert service.district_id == org.district_id
    assert service.title_it == "Ginnastica dolce"
    assert "ginnastica dolce" in service.search_text
    assert "cooperativa citta aperta" in service.search_text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "service.created"))
    assert entry is not None and entry.actor_id == actor.id
    assert entry.target_id == str(service.id)


def test_refused_update_changes_nothing(app: Flask) -> None:
    org = cf.provider()
    service = cf.published(org, title_it="Prima", price_cents=1000)
    db.session.commit()
    with pytest.raises(CatalogueError):
        rules.update_service(
            db.session,
            service,
            _data(title_it="Dopo", price_cents=100, beneficiary_price_cents=200),
            _config(app),
            _categories(app),
        )
    db.session.rollback()
    assert db.session.get(Service, service.id).title_it == "Prima"  # type: ignore[union-attr]


def test_update_service_keeps_the_status_and_refreshes_search_text(app: Flask) -> None:
    service = cf.published(cf.provider())
    rules.update_service(
        db.session, service, _data(title_en="Pilates Ñandú"), _config(app), _categories(app)
    )
    db.session.commit()
    assert service.status == "published"
    assert "pilates nandu" in service.search_text


def test_search_text_is_kept_current_for_any_writer(app: Flask) -> None:
    org = cf.provider(name="Bottega Verde")
    service = factories.service(org, category="test-wellness", description_en="Fresh Café")
    db.session.commit()
    assert "fresh cafe" in service.search_text and "bottega verde" in service.search_text
    org.name = "Emporio Blu"
    db.session.commit()
    assert "emporio blu" in service.search_text and "bottega" not in service.search_text


def test_publish_without_approval_publishes_at_once(app: Flask) -> None:
    service = cf.published(cf.provider(), status="draft", published_at=None)
    assert rules.publish(db.session, service, _config(app)) == "published"
    assert service.status == "published" and service.published_at is not None
    with pytest.raises(InvalidTransition):
        rules.publish(db.session, service, _config(app))


def test_publish_in_a_district_requiring_approval_waits(app: Flask) -> None:
    service = cf.published(cf.provider(cf.ALTRA), status="draft", published_at=None)
    assert rules.publish(db.session, service, _config(app, cf.ALTRA)) == "pending_approval"
    assert service.published_at is None
    rules.approve(db.session, service)
    assert service.status == "published" and service.published_at is not None
    with pytest.raises(InvalidTransition):
        rules.approve(db.session, service)


def test_withdraw_and_republish(app: Flask) -> None:
    service = cf.published(cf.provider())
    rules.withdraw(db.session, service)
    assert service.status == "withdrawn"
    with pytest.raises(InvalidTransition):
        rules.withdraw(db.session, service)
    assert rules.publish(db.session, service, _config(app)) == "published"


def test_send_back_needs_a_reason_and_shows_it_until_resubmitted(app: Flask) -> None:
    service = cf.published(cf.provider(cf.ALTRA), status="pending_approval")
    with pytest.raises(CatalogueError) as info:
        rules.send_back(db.session, service, "   ")
    assert "reason" in info.value.errors
    assert service.status == "pending_approval"
    with pytest.raises(CatalogueError):
        rules.send_back(db.session, service, "x" * 501)
    rules.send_back(db.session, service, "Add the address, please")
    assert service.status == "draft"
    assert rules.review_notes(db.session, [service]) == {service.id: "Add the address, please"}
    with pytest.raises(InvalidTransition):
        rules.send_back(db.session, service, "again")
    rules.publish(db.session, service, _config(app, cf.ALTRA))
    rules.send_back(db.session, service, "Second note")
    assert rules.review_notes(db.session, [service]) == {service.id: "Second note"}
    rules.publish(db.session, service, _config(app, cf.ALTRA))
    assert rules.review_notes(db.session, [service]) == {}


def test_opening_rules_are_validated(app: Flask) -> None:
    service = cf.published(cf.provider())
    rules.add_opening_rule(db.session, service, 0, time(9), time(12), 60, 2)
    cases = [
        ((0, time(12), time(9), 60, 2), "end"),
        ((0, time(14), time(14), 60, 2), "end"),
        ((1, time(9), time(10), 90, 2), "slot_minutes"),
        ((1, time(9), time(10), 3, 2), "slot_minutes"),
        ((1, time(9), time(12), 60, 0), "seats"),
        ((1, time(9), time(12), 60, 501), "seats"),
        ((7, time(9), time(12), 60, 1), "weekday"),
        ((0, time(11), time(13), 60, 1), "start"),  # overlaps Monday 9-12
    ]
    for args, field in cases:
        with pytest.raises(CatalogueError) as info:
            rules.add_opening_rule(db.session, service, *args)
        assert field in info.value.errors, (args, info.value.errors)
    rules.add_opening_rule(db.session, service, 0, time(12), time(13), 30, 500)  # touches: fine
    db.session.commit()
    assert [(r.weekday, r.start) for r in service.opening_rules] == [(0, time(9)), (0, time(12))]
    rule_id = service.opening_rules[0].id
    assert rules.remove_opening_rule(db.session, service, rule_id)
    assert not rules.remove_opening_rule(db.session, service, rule_id)
    db.session.commit()
    assert len(service.opening_rules) == 1


def test_closures_are_validated(app: Flask) -> None:
    service = cf.published(cf.provider())
    today = date(2026, 5, 10)
    with pytest.raises(CatalogueError) as info:
        rules.add_closure(db.session, service, date(2026, 5, 9), "", today=today)
    assert "day" in info.value.errors
    closure = rules.add_closure(db.session, service, today, " Festa ", today=today)
    assert closure.reason == "Festa"
    with pytest.raises(CatalogueError):
        rules.add_closure(db.session, service, today, "", today=today)
    with pytest.raises(CatalogueError):
        rules.add_closure(db.session, service, date(2026, 6, 1), "x" * 201, today=today)
    db.session.commit()
    assert rules.remove_closure(db.session, service, closure.id)
    assert not rules.remove_closure(db.session, service, closure.id)
    db.session.commit()
    assert service.closures == []


def test_local_today_uses_the_district_zone(app: Flask) -> None:
    late = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # 00:30 on 2 July in Rome
    assert rules.local_today(_config(app), late) == date(2026, 7, 2)


def test_day_bounds_follow_daylight_saving_time() -> None:
    start, end = day_bounds(date(2026, 3, 29), "Europe/Rome")  # clocks go forward
    assert start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=23)


def test_schedule_changes_reach_the_booking_engine(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    engine = types.ModuleType("core.booking.slots")
    engine.regenerate_slots = lambda service: calls.append(service.id)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "core.booking.slots", engine)
    service = cf.published(cf.provider())
    assert service_schedule_changed(db.session, service) is True
    assert calls == [service.id]


def test_reindex_search_text_repairs_rows_written_around_the_orm(app: Flask) -> None:
    from sqlalchemy import update

    from core.catalogue.search import reindex_search_text

    mine = cf.published(cf.provider(name="Àncora"), title_en="Sailing")
    other = cf.published(cf.provider(cf.ALTRA), title_en="Rowing")
    db.session.commit()
    db.session.execute(update(Service).values(search_text="", sort_title_it="", sort_title_en=""))
    db.session.commit()
    assert reindex_search_text(db.session, mine.district_id) == 1
    db.session.commit()
    assert "sailing" in mine.search_text and "ancora" in mine.search_text
    assert (mine.sort_title_it, mine.sort_title_en) == (mine.title_it.lower(), "sailing")
    assert other.search_text == "" and other.sort_title_en == ""
    assert reindex_search_text(db.session) == 2
    assert "rowing" in other.search_text and other.sort_title_en == "rowing"
