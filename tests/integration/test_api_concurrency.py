"""The booking concurrency test, through the API over real HTTP.

On PostgreSQL the app runs under gunicorn with several worker processes (each its own
connection pool); on SQLite under werkzeug's threaded server. Many people book the last seats
at once, each sending the same request twice with one Idempotency-Key. Exactly ``SEATS``
bookings must exist, each answered to its owner (no lost booking), nobody else gets one, and
no request fails with a 500.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from core.extensions import db
from core.models import Booking, Slot
from tests.support import factories as f
from tests.support.api import token_for
from tests.support.booking_factories import bookable

PEOPLE = 12
SEATS = 3
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One HTTP request; returns the status and the decoded JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        data = json.dumps(body) if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def wait_until_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the server until it answers (at most 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            if request(port, "GET", "/api/v1/districts")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


@pytest.fixture
def server_port(app: Flask, database_url: str, tmp_path: Path) -> Iterator[int]:
    """The app on a loopback port: gunicorn workers on PostgreSQL, threaded werkzeug on SQLite."""
    if database_url.startswith("postgresql"):
        port = free_port()
        env = {
            **os.environ,
            "CONCILIA_DATABASE_URL": database_url,
            "CONCILIA_SECRET_KEY": "gunicorn-test-secret",
            "CONCILIA_ENV": "testing",
            "CONCILIA_MAIL_MODE": "outbox",
            "CONCILIA_INSTANCE_PATH": str(tmp_path),
        }
        log = tmp_path / "gunicorn.log"
        log_file = log.open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "4",
                "--preload",
                "--graceful-timeout",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "core:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            wait_until_up(port, process, log)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=30)
            log_file.close()
    else:
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield httpd.server_port
        finally:
            httpd.shutdown()
            thread.join(timeout=10)
            httpd.server_close()


def test_concurrent_api_bookings_never_overbook_nor_lose_one(app: Flask, server_port: int) -> None:
    _svc, slot = bookable(capacity=SEATS)
    people = [f.user() for _ in range(PEOPLE)]
    db.session.commit()
    slot_id = slot.id
    tokens = [token_for(person) for person in people]
    calls = [(i, token, f"key-{i}") for i, token in enumerate(tokens) for _twice in range(2)]
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def fire(index: int, token: str, key: str) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = request(
                server_port,
                "POST",
                "/api/v1/bookings",
                {"slot_id": slot_id},
                {"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            )
        except BaseException as exc:  # reported below
            results[index] = exc

    threads = [threading.Thread(target=fire, args=(n, *call[1:])) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert not [r for r in results if isinstance(r, BaseException)], results

    statuses = [status for status, _body in results]
    assert 500 not in statuses, results
    assert set(statuses) <= {200, 201, 409}, results
    answered: dict[int, set[str]] = {}
    for (person, _token, _key), (status, body) in zip(calls, results, strict=True):
        if status in (200, 201):
            answered.setdefault(person, set()).add(body["id"])
        else:
            assert body["error"]["code"] == "slot_full", body
    assert all(len(ids) == 1 for ids in answered.values()), answered  # one booking per key
    db.session.expire_all()
    assert db.session.scalar(select(Slot.taken).where(Slot.id == slot.id)) == SEATS
    booked = db.session.scalars(select(Booking).where(Booking.slot_id == slot.id)).all()
    assert len(booked) == SEATS and all(b.status == "confirmed" for b in booked)
    by_person = {b.user_id: b.public_id for b in booked}
    assert {people[p].id: ids.pop() for p, ids in answered.items()} == by_person
