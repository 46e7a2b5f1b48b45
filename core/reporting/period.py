"""The report period: local days of the district, and its local calendar months in SQL.

Bookings belong to the period, and to a month, by the start of their slot in the district's
time zone. Months are computed in SQL as a ``CASE`` over the UTC instants where each local month
begins (known in advance: a period spans at most a few dozen months), which is exact across
daylight-saving changes and the same on SQLite (no time zones) and PostgreSQL, and cheaper per
row than formatting every timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, case, literal_column


@dataclass(frozen=True)
class Period:
    """A date range in the district's calendar, both ends included."""

    start: date
    end: date
    zone: str = "Europe/Rome"

    @property
    def since(self) -> datetime:
        """The UTC instant the first day begins."""
        return _local_midnight(self.start, self.zone)

    @property
    def until(self) -> datetime:
        """The UTC instant after the last day ends."""
        return _local_midnight(self.end + timedelta(days=1), self.zone)

    def months(self) -> list[str]:
        """The local calendar months the period touches, as ``YYYY-MM``, in order."""
        return [first.strftime("%Y-%m") for first in self._first_days()]

    def month_starts(self) -> list[datetime]:
        """The UTC instants where each month after the first begins (local midnight)."""
        return [_local_midnight(first, self.zone) for first in self._first_days()[1:]]

    def _first_days(self) -> list[date]:
        firsts, day = [], self.start.replace(day=1)
        while day <= self.end:
            firsts.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return firsts


def _local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def month_index(column: Any, period: Period) -> ColumnElement[int]:
    """The position in ``period.months()`` of the local month of the instant ``column``.

    Only meaningful for instants inside the period (the queries filter on it first). A period
    within one month gives the constant ``0``: leave it out of ``GROUP BY`` then (see
    :func:`spans_months`), where a bare number would name a column.
    """
    starts = period.month_starts()
    if not starts:
        return literal_column("0", Integer)
    return case(*((column < start, index) for index, start in enumerate(starts)), else_=len(starts))


def spans_months(period: Period) -> bool:
    """Whether the period touches more than one month (the month must then be grouped by)."""
    return bool(period.month_starts())
