"""The benchmark's dashboard: the baseline's hand-written SQL computes the very figures of the
platform's reports page, and the page issues as many statements whatever the data's size.

No timing here (``bench/run.py`` times them); these tests check the comparison is fair.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from bench import baseline
from bench import generate as gen
from core import create_app
from core.extensions import db
from core.models import BeneficiaryDeclaration, Booking, District, Slot
from core.reporting import queries
from core.reporting.cells import booking_cells, seats_offered
from core.reporting.period import Period
from core.tenancy import get_district_or_404
from core.web.admin import parse_period
from tests.support.web import form_login

TINY = gen.SIZES["tiny"]
BIGGER = gen.Size(2, 30, 120, 1_200, 900, 80, 120, 20)


def _app(url: str) -> Flask:
    return create_app({**gen.bench_app_config(url), "CONCILIA_ENV": "testing"})


def _enrich(url: str) -> None:
    """Give every figure something to count: ratings, a waiting list, provider cancellations,
    a cancelled slot and beneficiary declarations (the generator writes none of these)."""
    app = _app(url)
    with app.app_context():
        bookings = db.session.scalars(
            sa.select(Booking)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(Slot.service_id <= TINY.services // 2)
            .order_by(Booking.id)
        ).all()
        attended = [b for b in bookings if b.status == "attended"]
        for i, booking in enumerate(attended[:12]):
            booking.rating = i % 5 + 1
        for booking in [b for b in bookings if b.status == "cancelled"][:3]:
            booking.cancelled_by = "provider"
        for booking in [b for b in bookings if b.status == "rejected"][:4]:
            booking.status, booking.user_id = "waitlisted", None
        cancelled_slot = db.session.get(Slot, bookings[0].slot_id)
        assert cancelled_slot is not None
        cancelled_slot.cancelled = True
        for i, (klass, status) in enumerate(
            [("resident", "approved"), ("resident", "pending"), ("worker", "rejected")]
        ):
            db.session.add(
                BeneficiaryDeclaration(
                    user_id=10 + i, district_id=1, beneficiary_class=klass, status=status
                )
            )
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tiny generated database with something in every figure."""
    folder = tmp_path_factory.mktemp("bench-dashboard")
    path = folder / "tiny.sqlite"
    gen.migrate(f"sqlite:///{path}")
    shutil.copy(path, folder / "empty.sqlite")
    gen.generate(f"sqlite:///{path}", TINY, seed=3, prepare=False)
    _enrich(f"sqlite:///{path}")
    yield f"sqlite:///{path}"


def _platform(url: str, start: Any, end: Any) -> tuple[dict[str, Any], list[Any], dict[str, int]]:
    app = _app(url)
    with app.test_request_context():
        district = db.session.get(District, 1)
        assert district is not None
        period = Period(start, end, district.timezone)
        tables = queries.dashboard(db.session, district, period, "it")
        cells = booking_cells(db.session, district, period)
        offered = seats_offered(db.session, district, period)
        names = {slug: queries._area_name(slug) for slug in {c.category for c in cells}}
        db.engine.dispose()
    return {"tables": tables, "names": names}, cells, offered


def test_baseline_sql_computes_the_platforms_figures(tiny: str) -> None:
    """Each hand-written statement gives the numbers the reports page shows, same period."""
    database = baseline.Database(tiny)
    start, end = baseline.dashboard_period("Europe/Rome")
    hand = baseline.dashboard_figures(database, 1, start, end, "Europe/Rome")
    page, cells, offered = _platform(tiny, start, end)
    tables, names = page["tables"], page["names"]

    def cell_key(c: Any) -> tuple[Any, ...]:
        return (c[0], c[1], c[2] or "", bool(c[3]), c[4] or 0, c[5], c[6], int(c[7]))

    platform_cells = sorted(
        cell_key((c.category, c.status, c.cancelled_by, c.slot_cancelled, c.rating, c.month, n, s))
        for c in cells
        for n, s in [(c.bookings, c.seats)]
    )
    assert sorted(cell_key(row) for row in hand["booking cells"]) == platform_cells
    statuses = {c[1] for c in platform_cells}
    assert {"attended", "cancelled", "waitlisted", "confirmed"} <= statuses
    assert any(c[4] for c in platform_cells) and any(c[3] for c in platform_cells)
    assert {area: int(seats) for area, seats in hand["seats offered"]} == offered

    declared: dict[str, dict[str, int]] = {}
    for klass, status, n in hand["beneficiaries"]:
        declared.setdefault(klass, {})[status] = n
    assert (
        [
            (k, d.get("approved", 0), d.get("pending", 0), d.get("rejected", 0), sum(d.values()))
            for k, d in sorted(declared.items())
        ]
        == tables["beneficiaries"].rows
        != []
    )
    assert [(names.get(a, a), n, s) for a, n, s in hand["waitlist"]] == tables["waitlist"].rows
    assert tables["waitlist"].rows != []
    assert [(t, o, names.get(a, a), n) for t, o, a, n in hand["top services"]] == tables[
        "top_services"
    ].rows
    assert len(tables["top_services"].rows) == queries.TOP_LIMIT
    assert [(n, *map(int, rest)) for n, _s, *rest in hand["providers"]] == [
        (n, *rest) for n, _s, *rest in tables["providers"].rows
    ]
    assert sum(row[5] for row in tables["providers"].rows) > 0  # cancelled by the provider


def test_baseline_dashboard_route_serves_the_figures(tiny: str) -> None:
    client = baseline.create_app(tiny).test_client()
    response = client.get(f"/{gen.MEASURED_DISTRICT}/dashboard")
    assert response.status_code == 200
    for name in baseline.DASHBOARD_SQL:
        assert f"<h2>{name}</h2>".encode() in response.data
    assert client.get("/nowhere/dashboard").status_code == 404


def test_month_case_numbers_local_months() -> None:
    """A period across months and daylight saving: one bucket per local month, exact edges."""
    months = baseline.month_starts(date(2026, 1, 20), date(2026, 4, 2), "Europe/Rome")
    assert [label for label, _m in months] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert months[1][1].isoformat() == "2026-01-31T23:00:00+00:00"
    assert months[3][1].isoformat() == "2026-03-31T22:00:00+00:00"  # after the DST change
    assert baseline.month_case(1) == "0"
    assert baseline.month_case(3).count("WHEN") == 2


def test_default_period_is_the_reports_pages(tiny: str) -> None:
    """The baseline's default period is the reports page's, so both count the same rows."""
    app = _app(tiny)
    with app.test_request_context():
        config, _row = get_district_or_404(gen.MEASURED_DISTRICT)
        period = parse_period(config, {})
        db.engine.dispose()
    assert (period.start, period.end) == baseline.dashboard_period(config.timezone)


def _report_statements(url: str) -> int:
    """SQL statements of the admin's reports page (after a warm-up request)."""
    app = _app(url)
    client = app.test_client()
    assert form_login(client, gen.ADMIN_EMAIL, gen.PASSWORD).status_code == 302
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    path = f"/{gen.MEASURED_DISTRICT}/admin/reports"
    assert client.get(path).status_code == 200
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
    assert response.status_code == 200 and response.text.count('role="img"') == 7
    return len(statements)


def test_dashboard_statements_do_not_grow_with_the_data(tiny: str, tmp_path: Path) -> None:
    """The reports page issues as many statements on 3x the bookings (no N+1)."""
    bigger = tmp_path / "bigger.sqlite"
    shutil.copy(Path(tiny.removeprefix("sqlite:///")).with_name("empty.sqlite"), bigger)
    gen.generate(f"sqlite:///{bigger}", BIGGER, seed=3, prepare=False)
    small_count = _report_statements(tiny)
    assert small_count == _report_statements(f"sqlite:///{bigger}")
    assert small_count <= 6 + 5  # the six figure statements, the district, the admin's session


def test_run_times_the_baseline_statements(tiny: str) -> None:
    """``bench/run.py`` times exactly the baseline's statements (they run on the data)."""
    from bench.run import time_dashboard_sql

    assert time_dashboard_sql(tiny, repeat=2) > 0


def test_dashboard_tool_compares_page_and_sql(tiny: str, capsys: pytest.CaptureFixture) -> None:
    """``bench/dashboard.py`` times both sides and counts the page's statements."""
    from bench import dashboard

    assert dashboard.main(["--url", tiny, "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"reports page: [\d.]+ ms wall, [\d.]+ ms CPU, \d+ statements", out)
    assert re.search(r"hand-written SQL: [\d.]+ ms \| ratio [\d.]+", out)
