"""Slots: generated from weekly opening rules in the district's local time, stored in UTC.

09:00 in the rules stays 09:00 on the wall clock across daylight-saving changes. On the
spring-forward day a local time that does not exist (02:30 in Europe/Rome) produces no slot;
on the fall-back day an ambiguous local time (02:30 happens twice) means its first
occurrence (``fold=0``, still summer time). A slot lasts ``slot_minutes`` of real time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from core.extensions import db
from core.models import Booking, Closure, District, OpeningRule, Service, Slot
from core.models.bookings import LIVE_STATES
from core.models.types import utcnow


def district_zone(district_id: int) -> ZoneInfo:
    """The time zone of the district with this id (Europe/Rome if unknown)."""
    zone = db.session.scalar(select(District.timezone).where(District.id == district_id))
    return ZoneInfo(zone or "Europe/Rome")


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``zone``.

    ``None`` if that wall-clock time does not exist (skipped by a spring-forward change);
    an ambiguous time (repeated by a fall-back change) resolves to its first occurrence.
    """
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return moment


@dataclass(frozen=True)
class PlannedSlot:
    """A slot the rules call for: UTC start and end, and its seats."""

    starts_at: datetime
    ends_at: datetime
    capacity: int


def _rule_applies(rule: OpeningRule, day: date) -> bool:
    if rule.weekday != day.weekday():
        return False
    if rule.valid_from is not None and day < rule.valid_from:
        return False
    return not (rule.valid_until is not None and day > rule.valid_until)


def _slots_of_rule(rule: OpeningRule, day: date, zone: ZoneInfo) -> list[PlannedSlot]:
    planned: list[PlannedSlot] = []
    step = timedelta(minutes=rule.slot_minutes)
    wall = datetime.combine(day, rule.start)
    end_of_day = datetime.combine(day, rule.end)
    while wall + step <= end_of_day:
        starts = local_to_utc(day, wall.time(), zone)
        if starts is not None:  # a slot lasts its minutes, even across a clock change
            planned.append(PlannedSlot(starts, starts + step, rule.seats))
        wall += step
    return planned


def plan_slots(service: Service, start: date, horizon_days: int) -> dict[datetime, PlannedSlot]:
    """The slots the service's rules call for on ``horizon_days`` days from ``start``, by start.

    Closure days and days outside a rule's validity produce nothing; when two rules give
    the same start, the first rule (by weekday, then id) wins.
    """
    zone = district_zone(service.district_id)
    rules = db.session.scalars(  # from the database: the relationship may be stale
        select(OpeningRule)
        .where(OpeningRule.service_id == service.id)
        .order_by(OpeningRule.weekday, OpeningRule.start, OpeningRule.id)
    ).all()
    closed = set(
        db.session.scalars(
            select(Closure.day).where(
                Closure.service_id == service.id,
                Closure.day >= start,
                Closure.day < start + timedelta(days=horizon_days),
            )
        )
    )
    planned: dict[datetime, PlannedSlot] = {}
    for offset in range(horizon_days):
        day = start + timedelta(days=offset)
        if day in closed:
            continue
        for rule in rules:
            if rule.start >= rule.end or not _rule_applies(rule, day):
                continue
            for slot in _slots_of_rule(rule, day, zone):
                planned.setdefault(slot.starts_at, slot)
    return planned


def _today(service: Service) -> date:
    return datetime.now(district_zone(service.district_id)).date()


def _existing_starts(service_id: int, since: datetime, until: datetime) -> set[datetime]:
    return set(
        db.session.scalars(
            select(Slot.starts_at).where(
                Slot.service_id == service_id, Slot.starts_at >= since, Slot.starts_at < until
            )
        )
    )


def _insert_missing(service: Service, planned: dict[datetime, PlannedSlot]) -> int:
    if not planned:
        return 0
    first, last = min(planned), max(planned)
    existing = _existing_starts(service.id, first, last + timedelta(seconds=1))
    missing = [p for at, p in sorted(planned.items()) if at not in existing]
    for p in missing:
        db.session.add(
            Slot(
                service_id=service.id,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                capacity=p.capacity,
                taken=0,
                kind="regular",
            )
        )
    return len(missing)


def generate_slots(service: Service, *, start: date | None = None, horizon_days: int = 60) -> int:
    """Create the slots the service's weekly rules call for, never duplicating one; commits.

    ``start`` is a local date of the district (default: today there). Returns how many slots
    were created. Safe to run again or concurrently (the unique ``service_id, starts_at``
    decides; a lost race is retried once).
    """
    start = start or _today(service)
    planned = plan_slots(service, start, horizon_days)
    for attempt in (1, 2):
        try:
            created = _insert_missing(service, planned)
            db.session.commit()
            return created
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    return 0  # pragma: no cover


@dataclass
class RegenerationReport:
    """What :func:`regenerate_slots` did."""

    added: int = 0
    removed: int = 0
    cancelled: int = 0
    resized: int = 0
    kept: int = 0  # no longer in the rules but still booked: left for the provider to handle
    changes: list[Any] = field(default_factory=list)  # waiting-list StateChanges made


def regenerate_slots(
    service: Service | Session | scoped_session[Session],
    legacy_service: Service | None = None,
    /,
    *,
    start: date | None = None,
    horizon_days: int = 60,
    now: datetime | None = None,
    commit: bool = True,
) -> RegenerationReport:
    """Bring the future regular slots in line with changed rules and closures.

    A future slot no rule calls for any more (a closure, a removed or shortened rule) is
    deleted if nobody ever booked it, cancelled if it only has past (non-live) bookings, and
    kept if it holds live bookings. A slot the rules still call for gets the rule's seats,
    never fewer than already ``taken`` (one conditional statement, so a concurrent booking is
    never overtaken). Missing slots are added up to ``horizon_days`` (and as far as slots
    already exist). Seats added to a full slot go to its waiting list.

    Commits and then announces the waiting-list changes to the plugins. With
    ``commit=False`` it only flushes, inside the caller's transaction; the caller commits and
    may pass ``report.changes`` to :func:`core.booking.states.announce`. The catalogue's call
    form ``regenerate_slots(session, service)`` means ``commit=False``.
    """
    from core.booking import waitlist  # late: waitlist imports the engine

    if not isinstance(service, Service):  # the (session, service) form
        if legacy_service is None:
            raise TypeError("regenerate_slots(session, service) needs the service")
        service, commit = legacy_service, False
    now = now or utcnow()
    start = start or _today(service)
    zone = district_zone(service.district_id)
    window_start = max(now, local_to_utc(start, time(0), zone) or now)
    future = db.session.scalars(
        select(Slot)
        .where(
            Slot.service_id == service.id,
            Slot.kind == "regular",
            Slot.cancelled.is_(False),
            Slot.starts_at > window_start,
        )
        .order_by(Slot.starts_at)
    ).all()
    if future:
        last_day = future[-1].starts_at.astimezone(zone).date()
        horizon_days = max(horizon_days, (last_day - start).days + 1)
    planned = plan_slots(service, start, horizon_days)
    report = RegenerationReport()
    grown: list[Slot] = []
    for slot in future:
        wanted = planned.get(slot.starts_at)
        if wanted is None:
            _retire(slot, report)
            continue
        if wanted.capacity != slot.capacity or wanted.ends_at != slot.ends_at:
            old_capacity = slot.capacity
            db.session.execute(
                update(Slot)
                .where(Slot.id == slot.id)
                .values(
                    ends_at=wanted.ends_at,
                    capacity=_greatest(Slot.taken, wanted.capacity),
                )
                .execution_options(synchronize_session=False)
            )
            db.session.execute(  # the bookings' copy of the slot's end ("my bookings")
                update(Booking)
                .where(Booking.slot_id == slot.id)
                .values(slot_ends_at=wanted.ends_at)
                .execution_options(synchronize_session=False)
            )
            db.session.expire(slot)
            report.resized += 1
            if wanted.capacity > old_capacity:
                grown.append(slot)
    report.added = _insert_missing(
        service, {at: p for at, p in planned.items() if at > window_start}
    )
    for slot in grown:
        report.changes.extend(waitlist.offer_freed_seats(slot.id, now=now))
    if not commit:
        db.session.flush()
        return report
    db.session.commit()
    waitlist.after_commit(report.changes)
    return report


def _greatest(column: object, value: int) -> object:
    from sqlalchemy import case

    return case((column > value, column), else_=value)  # type: ignore[operator]


def _retire(slot: Slot, report: RegenerationReport) -> None:
    """Delete, cancel or keep a slot no rule calls for any more (see regenerate_slots)."""
    any_booking = exists().where(Booking.slot_id == Slot.id)
    deleted = db.session.execute(
        delete(Slot)
        .where(Slot.id == slot.id, Slot.taken == 0, ~any_booking)
        .execution_options(synchronize_session=False)
    )
    if deleted.rowcount:
        db.session.expunge(slot)
        report.removed += 1
        return
    live_booking = exists().where(and_(Booking.slot_id == Slot.id, Booking.status.in_(LIVE_STATES)))
    cancelled = db.session.execute(
        update(Slot)
        .where(Slot.id == slot.id, Slot.taken == 0, ~live_booking)
        .values(cancelled=True)
        .execution_options(synchronize_session=False)
    )
    if cancelled.rowcount:
        db.session.expire(slot)
        report.cancelled += 1
    else:
        report.kept += 1


def add_event(
    service: Service, starts_at: datetime, ends_at: datetime, capacity: int, title: str = ""
) -> Slot:
    """Add a one-off event (kind ``event``) to the service; commits and returns the slot."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("starts_at and ends_at must be timezone-aware")
    if ends_at <= starts_at:
        raise ValueError("an event must end after it starts")
    if capacity < 1:
        raise ValueError("an event needs at least one seat")
    slot = Slot(
        service_id=service.id,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        capacity=capacity,
        taken=0,
        kind="event",
        title=title,
    )
    db.session.add(slot)
    db.session.commit()
    return slot


def generate_all(horizon_days: int = 60, *, start: date | None = None) -> int:
    """Generate slots for every published service (``concilia bookings generate-slots``)."""
    ids = db.session.scalars(
        select(Service.id).where(Service.status == "published").order_by(Service.id)
    ).all()
    total = 0
    for service_id in ids:
        service = db.session.get(Service, service_id)
        if service is not None:
            total += generate_slots(service, start=start, horizon_days=horizon_days)
    return total
