"""Many people confirm the last seats at once, through a real HTTP server and real sessions.

The app is served by werkzeug's threaded server on a loopback port; each person has a real
session cookie, walks the flow over HTTP, then all confirmations are fired together behind a
barrier. Exactly ``capacity`` bookings must be made; everyone else gets a clear 409.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from core.extensions import db
from core.models import Booking, Slot, User
from tests.support import factories as f
from tests.support.booking_web import borgo_service

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_RE = re.compile(r'name="idempotency_key"[^>]*value="([^"]+)"')
PEOPLE = 25
SEATS = 3


@dataclass
class Browser:
    """A minimal HTTP client that keeps Flask's session cookie, like a browser would."""

    port: int
    cookie: str
    history: list[int] = field(default_factory=list)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        """Send one request; returns status, headers and body (redirects are not followed)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": f"session={self.cookie}", "Accept-Language": "en"}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8")
            for value in response.headers.get_all("Set-Cookie") or []:
                if value.startswith("session="):
                    self.cookie = value.split(";", 1)[0].split("=", 1)[1]
            self.history.append(response.status)
            return response.status, dict(response.headers.items()), text
        finally:
            connection.close()


@pytest.fixture
def server(app: Flask) -> Iterator[BaseWSGIServer]:
    """The app on a real threaded loopback server (port chosen by the OS)."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


def session_cookie(app: Flask, person: User) -> str:
    """A signed session cookie logging ``person`` in (what Flask-Login stores after a login)."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    return serializer.dumps({"_user_id": person.get_id(), "_fresh": True})


def ready_to_confirm(browser: Browser, base: str, slot_id: int) -> dict[str, str]:
    """Walk steps 1-3 over HTTP; returns the confirmation form of the summary page."""
    status, _headers, page = browser.request("GET", base)
    assert status == 200, page
    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    status, _headers, page = browser.request(
        "POST", base, {"slot": str(slot_id), "csrf_token": token}
    )
    assert status == 302, page
    applicant = {"name": "Resident", "email": "resident@example.org", "csrf_token": token}
    status, _headers, page = browser.request("POST", f"{base}/applicant", applicant)
    assert status == 302, page
    status, _headers, page = browser.request("GET", f"{base}/summary")
    assert status == 200, page
    return {
        "csrf_token": CSRF_RE.search(page).group(1),  # type: ignore[union-attr]
        "idempotency_key": KEY_RE.search(page).group(1),  # type: ignore[union-attr]
        "consent": "y",
    }


def test_concurrent_confirmations_over_http_never_overbook(
    app: Flask, server: BaseWSGIServer
) -> None:
    svc = borgo_service()
    slot = f.slot(svc, capacity=SEATS)
    people = [f.user() for _ in range(PEOPLE)]
    db.session.commit()
    base = f"/borgo-test/services/{svc.id}/book"
    browsers = [Browser(server.server_port, session_cookie(app, p)) for p in people]
    forms = [ready_to_confirm(b, base, slot.id) for b in browsers]

    barrier = threading.Barrier(PEOPLE)
    results: list[tuple[int, dict[str, str], str] | BaseException | None] = [None] * PEOPLE

    def fire(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = browsers[index].request("POST", f"{base}/confirm", forms[index])
        except BaseException as exc:  # reported below
            results[index] = exc

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert not [r for r in results if isinstance(r, BaseException)], results

    answers = [r for r in results if isinstance(r, tuple)]
    statuses = sorted(status for status, _h, _b in answers)
    assert 500 not in statuses
    assert statuses.count(302) == SEATS, statuses
    assert statuses.count(409) == PEOPLE - SEATS, statuses
    for status, headers, body in answers:
        if status == 409:
            assert "This time is no longer available." in body
            assert 'role="alert"' in body
        else:
            assert headers["Location"].startswith("/me/bookings/")

    db.session.expire_all()
    assert db.session.scalar(select(Slot.taken).where(Slot.id == slot.id)) == SEATS
    booked = db.session.scalars(select(Booking).where(Booking.slot_id == slot.id)).all()
    assert len(booked) == SEATS
    assert all(b.status == "confirmed" for b in booked)
    winners = {h["Location"].rsplit("/", 1)[1] for s, h, _b in answers if s == 302}
    assert winners == {b.public_id for b in booked}  # no lost booking, no phantom one


def test_a_burst_of_identical_confirmations_books_once(app: Flask, server: BaseWSGIServer) -> None:
    """A nervous double (or quintuple) click: same session, same key, all at once."""
    svc = borgo_service()
    slot = f.slot(svc, capacity=SEATS)
    person = f.user()
    db.session.commit()
    base = f"/borgo-test/services/{svc.id}/book"
    browser = Browser(server.server_port, session_cookie(app, person))
    form = ready_to_confirm(browser, base, slot.id)
    clicks = 5
    barrier = threading.Barrier(clicks)
    results: list[tuple[int, dict[str, str], str] | BaseException | None] = [None] * clicks

    def click(index: int) -> None:
        twin = Browser(server.server_port, browser.cookie)
        try:
            barrier.wait(timeout=60)
            results[index] = twin.request("POST", f"{base}/confirm", form)
        except BaseException as exc:  # reported below
            results[index] = exc

    threads = [threading.Thread(target=click, args=(i,)) for i in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    answers = [r for r in results if isinstance(r, tuple)]
    assert len(answers) == clicks, results
    assert {status for status, _h, _b in answers} == {302}
    locations = {headers["Location"] for _s, headers, _b in answers}
    db.session.expire_all()
    [booking] = db.session.scalars(select(Booking).where(Booking.slot_id == slot.id)).all()
    assert locations == {f"/me/bookings/{booking.public_id}"}
    assert db.session.scalar(select(Slot.taken).where(Slot.id == slot.id)) == 1
