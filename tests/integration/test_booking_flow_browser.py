"""The booking flow in a real browser: by keyboard with JavaScript off, and axe-core checks.

The app runs on a loopback server; Debian's Chromium (``/usr/bin/chromium``) is driven by
Playwright. A missing browser fails the test: it is never skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from core.extensions import db
from core.models import Booking, User
from tests.support import factories as f
from tests.support.booking_factories import booking_in
from tests.support.booking_web import borgo_service

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "core/static/vendor/axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app on a real loopback port; yields its base URL."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def logged_in_page(
    chromium: Any, app: Flask, base_url: str, person: User, *, javascript: bool
) -> Any:
    """A page of a fresh browser context whose session cookie logs ``person`` in."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookie = serializer.dumps({"_user_id": person.get_id(), "_fresh": True})
    context = chromium.new_context(
        base_url=base_url,
        java_script_enabled=javascript,
        locale="en",
        extra_http_headers={"Accept-Language": "en"},
    )
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "session", "value": cookie, "url": base_url}])
    return context.new_page()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the page."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;window.__axe = axe;")
    result = page.evaluate(
        """async () => await window.__axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
        })"""
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_booking_by_keyboard_without_javascript(app: Flask, live: str, chromium: Any) -> None:
    svc = borgo_service(title_en="Stretching", max_seats_per_booking=2)
    slot = f.slot(svc, capacity=4)
    person = f.user(full_name="Giulia Verdi", locale="en")
    db.session.commit()
    page = logged_in_page(chromium, app, live, person, javascript=False)

    page.goto(f"/borgo-test/services/{svc.id}/book")
    assert page.locator("[aria-current=step]").inner_text().startswith("1")
    page.locator(f"#slot-{slot.id}").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")  # implicit submission of the step's form
    page.wait_for_url("**/details")

    seats = page.locator("#seats")
    seats.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Choose between 1 and 2 places." in page.locator("[role=alert]").first.inner_text()
    page.locator("#seats").fill("2")
    page.keyboard.press("Enter")
    page.wait_for_url("**/applicant")

    assert page.locator("#name").input_value() == "Giulia Verdi"
    page.locator("#name").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/summary")

    submit = page.get_by_role("button", name="Confirm the booking")
    submit.focus()
    page.keyboard.press("Enter")  # without the consent
    page.wait_for_load_state()
    assert "You must accept the privacy notice" in page.locator("[role=alert]").first.inner_text()
    page.locator("#consent").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/me/bookings/*")
    assert "Your booking is confirmed." in page.content()

    db.session.expire_all()
    [booking] = db.session.scalars(select(Booking)).all()
    assert (booking.status, booking.seats, booking.user_id) == ("confirmed", 2, person.id)
    assert page.url.endswith(f"/me/bookings/{booking.public_id}")


def test_booking_pages_pass_axe(app: Flask, live: str, chromium: Any) -> None:
    svc = borgo_service(price_cents=900, max_seats_per_booking=2, requires_approval=True)
    slot = f.slot(svc, capacity=3)
    full = f.slot(svc, capacity=1, starts_in=timedelta(days=3))
    booking_in(full, "confirmed")
    person = f.user(locale="en")
    staff = f.staff(svc.organisation, locale="en")
    past = booking_in(f.slot(svc, starts_in=timedelta(days=-1)), "attended", person)
    db.session.commit()
    page = logged_in_page(chromium, app, live, person, javascript=True)
    checked: dict[str, list[dict[str, Any]]] = {}

    page.goto(f"/borgo-test/services/{svc.id}/book")
    page.get_by_role("button", name="Next").click()  # nothing chosen: the error summary
    checked["step 1 with errors"] = axe_violations(page)
    page.locator(f"label[for=slot-{slot.id}]").click()
    page.get_by_role("button", name="Next").click()
    page.locator("#seats").fill("9")
    page.get_by_role("button", name="Next").click()
    checked["step 2 with errors"] = axe_violations(page)
    page.locator("#seats").fill("1")
    page.get_by_role("button", name="Next").click()
    page.locator("#email").fill("wrong")
    page.get_by_role("button", name="Next").click()
    checked["step 3 with errors"] = axe_violations(page)
    page.locator("#email").fill("person@example.org")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/summary")
    page.get_by_role("button", name="Confirm the booking").click()
    checked["summary with errors"] = axe_violations(page)
    page.locator("label[for=consent]").click()
    page.get_by_role("button", name="Confirm the booking").click()
    page.wait_for_url("**/me/bookings/*")
    checked["confirmation"] = axe_violations(page)
    page.goto("/me/bookings")
    checked["my bookings"] = axe_violations(page)
    page.goto(f"/me/bookings/{past.public_id}")
    checked["rating"] = axe_violations(page)
    page.goto("/me/calendar")
    checked["calendar"] = axe_violations(page)

    provider = logged_in_page(chromium, app, live, staff, javascript=True)
    day = slot.starts_at.date().isoformat()
    provider.goto(f"/borgo-test/provider/bookings?day={day}")
    checked["provider bookings"] = axe_violations(provider)

    assert {name: found for name, found in checked.items() if found} == {}
