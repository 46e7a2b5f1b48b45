"""The benchmark: the platform and the bare-Flask baseline, side by side, in one run.

    python bench/run.py --size small                       # SQLite and PostgreSQL
    python bench/run.py --size small --backends sqlite --duration 5
    python bench/run.py --size small --reuse               # skip the data generation
    python bench/run.py --growth small,medium --backends postgresql   # catalogue growth only

For each backend: generate the data (``bench/generate.py``), start the platform
(``gunicorn -w 2 'core:create_app()'``) and the baseline (``bench/baseline.py``) on loopback,
drive both with the asyncio HTTP client below (bounded in requests and seconds), and print one
table: requests per second, p50, p99 and peak resident memory per worker (VmHWM), each beside the
baseline and as a ratio. Results are also written as JSON (``--json``).

Scenarios: the district home, the filtered catalogue, a service page, the booking confirmation
POST under contention (the web flow's real final POST, with a session cookie and CSRF token),
"my bookings" of a resident with 1,000 bookings, and the district dashboard when the platform has
one (``/<district>/admin/reports``; the row says "no route" otherwise).

``--growth small,medium`` adds the catalogue-growth measurement: one platform per size (e.g.
1,000 and 100,000 services) served at the same time, the same catalogue page requested from
them alternately (so the machine's noise hits both alike), and the p50 of each with their ratio
(the target: the larger size's p50 at most 1.3 times the smaller's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate as gen  # noqa: E402

HOST = "127.0.0.1"
DISTRICT = gen.MEASURED_DISTRICT
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PREPARE_CONCURRENCY = 8  # untimed preparation: enough to keep both workers busy
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_RE = re.compile(r'name="idempotency_key"[^>]*value="([^"]+)"')


# --- a tiny HTTP/1.1 client (one connection per request: gunicorn's sync workers close) ------


@dataclass
class Response:
    """What the client keeps of a response."""

    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str:
        """The first value of a header ("" when absent)."""
        values = self.headers.get(name.lower())
        return values[0] if values else ""


@dataclass
class Jar:
    """Cookies of one client (the Secure flag is ignored: loopback only)."""

    cookies: dict[str, str] = field(default_factory=dict)

    def update(self, response: Response) -> None:
        """Take the Set-Cookie headers of a response."""
        for raw in response.headers.get("set-cookie", []):
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(raw)
            for name, morsel in parsed.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def header(self) -> str:
        """The Cookie header value."""
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def copy(self) -> Jar:
        """An independent copy (another browser tab with the same login)."""
        return Jar(dict(self.cookies))


async def request(
    port: int,
    method: str,
    path: str,
    form: dict[str, Any] | None = None,
    jar: Jar | None = None,
    timeout: float = 60.0,
) -> Response:
    """One HTTP request to 127.0.0.1:``port``; the jar takes the response's cookies."""
    body = urlencode(form or {}).encode() if form is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close"]
    if jar is not None and jar.cookies:
        lines.append(f"Cookie: {jar.header()}")
    if form is not None:
        lines.append("Content-Type: application/x-www-form-urlencoded")
        lines.append(f"Content-Length: {len(body)}")
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(payload)
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()

    raw = await asyncio.wait_for(exchange(), timeout)
    head, _sep, content = raw.partition(b"\r\n\r\n")
    header_lines = head.decode("latin-1").split("\r\n")
    status = int(header_lines[0].split()[1])
    headers: dict[str, list[str]] = {}
    for line in header_lines[1:]:
        name, _colon, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "chunked" in ",".join(headers.get("transfer-encoding", [])):
        content = dechunk(content)
    response = Response(status, headers, content)
    if jar is not None:
        jar.update(response)
    return response


def dechunk(data: bytes) -> bytes:
    """The body of a chunked response."""
    out = bytearray()
    while data:
        size_line, _sep, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


# --- load ------------------------------------------------------------------------------------


@dataclass
class Result:
    """Latencies and outcome of one scenario against one server."""

    latencies: list[float]
    elapsed: float
    errors: int
    statuses: dict[int, int]
    peak_rss_mb: float = 0.0

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """A latency percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index] * 1000

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "requests": len(self.latencies),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(0.5), 1),
            "p99_ms": round(self.percentile(0.99), 1),
            "errors": self.errors,
            "statuses": self.statuses,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
        }


Call = Callable[[int], Any]  # i -> awaitable Response


async def drive(
    call: Call, concurrency: int, duration: float, max_requests: int, ok: Sequence[int] = (200,)
) -> Result:
    """Run ``call(i)`` from ``concurrency`` tasks until ``duration`` s or ``max_requests``."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    counter = 0
    started = time.perf_counter()
    deadline = started + duration

    async def worker() -> None:
        nonlocal counter, errors
        while counter < max_requests and time.perf_counter() < deadline:
            i = counter
            counter += 1
            t0 = time.perf_counter()
            try:
                response = await call(i)
            except (OSError, TimeoutError):
                errors += 1
                continue
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.status in ok:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(latencies, time.perf_counter() - started, errors, statuses)


async def drive_alternating(
    calls: Sequence[Call], concurrency: int, duration: float, max_requests: int, rounds: int = 5
) -> list[Result]:
    """Drive each of ``calls`` alone in turn, ``rounds`` times, for ``duration`` s and
    ``max_requests`` in all (shared equally); one result per call, its blocks merged.

    Only one server is loaded at a time, so a slower one cannot slow the other down (requests
    interleaved into both at once couple them: the closed loop piles its clients up at the
    slower server and multiplies a small difference), while alternating short blocks still
    spreads the machine's slow drifts over both.
    """
    blocks = rounds * len(calls)
    per_block_seconds = duration / blocks
    per_block_requests = max(1, max_requests // blocks)
    parts: list[list[Result]] = [[] for _ in calls]
    for _round in range(rounds):
        for k, call in enumerate(calls):
            parts[k].append(await drive(call, concurrency, per_block_seconds, per_block_requests))
    return [merge_results(results) for results in parts]


@dataclass
class Side:
    """One server's numbered attempts for :func:`drive_attempts_alternating`."""

    call: Call
    attempts: int
    ok: Sequence[int]
    worker_pids: list[int]


async def drive_attempts_alternating(
    sides: Sequence[Side], concurrency: int, rounds: int = 5
) -> list[tuple[Result, dict[str, float]]]:
    """Make every attempt of each side once, the sides taking turns in ``rounds`` blocks of
    consecutive attempts; per side, its merged result and CPU per attempt (:class:`CpuSplit`).

    The contention scenario's attempts cannot be repeated, so instead of a duration each block
    is a share of them. Taking turns spreads the machine's drifts over both servers, as
    :func:`drive_alternating` does for pages: a side measured whole, seconds after the other,
    can meet a machine a third faster or slower.
    """
    parts: list[list[Result]] = [[] for _ in sides]
    cpu_sums: list[dict[str, float]] = [{} for _ in sides]
    for round_ in range(rounds):
        for k, side in enumerate(sides):
            start = side.attempts * round_ // rounds
            end = side.attempts * (round_ + 1) // rounds
            if end <= start:
                continue

            async def call(i: int, side: Side = side, start: int = start) -> Any:
                return await side.call(start + i)

            split = CpuSplit(side.worker_pids).begin()
            parts[k].append(await drive(call, concurrency, 600, end - start, side.ok))
            for part, ms in split.per_request_ms(end - start).items():
                cpu_sums[k][part] = cpu_sums[k].get(part, 0.0) + ms * (end - start)
    return [
        (
            merge_results(results),
            {part: round(total / max(side.attempts, 1), 2) for part, total in sums.items()},
        )
        for results, sums, side in zip(parts, cpu_sums, sides, strict=True)
    ]


def merge_results(results: Sequence[Result]) -> Result:
    """One result from several blocks of the same call (latencies pooled, times summed)."""
    statuses: dict[int, int] = {}
    for result in results:
        for status, count in result.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return Result(
        [latency for result in results for latency in result.latencies],
        sum(result.elapsed for result in results),
        sum(result.errors for result in results),
        statuses,
    )


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """A gunicorn master serving an app on loopback."""

    def __init__(self, name: str, app: str, env: dict[str, str], workers: int) -> None:
        self.name = name
        self.port = free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [
            str(gunicorn) if gunicorn.exists() else "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"{HOST}:{self.port}",
            "--backlog",
            "2048",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            app,
        ]
        self.log = open(ROOT / "instance" / f"bench-{name}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        """Wait until the server answers ``path``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see instance/bench-{self.name}.log")
            try:
                response = asyncio.run(request(self.port, "GET", path, timeout=10))
                if response.status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not start within {timeout:.0f}s")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the master)."""
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) among the workers, in MiB."""
        peak = 0
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                continue
        return peak / 1024

    def stop(self) -> None:
        """Stop gunicorn (the master, which stops its workers)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- the platform's web flows ----------------------------------------------------------------


async def login(port: int, email: str) -> Jar:
    """A session cookie for ``email`` through the platform's login form."""
    jar = Jar()
    page = await request(port, "GET", "/login", jar=jar)
    token = csrf(page)
    response = await request(
        port,
        "POST",
        "/login",
        {"email": email, "password": gen.PASSWORD, "csrf_token": token, "next": ""},
        jar=jar,
    )
    if response.status not in (302, 303):
        raise RuntimeError(f"login of {email} failed with HTTP {response.status}")
    return jar


def csrf(response: Response) -> str:
    """The CSRF token of the first form of a page."""
    found = CSRF_RE.search(response.body.decode("utf-8", "replace"))
    if not found:
        raise RuntimeError(f"no CSRF token in a page (HTTP {response.status})")
    return found.group(1)


@dataclass
class Attempt:
    """One prepared booking: a browser tab at the summary step, ready to confirm."""

    jar: Jar
    path: str
    form: dict[str, str]


async def choose_slot(port: int, jar: Jar, token: str, service_id: int, slot_id: int) -> None:
    """Booking step 1 (date and time) in ``jar``'s session."""
    prefix = f"/{DISTRICT}/services/{service_id}/book"
    step = await request(port, "POST", prefix, {"slot": str(slot_id), "csrf_token": token}, jar)
    if step.status not in (302, 303):
        raise RuntimeError(f"booking step 1 answered HTTP {step.status}")


async def prepare_resident(port: int, jar: Jar, token: str, service_id: int, slot_id: int) -> None:
    """Steps 1 and 3 once in a resident's own session: the applicant is then remembered.

    The flow keeps the applicant's details when another time is chosen at step 1 (only the
    idempotency key is dropped), so every attempt of this resident starts from this session.
    """
    await choose_slot(port, jar, token, service_id, slot_id)
    step = await request(
        port,
        "POST",
        f"/{DISTRICT}/services/{service_id}/book/applicant",
        {"name": "Bench Contender", "email": "contender@bench.example", "csrf_token": token},
        jar,
    )
    if step.status not in (302, 303):
        raise RuntimeError(f"booking step 3 answered HTTP {step.status}")


async def prepare_attempt(
    port: int, base: Jar, token: str, service_id: int, slot_id: int
) -> Attempt:
    """Walk the booking flow up to the summary (untimed) in a copy of ``base``'s session.

    ``base`` went through :func:`prepare_resident`: choosing this attempt's time (step 1) and
    opening the summary (which creates the idempotency key) are the two requests left.
    """
    jar = base.copy()
    prefix = f"/{DISTRICT}/services/{service_id}/book"
    await choose_slot(port, jar, token, service_id, slot_id)
    summary = await request(port, "GET", f"{prefix}/summary", jar=jar)
    key = KEY_RE.search(summary.body.decode("utf-8", "replace"))
    if summary.status != 200 or not key:
        raise RuntimeError(f"booking summary answered HTTP {summary.status}")
    form = {"consent": "y", "idempotency_key": key.group(1), "csrf_token": csrf(summary)}
    return Attempt(jar, f"{prefix}/confirm", form)


async def gather_limited(coros: Sequence[Any], limit: int) -> list[Any]:
    """Await ``coros`` with at most ``limit`` running at once."""
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


def attempt_plan(
    slots: Sequence[int], clients: int, per_slot: int, seed: int
) -> list[tuple[int, int]]:
    """``(client, slot)`` pairs: each slot tried by ``per_slot`` different clients, shuffled."""
    plan = [
        ((index * (per_slot + 1) + j) % clients, slot)
        for index, slot in enumerate(slots)
        for j in range(per_slot)
    ]
    random.Random(seed).shuffle(plan)
    return plan


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Setup:
    """What the scenarios need to know about the generated data."""

    app_url: str
    service_ids: list[int]
    contention: dict[str, tuple[int, list[int]]]  # "platform"/"baseline" -> (service, slots)
    contender_ids: list[int]
    heavy_id: int


def inspect(app_url: str) -> Setup:
    """Read ids from the generated database."""
    engine = sa.create_engine(app_url)
    with engine.connect() as conn:
        services = [
            int(r[0])
            for r in conn.execute(
                sa.text(
                    "SELECT s.id FROM service s JOIN organisation o ON o.id = s.organisation_id "
                    "JOIN district d ON d.id = s.district_id WHERE d.slug = :d AND "
                    "s.status = 'published' AND o.status = 'active' AND s.slug NOT LIKE 'bench-%' "
                    "ORDER BY s.id LIMIT 200"
                ),
                {"d": DISTRICT},
            )
        ]
        contention = {}
        for who, slug in (
            ("platform", gen.CONTENTION_SLUG),
            ("baseline", gen.CONTENTION_SLUG + "-baseline"),
        ):
            sid = conn.execute(
                sa.text("SELECT id FROM service WHERE slug = :s"), {"s": slug}
            ).scalar_one()
            slots = [
                int(r[0])
                for r in conn.execute(
                    sa.text("SELECT id FROM slot WHERE service_id = :s ORDER BY id"), {"s": sid}
                )
            ]
            contention[who] = (int(sid), slots)
        contenders = [
            int(r[0])
            for r in conn.execute(
                sa.text("SELECT id FROM \"user\" WHERE email LIKE 'c%@bench.example' ORDER BY id")
            )
        ]
        heavy = conn.execute(
            sa.text('SELECT id FROM "user" WHERE email = :e'), {"e": gen.HEAVY_EMAIL}
        ).scalar_one()
    engine.dispose()
    return Setup(app_url, services, contention, contenders, int(heavy))


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_pids() -> list[int]:
    """The local PostgreSQL server's processes (backends and helpers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@dataclass
class CpuSplit:
    """CPU seconds of a server's workers, PostgreSQL and this load generator, from a start."""

    workers: list[int]
    start: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        return {
            "workers": sum(process_cpu_seconds(p) for p in self.workers),
            "postgresql": sum(process_cpu_seconds(p) for p in postgres_pids()),
            "load generator": time.process_time(),
        }

    def begin(self) -> CpuSplit:
        """Take the starting point."""
        self.start = self._now()
        return self

    def per_request_ms(self, requests: int) -> dict[str, float]:
        """CPU milliseconds per request since :meth:`begin`, by part, and their total."""
        end = self._now()
        split = {k: (end[k] - self.start[k]) * 1000 / max(requests, 1) for k in end}
        split["total"] = sum(split.values())
        return {k: round(v, 2) for k, v in split.items()}


def cpu_note(split: dict[str, float]) -> str:
    """A CPU split as a short note (ms per request)."""
    return "CPU ms/request " + ", ".join(f"{k} {v:.2f}" for k, v in split.items())


def reset_contention(app_url: str) -> None:
    """Free the contention slots again (a reused database keeps the last run's bookings) and,
    on PostgreSQL, vacuum what that leaves behind."""
    engine = sa.create_engine(app_url)
    slugs = {"a": gen.CONTENTION_SLUG, "b": gen.CONTENTION_SLUG + "-baseline"}
    ids = "(SELECT id FROM service WHERE slug IN (:a, :b))"
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM outbox_message WHERE kind LIKE 'booking%'"))
        conn.execute(sa.text(f"DELETE FROM booking WHERE service_id IN {ids}"), slugs)
        conn.execute(sa.text(f"UPDATE slot SET taken = 0 WHERE service_id IN {ids}"), slugs)
    if engine.dialect.name == "postgresql":
        # Each run deletes and rewrites ~12,000 rows. Where autovacuum is off (as on this
        # machine's test server), the dead rows pile up run after run and slow the reports'
        # scans: the dashboard's baseline page went from 0.26 s to 2.75 s after twenty runs.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE) booking, slot, outbox_message"))
    engine.dispose()


def ensure_contention_slots(app_url: str, count: int) -> None:
    """Give both contention services at least ``count`` slots of 5 seats (``--contention-slots``
    above what the size generated): one an hour after their last, 30 minutes long."""
    from core.models import Service, Slot

    engine = sa.create_engine(app_url)
    with engine.begin() as conn:
        for slug in (gen.CONTENTION_SLUG, gen.CONTENTION_SLUG + "-baseline"):
            sid = conn.execute(sa.select(Service.id).where(Service.slug == slug)).scalar_one()
            have, last = conn.execute(
                sa.select(sa.func.count(Slot.id), sa.func.max(Slot.starts_at)).where(
                    Slot.service_id == sid
                )
            ).one()
            if have >= count:
                continue
            log(f"  contention: adding {count - have} slots to {slug}")
            rows = []
            for k in range(1, count - have + 1):
                start = last + timedelta(hours=k)
                rows.append(
                    {
                        "service_id": sid,
                        "starts_at": start,
                        "ends_at": start + timedelta(minutes=30),
                        "capacity": gen.CONTENTION_SEATS,
                        "taken": 0,
                        "kind": "regular",
                        "title": "",
                        "cancelled": False,
                    }
                )
            conn.execute(sa.insert(Slot.__table__), rows)
    engine.dispose()


def contention_counts(app_url: str, service_id: int) -> tuple[int, int, int]:
    """(confirmed bookings, seats taken, slots over capacity) of a contention service."""
    engine = sa.create_engine(app_url)
    with engine.connect() as conn:
        confirmed = conn.execute(
            sa.text("SELECT count(*) FROM booking WHERE service_id = :s AND status = 'confirmed'"),
            {"s": service_id},
        ).scalar_one()
        taken = conn.execute(
            sa.text("SELECT coalesce(sum(taken), 0) FROM slot WHERE service_id = :s"),
            {"s": service_id},
        ).scalar_one()
        over = conn.execute(
            sa.text(
                "SELECT count(*) FROM slot sl WHERE sl.service_id = :s AND sl.capacity < "
                "(SELECT count(*) FROM booking b WHERE b.slot_id = sl.id "
                "AND b.status = 'confirmed')"
            ),
            {"s": service_id},
        ).scalar_one()
    engine.dispose()
    return int(confirmed), int(taken), int(over)


def time_dashboard_sql(app_url: str, repeat: int = 5) -> float:
    """Median seconds of the hand-written dashboard statements alone, run in-process.

    The same statements, period (the reports page's default) and connection kind as the
    baseline's ``/<district>/dashboard``, without the web layer.
    """
    from bench.baseline import Database, dashboard_period, dashboard_statements

    database = Database(app_url)
    row = database.one("SELECT id, timezone FROM district WHERE slug = ?", DISTRICT)
    assert row is not None, DISTRICT
    start, end = dashboard_period(row[1])
    statements = dashboard_statements(database, int(row[0]), start, end, row[1])
    timings = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for text, params in statements.values():
            database.all(text, *params)
        timings.append(time.perf_counter() - t0)
    database.connect().close()
    return statistics.median(timings)


@dataclass
class Options:
    """Command-line options."""

    duration: float
    max_requests: int
    concurrency: int
    workers: int
    contention_clients: int
    contention_slots: int
    per_slot: int
    seed: int
    only: str = ""
    contention_rounds: int = 10


async def run_scenarios(
    platform: Server, baseline: Server, setup: Setup, opts: Options
) -> dict[str, dict[str, Any]]:
    """Every scenario against both servers (or only ``opts.only``); results by scenario name."""
    out: dict[str, dict[str, Any]] = {}
    if opts.only == "contention":
        out["booking under contention"] = await contention(platform, baseline, setup, opts)
        return out
    rng = random.Random(opts.seed)
    services = setup.service_ids or [1]

    async def pair(
        name: str,
        platform_call: Call | None,
        baseline_call: Call,
        concurrency: int | None = None,
        note: str = "",
    ) -> None:
        concurrency = concurrency or opts.concurrency
        row: dict[str, Any] = {"note": note}
        for label, server, call in (
            ("baseline", baseline, baseline_call),
            ("platform", platform, platform_call),
        ):
            if call is None:
                row[label] = None
                continue
            await drive(call, 2, 30, 20)  # warm-up: imports, caches, connections
            result = await drive(call, concurrency, opts.duration, opts.max_requests)
            result.peak_rss_mb = server.peak_rss_mb()
            row[label] = result.as_dict()
        out[name] = row
        print_row(name, row)

    def get(port: int, path: str | Callable[[int], str], jar: Jar | None = None) -> Call:
        async def call(i: int) -> Response:
            target = path(i) if callable(path) else path
            return await request(port, "GET", target, jar=jar.copy() if jar else None)

        return call

    p, b = platform.port, baseline.port
    home = f"/{DISTRICT}/"
    await pair("district home", get(p, home), get(b, home))
    catalogue = f"/{DISTRICT}/services?category=health&page=2"
    await pair("catalogue (area filter, page 2)", get(p, catalogue), get(b, catalogue))
    picks = [rng.choice(services) for _ in range(1000)]
    await pair(
        "service page",
        get(p, lambda i: f"/{DISTRICT}/services/{picks[i % len(picks)]}"),
        get(b, lambda i: f"/{DISTRICT}/services/{picks[i % len(picks)]}"),
    )
    heavy = await login(p, gen.HEAVY_EMAIL)
    # The same two pages for a logged-in resident: never from the public page cache, so these
    # rows measure what rendering a page costs the platform.
    await pair("catalogue, logged in (rendered)", get(p, catalogue, heavy), get(b, catalogue))
    await pair(
        "service page, logged in (rendered)",
        get(p, lambda i: f"/{DISTRICT}/services/{picks[i % len(picks)]}", heavy),
        get(b, lambda i: f"/{DISTRICT}/services/{picks[i % len(picks)]}"),
    )
    await pair(
        "my bookings (1,000 bookings)",
        get(p, "/me/bookings", heavy),
        get(b, f"/me/bookings?user_id={setup.heavy_id}"),
    )

    # The dashboard slot: active when the platform has the admin reports route.
    admin = await login(p, gen.ADMIN_EMAIL)
    reports = f"/{DISTRICT}/admin/reports"
    probe = await request(p, "GET", reports, jar=admin.copy())
    sql_seconds = time_dashboard_sql(setup.app_url)
    await pair(
        "district dashboard",
        get(p, reports, admin) if probe.status == 200 else None,
        get(b, f"/{DISTRICT}/dashboard"),
        concurrency=2,
        note=f"hand-written SQL {sql_seconds * 1000:.1f} ms"
        + (
            ""
            if probe.status == 200
            else f"; platform route answered HTTP {probe.status}: not measured"
        ),
    )
    out["district dashboard"]["sql_ms"] = round(sql_seconds * 1000, 1)

    out["booking under contention"] = await contention(platform, baseline, setup, opts)
    return out


async def contention(
    platform: Server, baseline: Server, setup: Setup, opts: Options
) -> dict[str, Any]:
    """``contention_clients`` residents fight over slots of 5 seats: none over, none lost."""
    clients = setup.contender_ids[: opts.contention_clients]
    emails = [f"c{i}@bench.example" for i in range(len(clients))]
    row: dict[str, Any] = {}

    # Baseline: the same attempt plan on its own copy of the slots.
    b_service, b_slots = setup.contention["baseline"]
    b_slots = b_slots[: opts.contention_slots]
    plan = attempt_plan(b_slots, len(clients), opts.per_slot, opts.seed)

    async def baseline_call(i: int) -> Response:
        client, slot = plan[i]
        form = {"slot_id": slot, "user_id": clients[client], "service_id": b_service}
        return await request(baseline.port, "POST", f"/{DISTRICT}/book", form)

    # Platform: log every contender in, walk each attempt to the summary, then confirm together.
    p_service, p_slots = setup.contention["platform"]
    p_slots = p_slots[: opts.contention_slots]
    plan_p = attempt_plan(p_slots, len(clients), opts.per_slot, opts.seed)
    started = time.perf_counter()
    log(f"  contention: logging in {len(clients)} residents …")
    jars = await gather_limited([login(platform.port, e) for e in emails], PREPARE_CONCURRENCY)

    async def start_page(jar: Jar) -> str:
        page = await request(
            platform.port, "GET", f"/{DISTRICT}/services/{p_service}/book", jar=jar
        )
        if page.status != 200:
            raise RuntimeError(f"booking start page answered HTTP {page.status}")
        return csrf(page)

    log(f"  contention: logged in after {time.perf_counter() - started:.0f}s")
    tokens = await gather_limited([start_page(jar) for jar in jars], PREPARE_CONCURRENCY)
    await gather_limited(
        [
            prepare_resident(platform.port, jar, token, p_service, p_slots[0])
            for jar, token in zip(jars, tokens, strict=True)
        ],
        PREPARE_CONCURRENCY,
    )
    log(
        f"  contention: applicants entered after {time.perf_counter() - started:.0f}s; "
        f"preparing {len(plan_p)} bookings up to the summary step …"
    )
    attempts: list[Attempt] = await gather_limited(
        [prepare_attempt(platform.port, jars[c], tokens[c], p_service, s) for c, s in plan_p],
        PREPARE_CONCURRENCY,
    )
    log(f"  contention: prepared in {time.perf_counter() - started:.0f}s")

    async def platform_call(i: int) -> Response:
        attempt = attempts[i]
        return await request(platform.port, "POST", attempt.path, attempt.form, attempt.jar)

    log(
        f"  contention: {len(attempts)} confirmations from {len(clients)} concurrent clients, "
        f"taking turns with the baseline's {len(plan)} bookings in {opts.contention_rounds} "
        "blocks …"
    )
    (b_result, baseline_cpu), (result, platform_cpu) = await drive_attempts_alternating(
        [
            Side(baseline_call, len(plan), (201, 409), baseline.worker_pids()),
            Side(platform_call, len(attempts), (302, 303, 409), platform.worker_pids()),
        ],
        len(clients),
        rounds=opts.contention_rounds,
    )
    row["baseline"] = contention_side(baseline, b_result, baseline_cpu, setup.app_url, b_service)
    row["platform"] = contention_side(platform, result, platform_cpu, setup.app_url, p_service)
    confirmed, over = row["platform"]["confirmed"], row["platform"]["over"]
    row["expected"] = len(p_slots) * gen.CONTENTION_SEATS
    row["attempts"] = len(attempts)
    row["note"] = (
        f"{len(clients)} clients, {len(p_slots)} slots x {gen.CONTENTION_SEATS} seats, "
        f"{len(attempts)} attempts; confirmed {confirmed}/{row['expected']}, over {over}; "
        f"platform {cpu_note(platform_cpu)}; baseline {cpu_note(baseline_cpu)}"
    )
    print_row("booking under contention", row)
    return row


def contention_side(
    server: Server, result: Result, cpu: dict[str, float], app_url: str, service_id: int
) -> dict[str, Any]:
    """One side's contention figures: its load result, what its service holds, its CPU."""
    result.peak_rss_mb = server.peak_rss_mb()
    confirmed, taken, over = contention_counts(app_url, service_id)
    return {
        **result.as_dict(),
        "confirmed": confirmed,
        "seats_taken": taken,
        "over": over,
        "cpu_ms": cpu,
    }


def log(message: str) -> None:
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def fmt(value: float | None, spec: str = ".0f") -> str:
    """A number for the table ("–" when missing)."""
    return "–" if value is None or value != value else format(value, spec)


def print_row(name: str, row: dict[str, Any]) -> None:
    """One scenario as a line on stderr while the run goes on."""
    b, p = row.get("baseline") or {}, row.get("platform") or {}
    log(
        f"  {name:<34} baseline {fmt(b.get('rps'))} rps p50 {fmt(b.get('p50_ms'), '.1f')} ms | "
        f"platform {fmt(p.get('rps'))} rps p50 {fmt(p.get('p50_ms'), '.1f')} ms  "
        f"{row.get('note', '')}"
    )


def table(backend: str, size: str, results: dict[str, dict[str, Any]]) -> str:
    """The Markdown table of one backend's results."""
    lines = [
        f"#### {backend}, size `{size}`",
        "",
        "| scenario | platform rps | baseline rps | ratio | platform p50 / p99 ms | "
        "baseline p50 / p99 ms | peak RSS/worker MiB (platform / baseline) | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in results.items():
        b, p = row.get("baseline") or {}, row.get("platform") or {}
        ratio = p["rps"] / b["rps"] if p.get("rps") and b.get("rps") else None
        lines.append(
            f"| {name} | {fmt(p.get('rps'))} | {fmt(b.get('rps'))} | {fmt(ratio, '.2f')} | "
            f"{fmt(p.get('p50_ms'), '.1f')} / {fmt(p.get('p99_ms'), '.1f')} | "
            f"{fmt(b.get('p50_ms'), '.1f')} / {fmt(b.get('p99_ms'), '.1f')} | "
            f"{fmt(p.get('peak_rss_mb'))} / {fmt(b.get('peak_rss_mb'))} | {row.get('note', '')} |"
        )
    return "\n".join(lines)


def prepare_data(backend: str, size: str, args: argparse.Namespace) -> str:
    """Generate the data of ``size`` on ``backend`` (unless ``--reuse``); the app's URL."""
    if backend == "sqlite":
        url = f"sqlite:///{ROOT / 'instance' / f'bench-{size}.sqlite'}"
        schema = None
        app_url = url
    else:
        url, schema = args.pg_url, f"{args.schema}_{size}"
        app_url = gen.postgres_schema_url(url, schema)
    if not args.reuse:
        log(f"== {backend}: generating size {size} (seed {args.seed})")
        gen.generate(url, gen.SIZES[size], args.seed, schema)
    return app_url


SERVER_ENV_PREFIX = "BENCH_SERVER_"


def server_env(app_url: str) -> dict[str, str]:
    """The environment both servers run with over the data at ``app_url``."""
    return {
        "CONCILIA_DATABASE_URL": app_url,
        "CONCILIA_SECRET_KEY": "bench-secret-key",
        "CONCILIA_ENV": "production",
        "CONCILIA_MAIL_MODE": "outbox",
        "CONCILIA_RATELIMIT_ENABLED": "false",
        "CONCILIA_INSTANCE_PATH": str(ROOT / "instance"),
        "BENCH_DATABASE_URL": app_url,
        # e.g. BENCH_SERVER_CONCILIA_DISABLED_PLUGINS=webhooks: a setting for both servers
        **{
            k.removeprefix(SERVER_ENV_PREFIX): v
            for k, v in os.environ.items()
            if k.startswith(SERVER_ENV_PREFIX)
        },
    }


def run_backend(backend: str, size: str, args: argparse.Namespace, opts: Options) -> dict[str, Any]:
    """Generate (unless reused), serve, measure one backend; its results."""
    app_url = prepare_data(backend, size, args)
    reset_contention(app_url)
    ensure_contention_slots(app_url, opts.contention_slots)
    setup = inspect(app_url)
    env = server_env(app_url)
    platform = Server(f"platform-{backend}", "core:create_app()", env, opts.workers)
    baseline = Server(f"baseline-{backend}", "bench.baseline:create_app()", env, opts.workers)
    try:
        platform.wait_ready(f"/{DISTRICT}/")
        baseline.wait_ready(f"/{DISTRICT}/")
        log(f"== {backend}: measuring (platform :{platform.port}, baseline :{baseline.port})")
        results = asyncio.run(run_scenarios(platform, baseline, setup, opts))
    finally:
        platform.stop()
        baseline.stop()
    return results


GROWTH_PATH = f"/{DISTRICT}/services?category=health&page=2"  # the catalogue scenario's page
GROWTH_TARGET = 1.3


async def measure_growth(
    servers: Sequence[Server], sizes: Sequence[str], path: str, opts: Options
) -> dict[str, Any]:
    """The same page from each server, in alternating blocks; p50 of each, ratio to the first."""

    def page_of(port: int) -> Call:
        async def call(_i: int) -> Response:
            return await request(port, "GET", path)

        return call

    calls = [page_of(server.port) for server in servers]
    await drive_alternating(calls, 2, 60, 20 * len(calls), rounds=1)  # warm-up
    results = await drive_alternating(
        calls, opts.concurrency, opts.duration, opts.max_requests * len(calls)
    )
    first = results[0].percentile(0.5)
    rows: dict[str, Any] = {}
    for size, server, result in zip(sizes, servers, results, strict=True):
        result.peak_rss_mb = server.peak_rss_mb()
        p50 = result.percentile(0.5)
        rows[size] = {
            "services": gen.SIZES[size].services,
            **result.as_dict(),
            "p50_ratio": round(p50 / first, 2) if first == first and first else None,
        }
    return {"path": path, "target": GROWTH_TARGET, "sizes": rows}


def run_growth(
    backend: str, sizes: Sequence[str], args: argparse.Namespace, opts: Options
) -> dict[str, Any]:
    """Serve the platform once per size at the same time and measure the catalogue's growth."""
    urls = [prepare_data(backend, size, args) for size in sizes]
    servers: list[Server] = []
    try:
        for size, app_url in zip(sizes, urls, strict=True):
            servers.append(
                Server(
                    f"platform-{backend}-{size}",
                    "core:create_app()",
                    # every request runs the page's queries: growth is about the data, and the
                    # public page cache would hide it
                    {**server_env(app_url), "CONCILIA_PUBLIC_CACHE_SECONDS": "0"},
                    opts.workers,
                )
            )
        for server in servers:
            server.wait_ready(f"/{DISTRICT}/")
        ports = ", ".join(f"{size} :{s.port}" for size, s in zip(sizes, servers, strict=True))
        log(f"== {backend}: catalogue growth, alternating blocks ({ports})")
        result = asyncio.run(measure_growth(servers, sizes, args.growth_path, opts))
    finally:
        for server in servers:
            server.stop()
    return result


def growth_table(backend: str, growth: dict[str, Any]) -> str:
    """The Markdown table of one backend's catalogue-growth measurement."""
    lines = [
        f"#### catalogue growth, {backend} (`{growth['path']}`, sizes served at the same time, "
        "measured in alternating blocks)",
        "",
        "| size | services | requests | p50 / p99 ms | p50 ratio to the first | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for size, row in growth["sizes"].items():
        lines.append(
            f"| {size} | {row['services']:,} | {row['requests']} | "
            f"{fmt(row.get('p50_ms'), '.1f')} / {fmt(row.get('p99_ms'), '.1f')} | "
            f"{fmt(row.get('p50_ratio'), '.2f')} | {row['errors']} |"
        )
    ratios = [row.get("p50_ratio") for row in list(growth["sizes"].values())[1:]]
    if ratios and all(r is not None for r in ratios):
        verdict = "met" if max(ratios) <= growth["target"] else "not met"
        lines += ["", f"Target p50 ratio ≤ {growth['target']}: **{verdict}**."]
    return "\n".join(lines)


def machine() -> str:
    """One line about the machine the run used."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, Python {sys.version.split()[0]}, "
        f"load average {load:.1f} at start"
    )


def growth_options(args: argparse.Namespace) -> Options:
    """The options the growth measurement uses (no contention)."""
    return Options(
        duration=args.duration,
        max_requests=args.max_requests,
        concurrency=args.concurrency,
        workers=args.workers,
        contention_clients=0,
        contention_slots=0,
        per_slot=0,
        seed=args.seed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size",
        default=None,
        help="comma-separated: tiny,small,medium,full (default: small, none with --growth)",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--schema", default="bench", help="PostgreSQL schema prefix")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="reuse the generated data")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--max-requests", type=int, default=5000, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--contention-clients", type=int, default=200)
    parser.add_argument("--contention-slots", type=int, default=None, help="default: all")
    parser.add_argument("--per-slot", type=int, default=6, help="attempts per 5-seat slot")
    parser.add_argument(
        "--contention-rounds",
        type=int,
        default=10,
        help="blocks in which the baseline's and the platform's bookings take turns",
    )
    parser.add_argument(
        "--growth",
        default="",
        help="catalogue growth: comma-separated sizes served together, e.g. small,medium",
    )
    parser.add_argument("--growth-path", default=GROWTH_PATH, help="the page --growth requests")
    parser.add_argument(
        "--only", default="", choices=("", "contention"), help="run this scenario alone"
    )
    parser.add_argument("--json", default=str(ROOT / "instance" / "bench-results.json"))
    args = parser.parse_args(argv)
    growth_sizes = [s.strip() for s in args.growth.split(",") if s.strip()]
    size_arg = args.size if args.size is not None else ("" if growth_sizes else "small")
    sizes = [s.strip() for s in size_arg.split(",") if s.strip()]
    unknown = [s for s in sizes + growth_sizes if s not in gen.SIZES]
    if unknown or len(growth_sizes) == 1:
        parser.error(f"unknown sizes {unknown}" if unknown else "--growth needs two sizes or more")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    (ROOT / "instance").mkdir(exist_ok=True)
    report: dict[str, Any] = {"machine": machine(), "runs": {}}
    log(report["machine"])
    for size in sizes:
        opts = Options(
            duration=args.duration,
            max_requests=args.max_requests,
            concurrency=args.concurrency,
            workers=args.workers,
            contention_clients=args.contention_clients,
            contention_slots=args.contention_slots or gen.SIZES[size].contention_slots,
            per_slot=args.per_slot,
            seed=args.seed,
            only=args.only,
            contention_rounds=max(1, args.contention_rounds),
        )
        for backend in backends:
            results = run_backend(backend, size, args, opts)
            report["runs"][f"{backend}/{size}"] = results
            print(table(backend, size, results), flush=True)
            print(flush=True)
    if growth_sizes:
        opts = growth_options(args)
        report["growth"] = {}
        for backend in backends:
            growth = run_growth(backend, growth_sizes, args, opts)
            report["growth"][backend] = growth
            print(growth_table(backend, growth), flush=True)
            print(flush=True)
    Path(args.json).write_text(json.dumps(report, indent=2))
    log(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
