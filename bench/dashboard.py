"""The district dashboard in-process: the platform's reports page against the hand-written SQL.

    .venv/bin/python bench/dashboard.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --schema bench_medium --repeat 10 [--explain]

Logs in as the bench admin (Flask test client), then alternates ``GET /<district>/admin/reports``
(wall and CPU time of the whole request) with the baseline's dashboard statements alone
(``bench/baseline.py``, same period), and prints the medians, their ratio and the page's
statements. ``--explain`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of each grouped statement the page
runs (PostgreSQL). Works on the data ``bench/generate.py`` writes, SQLite or PostgreSQL.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baseline  # noqa: E402
from bench import generate as gen  # noqa: E402

REPORTS = f"/{gen.MEASURED_DISTRICT}/admin/reports"


@dataclass
class Timing:
    """Medians of one comparison, in seconds, and the page's SQL statements."""

    page_wall: float
    page_cpu: float
    sql_wall: float
    statements: list[tuple[str, Any]]

    @property
    def ratio(self) -> float:
        """The page's wall time over the hand-written SQL's."""
        return self.page_wall / self.sql_wall if self.sql_wall else float("inf")


def admin_client(url: str) -> tuple[Any, sa.Engine]:
    """A test client of the platform logged in as the bench admin, and the app's engine."""
    from core import create_app
    from core.extensions import db

    app = create_app({**gen.bench_app_config(url), "CONCILIA_ENV": "testing"})
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text)
    assert token is not None, "no CSRF token on the login page"
    response = client.post(
        "/login",
        data={"email": gen.ADMIN_EMAIL, "password": gen.PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 302, f"bench admin login answered {response.status_code}"
    with app.app_context():
        return client, db.engine


def measure(url: str, repeat: int) -> Timing:
    """Alternate the page and the hand-written statements ``repeat`` times (after a warm-up)."""
    client, engine = admin_client(url)
    database = baseline.Database(url)
    row = database.one("SELECT id, timezone FROM district WHERE slug = ?", gen.MEASURED_DISTRICT)
    assert row is not None
    start, end = baseline.dashboard_period(row[1])
    hand = baseline.dashboard_statements(database, int(row[0]), start, end, row[1])
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, text: str, params: Any, *_args: Any) -> None:
        statements.append((text, params))

    assert client.get(REPORTS).status_code == 200
    sa.event.listen(engine, "before_cursor_execute", record)
    client.get(REPORTS)
    sa.event.remove(engine, "before_cursor_execute", record)
    for text, params in hand.values():  # warm-up
        database.all(text, *params)
    wall, cpu, sql = [], [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        assert client.get(REPORTS).status_code == 200
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        for text, params in hand.values():
            database.all(text, *params)
        sql.append(time.perf_counter() - t0)
    engine.dispose()
    return Timing(
        statistics.median(wall), statistics.median(cpu), statistics.median(sql), statements
    )


def explain(url: str, statements: list[tuple[str, Any]]) -> None:
    """Print ``EXPLAIN (ANALYZE, BUFFERS)`` of each grouped statement (PostgreSQL only)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        for text, params in statements:
            if "GROUP BY" not in text.upper():
                continue
            print("=" * 100, text, sep="\n")
            for (line,) in conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {text}", params):
                print(line)
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--url``, ``--schema`` (PostgreSQL), ``--repeat``, ``--explain``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--schema", default=None, help="PostgreSQL schema of the bench data")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    url = gen.postgres_schema_url(args.url, args.schema) if args.schema else args.url
    timing = measure(url, max(1, args.repeat))
    print(
        f"reports page: {timing.page_wall * 1000:.1f} ms wall, {timing.page_cpu * 1000:.1f} ms "
        f"CPU, {len(timing.statements)} statements | hand-written SQL: "
        f"{timing.sql_wall * 1000:.1f} ms | ratio {timing.ratio:.2f} (median of {args.repeat})"
    )
    if args.explain:
        explain(url, timing.statements)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
