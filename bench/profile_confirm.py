"""CPU, SQL statements and transactions of one booking confirmation, in-process.

    python bench/profile_confirm.py --url sqlite:///instance/bench-small.sqlite
    python bench/profile_confirm.py --url 'postgresql+psycopg://…?options=-csearch_path%3Dbench_small'
    python bench/profile_confirm.py --url … --profile     # a pyinstrument profile as well

Runs on data made by ``bench/generate.py``. Each attempt is a contender resident walking the
platform's web flow (Flask test client) up to the summary step, untimed; only the final
``POST …/book/confirm`` is timed (``time.process_time``, so the machine's load does not count)
and its statements and transactions counted. The baseline's ``POST /<district>/book`` (one
conditional UPDATE, one INSERT) is timed the same way on its own contention service.
Bookings made here are removed again at the end (the contention slots are freed).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate as gen  # noqa: E402

KEY_RE = re.compile(r'name="idempotency_key"[^>]*value="([^"]+)"')
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DISTRICT = gen.MEASURED_DISTRICT
HTTPS = "https://127.0.0.1"  # production cookies are Secure


class Counter:
    """Statements and transactions an engine runs while counting is on."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[str] = []
        self.commits = 0
        self.rollbacks = 0
        self.on = False
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", self._commit)
        sa.event.listen(engine, "rollback", self._rollback)

    def _statement(self, _c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if self.on:
            self.statements.append(
                " ".join(statement.split())[: int(os.environ.get("BENCH_SQL_WIDTH", "140"))]
            )

    def _commit(self, _conn: Any) -> None:
        self.commits += self.on

    def _rollback(self, _conn: Any) -> None:
        self.rollbacks += self.on

    @contextmanager
    def counting(self) -> Iterator[None]:
        """Count inside the block (the counts start from zero)."""
        self.statements, self.commits, self.rollbacks, self.on = [], 0, 0, True
        try:
            yield
        finally:
            self.on = False


def ids(url: str) -> tuple[int, list[int], int, list[int], list[int]]:
    """The platform's and the baseline's contention service and slots, and the contenders."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:

        def service(slug: str) -> tuple[int, list[int]]:
            sid = conn.execute(
                sa.text("SELECT id FROM service WHERE slug = :s"), {"s": slug}
            ).scalar_one()
            slots = conn.execute(
                sa.text("SELECT id FROM slot WHERE service_id = :s ORDER BY id"), {"s": sid}
            ).scalars()
            return int(sid), [int(s) for s in slots]

        p_service, p_slots = service(gen.CONTENTION_SLUG)
        b_service, b_slots = service(gen.CONTENTION_SLUG + "-baseline")
        users = conn.execute(
            sa.text("SELECT id FROM \"user\" WHERE email LIKE 'c%@bench.example' ORDER BY id")
        ).scalars()
        contenders = [int(u) for u in users]
    engine.dispose()
    return p_service, p_slots, b_service, b_slots, contenders


def reset(url: str) -> None:
    """Remove the bookings and mail of the contention services, free their seats."""
    engine = sa.create_engine(url)
    ids_sql = "(SELECT id FROM service WHERE slug LIKE 'bench-contention%')"
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM outbox_message WHERE kind LIKE 'booking%'"))
        conn.execute(sa.text(f"DELETE FROM booking WHERE service_id IN {ids_sql}"))
        conn.execute(sa.text(f"UPDATE slot SET taken = 0 WHERE service_id IN {ids_sql}"))
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("-n", type=int, default=60, help="timed confirmations")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile too")
    parser.add_argument("--cprofile", action="store_true", help="cProfile (CPU time) too")
    parser.add_argument(
        "--sort",
        default="cumulative",
        help="cProfile order: cumulative, tottime, ncalls …, or package (summed by package)",
    )
    parser.add_argument("--show-sql", action="store_true", help="print one confirm's SQL")
    parser.add_argument("--dump", help="with --cprofile: also save the raw stats to this file")
    parser.add_argument(
        "--target",
        choices=("confirm", "refused"),
        default="confirm",
        help="what the profilers see: the confirmations, or the refused ones (slot full)",
    )
    args = parser.parse_args(argv)

    from bench.baseline import create_app as create_baseline
    from core import create_app
    from core.extensions import db

    reset(args.url)
    p_service, p_slots, b_service, b_slots, contenders = ids(args.url)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.url,
            "SECRET_KEY": "bench-profile",
            "CONCILIA_ENV": "production",
            "CONCILIA_MAIL_MODE": "outbox",
            "RATELIMIT_ENABLED": False,
        }
    )
    total = args.warmup + args.n
    plan = [(contenders[i % len(contenders)], p_slots[i // 5]) for i in range(total)]
    prefix = f"/{DISTRICT}/services/{p_service}/book"
    with app.app_context():
        counter = Counter(db.engine)
    cpu: list[float] = []
    step_cpu: list[float] = []
    summary_cpu: list[float] = []
    replay_cpu: list[float] = []
    refused_cpu: list[float] = []
    refused_statements: list[int] = []
    wall: list[float] = []
    statements: list[int] = []
    transactions: list[int] = []
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.start = profiler.enable  # type: ignore[method-assign]
        profiler.stop = profiler.disable  # type: ignore[method-assign]

    def walk_to_summary(user_id: int, slot_id: int) -> tuple[Any, dict[str, str]]:
        """A client of ``user_id`` at the summary step for ``slot_id``, and its confirm form."""
        client = app.test_client()
        client.environ_base["HTTP_REFERER"] = HTTPS + "/"  # CSRF checks it on HTTPS
        with client.session_transaction(base_url=HTTPS) as session:
            session["_user_id"] = f"{user_id}:{_session_version(app, user_id)}"
            session["_fresh"] = True
        page = client.get(prefix, base_url=HTTPS)
        token = CSRF_RE.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        c0 = time.process_time()
        step = client.post(prefix, data={"slot": str(slot_id), "csrf_token": token}, base_url=HTTPS)
        step_cpu.append((time.process_time() - c0) * 1000)
        assert step.status_code == 302, step.status_code
        step = client.post(
            f"{prefix}/applicant",
            data={"name": "Bench Contender", "email": "c@bench.example", "csrf_token": token},
            base_url=HTTPS,
        )
        assert step.status_code == 302, step.status_code
        c0 = time.process_time()
        summary = client.get(f"{prefix}/summary", base_url=HTTPS)
        summary_cpu.append((time.process_time() - c0) * 1000)
        key = KEY_RE.search(summary.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        return client, {"consent": "y", "idempotency_key": key, "csrf_token": token}

    late: tuple[Any, dict[str, str]] | None = None
    for i, (user_id, slot_id) in enumerate(plan):
        if i % 5 == 0:  # one more resident reaches the summary while the slot has room
            late = walk_to_summary(plan[(i + 5) % total][0], slot_id)
        client, form = walk_to_summary(user_id, slot_id)
        timed = i >= args.warmup
        if timed and profiler is not None and args.target == "confirm":
            profiler.start()
        with counter.counting():
            c0, w0 = time.process_time(), time.perf_counter()
            response = client.post(f"{prefix}/confirm", data=form, base_url=HTTPS)
            c1, w1 = time.process_time(), time.perf_counter()
        if timed and profiler is not None and args.target == "confirm":
            profiler.stop()
        assert response.status_code == 302, (response.status_code, response.location)
        assert "/me/bookings/" in response.location, response.location
        if args.show_sql and i == args.warmup:
            print(f"-- one confirm: {counter.commits} commits, {counter.rollbacks} rollbacks")
            for text in counter.statements:
                print("  ", text)
        if not timed:
            continue
        cpu.append((c1 - c0) * 1000)
        wall.append((w1 - w0) * 1000)
        statements.append(len(counter.statements))
        transactions.append(counter.commits + counter.rollbacks)
        # the floor: the same POST again is answered with the booking (a replay)
        r0 = time.process_time()
        again = client.post(f"{prefix}/confirm", data=form, base_url=HTTPS)
        replay_cpu.append((time.process_time() - r0) * 1000)
        assert again.location == response.location, again.location
        if i % 5 == 4 and late is not None:  # the slot is full now: the late one is refused
            if profiler is not None and args.target == "refused":
                profiler.start()
            with counter.counting():
                r0 = time.process_time()
                refused = late[0].post(f"{prefix}/confirm", data=late[1], base_url=HTTPS)
                refused_cpu.append((time.process_time() - r0) * 1000)
            if profiler is not None and args.target == "refused":
                profiler.stop()
            assert refused.status_code == 409, refused.status_code
            refused_statements.append(len(counter.statements))
            if args.show_sql and len(refused_statements) == 1:
                print(f"-- one refused confirm: {counter.rollbacks} rollbacks")
                for text in counter.statements:
                    print("  ", text)

    baseline = create_baseline(args.url).test_client()
    b_cpu: list[float] = []
    for i in range(total):
        form = {"slot_id": b_slots[i // 5], "user_id": contenders[i], "service_id": b_service}
        c0 = time.process_time()
        response = baseline.post(f"/{DISTRICT}/book", data=form)
        c1 = time.process_time()
        assert response.status_code == 201, response.status_code
        if i >= args.warmup:
            b_cpu.append((c1 - c0) * 1000)
    reset(args.url)

    p, b = statistics.median(cpu), statistics.median(b_cpu)
    print(
        f"confirm POST: CPU median {p:.2f} ms (wall {statistics.median(wall):.2f} ms), "
        f"statements {min(statements)}-{max(statements)}, "
        f"commits+rollbacks {min(transactions)}-{max(transactions)}; "
        f"baseline CPU median {b:.2f} ms; ratio baseline/platform {b / p:.2f}"
    )
    print(
        f"untimed steps: step 1 POST CPU median {statistics.median(step_cpu):.2f} ms, "
        f"summary GET {statistics.median(summary_cpu):.2f} ms; "
        f"a replayed confirm POST {statistics.median(replay_cpu):.2f} ms, "
        f"a refused one (slot full) {statistics.median(refused_cpu):.2f} ms "
        f"({min(refused_statements)}-{max(refused_statements)} statements)"
    )
    if args.cprofile:
        import pstats

        stats = pstats.Stats(profiler)  # type: ignore[arg-type]
        if args.dump:
            stats.dump_stats(args.dump)
        if args.sort == "package":
            print_by_package(stats, len(cpu if args.target == "confirm" else refused_cpu))
        else:
            stats.sort_stats(args.sort).print_stats(70)
    elif profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


def package_of(filename: str) -> str:
    """The distribution (or our top-level package) a profiled function's file belongs to."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if str(ROOT) in filename:
        return "/".join(Path(filename).relative_to(ROOT).parts[:2])
    return "(stdlib and builtins)"


def print_by_package(stats: Any, requests: int) -> None:
    """Own CPU time and calls per request, summed by package, largest first."""
    own: dict[str, list[float]] = {}
    for (filename, _line, _name), (_cc, calls, tottime, _ct, _callers) in stats.stats.items():
        total = own.setdefault(package_of(filename), [0.0, 0.0])
        total[0] += tottime
        total[1] += calls
    print(f"{'package':<34}{'own ms/request':>16}{'calls/request':>15}")
    for name, (seconds, calls) in sorted(own.items(), key=lambda item: -item[1][0]):
        print(f"{name:<34}{seconds * 1000 / requests:>16.2f}{calls / requests:>15.0f}")


def _session_version(app: Any, user_id: int) -> int:
    from core.extensions import db
    from core.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return int(user.session_version)


if __name__ == "__main__":
    raise SystemExit(main())
