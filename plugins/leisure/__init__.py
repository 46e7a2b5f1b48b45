"""Leisure & work-life balance: sport courses, cultural visits, workshops, time-saving services.

Sport courses ask for the participant's level (a closed choice); time-saving services
(laundry, tailoring, errands) ask how many items or bags to collect, from 1 to 5.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from core.plugins import BookingRequest, Category, ServiceType, hookimpl

try:  # WTForms >= 3.3 wants SelectChoice objects; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - WTForms < 3.3
    SelectChoice = None


def _choice(value: str, label: Any) -> Any:
    """A select choice in the form the installed WTForms expects."""
    return SelectChoice(value, label) if SelectChoice is not None else (value, label)


PLUGIN_KIND = "category"
__version__ = "1.0.0"

SLUG = "leisure"
LEVELS = ("beginner", "intermediate", "advanced")
MAX_ITEMS = 5


def category() -> Category:
    """The leisure area with its service types."""
    return Category(
        slug=SLUG,
        name=_l("Leisure and work-life balance"),
        description=_l(
            "Sport courses, cultural visits, workshops and services that save you time: "
            "laundry, tailoring, errands."
        ),
        icon="it-star-full",
        colour="#d1512d",
        order=30,
        service_types=(
            ServiceType("sport-courses", _l("Sport courses"), _l("Courses for adults and kids.")),
            ServiceType(
                "cultural-visits", _l("Cultural visits"), _l("Guided walks, museums, the park.")
            ),
            ServiceType("workshops", _l("Workshops"), _l("Craft, cooking and creative workshops.")),
            ServiceType(
                "time-saving",
                _l("Time-saving services"),
                _l("Laundry, tailoring and errands done for you."),
            ),
        ),
    )


def level_choices() -> list[Any]:
    """Closed choices of the sport-course level."""
    return [
        _choice("beginner", _l("Beginner")),
        _choice("intermediate", _l("Intermediate")),
        _choice("advanced", _l("Advanced")),
    ]


def fields_for(service: Any) -> list[tuple[str, Field]] | None:
    """Extra booking fields for a leisure service, by service type."""
    if getattr(service, "category", None) != SLUG:
        return None
    if service.service_type == "sport-courses":
        return [
            (
                "level",
                SelectField(
                    _l("Your level"), choices=level_choices(), validators=[InputRequired()]
                ),
            )
        ]
    if service.service_type == "time-saving":
        return [
            (
                "bags",
                IntegerField(
                    _l("Bags or items to collect"),
                    [InputRequired(), NumberRange(min=1, max=MAX_ITEMS)],
                ),
            )
        ]
    return None


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def reasons_to_refuse(request: BookingRequest) -> list[str]:
    """The leisure rules: a known course level; 1 to 5 items for time-saving services."""
    service = request.service
    if getattr(service, "category", None) != SLUG:
        return []
    reasons: list[str] = []
    if service.service_type == "sport-courses" and request.answers.get("level") not in LEVELS:
        reasons.append(_("Please choose your level."))
    if service.service_type == "time-saving":
        items = _as_int(request.answers.get("bags"))
        if items is None or not 1 <= items <= MAX_ITEMS:
            reasons.append(
                _("We can collect from 1 to %(max)d bags or items per booking.", max=MAX_ITEMS)
            )
    return reasons


@hookimpl
def register_categories() -> list[Category]:
    """Register the leisure area."""
    return [category()]


@hookimpl
def booking_form_fields(service: Any) -> list[tuple[str, Field]] | None:
    """Ask for the course level or the number of items, depending on the service type."""
    return fields_for(service)


@hookimpl
def validate_booking(request: BookingRequest) -> list[str] | None:
    """Refuse leisure bookings that break the area's rules."""
    return reasons_to_refuse(request) or None


@hookimpl
def translation_dirs() -> list[str]:
    """The leisure plugin's own catalogs."""
    return [str(Path(__file__).resolve().parent / "translations")]
