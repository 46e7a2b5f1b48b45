"""The district's bookings of a period counted once, in cells, for every booking figure.

One grouped statement counts the bookings (and their seats) by area, local month, state, who
cancelled, whether the slot was cancelled and rating: a few hundred cells at most, whatever the
number of bookings. The dashboard's bookings, utilisation, cancellations and ratings figures and
the API's report are sums over these cells, so they agree by construction and the database reads
the bookings once instead of once per figure. One more statement sums the seats offered.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.models import Booking, District, Service, Slot
from core.reporting.period import Period, month_index, spans_months

#: Bookings that took seats (or did): the demand that was served.
TAKEN_STATES = ("pending", "confirmed", "attended", "no_show")
WAITING_STATES = ("waitlisted", "offered")


@dataclass(frozen=True)
class Cell:
    """The bookings of the period that share every one of these properties."""

    category: str
    month: str  # local month of the slot's start, YYYY-MM
    status: str
    cancelled_by: str
    slot_cancelled: bool
    rating: int | None
    bookings: int
    seats: int


def in_period(district: District, period: Period) -> list[ColumnElement[bool]]:
    """The conditions of a statement joining ``Slot`` and ``Service``: the district's slots
    that start in the period."""
    return [
        Service.district_id == district.id,
        Slot.starts_at >= period.since,
        Slot.starts_at < period.until,
    ]


def booking_cells(session: Session, district: District, period: Period) -> list[Cell]:
    """Every booking of the district whose slot starts in the period, counted in cells."""
    month = month_index(Slot.starts_at, period).label("month")
    keys = [
        Service.category,
        Booking.status,
        Booking.cancelled_by,
        Slot.cancelled,
        Booking.rating,
    ]
    rows = session.execute(
        select(*keys, month, func.count(), func.sum(Booking.seats))
        .select_from(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Service, Service.id == Booking.service_id)
        .where(*in_period(district, period))
        .group_by(*keys, *([month] if spans_months(period) else []))
    ).all()
    months = period.months()
    return [
        Cell(category, months[m], status, by or "", bool(cancelled), rating, n, int(seats or 0))
        for category, status, by, cancelled, rating, m, n, seats in rows
    ]


def seats_offered(session: Session, district: District, period: Period) -> dict[str, int]:
    """Seats of the slots (not cancelled) that start in the period, by area."""
    rows = session.execute(
        select(Service.category, func.sum(Slot.capacity))
        .select_from(Slot)
        .join(Service, Service.id == Slot.service_id)
        .where(*in_period(district, period), Slot.cancelled.is_(False))
        .group_by(Service.category)
    ).all()
    return {category: int(seats or 0) for category, seats in rows}


def utilisation(cells: list[Cell], offered: dict[str, int]) -> list[tuple[str, int, int]]:
    """``(area, seats offered, seats taken)`` by area: seats of bookings that took them, in slots
    not cancelled, against the seats those slots offer."""
    taken: dict[str, int] = {}
    for c in cells:
        if c.status in TAKEN_STATES and not c.slot_cancelled:
            taken[c.category] = taken.get(c.category, 0) + c.seats
    return [(area, seats, taken.get(area, 0)) for area, seats in sorted(offered.items())]
