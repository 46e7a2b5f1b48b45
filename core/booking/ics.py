"""iCalendar (RFC 5545) output of bookings: one booking's ``.ics`` and a person's feed.

Events carry the district's zone (``TZID=Europe/Rome``) with its ``VTIMEZONE``, so 09:00 stays
09:00 in every calendar app across the daylight-saving switch. Needs an app context (for the
translations of the description); no request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event

from core.models import Booking
from core.models.types import utcnow

PRODID = "-//Concilia//Concilia bookings//EN"
DEFAULT_ZONE = "Europe/Rome"

ICS_STATUS: Mapping[str, str] = {
    "confirmed": "CONFIRMED",
    "attended": "CONFIRMED",
    "no_show": "CONFIRMED",
    "pending": "TENTATIVE",
    "waitlisted": "TENTATIVE",
    "offered": "TENTATIVE",
    "cancelled": "CANCELLED",
    "rejected": "CANCELLED",
}


def booking_uid(booking: Booking, base_url: str) -> str:
    """The stable UID of a booking's event: ``<public_id>@<host of base_url>``."""
    host = urlsplit(base_url).hostname or "concilia.local"
    return f"{booking.public_id}@{host}"


def booking_link(booking: Booking, base_url: str) -> str:
    """The absolute address of the booking's page in the personal area."""
    return f"{base_url.rstrip('/')}/me/bookings/{booking.public_id}"


def booking_summary(booking: Booking, locale: str) -> str:
    """The event title in ``locale``: the service's title, and the event's own title if any."""
    title = booking.service.title(locale)
    if booking.slot.title:
        return f"{booking.slot.title} – {title}"
    return title


def booking_location(booking: Booking) -> str:
    """Where it happens: place name and address, as one line."""
    service = booking.service
    address = ", ".join(p for p in (service.address, service.postcode) if p)
    return " – ".join(p for p in (service.place_name, address) if p)


def booking_event(booking: Booking, *, base_url: str, locale: str, zone: str) -> Event:
    """One ``VEVENT`` for ``booking``, its times in ``zone``, its texts in ``locale``."""
    tz = ZoneInfo(zone)
    link = booking_link(booking, base_url)
    with force_locale(locale):
        lines = [booking.service.organisation.name]
        if booking.seats > 1:
            lines.append(_("Seats: %(seats)s", seats=booking.seats))
        lines.append(_("Booking details: %(link)s", link=link))
        description = "\n".join(lines)
    event = Event()
    event.add("uid", booking_uid(booking, base_url))
    event.add("dtstamp", utcnow())
    event.add("dtstart", booking.slot.starts_at.astimezone(tz))
    event.add("dtend", booking.slot.ends_at.astimezone(tz))
    event.add("summary", booking_summary(booking, locale))
    location = booking_location(booking)
    if location:
        event.add("location", location)
    event.add("description", description)
    event.add("url", link)
    event.add("status", ICS_STATUS.get(booking.status, "TENTATIVE"))
    event.add("last-modified", booking.updated_at)
    event.add("sequence", _sequence(booking))
    return event


def _sequence(booking: Booking) -> int:
    """A revision number that grows when the booking changes (minutes since creation)."""
    delta = booking.updated_at - booking.created_at
    return max(int(delta.total_seconds() // 60), 0)


def bookings_calendar(
    bookings: Iterable[Booking],
    *,
    base_url: str,
    locale: str,
    zones: Mapping[int, str] | None = None,
    name: str | None = None,
) -> bytes:
    """A ``VCALENDAR`` with one event per booking, and the ``VTIMEZONE`` of each zone used.

    ``zones`` maps a district id to its IANA zone (default: Europe/Rome).
    """
    zones = zones or {}
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    days: list[date] = []
    for booking in bookings:
        zone = zones.get(booking.service.district_id, DEFAULT_ZONE)
        calendar.add_component(booking_event(booking, base_url=base_url, locale=locale, zone=zone))
        days.append(booking.slot.starts_at.date())
    if days:
        calendar.add_missing_timezones(
            first_date=min(days) - timedelta(days=366), last_date=max(days) + timedelta(days=366)
        )
    return calendar.to_ical()


def booking_ics(booking: Booking, *, base_url: str, locale: str, zone: str) -> bytes:
    """The ``.ics`` file of a single booking."""
    return bookings_calendar(
        [booking], base_url=base_url, locale=locale, zones={booking.service.district_id: zone}
    )
