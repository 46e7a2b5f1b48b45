"""A resident with many bookings browses "my bookings" page by page in a real browser.

The two lists and their pagers pass axe's WCAG 2.1 A/AA rules and fit a 320 px screen; a pager
link is followed by keyboard. Runs on the shared SQLite live server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from core.extensions import db
from core.models import Booking
from tests.browser.helpers import Audit, database, log_in
from tests.support import factories as f
from tests.support.booking_web import borgo_service

pytestmark = pytest.mark.browser


def test_paging_through_many_bookings(new_page: Any, browser_app: Flask) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with database(browser_app) as session:
        svc = borgo_service(title_en="Aqua gym")
        person = f.user(locale="en")
        rows = []
        for days in [*range(1, 26), *range(-1, -146, -1)]:  # 25 ahead, 145 past (8 pages)
            slot = f.slot(svc, starts_at=now + timedelta(days=days, minutes=13))
            rows.append(
                Booking(
                    slot_id=slot.id,
                    service_id=svc.id,
                    user_id=person.id,
                    status="confirmed" if days > 0 else "attended",
                    applicant_email=person.email,
                )
            )
        db.session.add_all(rows)
        session.commit()
        ahead = [b.public_id for b in rows[:25]]
        past = [b.public_id for b in rows[25:]]
        email = person.email

    page = new_page("en")
    audit = Audit(page, "my-bookings")
    page.goto("/borgo-test/")
    log_in(page, email, f.PASSWORD)
    page.goto("/me/bookings")
    history = page.locator("section[aria-labelledby=past-title]")
    pager = history.get_by_role("navigation", name="Pages of the booking history")
    assert pager.get_by_role("link", name="Page 1", exact=True).get_attribute("aria-current") == (
        "page"
    )
    assert history.locator(f"a[href='/me/bookings/{past[0]}']").count() == 1
    audit.step("first-pages")

    pager.locator("a[rel=next]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/me/bookings?page=2#past-title")
    assert history.locator(f"a[href='/me/bookings/{past[20]}']").count() == 1
    assert history.locator(f"a[href='/me/bookings/{past[0]}']").count() == 0
    assert history.get_by_text("Bookings 21–40 of 145").count() == 1
    audit.step("history-page-2")

    pager.get_by_role("link", name="Page 8", exact=True).click()
    page.wait_for_url("**/me/bookings?page=8#past-title")
    assert history.locator(f"a[href='/me/bookings/{past[-1]}']").count() == 1
    upcoming = page.locator("section[aria-labelledby=upcoming-title]")
    upcoming.get_by_role("link", name="Page 2", exact=True).click()
    page.wait_for_url("**/me/bookings?upcoming_page=2&page=8#upcoming-title")
    assert upcoming.locator(f"a[href='/me/bookings/{ahead[-1]}']").count() == 1
    assert history.locator(f"a[href='/me/bookings/{past[-1]}']").count() == 1
    audit.step("last-pages")
    audit.assert_clean()
