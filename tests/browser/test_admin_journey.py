"""The district admin's journey in a real browser: approve a beneficiary, open the dashboard.

A resident declares, on the district's beneficiary page, that she holds a VAT number (the
Isola-Garibaldi policy leaves that to the municipality to check). The demo admin of the
district logs in, opens the declarations queue from the admin home, approves hers, and opens
the dashboard (the reports with their charts). Every page passes axe and fits 320 px.

Needs the ``admin`` and ``eligibility`` blueprints (routes ``/<district>/admin/...`` and
``/<district>/beneficiary``).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core.models import BeneficiaryDeclaration, User
from districts.isola_garibaldi.config import DEMO_EMAILS, DEMO_PASSWORDS
from tests.browser.helpers import Audit, database, log_in, log_out
from tests.support import factories as f

pytestmark = pytest.mark.browser

DISTRICT = "isola-garibaldi"
RESIDENT = "piero.ferri@studioferri.example"
VALID_VAT = "12345670017"  # a valid office code (001) and check digit


def test_admin_approves_a_beneficiary_and_opens_the_dashboard(
    new_page: Any, browser_app: Flask
) -> None:
    with database(browser_app) as session:
        f.user(RESIDENT, full_name="Piero Ferri", locale="it")
        session.commit()

    # The resident declares: a VAT-number holder, to be checked by the municipality.
    resident = new_page("it")
    resident_audit = Audit(resident, "beneficiary")
    resident.goto(f"/{DISTRICT}/")
    log_in(resident, RESIDENT, f.PASSWORD)
    resident.goto(f"/{DISTRICT}/beneficiary")
    resident_audit.step("declare")
    resident.locator("#beneficiary_class").select_option("vat-holder")
    resident.locator("#vat_number").fill(VALID_VAT)
    resident.locator("main form button[type=submit]").last.click()
    resident.wait_for_url(f"**/{DISTRICT}/beneficiary")
    resident_audit.step("declared")
    with database(browser_app) as session:
        declaration = session.scalars(
            select(BeneficiaryDeclaration)
            .join(User, User.id == BeneficiaryDeclaration.user_id)
            .where(User.email == RESIDENT)
        ).one()
        assert declaration.status == "pending"
        declaration_id = declaration.id

    # The admin: the admin home from the header, the queue, the declaration, approve.
    page = new_page("it")
    audit = Audit(page, "admin")
    page.goto(f"/{DISTRICT}/")
    log_in(page, DEMO_EMAILS["admin"], DEMO_PASSWORDS["admin"])
    page.goto(f"/{DISTRICT}/")
    page.locator(f".district-nav a[href='/{DISTRICT}/admin/']").click()
    page.wait_for_url(f"**/{DISTRICT}/admin/")
    audit.step("home")
    page.locator(f"main a[href$='/{DISTRICT}/admin/beneficiaries']").first.click()
    page.wait_for_url("**/admin/beneficiaries")
    audit.step("declarations")
    page.locator(f"a[href$='/admin/beneficiaries/{declaration_id}']").click()
    page.wait_for_url(f"**/admin/beneficiaries/{declaration_id}")
    assert "Piero Ferri" in page.locator("main").inner_text()
    audit.step("declaration")
    page.locator("button[formaction$='/approve']").click()
    page.wait_for_load_state()
    audit.step("approved")
    with database(browser_app) as session:
        status = session.scalar(
            select(BeneficiaryDeclaration.status).where(BeneficiaryDeclaration.id == declaration_id)
        )
        assert status == "approved"

    # The dashboard: the district's reports, with their charts.
    page.goto(f"/{DISTRICT}/admin/")
    page.locator(f"main a[href$='/{DISTRICT}/admin/reports']").first.click()
    page.wait_for_url("**/admin/reports")
    assert page.locator("svg[role=img]").count() > 0
    audit.step("dashboard")
    log_out(page)

    # The resident sees the decision.
    resident.goto(f"/{DISTRICT}/beneficiary")
    resident_audit.step("approved")

    resident_audit.assert_clean()
    audit.assert_clean()
