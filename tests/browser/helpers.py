"""Helpers for the browser journeys: a per-step audit (axe, 320 px, screenshots), logins, mail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pprint import pformat
from typing import Any

from flask import Flask
from sqlalchemy import select

from core.extensions import db
from core.models import OutboxMessage
from tests.browser.conftest import DESKTOP, axe_violations, screenshot

NARROWEST = {"width": 320, "height": 720}
#: The elements that stick out on the right, outside any scrolling box (to name the culprit).
WIDE_ELEMENTS = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const scrolls = (e) => {
    for (let p = e.parentElement; p; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > edge && !scrolls(e))
    .slice(0, 5).map(e => e.outerHTML.slice(0, 120));
}"""
VERIFY_LINK = re.compile(r"/verify/[A-Za-z0-9._~-]+")


@contextmanager
def database(app: Flask) -> Iterator[Any]:
    """The browser app's database session, for arranging data and checking what a step wrote."""
    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()


@dataclass
class Audit:
    """Checks every page a journey visits: axe (serious/critical), no overflow at 320 px.

    ``step(name)`` records the problems; ``assert_clean()`` fails the test listing all of them,
    so one run shows every page that needs fixing. With ``shots`` set, each step is also saved
    as a full-page screenshot at desktop and at 320 px width.
    """

    page: Any
    prefix: str
    shots: bool = False
    problems: dict[str, Any] = field(default_factory=dict)
    visited: list[str] = field(default_factory=list)

    def step(self, name: str) -> None:
        """Audit the page as it is now, under the step's ``name``."""
        self.page.wait_for_load_state()
        label = f"{self.prefix}-{len(self.visited) + 1:02d}-{name}"
        self.visited.append(f"{label} {self.page.url}")
        found = axe_violations(self.page)
        if found:
            self.problems[f"{label} axe"] = found
        if self.shots:
            screenshot(self.page, f"{label}-desktop")
        self.page.set_viewport_size(NARROWEST)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            wide = self.page.evaluate(WIDE_ELEMENTS)
            self.problems[f"{label} 320px"] = {"overflow": overflow, "elements": wide}
        if self.shots:
            screenshot(self.page, f"{label}-phone")
        self.page.set_viewport_size(DESKTOP)

    def assert_clean(self) -> None:
        """Fail with every axe violation and overflow the journey met."""
        assert not self.problems, pformat(self.problems, width=120)


def log_in(page: Any, email: str, password: str) -> None:
    """Log in through the header's personal-area button and the login form."""
    page.locator("[data-element=personal-area-login]").click()
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form[action$='/login'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("header form[action$='/logout']").count() == 1, page.url


def log_out(page: Any) -> None:
    """Log out with the header's button (a POST form with its CSRF token)."""
    page.locator("header form[action$='/logout'] button").click()
    page.wait_for_load_state()
    assert page.locator("header form[action$='/logout']").count() == 0


def verification_path(app: Flask, email: str) -> str:
    """The confirmation link's path in the last email the outbox holds for ``email``."""
    with database(app) as session:
        message = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message is not None, f"no email to {email}"
        found = VERIFY_LINK.search(message.body_text)
        assert found, message.body_text
        return found.group(0)
