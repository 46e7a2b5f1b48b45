"""The query plans of the statements one page of the platform issues, on generated data.

    python bench/explain.py --url 'postgresql+psycopg://postgres@127.0.0.1:5432/test' \\
        --schema bench_medium '/isola-garibaldi/services?category=health&page=2'
    python bench/explain.py --url sqlite:///instance/bench-small.sqlite '/isola-garibaldi/'

The page is requested twice through the Flask test client (the first warms the caches); every
statement of the second request is then run again under ``EXPLAIN (ANALYZE, BUFFERS)`` on
PostgreSQL or ``EXPLAIN QUERY PLAN`` on SQLite (plus its time), and printed with its plan.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate as gen  # noqa: E402


def captured_statements(url: str, path: str) -> list[tuple[str, Any]]:
    """``(statement, parameters)`` of every SQL statement a GET of ``path`` issues."""
    from core import create_app
    from core.extensions import db

    # Without the public page cache: the second GET must run the page's statements.
    app = create_app(
        {**gen.bench_app_config(url), "CONCILIA_ENV": "testing", "CONCILIA_PUBLIC_CACHE_SECONDS": 0}
    )
    client = app.test_client()
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))

    client.get(path)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        status = client.get(path).status_code
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
        with app.app_context():
            db.engine.dispose()
    print(f"GET {path} -> HTTP {status}, {len(seen)} statements")
    return seen


def explain(url: str, statements: Sequence[tuple[str, Any]]) -> None:
    """Print each statement with its plan (and its buffers and time on PostgreSQL)."""
    engine = sa.create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        for number, (statement, params) in enumerate(statements, start=1):
            print(f"\n-- statement {number}\n{statement.strip()}\n-- parameters: {params!r}")
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            rows = conn.exec_driver_sql(prefix + statement, params).all()
            if postgres:
                print("\n".join(str(r[0]) for r in rows))
            else:
                print("\n".join(f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows))
                started = time.perf_counter()
                for _ in range(20):
                    conn.exec_driver_sql(statement, params).all()
                print(f"(mean of 20 runs: {(time.perf_counter() - started) * 50:.2f} ms)")
    engine.dispose()


def _depth(rows: Sequence[Any], row: Any) -> int:
    """How deep a row of SQLite's plan is (its parent chain)."""
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent:
        depth += 1
        parent = parents.get(parent, 0)
    return depth


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--url``, ``--schema`` (PostgreSQL) and the page's path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--schema", default=None, help="PostgreSQL schema of the data")
    parser.add_argument("path", help="e.g. /isola-garibaldi/services?category=health&page=2")
    args = parser.parse_args(argv)
    url = gen.postgres_schema_url(args.url, args.schema) if args.schema else args.url
    explain(url, captured_statements(url, args.path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
