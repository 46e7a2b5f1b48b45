"""The benchmark's own tools: the seeded generator (tiny size, SQLite) and the bare-Flask baseline.

No timing here: the benchmark measures, these tests only check that what it measures is right.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench import generate as gen
from bench.baseline import PAGE_SIZE
from bench.baseline import create_app as create_baseline
from tests.support.database import POSTGRES_ENV, backends, drop_postgres_schema
from tests.support.web import form_login

TINY = gen.SIZES["tiny"]


def dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the generated tables (the random-salted password hash left out)."""
    engine = sa.create_engine(url)
    rows: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        for table in gen.TABLES:
            result = conn.execute(sa.text(f'SELECT * FROM "{table}" ORDER BY id'))
            keys = list(result.keys())
            rows[table] = [
                tuple(v for k, v in zip(keys, row, strict=True) if k != "password_hash")
                for row in result
            ]
    engine.dispose()
    return rows


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict]]:
    """Two tiny databases generated with the same seed from one migrated empty file."""
    folder = tmp_path_factory.mktemp("bench")
    empty = folder / "empty.sqlite"
    gen.migrate(f"sqlite:///{empty}")
    urls = []
    counts: dict[str, int] = {}
    for name in ("a", "b"):
        path = folder / f"{name}.sqlite"
        shutil.copy(empty, path)
        urls.append(f"sqlite:///{path}")
        counts = gen.generate(urls[-1], TINY, seed=7, prepare=False)
    yield urls[0], urls[1], counts


def test_tiny_size_writes_the_expected_rows(generated: tuple[str, str, dict]) -> None:
    """Row counts follow the size; the fixtures the benchmark drives are there."""
    url, _other, counts = generated
    users = 2 + gen.CONTENTION_USERS + 11  # heavy, admin, the contenders, then ids up to +10
    expected = {
        "district": TINY.districts,
        "organisation": TINY.organisations + 1,
        "service": TINY.services + 2,
        "slot": TINY.slots + 2 * TINY.contention_slots,
        "user": max(TINY.users, users),
        "district_admin": 1,
        "booking": TINY.bookings,
    }
    assert {k: counts[k] for k in expected} == expected
    rows = dump(url)
    assert {table: len(rows[table]) for table in expected} == expected
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        heavy = conn.execute(
            sa.text(
                'SELECT count(*) FROM booking b JOIN "user" u ON u.id = b.user_id '
                "WHERE u.email = :e"
            ),
            {"e": gen.HEAVY_EMAIL},
        ).scalar_one()
        # ``taken`` is exactly the seat-holding bookings of each slot, never over capacity.
        mismatched = conn.execute(
            sa.text(
                "SELECT count(*) FROM slot s WHERE s.taken != (SELECT count(*) FROM booking b "
                "WHERE b.slot_id = s.id AND b.status IN ('pending', 'confirmed', 'offered')) "
                "OR s.taken > s.capacity"
            )
        ).scalar_one()
        contention_free = conn.execute(
            sa.text(
                "SELECT sum(sl.capacity - sl.taken) FROM slot sl JOIN service s "
                "ON s.id = sl.service_id WHERE s.slug = :slug"
            ),
            {"slug": gen.CONTENTION_SLUG},
        ).scalar_one()
    engine.dispose()
    assert heavy == TINY.heavy_bookings
    assert mismatched == 0
    assert contention_free == TINY.contention_slots * gen.CONTENTION_SEATS


def test_same_seed_same_rows(generated: tuple[str, str, dict]) -> None:
    """Two runs with the same seed (same day) write identical rows."""
    first, second, _counts = generated
    assert dump(first) == dump(second)


def test_other_seed_other_rows(generated: tuple[str, str, dict], tmp_path: Path) -> None:
    """The seed matters: another seed gives other titles."""
    first, _second, _counts = generated
    other = tmp_path / "other.sqlite"
    shutil.copy(Path(first.removeprefix("sqlite:///")).with_name("empty.sqlite"), other)
    gen.generate(f"sqlite:///{other}", TINY, seed=8, prepare=False)
    titles = [row[6] for row in dump(first)["service"]]
    assert titles != [row[6] for row in dump(f"sqlite:///{other}")["service"]]


def test_baseline_serves_the_catalogue_page(generated: tuple[str, str, dict]) -> None:
    """The baseline's catalogue shows one page of published services of the district."""
    url, _other, _counts = generated
    client = create_baseline(url).test_client()
    response = client.get(f"/{gen.MEASURED_DISTRICT}/services")
    assert response.status_code == 200
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        published = conn.execute(
            sa.text(
                "SELECT count(*) FROM service s JOIN organisation o ON o.id = s.organisation_id "
                "WHERE s.district_id = 1 AND s.status = 'published' AND o.status = 'active'"
            )
        ).scalar_one()
    engine.dispose()
    assert f"Services ({published})".encode() in response.data
    assert response.data.count(b"<li><h2>") == min(PAGE_SIZE, published)
    assert client.get("/no-such-district/services").status_code == 404


def test_baseline_booking_write_stops_at_capacity(generated: tuple[str, str, dict]) -> None:
    """One conditional UPDATE and one INSERT: five seats book, the sixth is refused."""
    _first, url, _counts = generated
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        service_id, slot_id = conn.execute(
            sa.text(
                "SELECT s.id, min(sl.id) FROM service s JOIN slot sl ON sl.service_id = s.id "
                "WHERE s.slug = :slug GROUP BY s.id"
            ),
            {"slug": gen.CONTENTION_SLUG + "-baseline"},
        ).one()
    client = create_baseline(url).test_client()
    path = f"/{gen.MEASURED_DISTRICT}/book"
    statuses = [
        client.post(
            path, data={"slot_id": slot_id, "user_id": 3 + i, "service_id": service_id}
        ).status_code
        for i in range(gen.CONTENTION_SEATS + 1)
    ]
    assert statuses == [201] * gen.CONTENTION_SEATS + [409]
    assert client.post(path, data={"slot_id": "x"}).status_code == 400
    with engine.connect() as conn:
        taken = conn.execute(
            sa.text("SELECT taken FROM slot WHERE id = :i"), {"i": slot_id}
        ).scalar_one()
        booked = conn.execute(  # with the slot's times copied, as the platform writes them
            sa.text(
                "SELECT count(*) FROM booking b JOIN slot sl ON sl.id = b.slot_id "
                "WHERE b.slot_id = :i AND b.status = 'confirmed' "
                "AND b.slot_starts_at = sl.starts_at AND b.slot_ends_at = sl.ends_at"
            ),
            {"i": slot_id},
        ).scalar_one()
    engine.dispose()
    assert taken == booked == gen.CONTENTION_SEATS


BIGGER = gen.Size(2, 30, 120, 1_200, 900, 80, 120, 20)


def heavy_client(url: str) -> tuple[Flask, FlaskClient]:
    """The platform over the generated database at ``url``, logged in as the heavy resident."""

    from core import create_app

    app = create_app({**gen.bench_app_config(url), "CONCILIA_ENV": "testing"})
    client = app.test_client()
    assert form_login(client, gen.HEAVY_EMAIL, gen.PASSWORD).status_code == 302
    return app, client


def test_baseline_serves_the_same_bookings_as_the_platform(
    generated: tuple[str, str, dict],
) -> None:
    """Same lists, same order, same pages: the baseline's "my bookings" is the platform's."""
    import re

    from core.extensions import db

    url, _other, _counts = generated
    app, platform = heavy_client(url)
    baseline = create_baseline(url).test_client()
    link = re.compile(r'href="/me/bookings/([A-Za-z0-9_-]+)"')
    shown = set()
    for query in ("", "page=2", "upcoming_page=2&page=3", "page=x&upcoming_page=0", "page=99"):
        ours = link.findall(platform.get(f"/me/bookings?{query}").text)
        theirs = link.findall(baseline.get(f"/me/bookings?user_id=1&{query}").text)
        assert ours == theirs, query
        assert 0 < len(ours) <= 40
        shown.update(ours)
    assert len(shown) > 40  # the pages differ: the heavy resident has more than one of each
    assert baseline.get("/me/bookings").status_code == 400
    with app.app_context():
        db.engine.dispose()


def page_statements(url: str) -> dict[str, int]:
    """SQL statements each benchmarked page issues on the generated database at ``url``."""
    from core.extensions import db

    app, client = heavy_client(url)
    with app.app_context():
        engine = db.engine
        first_service = db.session.execute(
            sa.text(
                "SELECT s.id FROM service s JOIN organisation o ON o.id = s.organisation_id "
                "WHERE s.district_id = 1 AND s.status = 'published' AND o.status = 'active' "
                "ORDER BY s.id LIMIT 1"
            )
        ).scalar_one()
    district = gen.MEASURED_DISTRICT
    paths = {
        "home": f"/{district}/",
        "catalogue": f"/{district}/services?category=health",
        "service": f"/{district}/services/{first_service}",
        "my bookings": "/me/bookings",
        "my bookings, later pages": "/me/bookings?upcoming_page=2&page=2",
    }
    counts: dict[str, int] = {}
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for name, path in paths.items():
            client.get(path)  # warm: the district row and caches
            statements.clear()
            assert client.get(path).status_code == 200
            counts[name] = len(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
        with app.app_context():
            db.engine.dispose()
    return counts


def test_statements_per_page_do_not_grow_with_the_data(
    generated: tuple[str, str, dict], tmp_path: Path
) -> None:
    """The benchmarked pages issue as many statements on 3x the data (no N+1)."""
    small, _other, _counts = generated
    bigger = tmp_path / "bigger.sqlite"
    shutil.copy(Path(small.removeprefix("sqlite:///")).with_name("empty.sqlite"), bigger)
    gen.generate(f"sqlite:///{bigger}", BIGGER, seed=7, prepare=False)
    assert page_statements(small) == page_statements(f"sqlite:///{bigger}")


def test_baseline_catalogue_matches_the_platforms_order_and_bounds(
    generated: tuple[str, str, dict],
) -> None:
    """Like with like: the baseline lists the platform's services in the platform's order, with
    the same page size, page cap and bounded count."""
    import re

    from bench import baseline
    from core import create_app
    from core.catalogue import queries

    assert (baseline.PAGE_SIZE, baseline.MAX_PAGES, baseline.MAX_RESULTS) == (
        queries.PAGE_SIZE,
        queries.MAX_PAGES,
        queries.MAX_RESULTS,
    )
    url, _other, _counts = generated
    platform = create_app({**gen.bench_app_config(url), "CONCILIA_ENV": "testing"}).test_client()
    bare = create_baseline(url).test_client()
    link = re.compile(rf'href="/{gen.MEASURED_DISTRICT}/services/(\d+)"')
    for query in ("?page=1", "?page=2", "?category=health"):
        path = f"/{gen.MEASURED_DISTRICT}/services{query}"
        ours = platform.get(path, headers={"Accept-Language": "it"})
        theirs = bare.get(path)
        assert ours.status_code == theirs.status_code == 200
        ids = list(dict.fromkeys(link.findall(ours.text)))  # a card links its service twice
        assert ids and ids == link.findall(theirs.text), query


def test_generated_services_carry_the_platforms_sort_titles(
    generated: tuple[str, str, dict],
) -> None:
    """The bulk generator fills the sort titles the platform's flush listener would."""
    from core.catalogue.search import service_sort_titles

    url, _other, _counts = generated
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT title_it, title_en, sort_title_it, sort_title_en FROM service")
        ).all()
    engine.dispose()
    assert rows
    for title_it, title_en, sort_it, sort_en in rows:
        assert (sort_it, sort_en) == service_sort_titles(title_it, title_en)


@dataclass
class FakeServers:
    """Servers for the load drivers that only note who answered which request, in what order,
    and whether two ever answered at once."""

    order: list[str] = field(default_factory=list)
    made: dict[str, list[int]] = field(default_factory=dict)
    overlaps: list[set[str]] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)

    def call(self, name: str, status: int = 200) -> Any:
        """The driver's call for server ``name``, answering ``status``."""
        from bench import run

        async def answer(i: int) -> run.Response:
            self.made.setdefault(name, []).append(i)
            self.order.append(name)
            self.busy.add(name)
            if len(self.busy) > 1:
                self.overlaps.append(set(self.busy))
            await asyncio.sleep(0)
            self.busy.discard(name)
            return run.Response(status, {}, b"")

        return answer

    def blocks(self) -> list[str]:
        """The servers in the order their blocks of consecutive requests came."""
        return [name for i, name in enumerate(self.order) if i == 0 or self.order[i - 1] != name]


def test_alternating_drive_loads_one_server_at_a_time() -> None:
    """The growth measurement loads each server alone, in alternating blocks: never both at
    once (that would couple them), and each gets its share of the requests."""

    from bench import run

    servers = FakeServers()
    calls = [servers.call("a"), servers.call("b")]
    results = asyncio.run(run.drive_alternating(calls, 2, 30, 40, rounds=2))
    assert servers.overlaps == []
    assert servers.blocks() == ["a", "b", "a", "b"]
    assert [len(r.latencies) for r in results] == [20, 20]
    assert [r.statuses for r in results] == [{200: 20}, {200: 20}]
    growth = {
        "path": "/x",
        "target": run.GROWTH_TARGET,
        "sizes": {
            "small": {"services": 1000, "requests": 5, "p50_ms": 10.0, "p99_ms": 12.0,
                      "p50_ratio": 1.0, "errors": 0},
            "medium": {"services": 100000, "requests": 5, "p50_ms": 12.0, "p99_ms": 15.0,
                       "p50_ratio": 1.2, "errors": 0},
        },
    }  # fmt: skip
    table = run.growth_table("postgresql", growth)
    assert "| medium | 100,000 | 5 | 12.0 / 15.0 | 1.20 | 0 |" in table
    assert "**met**" in table
    growth["sizes"]["medium"]["p50_ratio"] = 1.4
    assert "**not met**" in run.growth_table("postgresql", growth)


def test_contention_slots_are_topped_up_for_a_bigger_run(
    generated: tuple[str, str, dict], tmp_path: Path
) -> None:
    """``--contention-slots`` above the generated ones adds free 5-seat slots to both services,
    hourly after their last one; asking again adds nothing."""
    from bench.run import ensure_contention_slots, inspect

    first, _second, _counts = generated
    copy = tmp_path / "topped.sqlite"
    shutil.copy(Path(first.removeprefix("sqlite:///")), copy)
    url = f"sqlite:///{copy}"
    wanted = TINY.contention_slots + 7
    ensure_contention_slots(url, wanted)
    ensure_contention_slots(url, wanted)
    setup = inspect(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        for service_id, slots in setup.contention.values():
            assert len(slots) == wanted
            rows = conn.execute(
                sa.text(
                    "SELECT starts_at, capacity, taken, cancelled FROM slot "
                    "WHERE service_id = :s ORDER BY starts_at"
                ),
                {"s": service_id},
            ).all()
            assert {(r.capacity, r.taken, r.cancelled) for r in rows} == {
                (gen.CONTENTION_SEATS, 0, 0)
            }
            assert len({r.starts_at for r in rows}) == wanted
    engine.dispose()


def test_explain_captures_the_statements_of_a_page(generated: tuple[str, str, dict]) -> None:
    """Regression: with the public page cache on, explain.py saw a cached page: no statements."""
    from bench import explain

    url, _other, _counts = generated
    statements = explain.captured_statements(url, f"/{gen.MEASURED_DISTRICT}/services?page=1")
    assert len(statements) >= 3
    assert all(sql.lstrip().upper().startswith("SELECT") for sql, _params in statements)


def test_the_cpu_split_counts_the_workers_the_database_and_the_load_generator() -> None:
    """The contention scenario's CPU split reads /proc: a busy "worker" and this process."""
    import subprocess
    import sys
    import time

    from bench.run import CpuSplit

    burn = (
        "import sys, time\nsys.stdin.readline()\nt = time.process_time()\n"
        "while time.process_time() - t < 0.4: pass\nprint('burnt', flush=True)\n"
        "sys.stdin.read()\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", burn], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert worker.stdin is not None and worker.stdout is not None
    try:
        split = CpuSplit([worker.pid]).begin()
        worker.stdin.write("go\n")  # the worker burns 0.4 s from now, however busy the machine
        worker.stdin.flush()
        started = time.process_time()
        while time.process_time() - started < 0.2:  # the load generator's own work
            pass
        assert worker.stdout.readline().strip() == "burnt"
        result = split.per_request_ms(2)
    finally:
        worker.stdin.close()
        worker.wait()
    assert 195 <= result["workers"] <= 260  # 0.4 s over 2 requests, and a little more
    assert 90 <= result["load generator"] <= 150
    assert result["postgresql"] >= 0
    parts = result["workers"] + result["load generator"] + result["postgresql"]
    assert result["total"] == pytest.approx(parts, abs=0.05)


def test_contention_attempts_take_turns_and_each_is_made_once() -> None:
    """The booking scenario's two sides alternate in blocks of consecutive attempts, never
    both at once, and every attempt of each side is made exactly once."""

    from bench import run

    servers = FakeServers()
    sides = [
        run.Side(servers.call("b", 201), 10, (201, 409), [os.getpid()]),
        run.Side(servers.call("p", 302), 7, (302, 409), [os.getpid()]),
    ]
    (b, b_cpu), (p, p_cpu) = asyncio.run(run.drive_attempts_alternating(sides, 3, rounds=3))

    assert servers.overlaps == []
    assert sorted(servers.made["b"]) == list(range(10))
    assert sorted(servers.made["p"]) == list(range(7))
    assert servers.blocks() == ["b", "p", "b", "p", "b", "p"]
    assert (b.statuses, p.statuses) == ({201: 10}, {302: 7})
    assert len(b.latencies) == 10 and len(p.latencies) == 7
    assert set(b_cpu) == set(p_cpu) == {"workers", "postgresql", "load generator", "total"}


@pytest.mark.parametrize("backend", backends())
def test_the_contention_reset_frees_the_seats_and_vacuums_postgresql(
    backend: str, tmp_path: Path, worker_id: str
) -> None:
    """A reused database starts each contention run with free slots; on PostgreSQL the rows
    the reset deleted are vacuumed at once (autovacuum may be off, as on the test server, and
    run after run they slowed the reports' scans tenfold)."""
    from bench.run import reset_contention

    if backend == "postgresql":
        schema = f"bench_reset_{worker_id}_{secrets.token_hex(4)}"  # runs may share a server
        gen.generate(os.environ[POSTGRES_ENV], TINY, seed=5, schema=schema)
        url = gen.postgres_schema_url(os.environ[POSTGRES_ENV], schema)
    else:
        url = f"sqlite:///{tmp_path / 'reset.sqlite'}"
        gen.generate(url, TINY, seed=5)
    engine = sa.create_engine(url)
    contention = f"SELECT id FROM service WHERE slug LIKE '{gen.CONTENTION_SLUG}%'"
    vacuumed = sa.text(
        "SELECT relname, coalesce(last_vacuum, 'epoch') FROM pg_stat_user_tables "
        "WHERE schemaname = :schema AND relname IN ('booking', 'outbox_message', 'slot')"
    )
    try:
        with engine.begin() as conn:  # a run took every seat
            conn.execute(
                sa.text(f"UPDATE slot SET taken = capacity WHERE service_id IN ({contention})")
            )
        if backend == "postgresql":
            with engine.connect() as conn:
                before = dict(conn.execute(vacuumed, {"schema": schema}).all())
        reset_contention(url)
        with engine.connect() as conn:
            taken = conn.execute(
                sa.text(f"SELECT sum(taken) FROM slot WHERE service_id IN ({contention})")
            ).scalar()
            assert taken == 0
            if backend == "postgresql":
                after = dict(conn.execute(vacuumed, {"schema": schema}).all())
                assert sorted(after) == ["booking", "outbox_message", "slot"]
                assert all(after[table] > before[table] for table in after), (before, after)
    finally:
        engine.dispose()
        if backend == "postgresql":
            drop_postgres_schema(schema)
