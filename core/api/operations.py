"""What the API's write endpoints do, outside the views: read a booking request, find the
bookings a caller may see or act on. The engine (``core.booking``) does the booking itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from core.api.errors import field_problem, not_found, validation
from core.api.params import int_field
from core.booking import Applicant
from core.extensions import db
from core.models import Booking, Service, Slot, User
from core.web.booking import ApplicantForm, details_form_class, jsonable

BOOKING_KEYS = frozenset({"slot_id", "seats", "answers", "applicant", "waitlist"})


@dataclass
class BookingInput:
    """A checked ``POST /bookings`` body."""

    slot_id: int
    seats: int
    answers: dict[str, Any]
    applicant: Applicant | None
    waitlist: bool


def _formdata(values: dict[str, Any]) -> MultiDict[str, str]:
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item is None:
                continue
            if isinstance(item, bool):
                pairs.append((name, "y" if item else ""))
            else:
                pairs.append((name, str(item)))
    return MultiDict(pairs)


def plugin_answers(service: Service, raw: dict[str, Any], seats: int) -> dict[str, Any]:
    """Validate the plugins' extra fields with the same WTForms fields as the web flow."""
    form_class, names = details_form_class(service)
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise validation(
            [
                field_problem(f"answers.{n}", _("This service does not ask for this."))
                for n in unknown
            ]
        )
    data = _formdata(raw)
    if hasattr(form_class, "seats"):
        data["seats"] = str(seats)
    form = form_class(formdata=data, meta={"csrf": False})
    if not form.validate():
        problems = [
            field_problem(f"answers.{name}", str(message))
            for name in names
            for message in form[name].errors
        ]
        if problems:
            raise validation(problems)
    return {name: jsonable(form[name].data) for name in names}


def _applicant(raw: Any) -> Applicant | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise validation([field_problem("applicant", _("Send name, email and phone as text."))])
    form = ApplicantForm(formdata=_formdata(raw), meta={"csrf": False})
    if not form.validate():
        raise validation(
            [
                field_problem(f"applicant.{name}", str(message))
                for name, messages in form.errors.items()
                for message in messages
            ]
        )
    return Applicant(
        name=form.name.data.strip(),
        email=form.email.data.strip(),
        phone=(form.phone.data or "").strip(),
    )


def booking_input(body: dict[str, Any]) -> BookingInput:
    """Check a ``POST /bookings`` body (``slot_id``, ``seats``, ``answers``, ``applicant``,
    ``waitlist``); the plugins' fields go in ``answers`` and are validated by their forms."""
    unknown = sorted(set(body) - BOOKING_KEYS)
    if unknown:
        raise validation([field_problem(n, _("This field is not known.")) for n in unknown])
    slot_id = int_field(body, "slot_id", default=None, lo=1, hi=2**31 - 1)
    seats = int_field(body, "seats", default=1, lo=1, hi=1000)
    waitlist = body.get("waitlist", False)
    if not isinstance(waitlist, bool):
        raise validation([field_problem("waitlist", _("Send true or false."))])
    raw_answers = body.get("answers") or {}
    if not isinstance(raw_answers, dict):
        raise validation([field_problem("answers", _("Send the answers as a JSON object."))])
    applicant = _applicant(body.get("applicant"))
    answers: dict[str, Any] = {}
    slot = db.session.get(Slot, slot_id)
    if slot is not None:  # an unknown slot is refused by the engine (slot_not_found)
        answers = plugin_answers(slot.service, raw_answers, seats)
    return BookingInput(slot_id, seats, answers, applicant, waitlist)


def load_booking(public_id: str) -> Booking | None:
    """A booking by public id, with its slot, service and organisation."""
    if len(public_id) > 32 or "\x00" in public_id:
        return None
    return db.session.scalar(
        select(Booking)
        .where(Booking.public_id == public_id)
        .options(
            selectinload(Booking.slot),
            selectinload(Booking.service).selectinload(Service.organisation),
        )
    )


def role_on(booking: Booking, user: User) -> str | None:
    """How ``user`` relates to ``booking``: ``resident``, ``provider``, ``admin`` or None."""
    if booking.user_id == user.id:
        return "resident"
    if user.works_for(booking.service.organisation_id):
        return "provider"
    if user.administers(booking.service.district_id):
        return "admin"
    return None


def visible_booking(public_id: str, user: User) -> tuple[Booking, str]:
    """The booking and the caller's role on it; 404 if it does not exist or is not theirs."""
    booking = load_booking(public_id)
    if booking is None:
        raise not_found()
    role = role_on(booking, user)
    if role is None:
        raise not_found()
    return booking, role
