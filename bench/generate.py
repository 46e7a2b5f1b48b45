"""Reproducible benchmark data for Concilia, on SQLite or PostgreSQL.

    python bench/generate.py --url sqlite:///instance/bench.sqlite --size small --seed 1
    python bench/generate.py --url 'postgresql+psycopg://postgres@127.0.0.1:5432/test' \\
        --schema bench --size medium

The database (or the PostgreSQL schema) is emptied, built with the platform's migrations
(the ``concilia db upgrade`` path), then filled with bulk inserts: ``executemany`` on SQLite,
``COPY`` on PostgreSQL. Every value comes from ``random.Random(seed)``; dates are anchored to
the UTC day of generation (the slots must lie around "now"), so two runs on the same day with the
same seed write identical rows.

Besides the random bulk, the data holds what the benchmark drives:

* district 1 is ``isola-garibaldi`` (the district a plugin registers, so its pages are served);
  the other districts are rows the catalogue queries must filter out;
* a *heavy* resident (``heavy@bench.example``) with up to 1,000 bookings ("my bookings");
* a *contention* service (work / hot desk) with future slots of 5 seats and nobody booked, and
  200 residents ``c<i>@bench.example`` to fight over them;
* a district admin ``admin@bench.example``. Every bench account's password is ``bench-password``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password"
MEASURED_DISTRICT = "isola-garibaldi"
HEAVY_EMAIL = "heavy@bench.example"
ADMIN_EMAIL = "admin@bench.example"
CONTENTION_SLUG = "bench-contention"
CONTENTION_SEATS = 5
CONTENTION_USERS = 200
BATCH = 10_000

# Categories and service types the plugins register (meeting rooms ask for extra fields).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "health": ("physiotherapy", "psychological-counselling", "yoga-pilates", "swimming", "fitness"),
    "family": ("after-school", "babysitting", "summer-camp", "elderly-home-care"),
    "leisure": ("sport-courses", "cultural-visits", "workshops", "time-saving"),
    "work": ("hot-desk", "private-office", "smart-working", "urban-work-space"),
}
WORDS_IT = [
    "corso",
    "yoga",
    "pilates",
    "nuoto",
    "palestra",
    "ascolto",
    "sostegno",
    "doposcuola",
    "laboratorio",
    "visita",
    "museo",
    "cucina",
    "ceramica",
    "spazio",
    "coworking",
    "scrivania",
    "ufficio",
    "benessere",
    "famiglia",
    "anziani",
    "bambini",
    "quartiere",
    "isola",
    "garibaldi",
    "mattina",
    "sera",
    "base",
    "avanzato",
    "aperto",
    "gruppo",
    "individuale",
]
WORDS_EN = [
    "course",
    "yoga",
    "pilates",
    "swimming",
    "gym",
    "listening",
    "support",
    "homework",
    "workshop",
    "visit",
    "museum",
    "cooking",
    "ceramics",
    "space",
    "coworking",
    "desk",
    "office",
    "wellbeing",
    "family",
    "elderly",
    "children",
    "district",
    "morning",
    "evening",
    "basic",
    "advanced",
    "open",
    "group",
    "individual",
]
FIRST = [
    "Anna",
    "Marco",
    "Giulia",
    "Luca",
    "Sara",
    "Paolo",
    "Elena",
    "Davide",
    "Chiara",
    "Matteo",
    "Laura",
    "Andrea",
]
LAST = [
    "Rossi",
    "Bianchi",
    "Colombo",
    "Ferrari",
    "Esposito",
    "Romano",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
]
STATUSES = (  # booking status, weight
    ("confirmed", 40),
    ("attended", 25),
    ("cancelled", 15),
    ("no_show", 5),
    ("pending", 10),
    ("rejected", 5),
)
SEAT_HOLDING = {"pending", "confirmed", "offered"}
LIVE = {"pending", "confirmed", "waitlisted", "offered"}


@dataclass(frozen=True)
class Size:
    """How many rows of each kind a size writes."""

    districts: int
    organisations: int
    services: int
    slots: int
    bookings: int
    users: int
    heavy_bookings: int
    contention_slots: int


SIZES: dict[str, Size] = {
    "tiny": Size(2, 10, 40, 400, 300, 60, 50, 20),
    "small": Size(20, 200, 1_000, 20_000, 10_000, 2_000, 1_000, 200),
    "medium": Size(20, 2_000, 100_000, 400_000, 200_000, 40_000, 1_000, 1_000),
    "full": Size(20, 2_000, 100_000, 2_000_000, 1_000_000, 200_000, 1_000, 1_000),
}

# Tables in insertion order (foreign keys first); the same order reversed for deletion.
TABLES = (
    "district",
    "organisation",
    "service",
    "opening_rule",
    "slot",
    "user",
    "district_admin",
    "booking",
)


def log(message: str) -> None:
    """A progress line on stderr (a person must see what is happening)."""
    print(message, file=sys.stderr, flush=True)


def postgres_schema_url(url: str, schema: str) -> str:
    """``url`` with its search path set to ``schema``."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def prepare_database(url: str, schema: str | None) -> str:
    """Empty the target (a SQLite file or a PostgreSQL schema) and migrate it; the app URL."""
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).unlink(missing_ok=True)
        app_url = url
    else:
        if not schema:
            raise SystemExit("PostgreSQL needs --schema (a dedicated schema, e.g. bench)")
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        app_url = postgres_schema_url(url, schema)
    migrate(app_url)
    return app_url


def bench_app_config(url: str) -> dict[str, Any]:
    """Settings for an app that only needs the database (migrations, password hashing)."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-generator",
        "CONCILIA_MAIL_MODE": "outbox",
        "RATELIMIT_ENABLED": False,
    }


def migrate(url: str) -> None:
    """Build the platform's schema with its migrations."""
    from flask_migrate import upgrade

    from core import create_app
    from core.extensions import db

    started = time.monotonic()
    app = create_app(bench_app_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    log(f"schema      migrated in {time.monotonic() - started:.1f}s")


def password_hash() -> str:
    """The platform's hash of the bench password (computed once, shared by every account)."""
    from core.auth.passwords import hash_password

    return hash_password(PASSWORD)


class Writer:
    """Bulk insertion of row tuples: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.postgres = self.engine.dialect.name == "postgresql"

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert ``rows`` (tuples in ``columns`` order) into ``table``; the number written."""
        started = time.monotonic()
        count = 0
        with self.engine.begin() as conn:
            if self.postgres:
                dbapi = conn.connection.driver_connection
                cols = ", ".join(f'"{c}"' for c in columns)
                with (
                    dbapi.cursor() as cur,
                    cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                        if count % 200_000 == 0:
                            self._progress(table, count, started)
            else:
                cols = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join("?" for _ in columns)
                cursor = conn.connection.driver_connection.cursor()
                sql = f'INSERT INTO "{table}" ({cols}) VALUES ({marks})'
                for chunk in chunked(rows, BATCH):
                    cursor.executemany(sql, [tuple(map(sqlite_value, r)) for r in chunk])
                    count += len(chunk)
                    if count % 200_000 == 0:
                        self._progress(table, count, started)
        log(f"{table:<14}{count:>10,} rows in {time.monotonic() - started:6.1f}s")
        return count

    @staticmethod
    def _progress(table: str, count: int, started: float) -> None:
        log(f"{table:<14}{count:>10,} rows …  {time.monotonic() - started:6.1f}s")

    def finish(self) -> None:
        """Reset the id sequences (PostgreSQL) and refresh the planner's statistics."""
        with self.engine.begin() as conn:
            if self.postgres:
                for table in TABLES:
                    conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                            f'COALESCE((SELECT MAX(id) FROM "{table}"), 1))'
                        )
                    )
        started = time.monotonic()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM too on PostgreSQL: bulk-loaded tables have no visibility map yet, so no
            # index-only scans until autovacuum passes (a live database has had it long ago).
            conn.execute(sa.text("VACUUM ANALYZE" if self.postgres else "ANALYZE"))
        log(f"analyze     done in {time.monotonic() - started:.1f}s")
        self.engine.dispose()


def sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy stores it on SQLite (naive UTC datetimes with microseconds)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dtime):
        return value.strftime("%H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def chunked(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    """``rows`` in lists of at most ``size``."""
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def token(rng: random.Random, n: int = 16) -> str:
    """A URL-safe random string from ``rng`` (public ids, idempotency keys)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(n))


def generate(
    url: str, size: Size, seed: int, schema: str | None = None, prepare: bool = True
) -> dict[str, int]:
    """Empty, migrate and fill the database; returns the rows written per table.

    With ``prepare=False`` the database at ``url`` must already be migrated and empty.
    """
    total_started = time.monotonic()
    app_url = prepare_database(url, schema) if prepare else url
    rng = random.Random(seed)
    anchor = datetime.combine(datetime.now(UTC).date(), dtime(0), tzinfo=UTC)
    created = anchor - timedelta(days=400)
    writer = Writer(app_url)
    counts: dict[str, int] = {}
    pw_hash = password_hash()

    # Districts: the measured one first, then rows no plugin serves.
    district_rows = [
        (1, MEASURED_DISTRICT, "Isola-Garibaldi", "Milano", "Europe/Rome", "it", created)
    ]
    for d in range(2, size.districts + 1):
        district_rows.append(
            (d, f"bench-{d:02d}", f"Bench district {d}", "Milano", "Europe/Rome", "it", created)
        )
    counts["district"] = writer.write(
        "district",
        ("id", "slug", "name", "municipality", "timezone", "default_locale", "created_at"),
        district_rows,
    )

    # Organisations, evenly spread over the districts.
    org_district = [(o % size.districts) + 1 for o in range(size.organisations)]
    org_rows = []
    for o in range(size.organisations):
        oid = o + 1
        status = "suspended" if rng.random() < 0.02 else "active"
        org_rows.append(
            (
                oid, org_district[o], f"org-{oid}",
                f"{rng.choice(LAST)} {rng.choice(WORDS_IT)} {oid}",
                rng.choice(("cooperative", "company", "association", "business", "public_body")),
                rng.random() < 0.3, True, "", "", f"info{oid}@org.bench.example", "", False, "",
                "", "Via Bench 1", "20159", None, None, "", "", status, created,
            )
        )  # fmt: skip
    # The contention service's provider: an active organisation of the measured district.
    contention_org = size.organisations + 1
    org_rows.append(
        (
            contention_org, 1, CONTENTION_SLUG, "Bench coworking", "company", True, True, "", "",
            "desk@org.bench.example", "", False, "", "", "Via Bench 2", "20159", None, None, "",
            "", "active", created,
        )
    )  # fmt: skip
    counts["organisation"] = writer.write(
        "organisation",
        (
            "id", "district_id", "slug", "name", "kind", "alliance_member", "is_provider",
            "size_class", "vat_number", "email", "email_domain", "email_domain_verified",
            "website", "phone", "address", "postcode", "latitude", "longitude",
            "description_it", "description_en", "status", "created_at",
        ),
        org_rows,
    )  # fmt: skip

    # Services (their sort titles computed as the platform's flush listener does).
    from core.catalogue.search import service_sort_titles

    service_rows = []
    service_published: list[bool] = []
    for s in range(size.services):
        sid = s + 1
        org = rng.randrange(size.organisations)
        category = rng.choice(tuple(CATEGORIES))
        service_type = rng.choice(CATEGORIES[category])
        words = rng.sample(range(len(WORDS_IT)), 3)
        title_it = " ".join(WORDS_IT[w] for w in words).capitalize() + f" {sid}"
        title_en = " ".join(WORDS_EN[w % len(WORDS_EN)] for w in words).capitalize() + f" {sid}"
        description = " ".join(rng.choice(WORDS_IT) for _ in range(30))
        roll = rng.random()
        status = "published" if roll < 0.9 else ("draft" if roll < 0.95 else "withdrawn")
        service_published.append(status == "published")
        price = rng.choice((0, 0, 500, 1000, 1500, 2500))
        discounted = price - 500 if price and rng.random() < 0.3 else None
        service_rows.append(
            (
                sid, org_district[org], org + 1, category, service_type, f"service-{sid}",
                title_it, title_en, description, "", "Sede bench", "Via Bench 3", "20159", None,
                None, price, discounted, status, False, 60, 60, 120, False, 1, None, "service",
                True, 0, False, f"{title_it} {title_en} {description}".lower(),
                *service_sort_titles(title_it, title_en), created, created,
                created if status == "published" else None,
            )
        )  # fmt: skip
    # Two identical contention services: one booked through the platform, one by the baseline.
    contention_services = (size.services + 1, size.services + 2)
    for sid, suffix in zip(contention_services, ("", "-baseline"), strict=True):
        service_rows.append(
            (
                sid, 1, contention_org, "work", "hot-desk", CONTENTION_SLUG + suffix,
                "Postazione bench" + suffix, "Bench desk" + suffix,
                "Postazione per il benchmark.", "", "Sede bench", "Via Bench 2", "20159", None,
                None, 0, None, "published", False, 0, 3650, 0, False, 1, None, "service", False,
                0, False, "postazione bench bench desk",
                *service_sort_titles("Postazione bench" + suffix, "Bench desk" + suffix),
                created, created, created,
            )
        )  # fmt: skip
    service_columns = (
        "id", "district_id", "organisation_id", "category", "service_type", "slug", "title_it",
        "title_en", "description_it", "description_en", "place_name", "address", "postcode",
        "latitude", "longitude", "price_cents", "beneficiary_price_cents", "status",
        "beneficiaries_only", "min_notice_minutes", "max_advance_days",
        "cancel_deadline_minutes", "requires_approval", "max_seats_per_booking",
        "quota_per_month", "quota_scope", "waitlist_enabled", "waitlist_hold_minutes",
        "ical_public", "search_text", "sort_title_it", "sort_title_en", "created_at",
        "updated_at", "published_at",
    )  # fmt: skip
    counts["service"] = writer.write("service", service_columns, service_rows)
    del service_rows

    # Opening rules: one or two weekly openings per service (the service page shows them).
    def opening_rows() -> Iterator[tuple[Any, ...]]:
        rid = 0
        for s in range(size.services + len(contention_services)):
            for weekday in rng.sample(range(5), rng.choice((1, 2))):
                rid += 1
                yield (rid, s + 1, weekday, dtime(9), dtime(13), 60, rng.choice((1, 5, 10)))

    counts["opening_rule"] = writer.write(
        "opening_rule",
        ("id", "service_id", "weekday", "start", "end", "slot_minutes", "seats"),
        opening_rows(),
    )

    # Slots: each service's slots every 5 hours, half in the past and half in the future.
    per_service = max(1, size.slots // size.services)
    n_slots = per_service * size.services
    capacities = [rng.choice((1, 2, 5, 10)) for _ in range(n_slots)]
    half = per_service * 5 // 2
    offsets = [rng.randrange(0, 5) for _ in range(size.services)]

    def slot_start(index: int) -> datetime:
        service, k = divmod(index, per_service)
        return anchor + timedelta(hours=8 + offsets[service] + 5 * k - half)

    # Users: the heavy resident, the admin, the contention crowd, then everyone else.
    heavy_id, admin_id = 1, 2
    first_contender = 3
    first_random = first_contender + CONTENTION_USERS
    n_users = max(size.users, first_random + 10)

    # Bookings: chosen before the slots are written, so ``taken`` matches them.
    taken = [0] * n_slots
    live_pairs: set[int] = set()
    statuses = [s for s, _w in STATUSES]
    weights = [w for _s, w in STATUSES]
    bookings: list[tuple[int, int, str]] = []  # slot index, user id, status
    heavy_slots = rng.sample(range(n_slots), min(size.heavy_bookings, n_slots))
    wanted = [(i, heavy_id) for i in heavy_slots]
    for _ in range(max(size.bookings - len(wanted), 0)):
        wanted.append((rng.randrange(n_slots), rng.randrange(first_random, n_users + 1)))
    for index, user in wanted:
        status = rng.choices(statuses, weights)[0]
        if slot_start(index) > anchor and status in {"attended", "no_show"}:
            status = "confirmed"
        if status in SEAT_HOLDING and taken[index] >= capacities[index]:
            status = "cancelled"
        pair = index * (n_users + 1) + user
        if status in LIVE:
            if pair in live_pairs:
                status = "cancelled"
            else:
                live_pairs.add(pair)
        if status in SEAT_HOLDING:
            taken[index] += 1
        bookings.append((index, user, status))
    del live_pairs

    def slot_rows() -> Iterator[tuple[Any, ...]]:
        for index in range(n_slots):
            start = slot_start(index)
            yield (
                index + 1, index // per_service + 1, start, start + timedelta(hours=1),
                capacities[index], taken[index], "regular", "", False,
            )  # fmt: skip
        tomorrow = anchor + timedelta(days=1)
        slot_id = n_slots
        for service_id in contention_services:
            for k in range(size.contention_slots):
                slot_id += 1
                start = tomorrow + timedelta(hours=k)
                yield (
                    slot_id, service_id, start, start + timedelta(minutes=30),
                    CONTENTION_SEATS, 0, "regular", "", False,
                )  # fmt: skip

    slot_columns = (
        "id", "service_id", "starts_at", "ends_at", "capacity", "taken", "kind", "title",
        "cancelled",
    )  # fmt: skip
    counts["slot"] = writer.write("slot", slot_columns, slot_rows())

    def user_rows() -> Iterator[tuple[Any, ...]]:
        for uid in range(1, n_users + 1):
            if uid == heavy_id:
                email, name = HEAVY_EMAIL, "Heavy Resident"
            elif uid == admin_id:
                email, name = ADMIN_EMAIL, "Bench Admin"
            elif uid < first_random:
                email, name = f"c{uid - first_contender}@bench.example", f"Contender {uid}"
            else:
                email, name = f"user{uid}@bench.example", f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            yield (
                uid, email, pw_hash, name, "", None, created, False, True, 0, None, 1, created,
            )  # fmt: skip

    counts["user"] = writer.write(
        "user",
        (
            "id", "email", "password_hash", "full_name", "phone", "locale", "email_verified_at",
            "is_platform_admin", "active", "failed_logins", "locked_until", "session_version",
            "created_at",
        ),
        user_rows(),
    )  # fmt: skip
    counts["district_admin"] = writer.write(
        "district_admin",
        ("id", "user_id", "district_id", "created_at"),
        [(1, admin_id, 1, created)],
    )

    def booking_rows() -> Iterator[tuple[Any, ...]]:
        for bid, (index, user, status) in enumerate(bookings, start=1):
            service = index // per_service + 1
            start = slot_start(index)
            made = start - timedelta(hours=rng.randrange(2, 24 * 20))
            yield (
                bid, token(rng), index + 1, service, user, 1, status, "{}", "", "", "", 0,
                None, made, made, made if status not in {"pending"} else None,
                "resident" if status == "cancelled" else "", "", None, None, None, "", None,
                start, start + timedelta(hours=1),
            )  # fmt: skip

    counts["booking"] = writer.write(
        "booking",
        (
            "id", "public_id", "slot_id", "service_id", "user_id", "seats", "status", "answers",
            "applicant_name", "applicant_email", "applicant_phone", "price_cents",
            "idempotency_key", "created_at", "updated_at", "decided_at", "cancelled_by",
            "cancel_reason", "offer_expires_at", "reminder_sent_at", "rating", "rating_comment",
            "rated_at", "slot_starts_at", "slot_ends_at",
        ),
        booking_rows(),
    )  # fmt: skip
    writer.finish()
    log(f"total       {time.monotonic() - total_started:.1f}s")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--url``, ``--size``, ``--seed``, ``--schema`` (PostgreSQL)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL"), required=False)
    parser.add_argument("--size", choices=tuple(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--schema", default=None, help="PostgreSQL schema (emptied first)")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("--url (or BENCH_DATABASE_URL) is required")
    counts = generate(args.url, SIZES[args.size], args.seed, args.schema)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
