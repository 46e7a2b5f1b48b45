"""Checking pooled database connections before use, only when they have been idle a while.

SQLAlchemy's ``pool_pre_ping`` asks the server ``SELECT 1`` at every checkout: one more round
trip on every request (8.5 % of a worker's wall time while booking under contention, though
little CPU). A connection that went
back to the pool milliseconds ago is alive; the one that sat idle while the server restarted
or a firewall dropped it is not. So a connection is pinged only after
``CONCILIA_DB_PING_AFTER_IDLE_SECONDS`` idle (default 30; 0 pings at every checkout). A dead
one is replaced before the request uses it. A connection that dies within that window, or
mid-request, fails that request (503, nothing saved); SQLAlchemy then replaces every connection
of the pool, so a server restart costs each worker at most one failed request.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

IDLE_SINCE = "concilia_idle_since"


def needs_ping(idle_since: float | None, now: float, after_idle_seconds: float) -> bool:
    """Whether a connection back in the pool since ``idle_since`` must be checked at ``now``.

    >>> needs_ping(None, 100.0, 30), needs_ping(90.0, 100.0, 30), needs_ping(60.0, 100.0, 30)
    (False, False, True)
    >>> needs_ping(99.9, 100.0, 0)
    True
    """
    return idle_since is not None and now - idle_since >= after_idle_seconds


def install_idle_ping(engine: Engine, after_idle_seconds: float) -> None:
    """Ping ``engine``'s pooled connections at checkout once idle ``after_idle_seconds``."""

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if not needs_ping(record.info.get(IDLE_SINCE), time.monotonic(), after_idle_seconds):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: the pool replaces the connection
            raise DisconnectionError(f"pooled connection failed its ping: {error}") from error
        if not alive:
            raise DisconnectionError("pooled connection failed its ping")
