"""The public iCal feed of a service's available times, for services that allow it.

``/<district>/services/<id>/calendar.ics`` answers only for a published service whose
provider turned on ``Service.ical_public`` (404 otherwise). It lists the future, not
cancelled times that still have free places, within the service's booking window; each
event links to the booking flow. No personal data is in it.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select

from core.booking.ics import PRODID
from core.extensions import db
from core.i18n import locale_code
from core.models import Organisation, Service, Slot
from core.models.types import utcnow
from core.tenancy import get_district_or_404

bp = Blueprint("service_feed", __name__)

MAX_EVENTS = 500
MAX_DAYS = 180


def feed_slots(service: Service) -> list[Slot]:
    """The service's bookable times with free places, earliest first (one query)."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(Slot)
            .where(
                Slot.service_id == service.id,
                Slot.cancelled.is_(False),
                Slot.taken < Slot.capacity,
                Slot.starts_at >= now + timedelta(minutes=service.min_notice_minutes),
                Slot.starts_at <= now + timedelta(days=min(service.max_advance_days, MAX_DAYS)),
            )
            .order_by(Slot.starts_at, Slot.id)
            .limit(MAX_EVENTS)
        )
    )


def service_calendar(
    service: Service, slots: list[Slot], *, base_url: str, district_slug: str, zone: str
) -> bytes:
    """A ``VCALENDAR`` with one event per available time, in the district's zone."""
    tz = ZoneInfo(zone)
    locale = locale_code()
    host = urlsplit(base_url).hostname or "concilia.local"
    link = f"{base_url.rstrip('/')}/{district_slug}/services/{service.id}/book"
    title = service.title(locale)
    location = " – ".join(
        p
        for p in (
            service.place_name,
            ", ".join(x for x in (service.address, service.postcode) if x),
        )
        if p
    )
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", title)
    stamp = utcnow()
    for slot in slots:
        event = Event()
        event.add("uid", f"slot-{slot.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", slot.starts_at.astimezone(tz))
        event.add("dtend", slot.ends_at.astimezone(tz))
        event.add("summary", f"{slot.title} – {title}" if slot.title else title)
        if location:
            event.add("location", location)
        event.add(
            "description",
            "\n".join(
                [
                    service.organisation.name,
                    _("Places available: %(n)s", n=slot.available),
                    _("Book: %(link)s", link=link),
                ]
            ),
        )
        event.add("url", link)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    if slots:
        calendar.add_missing_timezones(
            first_date=slots[0].starts_at.date() - timedelta(days=366),
            last_date=slots[-1].starts_at.date() + timedelta(days=366),
        )
    return calendar.to_ical()


@bp.get("/<district>/services/<int:service_id>/calendar.ics")
def calendar(district: str, service_id: int) -> Response:
    """The feed; 404 unless the service is published here and its provider allows the feed."""
    _config, row = get_district_or_404(district)
    if service_id > 2**31 - 1:
        abort(404)
    service = db.session.scalar(
        select(Service)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .where(
            Service.id == service_id,
            Service.district_id == row.id,
            Service.status == "published",
            Service.ical_public.is_(True),
            Organisation.status == "active",
        )
    )
    if service is None:
        abort(404)
    body = service_calendar(
        service,
        feed_slots(service),
        base_url=str(current_app.config["CONCILIA_BASE_URL"]),
        district_slug=row.slug,
        zone=row.timezone,
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="service-{service.id}.ics"'
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
