"""The bare-Flask floor: the benchmarked pages with raw SQL and plain Jinja, nothing else.

No ORM, no plugins, no i18n, no CSRF, no sessions: one DB-API connection per worker process, the
same queries the platform's pages need (same tables, same filters, same ordering, same page size)
and a plain template. ``bench/run.py`` serves it under gunicorn beside the platform:

    BENCH_DATABASE_URL=sqlite:///instance/bench.sqlite gunicorn -w 2 'bench.baseline:create_app()'

Routes (all under the measured district):

* ``GET /<district>/`` — published services per area;
* ``GET /<district>/services?category=&page=`` — one catalogue page (count + 12 services);
* ``GET /<district>/services/<id>`` — a service, its provider, opening hours, next 5 free slots;
* ``POST /<district>/book`` (``slot_id``, ``user_id``) — one conditional UPDATE, one INSERT;
* ``GET /me/bookings?user_id=&upcoming_page=&page=`` — a person's upcoming bookings and history,
  one page of 20 of each (the counts, the two pages with service and provider, the districts);
* ``GET /<district>/dashboard`` — the report aggregates as hand-written GROUP BY statements.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

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
TITLE_ORDER = "lower(coalesce(nullif(s.title_it, ''), s.title_en)), s.id"


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
        """One catalogue page: the count, then 12 services by title with their providers."""
        did = district_id(district)
        category = request.args.get("category", "")
        page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
        where = PUBLISHED + ("AND s.category = ? " if category else "")
        params: list[Any] = [did, category] if category else [did]
        total = database.one(
            "SELECT count(s.id) FROM service s JOIN organisation o "
            f"ON o.id = s.organisation_id WHERE {where}",
            *params,
        )
        count = int(total[0]) if total else 0
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
            "services.html", district=district, rows=rows, total=count, page=page, pages=pages
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
        """The district's report figures as hand-written aggregates over every booking."""
        did = district_id(district)
        tables = {name: database.all(text, did) for name, text in DASHBOARD_SQL.items()}
        return render_template("dashboard.html", tables=tables)

    return app


# The dashboard's figures, hand-written (compared with the platform's reports page when present).
DASHBOARD_SQL = {
    "bookings by area": (
        "SELECT s.category, b.status, count(*) FROM booking b JOIN service s "
        "ON s.id = b.service_id WHERE s.district_id = ? GROUP BY s.category, b.status"
    ),
    "utilisation": (
        "SELECT s.category, sum(sl.capacity), sum(sl.taken) FROM slot sl JOIN service s "
        "ON s.id = sl.service_id WHERE s.district_id = ? AND NOT sl.cancelled GROUP BY s.category"
    ),
    "top services": (
        "SELECT s.id, s.title_it, count(*) AS n FROM booking b JOIN service s "
        "ON s.id = b.service_id WHERE s.district_id = ? AND b.status IN "
        "('pending', 'confirmed', 'attended', 'no_show') GROUP BY s.id, s.title_it "
        "ORDER BY n DESC LIMIT 10"
    ),
    "providers": (
        "SELECT o.name, count(b.id), sum(CASE WHEN b.status = 'attended' THEN 1 ELSE 0 END) "
        "FROM organisation o JOIN service s ON s.organisation_id = o.id "
        "JOIN booking b ON b.service_id = s.id WHERE o.district_id = ? GROUP BY o.id, o.name"
    ),
}
