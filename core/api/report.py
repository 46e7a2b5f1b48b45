"""The district's figures for ``GET /api/v1/districts/{district}/report``.

A small adapter computed from the models: bookings by area and month, seat utilisation,
cancellations and no-shows. Once ``core.reporting`` (being built alongside) is merged,
:func:`district_report` will delegate to it and keep this JSON shape.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.catalogue.queries import day_bounds
from core.models import Booking, District, Service, Slot


def district_report(session: Session, district: District, start: date, end: date) -> dict[str, Any]:
    """Figures of the bookings whose slot starts between local days ``start`` and ``end``.

    Returns ``totals`` (bookings, by status, cancellations, no-shows, attended),
    ``by_area_month`` (per area and local month) and ``utilisation`` (seats taken over seats
    offered by non-cancelled slots, per area). Two queries.
    """
    zone = ZoneInfo(district.timezone)
    lower, _end = day_bounds(start, district.timezone)
    _start, upper = day_bounds(end, district.timezone)
    in_range = (Slot.starts_at >= lower, Slot.starts_at < upper, Service.district_id == district.id)
    rows = session.execute(
        select(Service.category, Slot.starts_at, Booking.status)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Service, Service.id == Booking.service_id)
        .where(*in_range)
    ).all()
    statuses: Counter[str] = Counter()
    cells: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for category, starts_at, status in rows:
        statuses[status] += 1
        month = starts_at.astimezone(zone).strftime("%Y-%m")
        cells[(category, month)]["bookings"] += 1
        cells[(category, month)][status] += 1
    seats = session.execute(
        select(Service.category, func.sum(Slot.capacity), func.sum(Slot.taken))
        .join(Service, Service.id == Slot.service_id)
        .where(*in_range, Slot.cancelled.is_(False))
        .group_by(Service.category)
        .order_by(Service.category)
    ).all()
    return {
        "district": district.slug,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "totals": {
            "bookings": sum(statuses.values()),
            "by_status": dict(sorted(statuses.items())),
            "cancellations": statuses["cancelled"],
            "no_shows": statuses["no_show"],
            "attended": statuses["attended"],
        },
        "by_area_month": [
            {
                "area": area,
                "month": month,
                "bookings": counts["bookings"],
                "cancellations": counts["cancelled"],
                "no_shows": counts["no_show"],
                "attended": counts["attended"],
            }
            for (area, month), counts in sorted(cells.items())
        ],
        "utilisation": [
            {
                "area": area,
                "capacity": int(capacity or 0),
                "taken": int(taken or 0),
                "rate": round(int(taken or 0) / int(capacity), 4) if capacity else 0.0,
            }
            for area, capacity, taken in seats
        ],
    }
