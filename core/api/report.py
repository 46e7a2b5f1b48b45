"""The district's figures for ``GET /api/v1/districts/{district}/report``.

The JSON form of the figures :mod:`core.reporting` computes for the dashboard: the same cells
(:func:`core.reporting.cells.booking_cells`) and seats offered, so the API and the reports page
give the same numbers for the same period. Two statements.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from core.models import District
from core.reporting.cells import booking_cells, seats_offered, utilisation
from core.reporting.period import Period


def district_report(session: Session, district: District, start: date, end: date) -> dict[str, Any]:
    """Figures of the bookings whose slot starts between local days ``start`` and ``end``.

    Returns ``totals`` (bookings in every state, by status, cancellations, no-shows, attended),
    ``by_area_month`` (the same per area and local month) and ``utilisation`` (seats taken by
    bookings over seats offered by slots not cancelled, per area: the dashboard's figure).
    """
    period = Period(start, end, district.timezone)
    cells = booking_cells(session, district, period)
    statuses: Counter[str] = Counter()
    by_area_month: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for cell in cells:
        statuses[cell.status] += cell.bookings
        counts = by_area_month[(cell.category, cell.month)]
        counts["bookings"] += cell.bookings
        counts[cell.status] += cell.bookings
    offered = seats_offered(session, district, period)
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
            for (area, month), counts in sorted(by_area_month.items())
        ],
        "utilisation": [
            {
                "area": area,
                "capacity": capacity,
                "taken": taken,
                "rate": round(taken / capacity, 4) if capacity else 0.0,
            }
            for area, capacity, taken in utilisation(cells, offered)
        ],
    }
