"""The report figures of a district: each a :class:`~core.reporting.tables.Table`.

Every function takes the session, the district row and a :class:`Period`. Bookings belong to the
period, and to a local month (``YYYY-MM`` in the district's time zone), by the start of their
slot. :func:`dashboard` computes every figure in six statements whatever the number of bookings:
the booking figures are sums over the cells of :mod:`core.reporting.cells` (one statement), and
the others are one grouped statement each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.models import BeneficiaryDeclaration, Booking, District, Organisation, Service, Slot
from core.reporting.cells import (
    TAKEN_STATES,
    WAITING_STATES,
    Cell,
    booking_cells,
    in_period,
    seats_offered,
)
from core.reporting.cells import utilisation as utilisation_by_area
from core.reporting.disclosure import suppress_small_counts
from core.reporting.period import Period
from core.reporting.tables import Table

TOP_LIMIT = 10


def _area_name(slug: str) -> str:
    category = current_app.extensions["concilia"].categories.get(slug)
    return str(category.name) if category is not None else slug


def _bookings_in(district: District, period: Period) -> Any:
    return (
        select()
        .select_from(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Service, Service.id == Booking.service_id)
        .where(*in_period(district, period))
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


def bookings_table(cells: list[Cell]) -> Table:
    """Bookings that took seats, and their seats, by local month and area."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in cells:
        if c.status in TAKEN_STATES:
            cell = sums[(c.month, c.category)]
            cell[0] += c.bookings
            cell[1] += c.seats
    return Table(
        "bookings",
        _("Bookings by area and month"),
        (_("Month"), _("Area"), _("Bookings"), _("Seats")),
        [(m, _area_name(area), n, seats) for (m, area), (n, seats) in sorted(sums.items())],
        ("month", "area", "bookings", "seats"),
    )


def utilisation_table(cells: list[Cell], offered: dict[str, int]) -> Table:
    """Seats offered (slots not cancelled) against seats taken, by area."""
    return Table(
        "utilisation",
        _("Seats offered and taken"),
        (_("Area"), _("Seats offered"), _("Seats taken"), _("Utilisation (%)")),
        [
            (_area_name(area), seats, used, round(100 * used / seats, 1) if seats else 0.0)
            for area, seats, used in utilisation_by_area(cells, offered)
        ],
        ("area", "seats_offered", "seats_taken", "utilisation_percent"),
    )


def cancellations_table(cells: list[Cell]) -> Table:
    """Per month: attended, no-shows, cancellations by residents and by others."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in cells:
        if c.status == "cancelled":
            who = "resident" if c.cancelled_by == "resident" else "other"
            counts[c.month][f"cancelled_{who}"] += c.bookings
        elif c.status in ("no_show", "attended"):
            counts[c.month][c.status] += c.bookings
    out = []
    for m, n in sorted(counts.items()):
        served = n["attended"] + n["no_show"]
        rate = round(100 * n["no_show"] / served, 1) if served else 0.0
        out.append(
            (m, n["attended"], n["no_show"], rate, n["cancelled_resident"], n["cancelled_other"])
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


def ratings_table(cells: list[Cell]) -> Table:
    """Ratings by area: how many, the average, and how many of each star."""
    stars: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for c in cells:
        if c.rating is not None:
            stars[c.category][int(c.rating)] += c.bookings
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


def bookings_by_area_month(session: Session, district: District, period: Period) -> Table:
    """Bookings that took seats, by area and month of the service date."""
    return bookings_table(booking_cells(session, district, period))


def utilisation(session: Session, district: District, period: Period) -> Table:
    """Seats offered (slots not cancelled) against seats taken, by area."""
    return utilisation_table(
        booking_cells(session, district, period), seats_offered(session, district, period)
    )


def cancellations(session: Session, district: District, period: Period) -> Table:
    """Per month: attended, no-shows, cancellations by residents and by others."""
    return cancellations_table(booking_cells(session, district, period))


def ratings(session: Session, district: District, period: Period) -> Table:
    """Ratings by area: how many, the average, and how many of each star."""
    return ratings_table(booking_cells(session, district, period))


def waitlist_demand(session: Session, district: District, period: Period) -> Table:
    """People waiting for a seat (waiting list and open offers), by area."""
    rows = session.execute(
        _bookings_in(district, period)
        .add_columns(Service.category, func.count(), func.count(func.distinct(Slot.id)))
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
    count = func.count().label("n")
    top = (
        _bookings_in(district, period)
        .add_columns(Booking.service_id.label("service"), count)
        .where(Booking.status.in_(TAKEN_STATES))
        .group_by(Booking.service_id)
        .order_by(count.desc(), Booking.service_id)
        .limit(TOP_LIMIT)
        .subquery()
    )
    rows = session.execute(
        select(title, Organisation.name, Service.category, top.c.n)
        .select_from(top)
        .join(Service, Service.id == top.c.service)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .order_by(top.c.n.desc(), top.c.service)
    ).all()
    return Table(
        "top_services",
        _("Most booked services"),
        (_("Service"), _("Provider"), _("Area"), _("Bookings")),
        [(t, o, _area_name(c), n) for t, o, c, n in rows],
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


def dashboard(
    session: Session,
    district: District,
    period: Period,
    locale: str = "it",
    class_names: Mapping[str, str] | None = None,
) -> dict[str, Table]:
    """Every figure of the dashboard, by key, in six statements whatever the data's size."""
    cells = booking_cells(session, district, period)
    tables = [
        beneficiaries(session, district, period, class_names),
        bookings_table(cells),
        utilisation_table(cells, seats_offered(session, district, period)),
        cancellations_table(cells),
        waitlist_demand(session, district, period),
        top_services(session, district, period, locale),
        provider_activity(session, district, period),
        ratings_table(cells),
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


def open_data(
    session: Session, district: District, period: Period, *, min_count: int = 3
) -> dict[str, Table]:
    """The anonymised, aggregated figures published as open data, with counts below
    ``min_count`` (and what would reveal them) withheld (:mod:`core.reporting.disclosure`)."""
    tables = dashboard(session, district, period)
    return {key: suppress_small_counts(tables[key], min_count) for key in OPEN_DATA_KEYS}
