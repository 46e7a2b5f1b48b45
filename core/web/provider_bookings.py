"""The provider's bookings: a day's bookings of the organisation's services, actions, CSV.

Only staff of an organisation (a :class:`~core.models.Membership`) of the district see it:
anyone else gets 403; a booking of another district is 404 (tenancy), one of another
organisation of the same district is 403. Every change goes through the booking engine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as BaseResponse
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from core.booking import BookingRefused, approve, mark_attended, mark_no_show, reject
from core.extensions import db
from core.i18n import locale_code
from core.models import Booking, District, Membership, Organisation, Service, Slot, User
from core.tenancy import get_district_or_404

bp = Blueprint("provider_bookings", __name__)

CSV_DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
STATE_LABELS = {
    "pending": _l("Pending"),
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("On the waiting list"),
    "offered": _l("Place offered"),
    "cancelled": _l("Cancelled"),
    "rejected": _l("Rejected"),
    "attended": _l("Attended"),
    "no_show": _l("Did not attend"),
}


class ActionForm(FlaskForm):
    """A POST button (approve, attended, no-show): CSRF only."""


class RejectForm(FlaskForm):
    """Reject a pending booking, saying why."""

    reason = StringField(
        _l("Reason for rejecting"),
        validators=[
            InputRequired(message=_l("Say why you reject the booking.")),
            Length(max=500, message=_l("Keep the reason under 500 characters.")),
        ],
    )


@dataclass
class Listing:
    """The filtered bookings a provider sees, and the filters that produced them."""

    district: District
    services: list[Service]
    day: date
    service: Service | None
    bookings: list[Booking]
    error: str = ""


def staff_organisation_ids(district: District) -> list[int]:
    """Ids of the organisations of ``district`` the current user works for."""
    return list(
        db.session.scalars(
            select(Membership.organisation_id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == current_user.id, Organisation.district_id == district.id)
        )
    )


def _me() -> User:
    """The logged-in user as a model instance (not the proxy)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _require_staff(district: District) -> list[int]:
    org_ids = staff_organisation_ids(district)
    if not org_ids:
        abort(403)
    return org_ids


def local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants where the local ``day`` in ``zone`` starts and ends."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def build_listing(
    district: District, org_ids: list[int], raw_day: str, raw_service: str
) -> tuple[Listing, int]:
    """Parse the ``day`` and ``service`` filters and load the bookings; returns the HTTP status."""
    services = list(
        db.session.scalars(
            select(Service)
            .where(Service.district_id == district.id, Service.organisation_id.in_(org_ids))
            .order_by(Service.title_it, Service.id)
        )
    )
    today = datetime.now(ZoneInfo(district.timezone)).date()
    status, error, day = 200, "", today
    raw_day = raw_day.strip()
    if raw_day:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            status, error = 400, _("The date is not valid: use the format YYYY-MM-DD.")
    service: Service | None = None
    raw_service = raw_service.strip()
    if raw_service:
        service = next((s for s in services if str(s.id) == raw_service), None)
        if service is None:
            status, error = 400, _("Choose one of your services.")
    bookings: list[Booking] = []
    if status == 200:
        start, end = local_day_bounds(day, district.timezone)
        service_ids = [service.id] if service else [s.id for s in services]
        bookings = list(
            db.session.scalars(
                select(Booking)
                .join(Slot, Slot.id == Booking.slot_id)
                .where(
                    Booking.service_id.in_(service_ids),
                    Slot.starts_at >= start,
                    Slot.starts_at < end,
                )
                .options(selectinload(Booking.slot), selectinload(Booking.service))
                .order_by(Slot.starts_at, Booking.service_id, Booking.created_at, Booking.id)
            )
        )
    return Listing(district, services, day, service, bookings, error), status


@bp.get("/<district>/provider/bookings")
@login_required
def index(district: str) -> tuple[str, int]:
    """The day's bookings of the organisation's services, with their applicants."""
    _config, row = get_district_or_404(district)
    org_ids = _require_staff(row)
    return _render_index(row, org_ids, request.args.get("day", ""), request.args.get("service", ""))


def _render_index(
    district: District,
    org_ids: list[int],
    raw_day: str,
    raw_service: str,
    *,
    status: int = 200,
    problems: list[str] | None = None,
    reject_form: RejectForm | None = None,
    rejecting: str = "",
) -> tuple[str, int]:
    listing, listing_status = build_listing(district, org_ids, raw_day, raw_service)
    return (
        render_template(
            "provider_bookings/index.html",
            listing=listing,
            action_form=ActionForm(),
            reject_form=reject_form or RejectForm(),
            rejecting=rejecting,
            problems=problems or [],
            locale=locale_code(),
        ),
        listing_status if listing_status != 200 else status,
    )


def csv_cell(value: object) -> str:
    """A cell safe to open in a spreadsheet: formula-like text gets a leading apostrophe."""
    text = "" if value is None else str(value)
    if text.startswith(CSV_DANGEROUS_PREFIXES):
        return "'" + text
    return text


def csv_rows(bookings: Iterable[Booking], zone: str, locale: str) -> Iterable[list[str]]:
    """The header and one row per booking of the CSV export."""
    tz = ZoneInfo(zone)
    yield [
        _("Date"),
        _("Time"),
        _("Service"),
        _("Name"),
        _("Email"),
        _("Phone"),
        _("Places"),
        _("Status"),
        _("Details"),
        _("Booked at"),
        _("Booking code"),
    ]
    for b in bookings:
        start = b.slot.starts_at.astimezone(tz)
        answers = "; ".join(f"{k}: {v}" for k, v in sorted((b.answers or {}).items()))
        yield [
            csv_cell(c)
            for c in (
                start.date().isoformat(),
                start.strftime("%H:%M"),
                b.service.title(locale),
                b.applicant_name,
                b.applicant_email,
                b.applicant_phone,
                b.seats,
                STATE_LABELS.get(b.status, b.status),
                answers,
                b.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                b.public_id,
            )
        ]


@bp.get("/<district>/provider/bookings.csv")
@login_required
def export_csv(district: str) -> Response:
    """The filtered list as CSV (UTF-8 with BOM, so spreadsheets read accents right)."""
    _config, row = get_district_or_404(district)
    org_ids = _require_staff(row)
    listing, status = build_listing(
        row, org_ids, request.args.get("day", ""), request.args.get("service", "")
    )
    if status != 200:
        abort(status)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerows(csv_rows(listing.bookings, row.timezone, locale_code()))
    filename = f"bookings-{row.slug}-{listing.day.isoformat()}.csv"
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _booking_for_staff(district: District, public_id: str) -> Booking:
    """The booking, if of this district (else 404) and of the user's organisation (else 403)."""
    org_ids = _require_staff(district)
    booking = db.session.scalar(
        select(Booking)
        .join(Service, Service.id == Booking.service_id)
        .where(Booking.public_id == public_id, Service.district_id == district.id)
        .options(selectinload(Booking.slot), selectinload(Booking.service))
    )
    if booking is None:
        abort(404)
    if booking.service.organisation_id not in org_ids:
        abort(403)
    return booking


def _filters(district: District, booking: Booking) -> dict[str, str]:
    """The list filters to return to: the booking's day, and the service filter the form kept."""
    day = booking.slot.starts_at.astimezone(ZoneInfo(district.timezone)).date().isoformat()
    params = {"day": day}
    service = request.form.get("service_filter", "")
    if service.isdigit():
        params["service"] = service
    return params


def _act(district_slug: str, public_id: str, action: str) -> BaseResponse | tuple[str, int]:
    _config, district = get_district_or_404(district_slug)
    booking = _booking_for_staff(district, public_id)
    org_ids = staff_organisation_ids(district)
    filters = _filters(district, booking)
    form: FlaskForm = RejectForm() if action == "reject" else ActionForm()
    if not form.validate_on_submit():
        if isinstance(form, RejectForm) and "csrf_token" not in form.errors:
            return _render_index(
                district,
                org_ids,
                filters["day"],
                filters.get("service", ""),
                status=422,
                reject_form=form,
                rejecting=booking.public_id,
            )
        abort(400)
    try:
        if action == "approve":
            approve(booking, _me())
            flash(_("Booking approved."), "success")
        elif action == "reject":
            reject(booking, _me(), form.reason.data)  # type: ignore[attr-defined]
            flash(_("Booking rejected."), "success")
        elif action == "attended":
            mark_attended(booking, _me())
            flash(_("Marked as attended."), "success")
        else:
            mark_no_show(booking, _me())
            flash(_("Marked as not attended."), "success")
    except BookingRefused as exc:
        db.session.rollback()
        return _render_index(
            district,
            org_ids,
            filters["day"],
            filters.get("service", ""),
            status=409,
            problems=exc.messages,
        )
    return redirect(url_for("provider_bookings.index", district=district.slug, **filters))


@bp.post("/<district>/provider/bookings/<public_id>/approve")
@login_required
def approve_booking(district: str, public_id: str) -> BaseResponse | tuple[str, int]:
    """Approve a pending booking."""
    return _act(district, public_id, "approve")


@bp.post("/<district>/provider/bookings/<public_id>/reject")
@login_required
def reject_booking(district: str, public_id: str) -> BaseResponse | tuple[str, int]:
    """Reject a pending booking, with a reason the applicant reads."""
    return _act(district, public_id, "reject")


@bp.post("/<district>/provider/bookings/<public_id>/attended")
@login_required
def attended(district: str, public_id: str) -> BaseResponse | tuple[str, int]:
    """Mark that the person came."""
    return _act(district, public_id, "attended")


@bp.post("/<district>/provider/bookings/<public_id>/no-show")
@login_required
def no_show(district: str, public_id: str) -> BaseResponse | tuple[str, int]:
    """Mark that the person did not come."""
    return _act(district, public_id, "no_show")
