"""Pooled connections are checked before use only after sitting idle (``core.db_pool``).

On PostgreSQL the connection is really killed (``pg_terminate_backend``) while it rests in the
pool. SQLite has no server to lose: nothing is installed there.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from core.db_pool import needs_ping
from core.extensions import db

MakeApp = Callable[..., Flask]


@pytest.mark.parametrize(
    ("idle_since", "now", "after", "expected"),
    [
        (None, 100.0, 30, False),  # a new connection
        (90.0, 100.0, 30, False),  # back in the pool 10 s ago
        (70.0, 100.0, 30, True),  # idle 30 s
        (99.99, 100.0, 0, True),  # 0: at every checkout
    ],
)
def test_which_connections_are_pinged(
    idle_since: float | None, now: float, after: float, expected: bool
) -> None:
    assert needs_ping(idle_since, now, after) is expected


def _kill_the_pooled_connection(app: Flask, url: str) -> None:
    """Terminate the server process of the app's one pooled connection, and wait for it."""
    with app.app_context():
        pid = db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        db.session.remove()  # back to the pool
    killer = sa.create_engine(url)
    with killer.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(100):
            alive = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
            if not alive:
                break
            time.sleep(0.02)
    killer.dispose()


def test_only_connections_idle_for_a_while_are_pinged(make_app: MakeApp, database_url: str) -> None:
    """A connection back in the pool a moment ago is used without a round trip, so if it died
    in that moment its request fails (503) and the next gets a new one; a connection idle
    longer than the setting is pinged at checkout, found dead and replaced unseen."""
    app = make_app(CONCILIA_DB_PING_AFTER_IDLE_SECONDS=1)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    if database_url.startswith("sqlite"):  # no server, no pool pings
        with app.app_context():
            assert len(db.engine.pool.dispatch.checkout) == 0
        assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        return

    _kill_the_pooled_connection(app, database_url)
    assert client.get("/healthz").status_code == 503  # used a moment ago: not pinged
    assert client.get("/healthz").status_code == 200  # the failed one was replaced

    _kill_the_pooled_connection(app, database_url)
    time.sleep(1.1)  # idle long enough
    assert client.get("/healthz").status_code == 200
