"""What a person's "my bookings" page reads: upcoming bookings and the history, one page of each.

* **Upcoming**: the live bookings (pending, confirmed, waiting list, place offered) whose slot
  has not ended, soonest first.
* **History**: everything else (the slot has ended, or the booking is cancelled, rejected,
  attended or missed), the most recently ended first.

Both lists are paged (:data:`PAGE_SIZE`) with page numbers, like the catalogue. The page costs
the same few statements whatever the number of bookings (the two counts, one page of each list
with its services and providers, the districts of the rows shown), and every statement reads
the person's rows through ``ix_booking_user_slot_ends`` (user, slot end, id, status, slot start).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, contains_eager, raiseload
from sqlalchemy.sql.elements import ColumnElement

from core.booking.states import FINAL_STATES
from core.models import Booking, District, Service
from core.models.bookings import LIVE_STATES
from core.models.types import utcnow

PAGE_SIZE = 20
MAX_PAGE = 10_000
_FINAL = tuple(sorted(FINAL_STATES))


@dataclass
class BookingsPage:
    """One page of one of the two lists."""

    items: list[Booking]
    total: int
    page: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one, empty or not)."""
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def first(self) -> int:
        """The position (from 1) of the first booking on this page; 0 when the list is empty."""
        return (self.page - 1) * self.page_size + 1 if self.items else 0

    @property
    def last(self) -> int:
        """The position of the last booking on this page; 0 when the list is empty."""
        return self.first + len(self.items) - 1 if self.items else 0


@dataclass
class MyBookings:
    """The two lists of the page and the districts of the bookings shown."""

    upcoming: BookingsPage
    history: BookingsPage
    districts: dict[int, District] = field(default_factory=dict)


def parse_page(raw: str | None) -> int:
    """A page number from the query string: junk, zero, negative or huge values become 1."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 5:
        return 1
    page = int(text)
    return page if 1 <= page <= MAX_PAGE else 1


def upcoming_condition(now: datetime) -> ColumnElement[bool]:
    """A booking still ahead: live, and its slot has not ended."""
    return and_(Booking.status.in_(LIVE_STATES), Booking.slot_ends_at >= now)


def history_condition(now: datetime) -> ColumnElement[bool]:
    """The complement of :func:`upcoming_condition` (every status is live or final)."""
    return or_(Booking.slot_ends_at < now, Booking.status.in_(_FINAL))


def _page_of(
    session: Session,
    user_id: int,
    condition: ColumnElement[bool],
    order: list[ColumnElement[object]],
    total: int,
    page: int,
) -> BookingsPage:
    """Rows of one list: page ``page`` (the first page when out of range), with services."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        page = 1
    if not total:
        return BookingsPage(items=[], total=0, page=1)
    # The page's ids first, from the index alone (the filter and sort columns are all in
    # ix_booking_user_slot_ends), then those rows with their services and providers.
    ids = (
        select(Booking.id)
        .where(Booking.user_id == user_id, condition)
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
        .subquery("page_ids")
    )
    items = list(
        session.scalars(
            select(Booking)
            .join(ids, ids.c.id == Booking.id)
            .join(Booking.service)
            .join(Service.organisation)
            .options(
                contains_eager(Booking.service).contains_eager(Service.organisation),
                raiseload(Booking.slot),  # the list shows the booking's copy of the times
            )
            .order_by(*order)
        )
    )
    return BookingsPage(items=items, total=total, page=page)


def my_bookings(
    session: Session,
    user_id: int,
    *,
    upcoming_page: int = 1,
    history_page: int = 1,
    now: datetime | None = None,
) -> MyBookings:
    """One page of the person's upcoming bookings and one of their history (at most 4 reads).

    A page number past the end of its list shows the list's first page.
    """
    now = now or utcnow()
    upcoming = upcoming_condition(now)
    counts = session.execute(
        select(func.count(Booking.id), func.count(case((upcoming, Booking.id)))).where(
            Booking.user_id == user_id
        )
    ).one()
    total, ahead = int(counts[0]), int(counts[1])
    result = MyBookings(
        upcoming=_page_of(
            session,
            user_id,
            upcoming,
            [Booking.slot_starts_at, Booking.id],
            ahead,
            upcoming_page,
        ),
        history=_page_of(
            session,
            user_id,
            history_condition(now),
            [Booking.slot_ends_at.desc(), Booking.id.desc()],
            total - ahead,
            history_page,
        ),
    )
    district_ids = {b.service.district_id for b in result.upcoming.items + result.history.items}
    if district_ids:
        result.districts = {
            row.id: row
            for row in session.scalars(select(District).where(District.id.in_(district_ids)))
        }
    return result
