"""The personal area's bookings: list, detail, cancel, accept an offer, rate, ``.ics`` and feed.

A booking is addressed only by its unguessable ``public_id`` and only its owner sees it (404 for
anyone else). Every change goes through the booking engine.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, format_date, format_datetime, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as BaseResponse
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length

from core.booking import BookingRefused, accept_offer, calendar_feed, cancel, ics, rate
from core.booking.my_bookings import my_bookings, parse_page
from core.extensions import db
from core.i18n import locale_code
from core.models import Booking, District, Service, User
from core.models.types import utcnow

bp = Blueprint("bookings", __name__)

DEFAULT_ZONE = "Europe/Rome"


class ActionForm(FlaskForm):
    """A bare form for POST buttons (cancel, accept an offer, feed actions): CSRF only."""


class RatingForm(FlaskForm):
    """Rate a booking after attending it."""

    rating = RadioField(
        _l("Your rating"),
        choices=[str(n) for n in range(1, 6)],
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[Length(max=1000, message=_l("Keep the comment under 1000 characters."))],
    )


@bp.app_template_filter("zoned_datetime")
def zoned_datetime(moment: datetime | None, zone: str = DEFAULT_ZONE, fmt: str = "medium") -> str:
    """Format an aware datetime in the given zone (a booking's district), in the reader's locale."""
    if moment is None:
        return ""
    return format_datetime(moment.astimezone(ZoneInfo(zone)), fmt, rebase=False)


@bp.app_template_filter("zoned_date")
def zoned_date(moment: datetime | None, zone: str = DEFAULT_ZONE, fmt: str = "full") -> str:
    """Format the date of an aware datetime as seen in the given zone."""
    if moment is None:
        return ""
    return format_date(moment.astimezone(ZoneInfo(zone)).date(), fmt)


@bp.app_template_filter("zoned_time")
def zoned_time(moment: datetime | None, zone: str = DEFAULT_ZONE, fmt: str = "short") -> str:
    """Format the time of an aware datetime as seen in the given zone."""
    if moment is None:
        return ""
    return format_time(moment.astimezone(ZoneInfo(zone)), fmt, rebase=False)


def cancel_deadline(booking: Booking) -> datetime:
    """The last moment the person may cancel the booking."""
    return booking.slot.starts_at - timedelta(minutes=booking.service.cancel_deadline_minutes)


def can_cancel(booking: Booking) -> bool:
    """Whether the cancel button makes sense now (the engine decides for real)."""
    return booking.is_live and utcnow() < cancel_deadline(booking)


def _districts(ids: set[int]) -> dict[int, District]:
    if not ids:
        return {}
    rows = db.session.scalars(select(District).where(District.id.in_(ids)))
    return {row.id: row for row in rows}


def _own_booking_or_404(public_id: str) -> Booking:
    """The current user's booking with this public id; 404 for anyone else's or none."""
    booking = db.session.scalar(
        select(Booking)
        .where(Booking.public_id == public_id, Booking.user_id == current_user.id)
        .options(
            selectinload(Booking.slot),
            selectinload(Booking.service).selectinload(Service.organisation),
        )
    )
    if booking is None:
        abort(404)
    return booking


def _me() -> User:
    """The logged-in user as a model instance (not the proxy)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _base_url() -> str:
    return str(current_app.config["CONCILIA_BASE_URL"])


@bp.get("/me/bookings")
@login_required
def mine() -> str:
    """The logged-in person's upcoming bookings and history, across districts, one page of each.

    ``upcoming_page`` and ``page`` (the history's) are page numbers; junk or out-of-range
    values show the first page.
    """
    upcoming_page = parse_page(request.args.get("upcoming_page"))
    history_page = parse_page(request.args.get("page"))
    lists = my_bookings(
        db.session, current_user.id, upcoming_page=upcoming_page, history_page=history_page
    )

    def upcoming_url(number: int) -> str:
        """Upcoming page ``number``, the history page kept."""
        return _list_url(number, lists.history.page, "upcoming-title")

    def history_url(number: int) -> str:
        """History page ``number``, the upcoming page kept."""
        return _list_url(lists.upcoming.page, number, "past-title")

    return render_template(
        "bookings/mine.html",
        upcoming=lists.upcoming,
        past=lists.history,
        districts=lists.districts,
        upcoming_url=upcoming_url,
        history_url=history_url,
        locale=locale_code(),
    )


def _list_url(upcoming_page: int, history_page: int, anchor: str) -> str:
    """The address of the list with these pages (first pages left out), scrolled to ``anchor``."""
    args = {"upcoming_page": upcoming_page, "page": history_page}
    return url_for("bookings.mine", _anchor=anchor, **{key: n for key, n in args.items() if n > 1})


@bp.get("/me/bookings/<public_id>")
@login_required
def detail(public_id: str) -> str:
    """One booking: when, where, state, and what the person can do with it."""
    booking = _own_booking_or_404(public_id)
    return _render_detail(booking)


def _render_detail(
    booking: Booking, *, rating_form: RatingForm | None = None, problems: list[str] | None = None
) -> str:
    district = _districts({booking.service.district_id}).get(booking.service.district_id)
    return render_template(
        "bookings/detail.html",
        booking=booking,
        district=district,
        zone=district.timezone if district else DEFAULT_ZONE,
        deadline=cancel_deadline(booking),
        can_cancel=can_cancel(booking),
        can_rate=booking.status == "attended" and booking.rating is None,
        action_form=ActionForm(),
        rating_form=rating_form or RatingForm(),
        problems=problems or [],
        locale=locale_code(),
    )


def _refused(
    booking: Booking, exc: BookingRefused, *, rating_form: RatingForm | None = None
) -> tuple[str, int]:
    """Show the booking again with the engine's reasons (409: the state did not allow it)."""
    public_id = booking.public_id
    db.session.rollback()
    booking = _own_booking_or_404(public_id)
    return _render_detail(booking, rating_form=rating_form, problems=exc.messages), 409


@bp.post("/me/bookings/<public_id>/cancel")
@login_required
def cancel_booking(public_id: str) -> BaseResponse | tuple[str, int]:
    """Cancel the booking (before the provider's deadline)."""
    booking = _own_booking_or_404(public_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        cancel(booking, by="resident", actor=_me())
    except BookingRefused as exc:
        return _refused(booking, exc)
    flash(_("Your booking has been cancelled."), "success")
    return redirect(url_for("bookings.detail", public_id=public_id))


@bp.post("/me/bookings/<public_id>/accept")
@login_required
def accept(public_id: str) -> BaseResponse | tuple[str, int]:
    """Accept a place offered from the waiting list."""
    booking = _own_booking_or_404(public_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        accept_offer(booking, _me())
    except BookingRefused as exc:
        return _refused(booking, exc)
    flash(_("You have accepted the place: your booking is now active."), "success")
    return redirect(url_for("bookings.detail", public_id=public_id))


@bp.post("/me/bookings/<public_id>/rate")
@login_required
def rate_booking(public_id: str) -> BaseResponse | tuple[str, int]:
    """Rate an attended booking from 1 to 5, with an optional comment."""
    booking = _own_booking_or_404(public_id)
    form = RatingForm()
    if not form.validate_on_submit():
        return _render_detail(booking, rating_form=form), 422
    try:
        rate(booking, _me(), int(form.rating.data), form.comment.data or "")
    except BookingRefused as exc:
        return _refused(booking, exc, rating_form=form)
    flash(_("Thank you for your rating."), "success")
    return redirect(url_for("bookings.detail", public_id=public_id))


@bp.get("/me/bookings/<public_id>.ics")
@login_required
def booking_ics(public_id: str) -> Response:
    """The booking as an ``.ics`` file to add to a calendar."""
    booking = _own_booking_or_404(public_id)
    zones = calendar_feed.district_zones(db.session, {booking.service.district_id})
    body = ics.booking_ics(
        booking,
        base_url=_base_url(),
        locale=locale_code(),
        zone=zones.get(booking.service.district_id, DEFAULT_ZONE),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="booking-{booking.public_id}.ics"',
            "Cache-Control": "private, no-store",
        },
    )


FEED_SESSION_KEY = "calendar_feed_new_token"


@bp.get("/me/calendar")
@login_required
def calendar() -> str:
    """The private feed page: its state, and the new address right after it was made."""
    new_token = session.pop(FEED_SESSION_KEY, None)
    feed = calendar_feed.active_feed(db.session, current_user)
    feed_url = (
        url_for("bookings.calendar_feed_ics", token=new_token, _external=True)
        if new_token and feed is not None
        else None
    )
    return render_template(
        "bookings/calendar.html", feed=feed, feed_url=feed_url, form=ActionForm()
    )


@bp.post("/me/calendar")
@login_required
def calendar_issue() -> BaseResponse:
    """Create the feed, or rotate it (the old address stops working)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    token = calendar_feed.issue_feed(db.session, current_user)
    db.session.commit()
    session[FEED_SESSION_KEY] = token
    flash(_("Your calendar address is ready. Copy it now: it will not be shown again."), "success")
    return redirect(url_for("bookings.calendar"))


@bp.post("/me/calendar/revoke")
@login_required
def calendar_revoke() -> BaseResponse:
    """Revoke the feed: its address stops working at once."""
    if not ActionForm().validate_on_submit():
        abort(400)
    count = calendar_feed.revoke_feeds(db.session, current_user)
    db.session.commit()
    if count:
        flash(_("Your calendar address has been revoked."), "success")
    return redirect(url_for("bookings.calendar"))


@bp.get("/calendar/<token>.ics")
def calendar_feed_ics(token: str) -> Response:
    """The private feed itself, for calendar apps: 404 for an unknown or revoked secret."""
    user = calendar_feed.user_for_token(db.session, token)
    if user is None:
        abort(404)
    bookings = calendar_feed.feed_bookings(db.session, user)
    zones = calendar_feed.district_zones(db.session, {b.service.district_id for b in bookings})
    locale = user.locale if user.locale in ("it", "en") else locale_code()
    with force_locale(locale):
        name = _("My bookings")
    body = ics.bookings_calendar(
        bookings, base_url=_base_url(), locale=locale, zones=zones, name=name
    )
    db.session.commit()  # last_used_at
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"},
    )
