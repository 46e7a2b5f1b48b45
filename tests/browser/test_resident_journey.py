"""The resident's journey, in Italian and in English, in a real browser.

Sign up, confirm the address with the link from the outbox, log in, browse the district's
areas, book a service through the stepper, see the booking, download its .ics, cancel it, log
out. Every page passes axe's WCAG 2.1 A/AA rules (no serious or critical violation) and fits a
320 px screen; each step is saved as a screenshot at desktop and phone widths.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core.models import Booking, Service, User
from tests.browser.helpers import Audit, database, log_out, verification_path

pytestmark = pytest.mark.browser

DISTRICT = "isola-garibaldi"
#: Open to every resident, booked on the spot (no approval), several free times.
SERVICES = {"it": "Pilates in via Martignoni", "en": "Hatha yoga after work"}
TEXT = {
    "it": {
        "check_email": "Controlla la tua email",
        "confirmed": "Il tuo indirizzo email è confermato",
        "booked": "La tua prenotazione è confermata.",
        "cancelled": "La tua prenotazione è stata annullata.",
    },
    "en": {
        "check_email": "Check your email",
        "confirmed": "Your email address is confirmed",
        "booked": "Your booking is confirmed.",
        "cancelled": "Your booking has been cancelled.",
    },
}


def service_titled(app: Flask, title_en: str, locale: str) -> tuple[int, str, str]:
    """The demo service's id, its area and its title in ``locale``."""
    with database(app) as session:
        service = next(s for s in session.scalars(select(Service)) if s.title("en") == title_en)
        assert service.status == "published" and not service.requires_approval
        return service.id, service.category, service.title(locale)


@pytest.mark.parametrize("lang", ["it", "en"])
def test_resident_signs_up_books_downloads_and_cancels(
    lang: str, new_page: Any, browser_app: Flask, tmp_path: Any
) -> None:
    text = TEXT[lang]
    email = f"journey-{lang}@residenti.example"
    service_id, area, title = service_titled(browser_app, SERVICES[lang], lang)
    page = new_page(lang)
    audit = Audit(page, f"resident-{lang}", shots=True)

    # The portal's home, then the district.
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == lang
    for element in ("personal-area-login", "privacy-policy-link", "accessibility-link"):
        assert page.locator(f"[data-element={element}]").count() == 1, element
    audit.step("home")
    page.locator(f"a[data-element=service-booking-access][href^='/{DISTRICT}']").click()
    page.wait_for_url(f"**/{DISTRICT}/")
    audit.step("district")

    # Sign up from the login page.
    page.locator("[data-element=personal-area-login]").click()
    audit.step("login")
    page.locator("a[href$='/register']").last.click()
    page.locator("#full_name").fill("Chiara Esposito" if lang == "it" else "Clare Walsh")
    page.locator("#email").fill(email)
    page.locator("#password").fill("a-long-journey-password-2026")
    page.locator("#confirm").fill("a-long-journey-password-2026")
    page.locator("label[for=privacy]").click()
    audit.step("register")
    page.locator("form[action$='/register'] button[type=submit]").click()
    page.wait_for_url("**/check-email*")
    assert text["check_email"] in page.locator("h1").inner_text()
    audit.step("check-email")

    # Confirm the address with the link from the outbox, then log in.
    page.goto(verification_path(browser_app, email))
    page.wait_for_url("**/login*")
    assert text["confirmed"] in page.locator("[role=status], [role=alert]").first.inner_text()
    page.locator("#email").fill(email)
    page.locator("#password").fill("a-long-journey-password-2026")
    page.locator("form[action$='/login'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("header form[action$='/logout']").count() == 1
    audit.step("personal-area")

    # Browse: the district's home, an area from the header, the service.
    page.goto(f"/{DISTRICT}/")
    page.locator(f".district-nav a[href$='category={area}']").click()
    page.wait_for_url(f"**category={area}*")
    audit.step("area")
    page.locator(f"a[href$='/services/{service_id}']").first.click()
    page.wait_for_url(f"**/services/{service_id}")
    assert page.locator("h1").inner_text() == title
    audit.step("service")

    # Book through the stepper.
    page.locator("[data-element=service-booking-access]").click()
    page.wait_for_url("**/book")
    assert page.locator("[data-element=appointment-booking] [aria-current=step]").count() == 1
    audit.step("book-1-time")
    # The latest time offered: well before any cancellation deadline, whatever the hour now.
    page.locator("input[name=slot]:not([value^=waitlist]) + label").last.click()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/book/*")
    if page.url.endswith("/details"):
        audit.step("book-2-details")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url("**/applicant")
    assert page.locator("#email").input_value() == email
    audit.step("book-3-applicant")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/summary")
    audit.step("book-4-summary")
    page.locator("label[for=consent]").click()
    page.locator("form[action$='/confirm'] button[type=submit]").click()
    page.wait_for_url("**/me/bookings/*")
    assert text["booked"] in page.content()
    audit.step("booking")

    with database(browser_app) as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None and user.locale == lang
        [booking] = session.scalars(select(Booking).where(Booking.user_id == user.id)).all()
        assert (booking.status, booking.service_id) == ("confirmed", service_id)
        public_id = booking.public_id
    assert page.url.endswith(f"/me/bookings/{public_id}")

    # The .ics download.
    with page.expect_download() as info:
        page.locator(f"a[href$='/me/bookings/{public_id}.ics']").click()
    info.value.save_as(tmp_path / "booking.ics")
    calendar = (tmp_path / "booking.ics").read_text(encoding="utf-8")
    assert calendar.startswith("BEGIN:VCALENDAR")
    assert "BEGIN:VEVENT" in calendar and public_id in calendar

    # My bookings lists it; cancel it from its page.
    page.goto("/me/bookings")
    assert page.locator(f"a[href$='/me/bookings/{public_id}']").count() == 1
    audit.step("my-bookings")
    page.locator(f"a[href$='/me/bookings/{public_id}']").click()
    page.locator("form[action$='/cancel'] button[type=submit]").click()
    page.wait_for_load_state()
    assert text["cancelled"] in page.content()
    audit.step("cancelled")
    with database(browser_app) as session:
        assert session.scalar(select(Booking.status).where(Booking.public_id == public_id)) == (
            "cancelled"
        )

    log_out(page)
    audit.assert_clean()
