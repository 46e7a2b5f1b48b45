"""The provider's journey in a real browser: publish a service, approve a booking, mark it attended.

The demo staff member of Officina Lavoro logs in, creates a service that needs approval, adds
weekly opening hours and publishes it. A resident books one of the new times (through the
booking engine: the resident's side has its own journey), the provider approves the booking
from the day's list, and, once the session has started, marks it attended. Every page passes
axe and fits 320 px.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from core.booking.engine import book
from core.models import Booking, Service, Slot, User
from core.models.types import utcnow
from districts.isola_garibaldi.config import DEMO_EMAILS, DEMO_PASSWORDS
from tests.browser.helpers import Audit, database, log_in, log_out

pytestmark = pytest.mark.browser

DISTRICT = "isola-garibaldi"
TITLE_IT = "Consulenza sul curriculum"
TITLE_EN = "CV review session"


def test_provider_publishes_approves_and_marks_attended(new_page: Any, browser_app: Flask) -> None:
    page = new_page("it")
    audit = Audit(page, "provider")
    page.goto(f"/{DISTRICT}/")
    log_in(page, DEMO_EMAILS["provider"], DEMO_PASSWORDS["provider"])

    # The provider area, from the district's header.
    page.goto(f"/{DISTRICT}/")
    page.locator(f".district-nav a[href='/{DISTRICT}/provider/']").click()
    page.wait_for_url(f"**/{DISTRICT}/provider/")
    audit.step("dashboard")

    # A new service that needs the provider's approval of each booking.
    page.locator("a[href$='/officina-lavoro/services/new']").click()
    page.locator("#category").select_option("work")
    page.locator("#title_it").fill(TITLE_IT)
    page.locator("#title_en").fill(TITLE_EN)
    page.locator("#description_en").fill("Thirty minutes with a careers adviser.")
    page.locator("label[for=requires_approval]").click()
    audit.step("new-service")
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_url("**/schedule")
    audit.step("schedule")
    with database(browser_app) as session:
        service_id = session.scalar(select(Service.id).where(Service.title_en == TITLE_EN))
        assert service_id is not None

    # Opening hours for the day after tomorrow, then publish.
    weekday = (utcnow() + timedelta(days=2)).weekday()
    page.locator("#weekday").select_option(str(weekday))
    page.locator("#start").fill("10:00")
    page.locator("#end").fill("12:00")
    page.locator("#slot_minutes").fill("30")
    page.locator("#seats").fill("2")
    page.locator(f"form[action$='/services/{service_id}/hours'] button[type=submit]").click()
    page.wait_for_url("**/schedule")
    assert page.locator(f"form[action*='/services/{service_id}/hours/']").count() == 1
    page.goto(f"/{DISTRICT}/provider/")
    page.locator(f"form[action$='/services/{service_id}/publish'] button").click()
    page.wait_for_load_state()
    audit.step("published")

    # A resident books the first time; the booking waits for the provider.
    with database(browser_app) as session:
        service = session.get(Service, service_id)
        assert service is not None and service.status == "published"
        slot = session.scalars(
            select(Slot).where(Slot.service_id == service_id).order_by(Slot.starts_at)
        ).first()
        assert slot is not None
        resident = session.scalar(select(User).where(User.email == DEMO_EMAILS["resident"]))
        assert resident is not None
        booking = book(user=resident, slot_id=slot.id)
        assert booking.status == "pending"
        public_id = booking.public_id
        day = slot.starts_at.astimezone(ZoneInfo("Europe/Rome"))

    page.goto(f"/{DISTRICT}/provider/bookings?day={day.date().isoformat()}")
    row = page.locator(f"#booking-{public_id}")
    assert "Giulia Bianchi" in row.inner_text()
    audit.step("bookings-pending")
    row.locator("form[action$='/approve'] button").click()
    page.wait_for_load_state()
    assert "Prenotazione approvata." in page.content()
    audit.step("bookings-approved")

    # The session starts (its time is moved to the last hour), and the resident came.
    with database(browser_app) as session:
        booking = session.scalar(select(Booking).where(Booking.public_id == public_id))
        assert booking is not None and booking.status == "confirmed"
        now = utcnow()
        booking.slot.starts_at, booking.slot.ends_at = now - timedelta(minutes=40), now
        session.commit()
        local_day = booking.slot.starts_at.astimezone(ZoneInfo("Europe/Rome")).date()
    page.goto(f"/{DISTRICT}/provider/bookings?day={local_day.isoformat()}")
    page.locator(f"#booking-{public_id} form[action$='/attended'] button").click()
    page.wait_for_load_state()
    assert "Segnata come presente." in page.content()
    audit.step("bookings-attended")
    with database(browser_app) as session:
        assert session.scalar(select(Booking.status).where(Booking.public_id == public_id)) == (
            "attended"
        )

    log_out(page)
    audit.assert_clean()
