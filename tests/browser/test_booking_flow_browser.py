"""The booking stepper in a real browser: by keyboard alone with JavaScript off, and its error
states checked with axe (errors are announced: an alert summary linking to each field).

Runs once, on the shared SQLite live server (PostgreSQL is covered by the integration tests);
the data are made with the factories on the ``borgo-test`` district of the test plugins.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from core.models import Booking
from tests.browser.helpers import Audit, database, log_in
from tests.support import factories as f
from tests.support.booking_factories import booking_in
from tests.support.booking_web import borgo_service

pytestmark = pytest.mark.browser


def test_booking_by_keyboard_alone_without_javascript(new_page: Any, browser_app: Flask) -> None:
    with database(browser_app) as session:
        svc = borgo_service(title_en="Stretching", max_seats_per_booking=2)
        slot = f.slot(svc, capacity=4)
        person = f.user(full_name="Giulia Verdi", locale="en")
        session.commit()
        service_id, slot_id, email, person_id = svc.id, slot.id, person.email, person.id
    page = new_page("en", javascript=False)
    page.goto("/borgo-test/")
    log_in(page, email, f.PASSWORD)

    page.goto(f"/borgo-test/services/{service_id}/book")
    assert page.locator("[aria-current=step]").inner_text().startswith("1")
    page.locator(f"#slot-{slot_id}").focus()
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
    assert page.locator("#seats").get_attribute("aria-invalid") == "true"
    page.locator("#seats").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
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

    with database(browser_app) as session:
        [booking] = session.scalars(select(Booking).where(Booking.user_id == person_id)).all()
        assert (booking.status, booking.seats) == ("confirmed", 2)
        assert page.url.endswith(f"/me/bookings/{booking.public_id}")


def test_booking_error_states_and_follow_up_pages_pass_axe(
    new_page: Any, browser_app: Flask
) -> None:
    with database(browser_app) as session:
        svc = borgo_service(price_cents=900, max_seats_per_booking=2, requires_approval=True)
        slot = f.slot(svc, capacity=3)
        full = f.slot(svc, capacity=1, starts_in=timedelta(days=3))
        booking_in(full, "confirmed")
        person = f.user(locale="en")
        staff = f.staff(svc.organisation, locale="en")
        past = booking_in(f.slot(svc, starts_in=timedelta(days=-1)), "attended", person)
        session.commit()
        service_id, slot_id, past_id = svc.id, slot.id, past.public_id
        emails = person.email, staff.email
        day = slot.starts_at.astimezone(ZoneInfo("Europe/Rome")).date().isoformat()

    page = new_page("en")
    audit = Audit(page, "booking-errors")
    page.goto("/borgo-test/")
    log_in(page, emails[0], f.PASSWORD)
    page.goto(f"/borgo-test/services/{service_id}/book")
    page.get_by_role("button", name="Next").click()  # nothing chosen: the error summary
    assert page.locator("[role=alert] a[href='#slot-choices']").count() == 1
    audit.step("time-missing")
    page.locator(f"label[for=slot-{slot_id}]").click()
    page.get_by_role("button", name="Next").click()
    page.locator("#seats").fill("9")
    page.get_by_role("button", name="Next").click()
    audit.step("seats-too-many")
    page.locator("#seats").fill("1")
    page.get_by_role("button", name="Next").click()
    page.locator("#email").fill("wrong")
    page.get_by_role("button", name="Next").click()
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    audit.step("email-wrong")
    page.locator("#email").fill("person@example.org")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/summary")
    page.get_by_role("button", name="Confirm the booking").click()
    audit.step("consent-missing")
    page.locator("label[for=consent]").click()
    page.get_by_role("button", name="Confirm the booking").click()
    page.wait_for_url("**/me/bookings/*")
    audit.step("pending")
    page.goto(f"/me/bookings/{past_id}")
    audit.step("rating")
    page.goto("/me/calendar")
    audit.step("calendar")

    provider = new_page("en")
    provider_audit = Audit(provider, "booking-provider")
    provider.goto("/borgo-test/")
    log_in(provider, emails[1], f.PASSWORD)
    provider.goto(f"/borgo-test/provider/bookings?day={day}")
    provider_audit.step("bookings")

    audit.assert_clean()
    provider_audit.assert_clean()
