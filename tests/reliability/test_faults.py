"""The database fails in the middle of a booking: nothing half-written, a clear error, a retry.

The fault strikes on the ``INSERT INTO booking``, after the seat claim has run in the same
transaction: on PostgreSQL the connection is really killed (``pg_terminate_backend``); on
SQLite an ``OperationalError`` is raised there (SQLite has no server to lose).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from core.booking import book
from core.extensions import db
from core.models import Booking, OutboxMessage, Slot
from tests.support import factories as f
from tests.support.booking_web import base, borgo_service, key_of, logged_in, walk_to_summary
from tests.support.web import csrf_token


def counts(slot_id: int) -> tuple[int, int, int]:
    """(seats taken, booking rows, outbox rows), read fresh."""
    db.session.expire_all()
    taken = db.session.scalar(select(Slot.taken).where(Slot.id == slot_id))
    bookings = db.session.scalar(select(func.count(Booking.id)))
    mails = db.session.scalar(select(func.count(OutboxMessage.id)))
    return int(taken or 0), int(bookings or 0), int(mails or 0)


@contextmanager
def fault_on(table: str, kind: str = "drop") -> Iterator[list[str]]:
    """Make the next ``INSERT INTO <table>`` fail: connection dropped, or a constraint error."""
    struck: list[str] = []
    engine = db.engine

    def strike(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if struck or not statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            return
        struck.append(statement)
        if kind == "constraint":
            raise IntegrityError(statement, {}, Exception("injected constraint violation"))
        if engine.dialect.name == "postgresql":
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with engine.connect() as killer:
                killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                killer.commit()
            return  # the INSERT now runs on a dead connection
        raise OperationalError(statement, {}, Exception("disk I/O error (injected)"))

    event.listen(engine, "before_cursor_execute", strike)
    try:
        yield struck
    finally:
        event.remove(engine, "before_cursor_execute", strike)


def _confirm(client: FlaskClient, svc: Any, key: str) -> Any:
    data = {"idempotency_key": key, "consent": "y", "csrf_token": csrf_token(client, "/")}
    return client.post(f"{base(svc)}/confirm", data=data, headers={"Accept-Language": "en"})


def test_connection_lost_mid_booking_leaves_nothing_and_the_retry_books(
    app: Flask, client: FlaskClient
) -> None:
    svc = borgo_service()
    slot = f.slot(svc, capacity=2)
    db.session.commit()
    logged_in(client)
    key = key_of(walk_to_summary(client, svc, slot))
    before = counts(slot.id)
    with fault_on("booking") as struck:
        response = _confirm(client, svc, key)
    assert struck, "the fault never struck"
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "nothing has been saved" in page and "try again" in page
    assert counts(slot.id) == before == (0, 0, 0)
    # the resident simply submits again: the pool has a fresh connection
    retry = _confirm(client, svc, key)
    assert retry.status_code == 302, retry.get_data(as_text=True)
    assert counts(slot.id)[:2] == (1, 1)
    assert client.get(retry.headers["Location"]).status_code == 200


def test_a_constraint_error_after_the_seat_claim_rolls_everything_back(
    app: Flask,
) -> None:
    svc = borgo_service()
    slot = f.slot(svc, capacity=1)
    person = f.user()
    db.session.commit()
    with fault_on("outbox_message", kind="constraint") as struck, pytest.raises(IntegrityError):
        book(user=person, slot_id=slot.id, idempotency_key="k" * 20)
    db.session.rollback()
    assert struck
    # the booking written before the fault left the session with its row (SQLite may give
    # the next booking the same id: a leftover would clash with it)
    assert [o for o in db.session.identity_map.values() if isinstance(o, Booking)] == []
    assert counts(slot.id) == (0, 0, 0)
    booking = book(user=person, slot_id=slot.id, idempotency_key="k" * 20)
    assert booking.status == "confirmed"
    assert counts(slot.id) == (1, 1, 1)


def test_healthz_reports_an_unreachable_database(app: Flask, tmp_path: Any) -> None:
    from core import create_app
    from tests.conftest import base_config

    broken = create_app(
        base_config("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2", tmp_path)
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}
    ok = app.test_client().get("/healthz")
    assert ok.status_code == 200 and ok.get_json()["database"] == "ok"
