"""The booking flow ("prenotazione appuntamento"): date and time → details → applicant → summary.

Works without JavaScript: each step is a plain form that POSTs and redirects to the next one.
The choices are kept in the session and validated again at the final step, where the engine
checks eligibility and every rule (and claims the seat). Submitting the summary twice books
once: the page carries an idempotency key that the engine honours.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import Integer, Select, and_, bindparam, select
from sqlalchemy.orm import defer, joinedload
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import BooleanField, EmailField, Field, HiddenField, IntegerField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from core.booking import Applicant, BookingRefused, book, join_waitlist, read_along
from core.booking.rules import is_beneficiary
from core.extensions import db
from core.i18n import locale_code
from core.models import Booking, District, Organisation, Service, Slot, User
from core.models.types import utcnow
from core.privacy import booking_consent_given, record_booking_consent
from core.tenancy import get_district_or_404
from core.web.rate_limits import booking_limit

log = logging.getLogger(__name__)

bp = Blueprint("booking", __name__)

SESSION_KEY = "booking_flow"
RESERVED_FIELDS = frozenset({"csrf_token", "seats", "slot", "consent", "idempotency_key"})
CONFLICT_CODES = frozenset({"slot_full", "already_booked"})
MAX_SLOTS_LISTED = 300
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,80}$")
STEPS = (
    ("start", _l("Date and time")),
    ("details", _l("Details")),
    ("applicant", _l("Applicant")),
    ("summary", _l("Summary")),
)


# --- forms -----------------------------------------------------------------------------------


class SlotForm(FlaskForm):
    """Step 1: the chosen time (``<slot id>``, or ``waitlist-<slot id>`` for a full one)."""

    slot = StringField(
        _l("Date and time"),
        validators=[InputRequired(message=_l("Choose a date and time."))],
    )


class ApplicantForm(FlaskForm):
    """Step 3: who the booking is for."""

    name = StringField(
        _l("Full name"),
        validators=[
            InputRequired(message=_l("Enter the name of the person booking.")),
            Length(max=200, message=_l("The name is too long.")),
        ],
    )
    email = EmailField(
        _l("Email"),
        validators=[
            InputRequired(message=_l("Enter an email address.")),
            Email(message=_l("Enter a valid email address."), check_deliverability=False),
            Length(max=254, message=_l("The email address is too long.")),
        ],
    )
    phone = StringField(
        _l("Phone (optional)"),
        validators=[
            Optional(),
            Length(max=40, message=_l("The phone number is too long.")),
            Regexp(
                r"^\+?[0-9 ().-]{6,}$",
                message=_l("Enter a phone number with digits only, e.g. +39 02 1234567."),
            ),
        ],
    )


class ConfirmForm(FlaskForm):
    """Step 4: the privacy consent and the idempotency key."""

    consent = BooleanField(
        _l(
            "I have read the privacy notice and agree to the processing of my data for this booking"
        ),
        validators=[DataRequired(message=_l("You must accept the privacy notice to book."))],
    )
    idempotency_key = HiddenField(label="")  # a label: WTForms would translate a made-up one


def plugin_fields(service: Service) -> list[tuple[str, Field]]:
    """The extra fields the plugins ask for this service, in plugin order, reserved names out."""
    fields: list[tuple[str, Field]] = []
    seen: set[str] = set()
    for answer in current_app.extensions["concilia"].hook.booking_form_fields(service=service):
        for name, field in answer or ():
            if name in RESERVED_FIELDS or name in seen or not name.isidentifier():
                log.warning("booking form field %r ignored: reserved or repeated", name)
                continue
            seen.add(name)
            fields.append((name, field))
    return fields


def details_form_class(
    service: Service, fields: list[tuple[str, Field]] | None = None
) -> tuple[type[FlaskForm], list[str]]:
    """A form class with the plugins' fields (``fields``: :func:`plugin_fields`, if already
    asked) and seats, when more than one is allowed."""

    class DetailsForm(FlaskForm):
        """Step 2: details the service needs."""

    names: list[str] = []
    for name, field in plugin_fields(service) if fields is None else fields:
        setattr(DetailsForm, name, field)
        names.append(name)
    if service.max_seats_per_booking > 1:
        maximum = service.max_seats_per_booking
        DetailsForm.seats = IntegerField(  # type: ignore[attr-defined]
            _l("Number of places"),
            default=1,
            validators=[
                InputRequired(message=_l("Enter how many places you need.")),
                NumberRange(
                    min=1,
                    max=maximum,
                    message=_l("Choose between 1 and %(max)s places.", max=maximum),
                ),
            ],
        )
    return DetailsForm, names


def needs_details(service: Service) -> bool:
    """Whether step 2 has anything to ask."""
    return service.max_seats_per_booking > 1 or bool(plugin_fields(service))


def jsonable(value: Any) -> Any:
    """A form value as JSON-ready data (dates as ISO strings, decimals as strings)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


# --- the flow's state ------------------------------------------------------------------------


@dataclass
class Choice:
    """The time chosen at step 1."""

    slot: Slot
    waitlist: bool


def _flows() -> dict[str, Any]:
    return session.get(SESSION_KEY) or {}


def flow_state(service: Service) -> dict[str, Any]:
    """This service's in-progress choices (a copy)."""
    return dict(_flows().get(str(service.id)) or {})


def save_flow(service: Service, state: dict[str, Any]) -> None:
    """Store this service's choices (only one flow per service is kept)."""
    flows = dict(_flows())
    flows[str(service.id)] = state
    session[SESSION_KEY] = flows


def clear_flow(service: Service) -> None:
    """Forget this service's choices (after booking)."""
    flows = dict(_flows())
    flows.pop(str(service.id), None)
    session[SESSION_KEY] = flows


def _service_or_404(district_slug: str, service_id: int) -> tuple[District, Service, Slot | None]:
    """The district, its published service (with its organisation, which every step shows)
    and the slot this service's flow has chosen, if any, read in the same statement."""
    read = _read_service(district_slug, service_id)
    return read.district, read.service, read.slot


@dataclass(frozen=True)
class ServiceRead:
    """What a booking step reads in one statement (:func:`_read_service`)."""

    district: District
    service: Service
    slot: Slot | None
    consented: bool  # the person already accepted this version of the district's notice
    # read before booking; held so the session keeps it (its identity map holds weakly)
    person: User | None = None


def _read_service(
    district_slug: str, service_id: int, booking_for: int | None = None
) -> ServiceRead:
    """:func:`_service_or_404`'s read. Before booking for the person ``booking_for`` (an id),
    the same statement also loads that person (:func:`_read_with_the_person`), asks whether
    they have already given the consent the summary asks for, and asks the plugins'
    read-along questions (:mod:`core.booking.read_along`), whose answers it keeps for the
    booking's transaction."""
    config, district = get_district_or_404(district_slug)
    slot_id = (_flows().get(str(service_id)) or {}).get("slot_id")
    with_slot = isinstance(slot_id, int)
    params: dict[str, Any] = {
        "service_id": service_id,
        "district_id": district.id,
        "slot_id": slot_id,
    }
    asked: tuple[tuple[str, Any], ...] = ()
    if booking_for is not None:
        asked = read_along.questions()
        params |= {
            "person_id": booking_for,
            "consent_user_id": booking_for,
            "consent_district": district_slug,
            "consent_version": config.privacy_notice_version,
        }
    query = _service_query(with_slot, booking_for is not None, asked)
    found = db.session.execute(query, params).first()
    if found is None:
        abort(404)
    columns = list(found)
    service = columns.pop(0)
    slot = columns.pop(0) if with_slot else None
    person, consented = None, False
    if booking_for is not None:
        person, consented = columns.pop(0), bool(columns.pop(0))
    if asked:
        names = [name for name, _question in asked]
        read_along.remember(service.id, dict(zip(names, columns, strict=True)))
    return ServiceRead(district, service, slot, consented, person)


#: What a confirmation leaves unread (each read on first use, if ever): the service's long
#: texts and the columns of its catalogue page, the person's sign-in and account details, and
#: all but these of the service's organisation. Neither the booking, its mail nor the refusal
#: page uses them (the tests count the statements: a column used would cost one more).
_UNREAD_BEFORE_BOOKING = (
    Service.description_it,
    Service.description_en,
    Service.search_text,
    Service.sort_title_it,
    Service.sort_title_en,
    Service.latitude,
    Service.longitude,
    Service.ical_public,
    Service.created_at,
    Service.updated_at,
    Service.published_at,
    User.password_hash,
    User.email_verified_at,
    User.failed_logins,
    User.locked_until,
    User.created_at,
)
_ORGANISATION_FOR_BOOKING = (
    Organisation.id,
    Organisation.district_id,
    Organisation.slug,
    Organisation.name,
    Organisation.status,
    Organisation.email,
)


@lru_cache(maxsize=64)
def _service_query(
    with_slot: bool, before_booking: bool = False, asked: tuple[tuple[str, Any], ...] = ()
) -> Select[Any]:
    """The statement of :func:`_read_service`, built once per shape: the service (parameters
    ``service_id``, ``district_id``), the chosen slot (``slot_id``), then, before booking,
    the person (``person_id``), the consent (:func:`core.privacy.booking_consent_given`)
    and the ``asked`` questions."""
    organisation = joinedload(Service.organisation, innerjoin=True)
    if before_booking:  # the columns the booking checks, writes or shows on a refusal
        organisation = organisation.load_only(*_ORGANISATION_FOR_BOOKING)
    query = (
        select(Service)
        .where(
            Service.id == bindparam("service_id", type_=Integer),
            Service.district_id == bindparam("district_id", type_=Integer),
            Service.status == "published",
        )
        .options(organisation)
    )
    if before_booking:
        query = query.options(*(defer(column) for column in _UNREAD_BEFORE_BOOKING))
    if with_slot:
        query = query.add_columns(Slot).outerjoin(
            Slot,
            and_(Slot.id == bindparam("slot_id", type_=Integer), Slot.service_id == Service.id),
        )
    if before_booking:
        person = User.id == bindparam("person_id", type_=Integer)
        query = query.add_columns(User).outerjoin(User, person)
        query = query.add_columns(booking_consent_given())
    for _name, question in asked:
        query = query.add_columns(question)
    return query


def _signed_in_id() -> int | None:
    """The id of the person this session was signed in as (Flask-Login's ``"<id>:<version>"``),
    unverified: whether they are still signed in is the user loader's to say."""
    user_id, _, _version = str(session.get("_user_id") or "").partition(":")
    return int(user_id) if user_id.isdigit() and len(user_id) < 12 else None


@bp.before_request
def _read_with_the_person() -> None:
    """Before a confirmation, read the signed-in person with the service, in one statement.

    The busiest write then starts with one read instead of two: Flask-Login's user loader
    (run by the rate limit's key and by ``login_required``) finds the person already in the
    session and checks them as usual, without a query of its own. CSRF has been checked by
    then (the app's own ``before_request``).
    """
    args = request.view_args or {}
    if request.endpoint != "booking.confirm" or "district" not in args:
        return
    person = _signed_in_id()
    if person is not None:
        read = _read_service(args["district"], args["service_id"], booking_for=person)
        g.booking_read = (person, read)


def bookable_slots(service: Service, now: datetime | None = None) -> list[Slot]:
    """The service's future slots inside its booking window, earliest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Slot)
            .where(
                Slot.service_id == service.id,
                Slot.cancelled.is_(False),
                Slot.starts_at >= now + timedelta(minutes=service.min_notice_minutes),
                Slot.starts_at <= now + timedelta(days=service.max_advance_days),
            )
            .order_by(Slot.starts_at, Slot.id)
            .limit(MAX_SLOTS_LISTED)
        )
    )


def parse_choice(service: Service, raw: str | None) -> tuple[Choice | None, str, int]:
    """Check a step-1 answer; returns the choice, or an error message and HTTP status."""
    raw = (raw or "").strip()
    waitlist = raw.startswith("waitlist-")
    number = raw.removeprefix("waitlist-")
    if not number.isdigit() or len(number) > 12:
        return None, _("Choose one of the times listed."), 422
    slot = db.session.get(Slot, int(number))
    if slot is None or slot.service_id != service.id:
        return None, _("Choose one of the times listed."), 422
    now = utcnow()
    if slot.cancelled or slot.starts_at <= now:
        return None, _("This time is no longer available. Choose another one."), 422
    earliest = now + timedelta(minutes=service.min_notice_minutes)
    if not earliest <= slot.starts_at <= now + timedelta(days=service.max_advance_days):
        return None, _("This time cannot be booked. Choose one of the times listed."), 422
    if waitlist:
        if not service.waitlist_enabled:
            return None, _("This service has no waiting list."), 422
        if slot.available > 0:
            return None, _("This time still has free places: choose it directly."), 422
    elif slot.available <= 0:
        return None, _("This time is no longer available. Choose another one."), 409
    return Choice(slot, waitlist), "", 200


def _stored_choice(
    service: Service, state: dict[str, Any], read: Slot | None = None
) -> Choice | None:
    """The time stored at step 1, if still a slot of ``service`` (``read``: the slot
    :func:`_service_or_404` read with the service)."""
    slot_id = state.get("slot_id")
    if not isinstance(slot_id, int):
        return None
    slot = read if read is not None and read.id == slot_id else db.session.get(Slot, slot_id)
    if slot is None or slot.service_id != service.id:
        return None
    return Choice(slot, bool(state.get("waitlist")))


def _details_form(service: Service, state: dict[str, Any]) -> tuple[FlaskForm | None, list[str]]:
    """The step-2 form filled from the session (no CSRF: it is re-validation, not a POST) and
    its plugin field names; no form if step 2 asks nothing (:func:`needs_details`)."""
    fields = plugin_fields(service)
    if service.max_seats_per_booking <= 1 and not fields:
        return None, []
    form_class, names = details_form_class(service, fields)
    data = MultiDict([(k, v) for k, values in (state.get("details") or {}).items() for v in values])
    return form_class(formdata=data, meta={"csrf": False}), names


def _answers(form: FlaskForm, names: Iterable[str]) -> dict[str, Any]:
    return {name: jsonable(form[name].data) for name in names}


def _seats(form: FlaskForm | None) -> int:
    field = getattr(form, "seats", None)
    return int(field.data) if field is not None and field.data else 1


def _steps(current: str, service: Service) -> list[dict[str, Any]]:
    """The stepper's steps with their state (done, current, to do) and link."""
    order = [key for key, _label in STEPS]
    index = order.index(current)
    return [
        {
            "key": key,
            "label": label,
            "number": i + 1,
            "done": i < index,
            "current": i == index,
        }
        for i, (key, label) in enumerate(STEPS)
    ]


def _render(
    template: str,
    district: District,
    service: Service,
    step: str,
    status: int = 200,
    **context: Any,
) -> tuple[str, int]:
    return (
        render_template(
            template,
            district_row=district,
            service=service,
            steps=_steps(step, service),
            step=step,
            locale=locale_code(),
            **context,
        ),
        status,
    )


def _restart(district: District, service: Service, message: str) -> Response:
    flash(message, "warning")
    return redirect(url_for("booking.start", district=district.slug, service_id=service.id))


# --- step 1: date and time -------------------------------------------------------------------


def _slot_groups(service: Service, zone: str) -> list[tuple[date, list[Slot]]]:
    tz = ZoneInfo(zone)
    slots = bookable_slots(service)
    return [
        (day, list(items))
        for day, items in groupby(slots, key=lambda s: s.starts_at.astimezone(tz).date())
    ]


@bp.route("/<district>/services/<int:service_id>/book", methods=["GET", "POST"])
@login_required
def start(district: str, service_id: int) -> Response | tuple[str, int]:
    """Step 1: the available times, grouped by day, with the places left."""
    row, service, _chosen = _service_or_404(district, service_id)
    state = flow_state(service)
    form = SlotForm()
    status, error = 200, ""
    if request.method == "POST":
        if form.validate_on_submit():
            choice, error, status = parse_choice(service, form.slot.data)
            if choice is not None:
                if state.get("slot_id") != choice.slot.id:
                    state.pop("idempotency_key", None)
                state.update(slot_id=choice.slot.id, waitlist=choice.waitlist)
                save_flow(service, state)
                nxt = "booking.details" if needs_details(service) else "booking.applicant"
                return redirect(url_for(nxt, district=row.slug, service_id=service.id))
            form.slot.errors = [error]
        else:
            status = 400 if "csrf_token" in form.errors else 422
            if status == 400:
                abort(400)
    chosen = ""
    if request.method == "POST":
        chosen = form.slot.data or ""
    elif state.get("slot_id"):
        chosen = ("waitlist-" if state.get("waitlist") else "") + str(state["slot_id"])
    return _render(
        "booking/start.html",
        row,
        service,
        "start",
        status,
        form=form,
        groups=_slot_groups(service, row.timezone),
        chosen=chosen,
        zone=row.timezone,
    )


# --- step 2: details -------------------------------------------------------------------------


@bp.route("/<district>/services/<int:service_id>/book/details", methods=["GET", "POST"])
@login_required
def details(district: str, service_id: int) -> Response | tuple[str, int]:
    """Step 2: the details the service's plugins ask for, and the number of places."""
    row, service, read = _service_or_404(district, service_id)
    state = flow_state(service)
    if _stored_choice(service, state, read) is None:
        return _restart(row, service, _("Choose a date and time first."))
    if not needs_details(service):
        return redirect(url_for("booking.applicant", district=row.slug, service_id=service.id))
    form_class, names = details_form_class(service)
    status = 200
    if request.method == "POST":
        form = form_class()
        if form.validate_on_submit():
            state["details"] = {
                name: request.form.getlist(name)
                for name in [*names, *(["seats"] if hasattr(form, "seats") else [])]
            }
            save_flow(service, state)
            return redirect(url_for("booking.applicant", district=row.slug, service_id=service.id))
        if "csrf_token" in form.errors:
            abort(400)
        status = 422
    elif state.get("details"):
        stored = state["details"]
        form = form_class(formdata=MultiDict([(k, v) for k, vs in stored.items() for v in vs]))
    else:
        form = form_class()
    return _render("booking/details.html", row, service, "details", status, form=form, names=names)


# --- step 3: applicant -----------------------------------------------------------------------


@bp.route("/<district>/services/<int:service_id>/book/applicant", methods=["GET", "POST"])
@login_required
def applicant(district: str, service_id: int) -> Response | tuple[str, int]:
    """Step 3: name, email and phone of the applicant, prefilled from the account."""
    row, service, read = _service_or_404(district, service_id)
    state = flow_state(service)
    if _stored_choice(service, state, read) is None:
        return _restart(row, service, _("Choose a date and time first."))
    status = 200
    if request.method == "POST":
        form = ApplicantForm()
        if form.validate_on_submit():
            state["applicant"] = {
                "name": form.name.data.strip(),
                "email": form.email.data.strip(),
                "phone": (form.phone.data or "").strip(),
            }
            save_flow(service, state)
            return redirect(url_for("booking.summary", district=row.slug, service_id=service.id))
        if "csrf_token" in form.errors:
            abort(400)
        status = 422
    else:
        stored = state.get("applicant") or {}
        form = ApplicantForm(
            formdata=None,
            data={
                "name": stored.get("name", current_user.full_name),
                "email": stored.get("email", current_user.email),
                "phone": stored.get("phone", current_user.phone),
            },
        )
    back = "booking.details" if needs_details(service) else "booking.start"
    return _render(
        "booking/applicant.html", row, service, "applicant", status, form=form, back=back
    )


# --- step 4: summary and confirmation --------------------------------------------------------


@dataclass
class Review:
    """Everything the summary shows and the confirmation books, validated again."""

    choice: Choice
    seats: int
    answers: dict[str, Any]
    answer_labels: list[tuple[str, str]]
    applicant: Applicant
    unit_price: int
    beneficiary_price: bool


def review(
    service: Service, state: dict[str, Any], read: Slot | None = None
) -> tuple[Review | None, str]:
    """Validate the stored choices again; returns the review, or the step to go back to."""
    choice = _stored_choice(service, state, read)
    if choice is None:
        return None, "booking.start"
    form, names = _details_form(service, state)
    if form is not None and (not state.get("details") or not form.validate()):
        return None, "booking.details"
    stored = state.get("applicant")
    applicant_form = ApplicantForm(formdata=MultiDict(stored or {}), meta={"csrf": False})
    if not stored or not applicant_form.validate():
        return None, "booking.applicant"
    user = current_user._get_current_object()
    beneficiary = service.beneficiary_price_cents is not None and is_beneficiary(
        user, service.district_id
    )
    unit = service.beneficiary_price_cents if beneficiary else service.price_cents
    labels = (
        [(str(form[name].label.text), _display(form[name].data)) for name in names] if form else []
    )
    return (
        Review(
            choice=choice,
            seats=_seats(form),
            answers=_answers(form, names) if form else {},
            answer_labels=labels,
            applicant=Applicant(
                name=stored["name"], email=stored["email"], phone=stored.get("phone", "")
            ),
            unit_price=int(unit or 0),
            beneficiary_price=beneficiary,
        ),
        "",
    )


def _display(value: Any) -> str:
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _render_summary(
    row: District,
    service: Service,
    data: Review,
    form: ConfirmForm,
    *,
    status: int = 200,
    problems: list[str] | None = None,
) -> tuple[str, int]:
    return _render(
        "booking/summary.html",
        row,
        service,
        "summary",
        status,
        form=form,
        review=data,
        problems=problems or [],
        zone=row.timezone,
        deadline=data.choice.slot.starts_at - timedelta(minutes=service.cancel_deadline_minutes),
        back="booking.applicant",
    )


def _render_taken(
    row: District, service: Service, slot: Slot, refused: BookingRefused
) -> tuple[str, int]:
    """409: the time was taken meanwhile, or the person already holds it. The summary would
    offer a confirmation that cannot succeed, so this page offers the way on instead:
    another time (the flow's answers are kept) or, if already booked, their bookings."""
    page = render_template(
        "booking/taken.html",
        district_row=row,
        service=service,
        slot=slot,
        zone=row.timezone,
        problems=refused.messages,
        already_booked="already_booked" in refused.codes,
        locale=locale_code(),
    )
    return page, 409


@bp.get("/<district>/services/<int:service_id>/book/summary")
@login_required
def summary(district: str, service_id: int) -> Response | tuple[str, int]:
    """Step 4: the recap (time, place, details, applicant, rules, price) and the consent."""
    row, service, read = _service_or_404(district, service_id)
    state = flow_state(service)
    data, back_to = review(service, state, read)
    if data is None:
        return _restart_at(row, service, back_to)
    if not state.get("idempotency_key"):
        state["idempotency_key"] = secrets.token_urlsafe(24)
        save_flow(service, state)
    form = ConfirmForm(formdata=None, data={"idempotency_key": state["idempotency_key"]})
    return _render_summary(row, service, data, form)


def _restart_at(row: District, service: Service, endpoint: str) -> Response:
    flash(_("Some of your choices are missing or no longer valid: check them again."), "warning")
    return redirect(url_for(endpoint, district=row.slug, service_id=service.id))


def _replayed(user: User, key: str) -> Booking | None:
    """The booking an earlier submit of this summary already made, if any."""
    return db.session.scalar(
        select(Booking).where(Booking.user_id == user.id, Booking.idempotency_key == key)
    )


def _done(booking: Booking) -> Response:
    if booking.status == "waitlisted":
        flash(
            _("You are on the waiting list. We will write to you if a place frees up."), "success"
        )
    elif booking.status == "pending":
        flash(_("Your request has been sent. The provider will confirm it."), "success")
    else:
        flash(_("Your booking is confirmed."), "success")
    return redirect(url_for("bookings.detail", public_id=booking.public_id))


@bp.post("/<district>/services/<int:service_id>/book/confirm")
@booking_limit
@login_required
def confirm(district: str, service_id: int) -> Response | tuple[str, int]:
    """Book (or join the waiting list) with the engine. A time taken meanwhile, or already
    held, is a 409 page that leads to another time; other refusals show on the summary (422).

    The privacy consent is recorded in the booking's own transaction, unless the first read
    found this version of the notice already accepted. A summary submitted again after its
    booking was made (the flow is gone by then) shows that booking; while the flow is there,
    the engine itself answers a repeated key with the first booking.
    """
    user: User = current_user._get_current_object()
    person, found = g.pop("booking_read", (None, None))
    if person != user.id or found is None:  # not read before (a remembered login): read now
        found = _read_service(district, service_id, booking_for=user.id)
    row, service, read = found.district, found.service, found.slot
    form = ConfirmForm()
    valid = form.validate_on_submit()
    if "csrf_token" in form.errors:
        abort(400)
    key = (form.idempotency_key.data or "").strip()
    if not KEY_RE.match(key):
        abort(400)
    state = flow_state(service)
    data, back_to = review(service, state, read)
    if data is None or not valid:
        replay = _replayed(user, key)
        if replay is not None and replay.service_id == service.id:
            clear_flow(service)
            return _done(replay)
        if data is None:
            return _restart_at(row, service, back_to)
        return _render_summary(row, service, data, form, status=422)
    version = get_district_or_404(row.slug)[0].privacy_notice_version

    def record_consent(_booking: Booking) -> None:
        record_booking_consent(user, row.slug, version)

    operation = join_waitlist if data.choice.waitlist else book
    try:
        booking = operation(
            user=user,
            slot_id=data.choice.slot.id,
            seats=data.seats,
            answers=data.answers,
            applicant=data.applicant,
            idempotency_key=key,
            in_transaction=None if found.consented else record_consent,  # given once
        )
    except BookingRefused as refused:  # nothing of it is left in the session
        if CONFLICT_CODES & set(refused.codes):
            return _render_taken(row, service, data.choice.slot, refused)
        return _render_summary(row, service, data, form, status=422, problems=refused.messages)
    clear_flow(service)
    return _done(booking)
