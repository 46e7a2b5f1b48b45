"""Booking mail: rendered in the resident's language, times in the district's zone.

Each message is queued in the outbox in the caller's transaction, so it is sent only if the
change it announces is committed. It is queued unrendered (its booking, kind and language)
and composed by the sender (:func:`compose`, registered with the outbox): the booking's
request writes one small row, and the mail shows the booking as it is when it leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.support import NullTranslations
from flask import current_app
from flask_babel import force_locale, get_translations
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from core.booking.states import StateChange
from core.extensions import db
from core.models import Booking, District, OutboxMessage
from core.models.types import utcnow
from core.notifications.outbox import queue_unrendered, register_composer

SUBJECTS: dict[str, Any] = {
    "confirmed": _l("Booking confirmed: %(service)s"),
    "pending": _l("Booking request received: %(service)s"),
    "approved": _l("Booking approved: %(service)s"),
    "rejected": _l("Booking not accepted: %(service)s"),
    "cancelled": _l("Booking cancelled: %(service)s"),
    "waitlisted": _l("You are on the waiting list: %(service)s"),
    "offered": _l("A place is free for you: %(service)s"),
    "offer_expired": _l("Your waiting-list offer has expired: %(service)s"),
    "reminder": _l("Reminder: %(service)s"),
    "provider_cancelled": _l("A resident cancelled a booking: %(service)s"),
}
CALENDAR_EVENTS = frozenset({"confirmed", "approved", "reminder"})
CHANGE_EVENTS = {"confirmed": "confirmed", "pending": "pending", "offered": "offered"}


def booking_link(booking: Booking) -> str:
    """The absolute address of the booking's page in the resident's area."""
    base = current_app.config["CONCILIA_BASE_URL"].rstrip("/")
    return f"{base}/me/bookings/{booking.public_id}"


def format_local(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """A date and time in ``zone``, written for ``locale`` (e.g. "lunedì 30 marzo 2026, 09:00")."""
    local = moment.astimezone(zone)
    return (
        f"{format_date(local, 'full', locale=locale)}, {format_time(local, 'HH:mm', locale=locale)}"
    )


def catalog_gettext(catalog: NullTranslations) -> Callable[..., str]:
    """Jinja's ``gettext`` (the new-style one ``_()`` calls) over one catalog.

    A mail is rendered in one forced locale, so its catalog is looked up once instead of on
    each of the twenty-odd ``_()`` of a booking mail. Same rules as Jinja's: the result is
    marked safe under autoescape, then formatted with the call's keyword arguments.
    """

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        text = catalog.ugettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return gettext


def render_mail_template(name: str, context: dict[str, Any]) -> str:
    """Render a mail template with exactly ``context`` (and the environment's globals).

    Unlike ``render_template`` it runs no context processor: a mail must not depend on the
    request that happens to send it (its page, its session), and it is rendered on the
    booking's hot path, where those processors would cost more than the template.
    """
    return current_app.jinja_env.get_template(name).render(context)


def _render(event: str, booking: Booking, locale: str, **extra: Any) -> tuple[str, str, str]:
    """The subject, text and HTML of the ``event`` mail about ``booking``, in ``locale``."""
    service = booking.service
    district = db.session.get(District, service.district_id)
    zone = ZoneInfo(district.timezone if district else "Europe/Rome")
    with force_locale(locale):
        title = service.title(locale)
        context = {
            "booking": booking,
            "service_title": title,
            "organisation": service.organisation.name,
            "place": service.place_name,
            "address": service.address,
            "when": format_local(booking.slot.starts_at, zone, locale),
            "offer_expires": (
                format_local(booking.offer_expires_at, zone, locale)
                if booking.offer_expires_at
                else ""
            ),
            "link": booking_link(booking),
            "calendar_link": "",
            "cancel_until": "",
            "district_name": district.name if district else "",
            "gettext": catalog_gettext(get_translations()),
        }
        if event in CALENDAR_EVENTS:
            context["calendar_link"] = booking_link(booking) + ".ics"
            deadline = booking.slot.starts_at - timedelta(minutes=service.cancel_deadline_minutes)
            if deadline > utcnow():
                context["cancel_until"] = format_local(deadline, zone, locale)
        context.update(extra)
        subject = str(SUBJECTS[event]) % {"service": title}
        text = render_mail_template(f"mail/booking_{event}.txt", context)
        html = render_mail_template(f"mail/booking_{event}.html", context)
    return subject, text, html


def compose(message: OutboxMessage) -> None:
    """Render a booking mail queued unrendered: its subject, text and HTML, in its language."""
    booking = message.booking
    if booking is None:
        raise LookupError(f"outbox message {message.id} has no booking to describe")
    event = message.kind.removeprefix("booking_")
    extra = {"link": _provider_link(booking)} if event == "provider_cancelled" else {}
    message.subject, message.body_text, message.body_html = _render(
        event, booking, message.locale or "it", **extra
    )


register_composer("booking_", compose)


def _resident_locale(booking: Booking) -> str:
    user = booking.user
    if user is not None and user.locale in ("it", "en"):
        return user.locale
    district = db.session.get(District, booking.service.district_id)
    return district.default_locale if district and district.default_locale else "it"


def booking_event(booking: Booking, event: str) -> int | None:
    """Queue the resident's mail for ``event`` (``confirmed``, ``pending``, ``approved``,
    ``rejected``, ``cancelled``, ``waitlisted``, ``offered``, ``offer_expired``, ``reminder``),
    unrendered: the sender composes it. Its outbox id; ``None`` if there is nobody to write to.
    """
    recipient = booking.applicant_email or (booking.user.email if booking.user else "")
    if not recipient:
        return None
    return queue_unrendered(
        f"booking_{event}",
        recipient,
        booking_id=_written(booking),
        locale=_resident_locale(booking),
    )


def _written(booking: Booking) -> int:
    if booking.id is None:
        raise ValueError("a booking's mail is queued once the booking is written (flushed)")
    return booking.id


def provider_cancellation(booking: Booking) -> int | None:
    """Tell the provider's organisation (its email address) that a resident cancelled."""
    organisation = booking.service.organisation
    if not organisation.email:
        return None
    district = db.session.get(District, booking.service.district_id)
    locale = district.default_locale if district and district.default_locale else "it"
    return queue_unrendered(
        "booking_provider_cancelled",
        organisation.email,
        booking_id=_written(booking),
        locale=locale,
    )


def _provider_link(booking: Booking) -> str:
    """The provider's bookings page of the booking's district."""
    district = db.session.get(District, booking.service.district_id)
    base = current_app.config["CONCILIA_BASE_URL"].rstrip("/")
    return f"{base}/{district.slug}/provider/bookings" if district else base


def for_change(change: StateChange) -> int | None:
    """Queue the mail a waiting-list state change calls for (confirmed, pending, offered)."""
    event = CHANGE_EVENTS.get(change.new)
    return booking_event(change.booking, event) if event else None
