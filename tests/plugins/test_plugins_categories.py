"""The four built-in area plugins: well-formed categories, their fields and their rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict
from wtforms import Form

import plugins.family
import plugins.health
import plugins.leisure
import plugins.work
from core.models import Service
from core.plugins import BookingRequest

AREAS = [plugins.health, plugins.family, plugins.leisure, plugins.work]
SPRITE = Path(__file__).resolve().parents[2] / "core/static/vendor/bootstrap-italia/svg/sprites.svg"


def sprite_ids() -> set[str]:
    """The icon ids of Bootstrap Italia's sprite file."""
    return set(re.findall(r'<symbol[^>]*\bid="([^"]+)"', SPRITE.read_text(encoding="utf-8")))


def service(category: str, service_type: str) -> Service:
    """An unsaved service of the given area and type."""
    return Service(category=category, service_type=service_type)


def request_for(category: str, service_type: str, seats: int = 1, **answers: Any) -> BookingRequest:
    """A booking request for a service of the given area and type."""
    return BookingRequest(
        user=None, service=service(category, service_type), slot=None, seats=seats, answers=answers
    )


def test_the_four_areas_have_their_slugs_orders_and_known_icons(app: Flask) -> None:
    categories = [module.category() for module in AREAS]
    assert [c.slug for c in categories] == ["health", "family", "leisure", "work"]
    assert [c.order for c in categories] == [10, 20, 30, 40]
    icons = sprite_ids()
    assert icons, "the Bootstrap Italia sprite is missing"
    for category in categories:
        assert category.icon in icons, category.icon
        assert re.fullmatch(r"#[0-9a-f]{6}", category.colour)
        slugs = [t.slug for t in category.service_types]
        assert len(slugs) >= 4 and len(set(slugs)) == len(slugs)
    registered = app.extensions["concilia"].categories
    assert {"health", "family", "leisure", "work"} <= set(registered)


@pytest.mark.parametrize("module", AREAS, ids=lambda m: m.SLUG)
def test_names_are_translated_in_italian_and_english(app: Flask, module: Any) -> None:
    category = app.extensions["concilia"].categories[module.SLUG]
    with app.test_request_context():
        with force_locale("en"):
            english = [str(category.name), str(category.description)]
            english += [str(t.name) for t in category.service_types]
        with force_locale("it"):
            italian = [str(category.name), str(category.description)]
            italian += [str(t.name) for t in category.service_types]
    assert all(english) and all(italian)
    changed = [en != it for en, it in zip(english, italian, strict=True)]
    assert sum(changed) >= len(changed) - 2  # a few words (Fitness, Babysitting) are the same
    assert str(italian[0]) in {
        "Salute e benessere",
        "Cura della famiglia",
        "Tempo libero e conciliazione",
        "Servizi per il lavoro",
    }


def field_names(module: Any, category: str, service_type: str) -> list[str]:
    return [name for name, _field in module.fields_for(service(category, service_type)) or []]


def test_each_plugin_adds_fields_only_to_its_own_area(app: Flask) -> None:
    with app.test_request_context():
        for module in AREAS:
            for other in AREAS:
                if other is module:
                    continue
                for service_type in other.category().service_types:
                    assert module.fields_for(service(other.SLUG, service_type.slug)) is None
        assert field_names(plugins.family, "family", "babysitting") == ["child_name", "child_age"]
        assert field_names(plugins.family, "family", "elderly-day-centre") == [
            "relationship",
            "mobility",
        ]
        assert field_names(plugins.work, "work", "meeting-room") == ["attendees"]
        assert field_names(plugins.work, "work", "hot-desk") == []
        assert field_names(plugins.health, "health", "physiotherapy") == ["visit_kind"]
        assert field_names(plugins.health, "health", "swimming") == []
        assert field_names(plugins.leisure, "leisure", "sport-courses") == ["level"]
        assert field_names(plugins.leisure, "leisure", "time-saving") == ["bags"]


def test_health_asks_no_free_text(app: Flask) -> None:
    from wtforms import SelectField

    with app.test_request_context():
        for service_type in plugins.health.category().service_types:
            for _name, field in (
                plugins.health.fields_for(service("health", service_type.slug)) or []
            ):
                assert field.field_class is SelectField


def form_errors(fields: list[tuple[str, Any]], data: dict[str, str]) -> dict[str, Any]:
    """Validate ``data`` with a plain WTForms form made of ``fields``."""
    form_class = type("PluginForm", (Form,), dict(fields))
    form = form_class(formdata=MultiDict(data))
    form.validate()
    return form.errors


def test_child_fields_validate_the_age_range_0_to_17(app: Flask) -> None:
    with app.test_request_context():
        fields = plugins.family.fields_for(service("family", "after-school"))
        assert form_errors(fields, {"child_name": "Leo", "child_age": "9"}) == {}
        assert "child_age" in form_errors(fields, {"child_name": "Leo", "child_age": "18"})
        assert "child_age" in form_errors(fields, {"child_name": "Leo", "child_age": "-1"})
        assert "child_name" in form_errors(fields, {"child_age": "9"})


def test_elderly_fields_are_closed_choices(app: Flask) -> None:
    with app.test_request_context():
        fields = plugins.family.fields_for(service("family", "elderly-home-care"))
        good = {"relationship": "parent", "mobility": "wheelchair"}
        assert form_errors(fields, good) == {}
        assert "mobility" in form_errors(fields, {**good, "mobility": "runs marathons"})


def test_meeting_room_attendees_field_is_1_to_20(app: Flask) -> None:
    with app.test_request_context():
        fields = plugins.work.fields_for(service("work", "meeting-room"))
        assert form_errors(fields, {"attendees": "20"}) == {}
        assert "attendees" in form_errors(fields, {"attendees": "21"})
        assert "attendees" in form_errors(fields, {"attendees": "0"})


@pytest.mark.parametrize(
    ("service_type", "ok_age", "too_young", "too_old"),
    [("after-school", 6, 5, 15), ("babysitting", 0, None, 13), ("summer-camp", 14, 5, 15)],
)
def test_child_age_must_fit_the_service_type(
    app: Flask, service_type: str, ok_age: int, too_young: int | None, too_old: int
) -> None:
    rules = plugins.family.reasons_to_refuse
    with app.test_request_context(), force_locale("en"):
        assert rules(request_for("family", service_type, child_name="Leo", child_age=ok_age)) == []
        refused = rules(request_for("family", service_type, child_name="Leo", child_age=too_old))
        assert len(refused) == 1 and "children aged" in refused[0]
        if too_young is not None:
            assert rules(request_for("family", service_type, child_name="Leo", child_age=too_young))
        assert rules(request_for("family", service_type, child_name="Leo", child_age="x"))
        assert rules(request_for("family", service_type, child_age=ok_age))  # no name
        two_seats = request_for("family", service_type, seats=2, child_name="Leo", child_age=ok_age)
        assert rules(two_seats)


def test_the_age_reason_is_translated(app: Flask) -> None:
    with app.test_request_context(), force_locale("it"):
        (reason,) = plugins.family.reasons_to_refuse(
            request_for("family", "babysitting", child_name="Leo", child_age=13)
        )
    assert reason == "Questo servizio è per bambini e ragazzi da 0 a 12 anni."


def test_elderly_answers_must_be_known_choices(app: Flask) -> None:
    rules = plugins.family.reasons_to_refuse
    with app.test_request_context():
        ok = request_for(
            "family", "elderly-day-centre", relationship="parent", mobility="independent"
        )
        assert rules(ok) == []
        bad = request_for("family", "elderly-day-centre", relationship="boss", mobility="flying")
        assert len(rules(bad)) == 2


def test_meeting_room_attendees_must_fit_the_rooms_booked(app: Flask) -> None:
    rules = plugins.work.reasons_to_refuse
    with app.test_request_context(), force_locale("en"):
        assert rules(request_for("work", "meeting-room", seats=1, attendees=10)) == []
        assert rules(request_for("work", "meeting-room", seats=2, attendees=20)) == []
        (reason,) = rules(request_for("work", "meeting-room", seats=1, attendees=11))
        assert "do not fit" in reason
        assert rules(request_for("work", "meeting-room", seats=2, attendees=21))
        assert rules(request_for("work", "meeting-room", seats=1))
        assert rules(request_for("work", "hot-desk", seats=3)) == []


def test_health_one_to_one_rules(app: Flask) -> None:
    rules = plugins.health.reasons_to_refuse
    with app.test_request_context():
        assert rules(request_for("health", "physiotherapy", visit_kind="first")) == []
        assert rules(request_for("health", "physiotherapy", visit_kind="follow-up")) == []
        assert rules(request_for("health", "physiotherapy", visit_kind="back pain")) != []
        assert rules(
            request_for("health", "psychological-counselling", seats=2, visit_kind="first")
        )
        assert rules(request_for("health", "swimming", seats=4)) == []


def test_leisure_rules(app: Flask) -> None:
    rules = plugins.leisure.reasons_to_refuse
    with app.test_request_context():
        assert rules(request_for("leisure", "sport-courses", level="beginner")) == []
        assert rules(request_for("leisure", "sport-courses", level="olympic")) != []
        assert rules(request_for("leisure", "time-saving", bags="5")) == []
        assert rules(request_for("leisure", "time-saving", bags="6")) != []
        assert rules(request_for("leisure", "cultural-visits", seats=4)) == []


def test_rules_ignore_other_areas(app: Flask) -> None:
    with app.test_request_context():
        for module in AREAS:
            for other in AREAS:
                if other is not module:
                    assert module.reasons_to_refuse(request_for(other.SLUG, "meeting-room")) == []
                    assert module.validate_booking(request_for(other.SLUG, "babysitting")) is None


def test_translation_dirs_point_at_compiled_catalogs() -> None:
    for module in AREAS:
        (folder,) = module.translation_dirs()
        assert (Path(folder) / "it/LC_MESSAGES/messages.po").is_file()
