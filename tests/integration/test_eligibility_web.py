"""Beneficiary declarations: each eligibility path through the Isola-Garibaldi policy hook,
admin decisions (audited, mailed), re-submission, and what the resident sees."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from core.booking.engine import book
from core.booking.errors import BookingRefused
from core.extensions import db
from core.models import BeneficiaryDeclaration
from tests.support import admin_factories as af
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.web import submit

ISOLA = "isola-garibaldi"
EN = {"Accept-Language": "en"}


def _declare(client: FlaskClient, **data: str) -> object:
    return submit(client, f"/{ISOLA}/beneficiary", data, headers=EN)


def _row(user_id: int) -> BeneficiaryDeclaration:
    db.session.expire_all()
    row = db.session.query(BeneficiaryDeclaration).filter_by(user_id=user_id).one()
    return row


def test_alliance_employee_with_verified_domain_is_approved_automatically(app, client) -> None:
    district = f.district(ISOLA)
    org = f.organisation(
        district, alliance_member=True, email_domain="coop.example", email_domain_verified=True
    )
    person = f.user("ada@coop.example")
    db.session.commit()
    login_as(client, person)
    response = _declare(client, beneficiary_class="alliance-employee", employer_id=str(org.id))
    assert response.status_code == 302
    row = _row(person.id)
    assert (row.status, row.employer_id, row.employer_name) == ("approved", org.id, org.name)
    assert row.decided_at is not None
    page = client.get(f"/{ISOLA}/beneficiary", headers=EN).get_data(as_text=True)
    assert 'data-status="approved"' in page and "Alliance member" in page
    assert "eligibility.declare" in af.audit_actions(subject_user_id=person.id)


def test_invalid_vat_number_is_rejected_with_the_reason_shown(app, client) -> None:
    f.district(ISOLA)
    person = f.user()
    db.session.commit()
    login_as(client, person)
    _declare(client, beneficiary_class="vat-holder", vat_number=af.INVALID_VAT)
    row = _row(person.id)
    assert row.status == "rejected"
    page = client.get(f"/{ISOLA}/beneficiary", headers=EN).get_data(as_text=True)
    assert 'data-status="rejected"' in page and "not a valid Italian VAT number" in page


def test_valid_vat_number_waits_then_admin_approves(app, client) -> None:
    district = f.district(ISOLA)
    person = f.user("vat@example.org", locale="en")
    admin = f.district_admin(district)
    db.session.commit()
    login_as(client, person)
    _declare(client, beneficiary_class="vat-holder", vat_number=af.VALID_VAT)
    row = _row(person.id)
    assert (row.status, row.vat_number) == ("pending", af.VALID_VAT)

    login_as(client, admin)
    queue = client.get(f"/{ISOLA}/admin/beneficiaries", headers=EN).get_data(as_text=True)
    assert person.full_name in queue
    path = f"/{ISOLA}/admin/beneficiaries/{row.id}"
    response = submit(client, f"{path}/approve", {"reason": ""}, page=path)
    assert response.status_code == 302
    row = _row(person.id)
    assert (row.status, row.decided_by_id) == ("approved", admin.id)
    assert "eligibility.approve" in af.audit_actions(actor_id=admin.id)
    assert "personal_data.view" in af.audit_actions(actor_id=admin.id, subject_user_id=person.id)
    mails = af.outbox_to("vat@example.org")
    assert [m.subject for m in mails] == ["Your beneficiary declaration is approved"]


def test_admin_rejection_needs_a_reason_and_resident_may_declare_again(app, client) -> None:
    district = f.district(ISOLA)
    person = f.user()
    admin = f.district_admin(district)
    db.session.commit()
    login_as(client, person)
    _declare(client, beneficiary_class="alliance-employee", employer_name="Unknown Ltd")
    row = _row(person.id)
    assert row.status == "pending" and row.employer_id is None

    login_as(client, admin)
    path = f"/{ISOLA}/admin/beneficiaries/{row.id}"
    assert submit(client, f"{path}/reject", {"reason": "  "}, page=path).status_code == 422
    assert _row(person.id).status == "pending"
    submit(client, f"{path}/reject", {"reason": "No contract shown"}, page=path)
    row = _row(person.id)
    assert (row.status, row.reason) == ("rejected", "No contract shown")
    assert "eligibility.reject" in af.audit_actions(actor_id=admin.id)
    # deciding twice is a conflict
    assert submit(client, f"{path}/approve", {}, page=path).status_code == 409

    login_as(client, person)
    page = client.get(f"/{ISOLA}/beneficiary", headers=EN).get_data(as_text=True)
    assert "No contract shown" in page and "Declare again" in page
    _declare(client, beneficiary_class="vat-holder", vat_number=af.VALID_VAT)
    row = _row(person.id)
    assert (row.status, row.beneficiary_class, row.reason != "No contract shown") == (
        "pending",
        "vat-holder",
        True,
    )
    assert db.session.query(BeneficiaryDeclaration).filter_by(user_id=person.id).count() == 1


def test_an_approved_beneficiary_cannot_redeclare_and_bad_input_is_422(app, client) -> None:
    district = f.district(ISOLA)
    other = f.district("borgo-test")
    foreign = f.organisation(other)
    person = f.user()
    af.declaration(person, district.id, status="approved", beneficiary_class="vat-holder")
    fresh = f.user()
    db.session.commit()
    login_as(client, person)
    response = _declare(client, beneficiary_class="vat-holder", vat_number=af.VALID_VAT)
    assert response.status_code == 302 and _row(person.id).status == "approved"
    login_as(client, fresh)
    assert _declare(client, beneficiary_class="nobody").status_code == 422
    response = _declare(client, beneficiary_class="alliance-employee", employer_id=str(foreign.id))
    assert response.status_code == 422
    assert db.session.query(BeneficiaryDeclaration).filter_by(user_id=fresh.id).count() == 0


def test_district_without_policy_leaves_declarations_pending(app, client) -> None:
    f.district("borgo-test")
    person = f.user()
    db.session.commit()
    login_as(client, person)
    submit(client, "/borgo-test/beneficiary", {"beneficiary_class": "resident-worker"}, headers=EN)
    assert _row(person.id).status == "pending"
    profile = client.get("/profile", headers=EN).get_data(as_text=True)
    assert 'data-beneficiary-status="pending"' in profile and "Borgo Test" in profile


def test_beneficiaries_only_service_needs_an_approved_declaration(app) -> None:
    district = f.district(ISOLA)
    svc = f.service(f.organisation(district), beneficiaries_only=True)
    slot = f.slot(svc)
    person = f.user()
    row = af.declaration(person, district.id, status="pending", beneficiary_class="vat-holder")
    db.session.commit()
    with pytest.raises(BookingRefused) as refused:
        book(user=person, slot_id=slot.id)
    assert "not_eligible" in refused.value.codes
    row.status = "approved"
    db.session.commit()
    assert book(user=person, slot_id=slot.id).status == "confirmed"
