"""The bare-Flask floor: the benchmarked pages with raw SQL and plain Jinja, nothing else.

No ORM, no plugins, no i18n, no CSRF, no sessions: one DB-API connection per worker process, the
same queries the platform's pages need (same tables, same filters, same ordering, same page size)
and a plain template. ``bench/run.py`` serves it under gunicorn beside the platform:

    BENCH_DATABASE_URL=sqlite:///instance/bench.sqlite gunicorn -w 2 'bench.baseline:create_app()'

Routes (all under the measured district):

* ``GET /<district>/`` — published services per area;
* ``GET /<district>/services?category=&page=`` — one catalogue page (bounded count + 12
  services, at most 50 pages);
* ``GET /<district>/services/<id>`` — a service, its provider, opening hours, next 5 free slots;
* ``POST /<district>/book`` (``slot_id``, ``user_id``) — one conditional UPDATE, one INSERT;
* ``GET /me/bookings?user_id=&upcoming_page=&page=`` — a person's upcoming bookings and history,
  one page of 20 of each (the counts, the two pages with service and provider, the districts);
* ``GET /<district>/dashboard`` — the reports page's figures (its default period) as hand-written
  GROUP BY statements, one per figure or group of figures, as the platform computes them.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from flask import Flask, abort, g, render_template, request

PAGE_SIZE = 12
MY_PAGE_SIZE = 20
NEXT_SLOTS = 5
TEMPLATES = Path(__file__).resolve().parent / "templates"


class Database:
    """One DB-API connection (per process), with ``?`` placeholders on both backends."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgresql")
        self._conn: Any = None

    def connect(self) -> Any:
        """The process's connection, opened on first use (after gunicorn forks)."""
        if self._conn is None:
            if self.postgres:
                import psycopg

                self._conn = psycopg.connect(
                    self.url.replace("postgresql+psycopg://", "postgresql://", 1)
                )
            else:
                path = unquote(self.url.removeprefix("sqlite:///"))
                self._conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        return self._conn

    def sql(self, text: str) -> str:
        """The statement with the driver's placeholder style."""
        return text.replace("?", "%s") if self.postgres else text

    def all(self, text: str, *params: Any) -> list[tuple[Any, ...]]:
        """Every row of a query (read-only; commits so PostgreSQL holds no snapshot)."""
        conn = self.connect()
        cur = conn.cursor()
        cur.execute(self.sql(text), params)
        rows = cur.fetchall()
        if self.postgres:
            conn.commit()
        return list(rows)

    def one(self, text: str, *params: Any) -> tuple[Any, ...] | None:
        """The first row of a query, or None."""
        rows = self.all(text, *params)
        return rows[0] if rows else None

    def when(self, moment: datetime) -> Any:
        """A UTC instant as the column stores it (naive text on SQLite)."""
        if self.postgres:
            return moment
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def book(self, slot_id: int, user_id: int, service_id: int) -> bool:
        """Claim one seat (conditional UPDATE) and write the booking, in one transaction."""
        conn = self.connect()
        now = self.when(datetime.now(UTC))
        cur = conn.cursor()
        if not self.postgres:
            cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(
                self.sql(
                    "UPDATE slot SET taken = taken + 1 WHERE id = ? AND service_id = ? "
                    "AND taken + 1 <= capacity AND NOT cancelled"
                ),
                (slot_id, service_id),
            )
            if cur.rowcount != 1:
                conn.rollback() if self.postgres else cur.execute("ROLLBACK")
                return False
            cur.execute(
                self.sql(
                    "INSERT INTO booking (public_id, slot_id, service_id, user_id, seats, status,"
                    " answers, applicant_name, applicant_email, applicant_phone, price_cents,"
                    " created_at, updated_at, cancelled_by, cancel_reason, rating_comment,"
                    " slot_starts_at, slot_ends_at)"
                    " SELECT ?, id, ?, ?, 1, 'confirmed', '{}', '', '', '', 0, ?, ?, '', '', '',"
                    " starts_at, ends_at FROM slot WHERE id = ?"
                ),
                (secrets.token_urlsafe(12), service_id, user_id, now, now, slot_id),
            )
        except Exception:
            conn.rollback() if self.postgres else cur.execute("ROLLBACK")
            raise
        conn.commit() if self.postgres else cur.execute("COMMIT")
        return True


LIVE = "('pending', 'confirmed', 'waitlisted', 'offered')"
UPCOMING = f"b.status IN {LIVE} AND b.slot_ends_at >= ?"
HISTORY = "(b.slot_ends_at < ? OR b.status IN ('attended', 'cancelled', 'no_show', 'rejected'))"
PUBLISHED = "s.district_id = ? AND s.status = 'published' AND o.status = 'active' "
# The platform's catalogue order (core.catalogue.queries): the stored Italian sort title, then id;
# at most MAX_PAGES pages, and the count stops at MAX_RESULTS + 1 services.
TITLE_ORDER = "s.sort_title_it, s.id"
MAX_PAGES = 50
MAX_RESULTS = MAX_PAGES * PAGE_SIZE


def create_app(url: str | None = None) -> Flask:
    """The baseline app over ``url`` (default: ``BENCH_DATABASE_URL``)."""
    app = Flask(__name__, template_folder=str(TEMPLATES))
    database = Database(url or os.environ["BENCH_DATABASE_URL"])
    app.extensions["bench_db"] = database

    def district_id(slug: str) -> int:
        row = g.get("district_row")
        if row is None:
            row = database.one("SELECT id, name FROM district WHERE slug = ?", slug)
            if row is None:
                abort(404)
            g.district_row = row
        return int(row[0])

    @app.get("/<district>/")
    def home(district: str) -> str:
        """Published services per area."""
        did = district_id(district)
        counts = database.all(
            "SELECT s.category, count(s.id) FROM service s JOIN organisation o "
            f"ON o.id = s.organisation_id WHERE {PUBLISHED} GROUP BY s.category",
            did,
        )
        return render_template("home.html", district=district, counts=counts)

    @app.get("/<district>/services")
    def services(district: str) -> str:
        """One catalogue page: the bounded count, then 12 services by title with providers."""
        did = district_id(district)
        category = request.args.get("category", "")
        page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
        where = PUBLISHED + ("AND s.category = ? " if category else "")
        params: list[Any] = [did, category] if category else [did]
        total = database.one(
            "SELECT count(*) FROM (SELECT s.id FROM service s JOIN organisation o "
            f"ON o.id = s.organisation_id WHERE {where}LIMIT ?) AS matching",
            *params,
            MAX_RESULTS + 1,
        )
        counted = int(total[0]) if total else 0
        count = min(counted, MAX_RESULTS)
        pages = max(1, -(-count // PAGE_SIZE))
        page = min(page, pages)
        rows = database.all(
            "SELECT s.id, s.title_it, s.title_en, s.category, s.price_cents, "
            "s.beneficiary_price_cents, s.description_it, o.name, o.slug "
            "FROM service s JOIN organisation o ON o.id = s.organisation_id "
            f"WHERE {where} ORDER BY {TITLE_ORDER} LIMIT ? OFFSET ?",
            *params,
            PAGE_SIZE,
            (page - 1) * PAGE_SIZE,
        )
        return render_template(
            "services.html",
            district=district,
            rows=rows,
            total=count,
            more=counted > count,
            page=page,
            pages=pages,
        )

    @app.get("/<district>/services/<int:service_id>")
    def service(district: str, service_id: int) -> str:
        """A service, its provider, opening hours and next free slots."""
        did = district_id(district)
        row = database.one(
            "SELECT s.id, s.title_it, s.description_it, s.price_cents, s.address, "
            "s.min_notice_minutes, s.max_advance_days, o.name, o.slug FROM service s "
            f"JOIN organisation o ON o.id = s.organisation_id WHERE s.id = ? AND {PUBLISHED}",
            service_id,
            did,
        )
        if row is None:
            abort(404)
        hours = database.all(
            'SELECT weekday, start, "end", seats FROM opening_rule WHERE service_id = ? '
            "ORDER BY weekday",
            service_id,
        )
        now = datetime.now(UTC)
        slots = database.all(
            "SELECT id, starts_at, capacity - taken FROM slot WHERE service_id = ? "
            "AND NOT cancelled AND taken < capacity AND starts_at >= ? AND starts_at <= ? "
            "ORDER BY starts_at, id LIMIT ?",
            service_id,
            database.when(now + timedelta(minutes=row[5])),
            database.when(now + timedelta(days=row[6])),
            NEXT_SLOTS,
        )
        return render_template("service.html", s=row, hours=hours, slots=slots)

    @app.post("/<district>/book")
    def book(district: str) -> tuple[str, int]:
        """One seat of a slot for a person: 201 when booked, 409 when the slot is full."""
        district_id(district)
        slot_id = request.form.get("slot_id", type=int)
        user_id = request.form.get("user_id", type=int)
        service_id = request.form.get("service_id", type=int)
        if not slot_id or not user_id or not service_id:
            abort(400)
        if database.book(slot_id, user_id, service_id):
            return "booked\n", 201
        return "full\n", 409

    @app.get("/me/bookings")
    def my_bookings() -> str:
        """A person's upcoming bookings and history, one page (20) of each, like the platform."""
        user_id = request.args.get("user_id", type=int)
        if not user_id:
            abort(400)
        now = database.when(datetime.now(UTC))
        counts = database.one(
            f"SELECT count(b.id), count(CASE WHEN {UPCOMING} THEN b.id END) FROM booking b "
            "WHERE b.user_id = ?",
            now,
            user_id,
        )
        total, ahead = (int(counts[0]), int(counts[1])) if counts else (0, 0)
        upcoming = bookings_page(
            user_id, UPCOMING, "b.slot_starts_at, b.id", ahead, "upcoming_page", now
        )
        history = bookings_page(
            user_id, HISTORY, "b.slot_ends_at DESC, b.id DESC", total - ahead, "page", now
        )
        ids = sorted({row[6] for row in upcoming["rows"] + history["rows"]})
        districts = (
            {
                row[0]: row[1]
                for row in database.all(
                    "SELECT id, name, timezone FROM district WHERE id IN "
                    f"({', '.join('?' * len(ids))})",
                    *ids,
                )
            }
            if ids
            else {}
        )
        return render_template(
            "bookings.html",
            user_id=user_id,
            upcoming=upcoming,
            history=history,
            districts=districts,
        )

    def bookings_page(
        user_id: int, where: str, order: str, total: int, arg: str, now: Any
    ) -> dict[str, Any]:
        """One page of one list (junk or out-of-range page numbers show the first page)."""
        raw = request.args.get(arg, "")
        page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 5 else 1
        pages = max(1, -(-total // MY_PAGE_SIZE))
        if not 1 <= page <= pages:
            page = 1
        rows: list[tuple[Any, ...]] = []
        if total:
            rows = database.all(  # the page's ids from the index, then their rows
                "SELECT b.public_id, b.status, b.slot_starts_at, b.slot_ends_at, s.title_it, "
                "o.name, s.district_id FROM (SELECT b.id FROM booking b WHERE b.user_id = ? "
                f"AND {where} ORDER BY {order} LIMIT ? OFFSET ?) page "
                "JOIN booking b ON b.id = page.id JOIN service s ON s.id = b.service_id "
                f"JOIN organisation o ON o.id = s.organisation_id ORDER BY {order}",
                user_id,
                now,
                MY_PAGE_SIZE,
                (page - 1) * MY_PAGE_SIZE,
            )
        return {"rows": rows, "total": total, "page": page, "pages": pages, "size": MY_PAGE_SIZE}

    @app.get("/<district>/dashboard")
    def dashboard(district: str) -> str:
        """The district's report figures (the reports page's default period), hand-written."""
        row = database.one("SELECT id, timezone FROM district WHERE slug = ?", district)
        if row is None:
            abort(404)
        start, end = dashboard_period(row[1])
        tables = dashboard_figures(database, int(row[0]), start, end, row[1])
        return render_template("dashboard.html", tables=tables)

    return app


# The dashboard's figures, hand-written: the same figures, filters and states as the platform's
# reports page (``core/reporting``), in as many grouped statements. Every booking statement takes
# the district's bookings whose slot starts in the period (``BOOKINGS_IN`` with the district id
# and the period's first and last UTC instants); months are the district's local months, a CASE
# over the instants where they begin (``{month}``, see ``month_case``), numbered from 0.
TAKEN = "('pending', 'confirmed', 'attended', 'no_show')"
BOOKINGS_IN = (
    "FROM booking b JOIN slot sl ON sl.id = b.slot_id JOIN service s ON s.id = b.service_id "
    "WHERE s.district_id = ? AND sl.starts_at >= ? AND sl.starts_at < ? "
)
DASHBOARD_SQL = {
    "beneficiaries": (
        "SELECT beneficiary_class, status, count(*) FROM beneficiary_declaration "
        "WHERE district_id = ? AND created_at < ? GROUP BY beneficiary_class, status"
    ),
    # bookings by area and month, utilisation (seats taken), cancellations, ratings
    "booking cells": (
        "SELECT s.category, b.status, b.cancelled_by, sl.cancelled, b.rating, {month}, "
        f"count(*), sum(b.seats) {BOOKINGS_IN}GROUP BY 1, 2, 3, 4, 5, 6"
    ),
    "seats offered": (
        "SELECT s.category, sum(sl.capacity) FROM slot sl JOIN service s ON s.id = sl.service_id "
        "WHERE s.district_id = ? AND sl.starts_at >= ? AND sl.starts_at < ? AND NOT sl.cancelled "
        "GROUP BY s.category"
    ),
    "waitlist": (
        f"SELECT s.category, count(*), count(DISTINCT sl.id) {BOOKINGS_IN}"
        "AND b.status IN ('waitlisted', 'offered') GROUP BY s.category ORDER BY s.category"
    ),
    "top services": (
        "SELECT s.title_it, o.name, s.category, t.n FROM (SELECT b.service_id, count(*) AS n "
        f"{BOOKINGS_IN}AND b.status IN {TAKEN} GROUP BY b.service_id "
        "ORDER BY n DESC, b.service_id LIMIT 10) t JOIN service s ON s.id = t.service_id "
        "JOIN organisation o ON o.id = s.organisation_id ORDER BY t.n DESC, t.service_id"
    ),
    "providers": (
        "SELECT o.name, o.status, coalesce(p.n, 0), coalesce(a.booked, 0), "
        "coalesce(a.attended, 0), coalesce(a.cancelled, 0) FROM organisation o "
        "LEFT JOIN (SELECT organisation_id, count(*) AS n FROM service WHERE district_id = ? "
        "AND status = 'published' GROUP BY organisation_id) p ON p.organisation_id = o.id "
        "LEFT JOIN (SELECT s.organisation_id, "
        f"sum(CASE WHEN b.status IN {TAKEN} THEN 1 ELSE 0 END) AS booked, "
        "sum(CASE WHEN b.status = 'attended' THEN 1 ELSE 0 END) AS attended, "
        "sum(CASE WHEN b.status = 'cancelled' AND b.cancelled_by = 'provider' THEN 1 ELSE 0 END) "
        f"AS cancelled {BOOKINGS_IN}GROUP BY s.organisation_id) a ON a.organisation_id = o.id "
        "WHERE o.district_id = ? AND o.is_provider ORDER BY coalesce(a.booked, 0) DESC, o.name"
    ),
}
#: The reports page's default period: from 180 days ago to 30 days ahead (local days).
DASHBOARD_DAYS = (180, 30)


def dashboard_period(zone: str, today: date | None = None) -> tuple[date, date]:
    """The first and last local day of the reports page's default period."""
    today = today or datetime.now(ZoneInfo(zone)).date()
    return today - timedelta(days=DASHBOARD_DAYS[0]), today + timedelta(days=DASHBOARD_DAYS[1])


def local_midnight(day: date, zone: str) -> datetime:
    """The UTC instant local ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def month_starts(start: date, end: date, zone: str) -> list[tuple[str, datetime]]:
    """Each local month the days touch (``YYYY-MM``) with the UTC instant it begins."""
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append((day.strftime("%Y-%m"), local_midnight(day, zone)))
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def month_case(count: int) -> str:
    """The month number of ``sl.starts_at`` given the ``count - 1`` later month starts."""
    if count <= 1:
        return "0"
    whens = " ".join(f"WHEN sl.starts_at < ? THEN {i}" for i in range(count - 1))
    return f"CASE {whens} ELSE {count - 1} END"


def dashboard_statements(
    database: Database, district: int, start: date, end: date, zone: str
) -> dict[str, tuple[str, list[Any]]]:
    """Each figure's statement and parameters for the local days ``start`` to ``end``."""
    months = month_starts(start, end, zone)
    since, until = (
        database.when(local_midnight(start, zone)),
        database.when(local_midnight(end + timedelta(days=1), zone)),
    )
    period = [district, since, until]
    cells = DASHBOARD_SQL["booking cells"].replace("{month}", month_case(len(months)))
    if len(months) == 1:  # a constant month: not a column to group by
        cells = cells.replace("GROUP BY 1, 2, 3, 4, 5, 6", "GROUP BY 1, 2, 3, 4, 5")
    return {
        "beneficiaries": (DASHBOARD_SQL["beneficiaries"], [district, until]),
        "booking cells": (cells, [database.when(m) for _label, m in months[1:]] + period),
        "seats offered": (DASHBOARD_SQL["seats offered"], period),
        "waitlist": (DASHBOARD_SQL["waitlist"], period),
        "top services": (DASHBOARD_SQL["top services"], period),
        "providers": (DASHBOARD_SQL["providers"], [district, *period, district]),
    }


def dashboard_figures(
    database: Database, district: int, start: date, end: date, zone: str
) -> dict[str, list[tuple[Any, ...]]]:
    """Each figure's rows (booking cells with their month as ``YYYY-MM``)."""
    labels = [label for label, _start in month_starts(start, end, zone)]
    figures = {
        name: database.all(text, *params)
        for name, (text, params) in dashboard_statements(
            database, district, start, end, zone
        ).items()
    }
    figures["booking cells"] = [
        (*row[:5], labels[int(row[5])], *row[6:]) for row in figures["booking cells"]
    ]
    return figures
