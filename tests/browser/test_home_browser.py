"""The home page in a real browser: languages, the switcher, accessibility, phone width."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import PHONE, axe_violations, screenshot

pytestmark = pytest.mark.browser


def test_home_page_in_italian_passes_axe(new_page: Any) -> None:
    page = new_page("it")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "it"
    assert (
        page.get_by_role("heading", level=1).inner_text() == "Servizi di welfare nel tuo quartiere"
    )
    assert axe_violations(page) == []
    screenshot(page, "home-it-desktop")


def test_language_switcher_changes_the_page_to_english(new_page: Any) -> None:
    page = new_page("it")
    page.goto("/")
    page.get_by_role("button", name="ENG").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Welfare services in your neighbourhood"
    )
    page.goto("/")  # the choice is remembered
    assert page.locator("html").get_attribute("lang") == "en"


def test_home_page_fits_a_phone_screen(new_page: Any) -> None:
    page = new_page("it", viewport=PHONE)
    page.goto("/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, "home-it-phone")
