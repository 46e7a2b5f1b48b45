"""Work services: co-working desks and meeting rooms, smart-working spaces, urban work spaces.

A seat of a meeting-room service is one room, which holds up to :data:`PEOPLE_PER_ROOM`
people; the booking form asks how many will attend (1 to 20), and a booking of ``seats``
rooms may bring at most ``seats × PEOPLE_PER_ROOM`` people.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, IntegerField
from wtforms.validators import InputRequired, NumberRange

from core.plugins import BookingRequest, Category, ServiceType, hookimpl

PLUGIN_KIND = "category"
__version__ = "1.0.0"

SLUG = "work"
PEOPLE_PER_ROOM = 10
MAX_ATTENDEES = 20


def category() -> Category:
    """The work-services area with its service types."""
    return Category(
        slug=SLUG,
        name=_l("Work services"),
        description=_l(
            "Co-working desks and meeting rooms, smart-working spaces and urban work spaces "
            "close to home."
        ),
        icon="it-presentation",
        colour="#0066cc",
        order=40,
        service_types=(
            ServiceType("hot-desk", _l("Hot desk"), _l("A desk in a shared office for a day.")),
            ServiceType(
                "meeting-room", _l("Meeting room"), _l("A room for meetings, up to 10 people.")
            ),
            ServiceType(
                "private-office",
                _l("Private office day pass"),
                _l("A closed office for a day."),
            ),
            ServiceType(
                "smart-working",
                _l("Smart-working space"),
                _l("A quiet place with Wi-Fi to work remotely."),
            ),
            ServiceType(
                "urban-work-space",
                _l("Urban work space"),
                _l("Work stations in public spaces of the district."),
            ),
        ),
    )


def fields_for(service: Any) -> list[tuple[str, Field]] | None:
    """Extra booking fields for a work service: the number of attendees of a meeting room."""
    if getattr(service, "category", None) != SLUG or service.service_type != "meeting-room":
        return None
    return [
        (
            "attendees",
            IntegerField(
                _l("Number of attendees"),
                [InputRequired(), NumberRange(min=1, max=MAX_ATTENDEES)],
                description=_l("Each room holds up to 10 people."),
            ),
        )
    ]


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def reasons_to_refuse(request: BookingRequest) -> list[str]:
    """The work rules: meeting-room attendees fit the rooms booked (10 people per room)."""
    service = request.service
    if getattr(service, "category", None) != SLUG or service.service_type != "meeting-room":
        return []
    attendees = _as_int(request.answers.get("attendees"))
    if attendees is None or not 1 <= attendees <= MAX_ATTENDEES:
        return [_("Please give the number of attendees, from 1 to %(max)d.", max=MAX_ATTENDEES)]
    if attendees > request.seats * PEOPLE_PER_ROOM:
        return [
            _(
                "%(attendees)d people do not fit in %(rooms)d room(s): each room holds up to "
                "%(per_room)d people.",
                attendees=attendees,
                rooms=request.seats,
                per_room=PEOPLE_PER_ROOM,
            )
        ]
    return []


@hookimpl
def register_categories() -> list[Category]:
    """Register the work-services area."""
    return [category()]


@hookimpl
def booking_form_fields(service: Any) -> list[tuple[str, Field]] | None:
    """Ask for the number of attendees of a meeting room."""
    return fields_for(service)


@hookimpl
def validate_booking(request: BookingRequest) -> list[str] | None:
    """Refuse work bookings that break the area's rules."""
    return reasons_to_refuse(request) or None


@hookimpl
def translation_dirs() -> list[str]:
    """The work plugin's own catalogs."""
    return [str(Path(__file__).resolve().parent / "translations")]
