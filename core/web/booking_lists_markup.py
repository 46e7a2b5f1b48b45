"""The personal area's booking lists and booking state badges, as Python globals.

"My bookings" shows up to 40 bookings (20 upcoming, 20 past); as Jinja, each cost ~250 Python
calls (a macro per badge, Flask-Babel's date and time formatting, attribute lookups, escapes).
The markup is the one the templates rendered (``tests/integration/test_markup_globals.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, url_for
from markupsafe import Markup

from core.i18n import gettext as _
from core.i18n import locale_code
from core.web.html import escaped
from core.web.my_bookings import DEFAULT_ZONE
from core.web.templating import format_moment

STATE_CLASSES = {
    "pending": "bg-warning text-dark",
    "confirmed": "bg-success",
    "waitlisted": "bg-info text-dark",
    "offered": "bg-primary",
    "cancelled": "bg-secondary",
    "rejected": "bg-danger",
    "attended": "bg-success",
    "no_show": "bg-dark",
}

# Only the label shown is translated: a long list has one per booking.
_STATE_LABELS: dict[str, Callable[[], str]] = {
    "pending": lambda: _("Pending"),
    "confirmed": lambda: _("Confirmed"),
    "waitlisted": lambda: _("On the waiting list"),
    "offered": lambda: _("Place offered"),
    "cancelled": lambda: _("Cancelled"),
    "rejected": lambda: _("Rejected"),
    "attended": lambda: _("Attended"),
    "no_show": lambda: _("Did not attend"),
}


def booking_state_label(status: str) -> Markup:
    """A booking state's label in the reader's language (an unknown state as it is)."""
    label = _STATE_LABELS.get(status)
    # a translation is markup, as templates' _() gives it
    return Markup(label()) if label else Markup(escaped(status))


def booking_state_badge(status: str) -> Markup:
    """A booking state as a coloured badge."""
    classes = STATE_CLASSES.get(status, "bg-secondary")
    return Markup(
        f'<span class="badge state-badge state-{escaped(status)} {classes}">'
        f"{booking_state_label(status)}</span>"
    )


def booking_items(bookings: Iterable[Any], districts: Mapping[int, Any]) -> Markup:
    """The ``<li>`` of each booking: its service (linked to the booking), when (in the zone of
    the service's district), provider and district, state."""
    locale = locale_code()
    zones: dict[int, ZoneInfo] = {}
    items = []
    for booking in bookings:
        service = booking.service
        district = districts.get(service.district_id)
        zone = zones.get(service.district_id)
        if zone is None:
            name = district.timezone if district else DEFAULT_ZONE
            zone = zones[service.district_id] = ZoneInfo(name)
        starts = booking.slot_starts_at.astimezone(zone)
        ends = booking.slot_ends_at.astimezone(zone)
        when = (
            f"{escaped(format_moment('date', starts, 'full', locale, zone))}, "
            f"{escaped(format_moment('time', starts, 'short', locale, zone))}–"
            f"{escaped(format_moment('time', ends, 'short', locale, zone))}"
        )
        url = escaped(url_for("bookings.detail", public_id=booking.public_id))
        title = escaped(service.title(locale))
        where = escaped(service.organisation.name)
        if district:
            where = f"{where} · {escaped(district.name)}"
        items.append(
            f'\n  <li class="card card-bg mb-3 booking-item">\n'
            f'    <div class="card-body">\n'
            f'      <h3 class="h5 card-title"><a href="{url}">{title}</a></h3>\n'
            f'      <p class="mb-1">{when}</p>\n'
            f'      <p class="mb-1 small">{where}</p>\n'
            f'      <p class="mb-0">{booking_state_badge(booking.status)}</p>\n'
            f"    </div>\n"
            f"  </li>"
        )
    return Markup("".join(items))


def install_booking_lists_markup(app: Flask) -> None:
    """Make the booking list and the state badges available to every template."""
    app.jinja_env.globals.update(
        booking_items=booking_items,
        booking_state_badge=booking_state_badge,
        booking_state_label=booking_state_label,
    )
