"""Health & psycho-physical wellbeing: physiotherapy, counselling, yoga, swimming, fitness.

GDPR art. 9: health data are a special category. This plugin never asks for health details in
free text; the only extra question is whether a one-to-one appointment is a first visit or a
follow-up, as a closed choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectField
from wtforms.validators import InputRequired

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

SLUG = "health"
#: One-to-one appointments: one seat per booking, and a first-visit/follow-up question.
ONE_TO_ONE = frozenset({"physiotherapy", "psychological-counselling"})
VISIT_KINDS = ("first", "follow-up")


def category() -> Category:
    """The health area with its service types."""
    return Category(
        slug=SLUG,
        name=_l("Health and wellbeing"),
        description=_l(
            "Physiotherapy, psychological counselling, yoga and pilates, swimming and fitness "
            "near where you live and work."
        ),
        icon="it-plus-circle",
        colour="#00805f",
        order=10,
        service_types=(
            ServiceType(
                "physiotherapy", _l("Physiotherapy"), _l("Sessions with a physiotherapist.")
            ),
            ServiceType(
                "psychological-counselling",
                _l("Psychological counselling"),
                _l("Confidential talks with a psychologist."),
            ),
            ServiceType(
                "yoga-pilates", _l("Yoga and pilates"), _l("Group classes for all levels.")
            ),
            ServiceType("swimming", _l("Swimming"), _l("Lane swimming and swimming courses.")),
            ServiceType("fitness", _l("Fitness"), _l("Gym and fitness classes.")),
        ),
    )


def visit_kind_choices() -> list[Any]:
    """The closed choices of the first-visit question."""
    return [_choice("first", _l("First visit")), _choice("follow-up", _l("Follow-up visit"))]


def fields_for(service: Any) -> list[tuple[str, Field]] | None:
    """Extra booking fields for a health service: a first-visit/follow-up select, nothing else."""
    if getattr(service, "category", None) != SLUG or service.service_type not in ONE_TO_ONE:
        return None
    return [
        (
            "visit_kind",
            SelectField(
                _l("Is this your first visit?"),
                choices=visit_kind_choices(),
                validators=[InputRequired()],
                description=_l("Please do not write health details here or anywhere else."),
            ),
        )
    ]


def reasons_to_refuse(request: BookingRequest) -> list[str]:
    """The health rules: one-to-one appointments take one seat and need a valid visit kind."""
    service = request.service
    if getattr(service, "category", None) != SLUG or service.service_type not in ONE_TO_ONE:
        return []
    reasons = []
    if request.seats != 1:
        reasons.append(_("A one-to-one appointment is booked for one person at a time."))
    if request.answers.get("visit_kind") not in VISIT_KINDS:
        reasons.append(_("Please say whether this is a first visit or a follow-up."))
    return reasons


@hookimpl
def register_categories() -> list[Category]:
    """Register the health area."""
    return [category()]


@hookimpl
def booking_form_fields(service: Any) -> list[tuple[str, Field]] | None:
    """Add the first-visit question to one-to-one health appointments."""
    return fields_for(service)


@hookimpl
def validate_booking(request: BookingRequest) -> list[str] | None:
    """Refuse health bookings that break the area's rules."""
    return reasons_to_refuse(request) or None


@hookimpl
def translation_dirs() -> list[str]:
    """The health plugin's own catalogs."""
    return [str(Path(__file__).resolve().parent / "translations")]
