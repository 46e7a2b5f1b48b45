"""CPU per request, platform against baseline, measured in one process (independent of load).

Both apps are built in this process over the same generated database and called through
Flask's test client; ``time.process_time()`` around each call measures what a worker spends on
it, whatever else the machine is doing. ``--profile PAGE`` prints a pyinstrument profile of
that page instead (``pip install -e '.[bench]'``).

    .venv/bin/python bench/cpu.py --url sqlite:///$PWD/instance/bench-small.sqlite
    .venv/bin/python bench/cpu.py --url ... --profile catalogue
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench import generate as gen  # noqa: E402
from bench.run import CSRF_RE, DISTRICT  # noqa: E402

# Pages read by an anonymous visitor (served from the public page cache after the first
# request), and the same pages read by the logged-in heavy resident (always rendered).
ANONYMOUS = {"home", "catalogue", "service"}
_PUBLIC = {
    "home": f"/{DISTRICT}/",
    "catalogue": f"/{DISTRICT}/services?category=health&page=2",
    "service": f"/{DISTRICT}/services/{{service_id}}",
}
PAGES: dict[str, str] = {
    **_PUBLIC,
    **{f"{name}-logged-in": path for name, path in _PUBLIC.items()},
    "my-bookings": "/me/bookings",
}
BASELINE_PAGES: dict[str, str] = {
    **PAGES,
    "my-bookings": "/me/bookings?user_id={heavy_id}",
}


def measure(call: Callable[[], Any], repeat: int, warmup: int = 10) -> float:
    """Median CPU milliseconds of ``call`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        call()
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def calls_per_request(call: Callable[[], Any], repeat: int = 20) -> int:
    """Python function calls per run of ``call`` (cProfile's count): exact, whatever the load."""
    import cProfile
    import pstats

    call()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(repeat):
        call()
    profile.disable()
    return round(pstats.Stats(profile).total_calls / repeat)  # type: ignore[attr-defined]


def platform_client(url: str) -> Any:
    """A test client of the platform over ``url``, logged in as the heavy bench resident."""
    os.environ.update(
        {
            "CONCILIA_DATABASE_URL": url,
            "CONCILIA_SECRET_KEY": "bench-secret-key",
            "CONCILIA_ENV": "production",
            "CONCILIA_MAIL_MODE": "outbox",
            "CONCILIA_RATELIMIT_ENABLED": "false",
            "CONCILIA_INSTANCE_PATH": str(ROOT / "instance"),
        }
    )
    from core import create_app

    app = create_app()
    logging.getLogger("concilia.request").setLevel(logging.WARNING)
    client = app.test_client()
    login = client.get("/login", base_url="https://localhost")
    token = _csrf(login.get_data(as_text=True))
    answer = client.post(
        "/login",
        data={"email": gen.HEAVY_EMAIL, "password": gen.PASSWORD, "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    if answer.status_code not in (302, 303):
        raise SystemExit(f"bench login failed: HTTP {answer.status_code}")
    return app, client


def _csrf(html: str) -> str:
    found = CSRF_RE.search(html)
    if not found:
        raise SystemExit("no CSRF token on the login page")
    return found.group(1)


def ids(url: str) -> dict[str, int]:
    """The ids the pages need: one published service of the district, the heavy resident."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        service_id = conn.execute(
            sa.text(
                "SELECT s.id FROM service s JOIN district d ON d.id = s.district_id "
                "WHERE d.slug = :d AND s.status = 'published' AND s.slug NOT LIKE 'bench-%' "
                "ORDER BY s.id LIMIT 1"
            ),
            {"d": DISTRICT},
        ).scalar_one()
        heavy_id = conn.execute(
            sa.text('SELECT id FROM "user" WHERE email = :e'), {"e": gen.HEAVY_EMAIL}
        ).scalar_one()
    engine.dispose()
    return {"service_id": int(service_id), "heavy_id": int(heavy_id)}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print a table of CPU ms per page, or one page's profile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="database of generated bench data")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page names")
    parser.add_argument("--profile", choices=list(PAGES), help="print a profile of one page")
    parser.add_argument(
        "--profiler",
        choices=("pyinstrument", "cprofile"),
        default="pyinstrument",
        help="call tree (pyinstrument) or functions by own time (cProfile)",
    )
    args = parser.parse_args(argv)

    known = ids(args.url)
    app, resident = platform_client(args.url)
    visitor = app.test_client()

    def platform_for(name: str) -> Any:
        return visitor if name in ANONYMOUS else resident

    from bench.baseline import create_app as baseline_app

    baseline = baseline_app(args.url).test_client()

    def page_call(who: Any, path: str) -> Callable[[], Any]:
        def call() -> Any:
            response = who.get(path, base_url="https://localhost")
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
            return response

        return call

    if args.profile:
        call = page_call(platform_for(args.profile), PAGES[args.profile].format(**known))
        for _ in range(10):
            call()
        if args.profiler == "cprofile":
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.repeat):
                call()
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(45)
            return 0
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.repeat):
            call()
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        return 0

    print(
        "| page | platform CPU ms | baseline CPU ms | ratio (baseline / platform) "
        "| platform calls | baseline calls |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in [p.strip() for p in args.pages.split(",") if p.strip()]:
        platform_ms = measure(
            page_call(platform_for(name), PAGES[name].format(**known)), args.repeat
        )
        baseline_ms = measure(
            page_call(baseline, BASELINE_PAGES[name].format(**known)), args.repeat
        )
        ratio = baseline_ms / platform_ms if platform_ms else 0.0
        platform_calls = calls_per_request(
            page_call(platform_for(name), PAGES[name].format(**known))
        )
        baseline_calls = calls_per_request(
            page_call(baseline, BASELINE_PAGES[name].format(**known))
        )
        print(
            f"| {name} | {platform_ms:.2f} | {baseline_ms:.2f} | {ratio:.2f} "
            f"| {platform_calls:,} | {baseline_calls:,} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
