"""The API's endpoints: thin views over the catalogue queries and the booking engine."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.api import api_user, bp
from core.api.errors import ApiError, field_problem, forbidden, not_found, refused, validation
from core.api.operations import booking_input, visible_booking
from core.api.params import (
    choice_arg,
    date_range,
    idempotency_key,
    json_object,
    optional_json_object,
    page_arg,
    text_field,
)
from core.api.report import district_report
from core.api.serialize import (
    booking_fields_json,
    booking_json,
    category_json,
    district_json,
    service_json,
    slot_json,
)
from core.booking import (
    BookingRefused,
    approve,
    book,
    cancel,
    join_waitlist,
    mark_attended,
    mark_no_show,
    reject,
)
from core.catalogue.queries import (
    catalogue_page,
    day_bounds,
    parse_filters,
    provider_choices,
    service_detail,
)
from core.catalogue.services import enabled_categories
from core.extensions import db
from core.i18n import locale_code
from core.models import BOOKING_STATES, Booking, District, Membership, Organisation, Service, Slot
from core.models.types import utcnow
from core.plugins.types import DistrictConfig
from core.tenancy import district_configs, get_district_or_404
from core.web.booking import details_form_class
from core.web.rate_limits import booking_limit

MY_PAGE_SIZE = 50
INT32 = 2**31 - 1
MAX_SLOTS = 1000
MAX_PROVIDER_BOOKINGS = 2000


def _district(slug: str) -> tuple[DistrictConfig, District]:
    if slug not in district_configs():
        raise ApiError(404, "not_found", _("There is no such district."))
    return get_district_or_404(slug)


def _today(zone: str) -> Any:
    return datetime.now(ZoneInfo(zone)).date()


def _published_service(service_id: int) -> tuple[Service, District]:
    """A published service of an installed district whose provider is active; 404 otherwise."""
    if service_id > INT32:
        raise ApiError(404, "not_found", _("There is no such service."))
    row = db.session.execute(
        select(Service, District)
        .join(District, District.id == Service.district_id)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .where(
            Service.id == service_id,
            Service.status == "published",
            Organisation.status == "active",
        )
    ).first()
    if row is None or row[1].slug not in district_configs():
        raise ApiError(404, "not_found", _("There is no such service."))
    return row[0], row[1]


# --- public ----------------------------------------------------------------------------------


@bp.get("/districts")
def districts() -> Response:
    """The districts this deployment serves."""
    configs = sorted(district_configs().values(), key=lambda c: c.slug)
    return jsonify({"items": [district_json(c) for c in configs]})


@bp.get("/districts/<district>/categories")
def categories(district: str) -> Response:
    """The areas (categories) a district enables, with their service types."""
    config, _row = _district(district)
    host = current_app.extensions["concilia"]
    return jsonify(
        {"items": [category_json(c) for c in enabled_categories(config, host.categories)]}
    )


@bp.get("/districts/<district>/services")
def services(district: str) -> Response:
    """The district's published services, with the web catalogue's filters and pages."""
    config, row = _district(district)
    host = current_app.extensions["concilia"]
    providers = [slug for slug, _name in provider_choices(db.session, row)]
    filters, notes = parse_filters(
        request.args, config, host.categories, providers, today=_today(config.timezone)
    )
    if notes:
        raise validation([{"code": "invalid", "message": str(note)} for note in notes])
    page = page_arg()
    result = catalogue_page(db.session, row, config, filters, page, locale_code())
    if page > result.pages:
        if result.more:
            raise ApiError(
                404,
                "not_found",
                _(
                    "Only the first %(pages)s pages can be read: narrow the search with an area "
                    "or a filter.",
                    pages=result.pages,
                ),
            )
        raise ApiError(404, "not_found", _("There is no such page."))
    return jsonify(
        {
            "items": [service_json(s, row.slug) for s in result.services],
            "page": result.page,
            "pages": result.pages,
            "page_size": result.page_size,
            "total": result.total,
            "more": result.more,
        }
    )


@bp.get("/services/<int:service_id>")
def service(service_id: int) -> Response:
    """One published service, with the extra fields a booking of it must send."""
    svc, district = _published_service(service_id)
    detail = service_detail(db.session, district, svc.id, _today(district.timezone))
    if detail is None:
        raise not_found()
    form_class, names = details_form_class(detail.service)
    form = form_class(formdata=None, meta={"csrf": False})
    body = service_json(detail.service, district.slug)
    body["booking_fields"] = booking_fields_json(form, names)
    body["next_slots"] = [slot_json(s) for s in detail.next_slots]
    return jsonify(body)


@bp.get("/services/<int:service_id>/slots")
def slots(service_id: int) -> Response:
    """The service's future, not cancelled slots between ``from`` and ``to`` (local days)."""
    svc, district = _published_service(service_id)
    start_day, end_day = date_range(_today(district.timezone), 13, 92)
    start, _unused = day_bounds(start_day, district.timezone)
    _unused, end = day_bounds(end_day, district.timezone)
    rows = db.session.scalars(
        select(Slot)
        .where(
            Slot.service_id == svc.id,
            Slot.cancelled.is_(False),
            Slot.starts_at >= max(start, utcnow()),
            Slot.starts_at < end,
        )
        .order_by(Slot.starts_at, Slot.id)
        .limit(MAX_SLOTS)
    )
    return jsonify(
        {
            "service_id": svc.id,
            "from": start_day.isoformat(),
            "to": end_day.isoformat(),
            "items": [slot_json(s) for s in rows],
        }
    )


# --- residents -------------------------------------------------------------------------------


@bp.get("/me/bookings")
def my_bookings() -> Response:
    """The caller's bookings, newest first, optionally of one ``status``."""
    user = api_user()
    status = choice_arg("status", BOOKING_STATES)
    page = page_arg()
    conditions: list[Any] = [Booking.user_id == user.id]
    if status:
        conditions.append(Booking.status == status)
    total = db.session.scalar(select(func.count(Booking.id)).where(*conditions)) or 0
    pages = max(1, math.ceil(total / MY_PAGE_SIZE))
    if page > pages:
        raise ApiError(404, "not_found", _("There is no such page."))
    rows = db.session.scalars(
        select(Booking)
        .where(*conditions)
        .options(selectinload(Booking.slot))
        .order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(MY_PAGE_SIZE)
        .offset((page - 1) * MY_PAGE_SIZE)
    )
    return jsonify(
        {
            "items": [booking_json(b) for b in rows],
            "page": page,
            "pages": pages,
            "page_size": MY_PAGE_SIZE,
            "total": total,
        }
    )


@bp.post("/bookings")
@booking_limit
def create_booking() -> tuple[Response, int]:
    """Book a slot (or join its waiting list) through the engine; idempotent with a key."""
    user = api_user(write=True)
    key = idempotency_key()
    data = booking_input(json_object())
    if key:
        earlier = db.session.scalar(
            select(Booking).where(Booking.user_id == user.id, Booking.idempotency_key == key)
        )
        if earlier is not None:
            if earlier.slot_id != data.slot_id:
                raise ApiError(
                    409,
                    "idempotency_conflict",
                    _("This Idempotency-Key was already used for another request."),
                )
            return _booking_response(earlier, 200)
    operation = join_waitlist if data.waitlist else book
    try:
        booking = operation(
            user=user,
            slot_id=data.slot_id,
            seats=data.seats,
            answers=data.answers,
            applicant=data.applicant,
            idempotency_key=key,
        )
    except BookingRefused as error:
        raise refused(error) from None
    return _booking_response(booking, 201)


def _booking_response(booking: Booking, status: int) -> tuple[Response, int]:
    response = jsonify(booking_json(booking))
    response.headers["Location"] = url_for("api.get_booking", public_id=booking.public_id)
    return response, status


@bp.get("/bookings/<public_id>")
def get_booking(public_id: str) -> Response:
    """A booking the caller owns, provides or administers (404 for anyone else)."""
    booking, _role = visible_booking(public_id, api_user())
    return jsonify(booking_json(booking))


@bp.delete("/bookings/<public_id>")
def cancel_booking(public_id: str) -> Response:
    """Cancel a booking: its owner (before the deadline), its provider or a district admin."""
    user = api_user(write=True)
    booking, role = visible_booking(public_id, user)
    reason = text_field(optional_json_object(), "reason", max_length=500)
    try:
        cancel(booking, by=role, actor=user, reason=reason)
    except BookingRefused as error:
        raise refused(error) from None
    return jsonify(booking_json(booking))


# --- provider staff --------------------------------------------------------------------------


def _decidable(public_id: str) -> tuple[Booking, Any]:
    """A booking the caller may decide on: only its provider's staff, as on the web (district
    admins see and may cancel bookings, but approving or marking attendance is the provider's).
    """
    user = api_user(write=True)
    booking, role = visible_booking(public_id, user)
    if role != "provider":
        raise forbidden()
    return booking, user


@bp.post("/bookings/<public_id>/approve")
def approve_booking(public_id: str) -> Response:
    """Confirm a pending booking (provider staff or district admin)."""
    booking, user = _decidable(public_id)
    try:
        approve(booking, user)
    except BookingRefused as error:
        raise refused(error) from None
    return jsonify(booking_json(booking))


@bp.post("/bookings/<public_id>/reject")
def reject_booking(public_id: str) -> Response:
    """Reject a pending booking, saying why (``reason``)."""
    booking, user = _decidable(public_id)
    reason = text_field(json_object(), "reason", max_length=500)
    if not reason:
        raise validation(
            [field_problem("reason", _("Say why you reject the booking."), "required")]
        )
    try:
        reject(booking, user, reason)
    except BookingRefused as error:
        raise refused(error) from None
    return jsonify(booking_json(booking))


@bp.post("/bookings/<public_id>/attended")
def attended_booking(public_id: str) -> Response:
    """Record that the resident came (once the slot has started)."""
    booking, user = _decidable(public_id)
    try:
        mark_attended(booking, user)
    except BookingRefused as error:
        raise refused(error) from None
    return jsonify(booking_json(booking))


@bp.post("/bookings/<public_id>/no-show")
def no_show_booking(public_id: str) -> Response:
    """Record that the resident did not come (once the slot has started)."""
    booking, user = _decidable(public_id)
    try:
        mark_no_show(booking, user)
    except BookingRefused as error:
        raise refused(error) from None
    return jsonify(booking_json(booking))


@bp.get("/districts/<district>/provider/bookings")
def provider_bookings(district: str) -> Response:
    """The bookings of the services of the caller's organisations, slots from ``from`` to ``to``."""
    config, row = _district(district)
    user = api_user()
    org_ids = list(
        db.session.scalars(
            select(Membership.organisation_id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user.id, Organisation.district_id == row.id)
        )
    )
    if not org_ids:
        raise forbidden()
    status = choice_arg("status", BOOKING_STATES)
    start_day, end_day = date_range(_today(config.timezone), 0, 92)
    start, _unused = day_bounds(start_day, config.timezone)
    _unused, end = day_bounds(end_day, config.timezone)
    conditions: list[Any] = [
        Service.district_id == row.id,
        Service.organisation_id.in_(org_ids),
        Slot.starts_at >= start,
        Slot.starts_at < end,
    ]
    if status:
        conditions.append(Booking.status == status)
    raw_service = request.args.get("service", "")
    if raw_service:
        if not raw_service.isdigit() or len(raw_service) > 10 or int(raw_service) > INT32:
            raise validation([field_problem("service", _("Choose one of your services."))])
        conditions.append(Booking.service_id == int(raw_service))
    rows = db.session.scalars(
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Service, Service.id == Booking.service_id)
        .where(*conditions)
        .options(selectinload(Booking.slot))
        .order_by(Slot.starts_at, Booking.created_at, Booking.id)
        .limit(MAX_PROVIDER_BOOKINGS)
    )
    return jsonify(
        {
            "from": start_day.isoformat(),
            "to": end_day.isoformat(),
            "items": [booking_json(b) for b in rows],
        }
    )


# --- district admins -------------------------------------------------------------------------


@bp.get("/districts/<district>/report")
def report(district: str) -> Response:
    """The district's figures between ``from`` and ``to`` (district admins only)."""
    config, row = _district(district)
    user = api_user()
    if not user.administers(row.id):
        raise forbidden()
    today = _today(config.timezone)
    start_day, end_day = date_range(today - timedelta(days=364), 364, 731)
    return jsonify(district_report(db.session, row, start_day, end_day))
