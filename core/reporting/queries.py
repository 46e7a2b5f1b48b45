"""The report figures of a district, each one SQL statement aggregated with GROUP BY.

Every function takes the session, the district row and a :class:`Period`, and returns a
:class:`~core.reporting.tables.Table`. Bookings belong to the period by the start of their slot.
Months are calendar months in UTC (``YYYY-MM``), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from core.models import BeneficiaryDeclaration, Booking, District, Organisation, Service, Slot
from core.reporting.tables import Table

#: Bookings that took seats (or did): the demand that was served.
TAKEN_STATES = ("pending", "confirmed", "attended", "no_show")
WAITING_STATES = ("waitlisted", "offered")
TOP_LIMIT = 10


@dataclass(frozen=True)
class Period:
    """A date range in the district's calendar, both ends included."""

    start: date
    end: date
    zone: str = "Europe/Rome"

    @property
    def since(self) -> datetime:
        """The UTC instant the first day begins."""
        return datetime.combine(self.start, time(0), tzinfo=ZoneInfo(self.zone))

    @property
    def until(self) -> datetime:
        """The UTC instant after the last day ends."""
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.zone))


def _month(session: Session, column: Any) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _area_name(slug: str) -> str:
    category = current_app.extensions["concilia"].categories.get(slug)
    return str(category.name) if category is not None else slug


def _in_period(district: District, period: Period) -> list[ColumnElement[bool]]:
    return [
        Service.district_id == district.id,
        Slot.starts_at >= period.since,
        Slot.starts_at < period.until,
    ]


def _bookings_in(district: District, period: Period) -> Any:
    return (
        select()
        .select_from(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Service, Service.id == Booking.service_id)
        .where(*_in_period(district, period))
    )


def beneficiaries(
    session: Session, district: District, period: Period, names: Mapping[str, str] | None = None
) -> Table:
    """Beneficiary declarations by class and status (declared up to the end of the period).

    ``names`` turns class slugs into readable names (the open data keeps the slugs).
    """
    rows = session.execute(
        select(
            BeneficiaryDeclaration.beneficiary_class,
            BeneficiaryDeclaration.status,
            func.count(BeneficiaryDeclaration.id),
        )
        .where(
            BeneficiaryDeclaration.district_id == district.id,
            BeneficiaryDeclaration.created_at < period.until,
        )
        .group_by(BeneficiaryDeclaration.beneficiary_class, BeneficiaryDeclaration.status)
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for klass, status, n in rows:
        counts[klass][status] += n
    names = names or {}
    out = [
        (names.get(klass, klass), c["approved"], c["pending"], c["rejected"], sum(c.values()))
        for klass, c in sorted(counts.items())
    ]
    return Table(
        "beneficiaries",
        _("Beneficiaries by class and status"),
        (_("Class"), _("Approved"), _("Pending"), _("Rejected"), _("Total")),
        out,
        ("class", "approved", "pending", "rejected", "total"),
    )


def bookings_by_area_month(session: Session, district: District, period: Period) -> Table:
    """Bookings that took seats, by area and month of the service date."""
    month = _month(session, Slot.starts_at).label("month")
    rows = session.execute(
        _bookings_in(district, period)
        .add_columns(Service.category, month, func.count(Booking.id), func.sum(Booking.seats))
        .where(Booking.status.in_(TAKEN_STATES))
        .group_by(Service.category, month)
        .order_by(month, Service.category)
    ).all()
    return Table(
        "bookings",
        _("Bookings by area and month"),
        (_("Month"), _("Area"), _("Bookings"), _("Seats")),
        [(m, _area_name(c), n, int(s or 0)) for c, m, n, s in rows],
        ("month", "area", "bookings", "seats"),
    )


def utilisation(session: Session, district: District, period: Period) -> Table:
    """Seats offered (slots not cancelled) against seats taken, by area."""
    offered = (
        select(Service.category.label("category"), func.sum(Slot.capacity).label("seats"))
        .select_from(Slot)
        .join(Service, Service.id == Slot.service_id)
        .where(*_in_period(district, period), Slot.cancelled.is_(False))
        .group_by(Service.category)
        .subquery()
    )
    taken = (
        _bookings_in(district, period)
        .add_columns(Service.category.label("category"), func.sum(Booking.seats).label("seats"))
        .where(Booking.status.in_(TAKEN_STATES), Slot.cancelled.is_(False))
        .group_by(Service.category)
        .subquery()
    )
    rows = session.execute(
        select(offered.c.category, offered.c.seats, func.coalesce(taken.c.seats, literal(0)))
        .select_from(offered)
        .outerjoin(taken, taken.c.category == offered.c.category)
        .order_by(offered.c.category)
    ).all()
    out = []
    for category, seats, used in rows:
        seats, used = int(seats or 0), int(used or 0)
        out.append(
            (_area_name(category), seats, used, round(100 * used / seats, 1) if seats else 0.0)
        )
    return Table(
        "utilisation",
        _("Seats offered and taken"),
        (_("Area"), _("Seats offered"), _("Seats taken"), _("Utilisation (%)")),
        out,
        ("area", "seats_offered", "seats_taken", "utilisation_percent"),
    )


def cancellations(session: Session, district: District, period: Period) -> Table:
    """Per month: attended, no-shows, cancellations by residents and by others."""
    month = _month(session, Slot.starts_at).label("month")
    by_resident = case((Booking.cancelled_by == "resident", "resident"), else_="other")
    rows = session.execute(
        _bookings_in(district, period)
        .add_columns(month, Booking.status, by_resident.label("who"), func.count(Booking.id))
        .where(Booking.status.in_(("cancelled", "no_show", "attended")))
        .group_by(month, Booking.status, by_resident)
        .order_by(month)
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m, status, who, n in rows:
        key = f"cancelled_{who}" if status == "cancelled" else status
        counts[m][key] += n
    out = []
    for m, c in sorted(counts.items()):
        served = c["attended"] + c["no_show"]
        rate = round(100 * c["no_show"] / served, 1) if served else 0.0
        out.append(
            (m, c["attended"], c["no_show"], rate, c["cancelled_resident"], c["cancelled_other"])
        )
    return Table(
        "cancellations",
        _("Cancellations and no-shows"),
        (
            _("Month"),
            _("Attended"),
            _("No-shows"),
            _("No-show rate (%)"),
            _("Cancelled by residents"),
            _("Cancelled by providers or the district"),
        ),
        out,
        (
            "month",
            "attended",
            "no_shows",
            "no_show_rate_percent",
            "cancelled_by_residents",
            "cancelled_by_others",
        ),
    )


def waitlist_demand(session: Session, district: District, period: Period) -> Table:
    """People waiting for a seat (waiting list and open offers), by area."""
    rows = session.execute(
        _bookings_in(district, period)
        .add_columns(Service.category, func.count(Booking.id), func.count(func.distinct(Slot.id)))
        .where(Booking.status.in_(WAITING_STATES))
        .group_by(Service.category)
        .order_by(Service.category)
    ).all()
    return Table(
        "waitlist",
        _("Waiting list demand"),
        (_("Area"), _("People waiting"), _("Full slots with a waiting list")),
        [(_area_name(c), n, s) for c, n, s in rows],
        ("area", "people_waiting", "slots_with_waitlist"),
    )


def top_services(session: Session, district: District, period: Period, locale: str = "it") -> Table:
    """The most booked services of the period."""
    title = Service.title_en if locale == "en" else Service.title_it
    count = func.count(Booking.id)
    rows = session.execute(
        _bookings_in(district, period)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .add_columns(Service.id, title, Organisation.name, Service.category, count)
        .where(Booking.status.in_(TAKEN_STATES))
        .group_by(Service.id, title, Organisation.name, Service.category)
        .order_by(count.desc(), Service.id)
        .limit(TOP_LIMIT)
    ).all()
    return Table(
        "top_services",
        _("Most booked services"),
        (_("Service"), _("Provider"), _("Area"), _("Bookings")),
        [(t, o, _area_name(c), n) for _id, t, o, c, n in rows],
        ("service", "provider", "area", "bookings"),
    )


def provider_activity(session: Session, district: District, period: Period) -> Table:
    """Per provider: published services, bookings, attended, cancelled by the provider."""
    published = (
        select(Service.organisation_id.label("org"), func.count(Service.id).label("n"))
        .where(Service.district_id == district.id, Service.status == "published")
        .group_by(Service.organisation_id)
        .subquery()
    )
    activity = (
        _bookings_in(district, period)
        .add_columns(
            Service.organisation_id.label("org"),
            func.sum(case((Booking.status.in_(TAKEN_STATES), 1), else_=0)).label("booked"),
            func.sum(case((Booking.status == "attended", 1), else_=0)).label("attended"),
            func.sum(
                case(
                    (and_(Booking.status == "cancelled", Booking.cancelled_by == "provider"), 1),
                    else_=0,
                )
            ).label("cancelled"),
        )
        .group_by(Service.organisation_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Organisation.name,
            Organisation.status,
            func.coalesce(published.c.n, 0),
            func.coalesce(activity.c.booked, 0),
            func.coalesce(activity.c.attended, 0),
            func.coalesce(activity.c.cancelled, 0),
        )
        .outerjoin(published, published.c.org == Organisation.id)
        .outerjoin(activity, activity.c.org == Organisation.id)
        .where(Organisation.district_id == district.id, Organisation.is_provider.is_(True))
        .order_by(func.coalesce(activity.c.booked, 0).desc(), Organisation.name)
    ).all()
    return Table(
        "providers",
        _("Provider activity"),
        (
            _("Provider"),
            _("Status"),
            _("Published services"),
            _("Bookings"),
            _("Attended"),
            _("Cancelled by the provider"),
        ),
        [
            (n, _("suspended") if s == "suspended" else _("active"), int(p), int(b), int(a), int(c))
            for n, s, p, b, a, c in rows
        ],
        (
            "provider",
            "status",
            "published_services",
            "bookings",
            "attended",
            "cancelled_by_provider",
        ),
    )


def ratings(session: Session, district: District, period: Period) -> Table:
    """Ratings by area: how many, the average, and how many of each star."""
    rows = session.execute(
        _bookings_in(district, period)
        .add_columns(Service.category, Booking.rating, func.count(Booking.id))
        .where(Booking.rating.is_not(None))
        .group_by(Service.category, Booking.rating)
    ).all()
    stars: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for category, rating, n in rows:
        stars[category][int(rating)] += n
    out = []
    for category, dist in sorted(stars.items()):
        total = sum(dist.values())
        mean = round(sum(k * v for k, v in dist.items()) / total, 2) if total else 0.0
        out.append((_area_name(category), total, mean, *(dist[k] for k in range(1, 6))))
    return Table(
        "ratings",
        _("Ratings"),
        (_("Area"), _("Ratings"), _("Average (1-5)"), "★1", "★2", "★3", "★4", "★5"),
        out,
        ("area", "ratings", "average", "stars_1", "stars_2", "stars_3", "stars_4", "stars_5"),
    )


def dashboard(
    session: Session,
    district: District,
    period: Period,
    locale: str = "it",
    class_names: Mapping[str, str] | None = None,
) -> dict[str, Table]:
    """Every figure of the dashboard, by key (a constant number of statements)."""
    tables = [
        beneficiaries(session, district, period, class_names),
        bookings_by_area_month(session, district, period),
        utilisation(session, district, period),
        cancellations(session, district, period),
        waitlist_demand(session, district, period),
        top_services(session, district, period, locale),
        provider_activity(session, district, period),
        ratings(session, district, period),
    ]
    return {t.key: t for t in tables}


#: The figures of the open-data export: aggregates with no person in them.
OPEN_DATA_KEYS = (
    "beneficiaries",
    "bookings",
    "utilisation",
    "cancellations",
    "waitlist",
    "ratings",
)


def open_data(session: Session, district: District, period: Period) -> dict[str, Table]:
    """The anonymised, aggregated figures published as open data."""
    tables = dashboard(session, district, period)
    return {key: tables[key] for key in OPEN_DATA_KEYS}
