"""Family care: after-school childcare, babysitting, summer camps, care of elderly parents.

Child services ask for the child's first name and age and check the age against the range of
the service type; elderly services ask how the booker is related to the person and about the
person's mobility, both as closed choices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

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

SLUG = "family"
#: Age range (inclusive) of the child, per child service type.
CHILD_AGE_RANGES: dict[str, tuple[int, int]] = {
    "after-school": (6, 14),
    "babysitting": (0, 12),
    "summer-camp": (6, 14),
}
ELDERLY_TYPES = frozenset({"elderly-home-care", "elderly-day-centre"})
RELATIONSHIPS = ("parent", "parent-in-law", "grandparent", "other-relative")
MOBILITY = ("independent", "walking-aid", "wheelchair")


def category() -> Category:
    """The family-care area with its service types."""
    return Category(
        slug=SLUG,
        name=_l("Family care"),
        description=_l(
            "Help with children and elderly parents: after-school care, babysitting, summer "
            "camps, home care and day centres."
        ),
        icon="it-user",
        colour="#a8326b",
        order=20,
        service_types=(
            ServiceType(
                "after-school", _l("After-school childcare"), _l("Care and homework help, 6 to 14.")
            ),
            ServiceType(
                "babysitting", _l("Babysitting"), _l("A babysitter for children up to 12.")
            ),
            ServiceType("summer-camp", _l("Summer camp"), _l("Day camps for children 6 to 14.")),
            ServiceType(
                "elderly-home-care",
                _l("Home care for elderly parents"),
                _l("Visits at home: company, errands, personal care."),
            ),
            ServiceType(
                "elderly-day-centre",
                _l("Day centre for the elderly"),
                _l("Days of activities and company in a centre nearby."),
            ),
        ),
    )


def relationship_choices() -> list[Any]:
    """Closed choices: how the booker is related to the elderly person."""
    return [
        _choice("parent", _l("My parent")),
        _choice("parent-in-law", _l("My parent-in-law")),
        _choice("grandparent", _l("My grandparent")),
        _choice("other-relative", _l("Another relative")),
    ]


def mobility_choices() -> list[Any]:
    """Closed choices: the elderly person's mobility needs."""
    return [
        _choice("independent", _l("Walks without help")),
        _choice("walking-aid", _l("Uses a walking stick or frame")),
        _choice("wheelchair", _l("Uses a wheelchair")),
    ]


def fields_for(service: Any) -> list[tuple[str, Field]] | None:
    """Extra booking fields for a family service, by service type."""
    if getattr(service, "category", None) != SLUG:
        return None
    if service.service_type in CHILD_AGE_RANGES:
        return [
            (
                "child_name",
                StringField(_l("Child's first name"), [DataRequired(), Length(max=60)]),
            ),
            (
                "child_age",
                IntegerField(
                    _l("Child's age"),
                    [InputRequired(), NumberRange(min=0, max=17)],
                    description=_l("In years, from 0 to 17."),
                ),
            ),
        ]
    if service.service_type in ELDERLY_TYPES:
        return [
            (
                "relationship",
                SelectField(
                    _l("Your relationship to the person"),
                    choices=relationship_choices(),
                    validators=[InputRequired()],
                ),
            ),
            (
                "mobility",
                SelectField(
                    _l("The person's mobility"),
                    choices=mobility_choices(),
                    validators=[InputRequired()],
                ),
            ),
        ]
    return None


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def reasons_to_refuse(request: BookingRequest) -> list[str]:
    """The family rules: the child's age fits the service type; elderly answers are valid."""
    service = request.service
    if getattr(service, "category", None) != SLUG:
        return []
    answers = request.answers
    reasons: list[str] = []
    age_range = CHILD_AGE_RANGES.get(service.service_type)
    if age_range is not None:
        low, high = age_range
        if not str(answers.get("child_name") or "").strip():
            reasons.append(_("Please give the child's first name."))
        age = _as_int(answers.get("child_age"))
        if age is None:
            reasons.append(_("Please give the child's age."))
        elif not low <= age <= high:
            reasons.append(
                _("This service is for children aged %(low)d to %(high)d.", low=low, high=high)
            )
        if request.seats != 1:
            reasons.append(_("Book one place per child, so that each child's age is checked."))
    elif service.service_type in ELDERLY_TYPES:
        if answers.get("relationship") not in RELATIONSHIPS:
            reasons.append(_("Please say how you are related to the person."))
        if answers.get("mobility") not in MOBILITY:
            reasons.append(_("Please tell us about the person's mobility."))
    return reasons


@hookimpl
def register_categories() -> list[Category]:
    """Register the family-care area."""
    return [category()]


@hookimpl
def booking_form_fields(service: Any) -> list[tuple[str, Field]] | None:
    """Ask about the child or the elderly person, depending on the service type."""
    return fields_for(service)


@hookimpl
def validate_booking(request: BookingRequest) -> list[str] | None:
    """Refuse family bookings that break the area's rules."""
    return reasons_to_refuse(request) or None


@hookimpl
def translation_dirs() -> list[str]:
    """The family plugin's own catalogs."""
    return [str(Path(__file__).resolve().parent / "translations")]
