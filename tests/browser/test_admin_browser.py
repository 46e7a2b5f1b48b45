"""The admin dashboard and the beneficiary page in a real browser, checked with axe."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser

ADMIN = ("laura.conti@municipio9.example", "isola-municipio-2026")
RESIDENT = ("giulia.bianchi@residenti.example", "isola-residente-2026")


def _login(page: Any, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main button[type=submit]").first.click()
    page.wait_for_load_state()


def test_dashboard_shows_charts_and_passes_axe(new_page: Any) -> None:
    page = new_page("it")
    _login(page, *ADMIN)
    page.goto("/isola-garibaldi/admin/reports")
    assert "Isola-Garibaldi" in page.get_by_role("heading", level=1).inner_text()
    charts = page.locator("svg[role=img]")
    assert charts.count() == 7
    assert page.locator("svg[role=img] rect").count() > 60
    assert axe_violations(page) == []
    screenshot(page, "admin-reports-it")


def test_beneficiary_page_passes_axe(new_page: Any) -> None:
    page = new_page("it")
    _login(page, *RESIDENT)
    page.goto("/isola-garibaldi/beneficiary")
    assert page.get_by_label("Sei").count() == 1
    assert axe_violations(page) == []
