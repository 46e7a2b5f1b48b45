"""Isola-Garibaldi's eligibility policy: the plain function, and the hook over the database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask_babel import force_locale

from core.models import BeneficiaryDeclaration
from districts.isola_garibaldi.policy import (
    ALLIANCE_EMPLOYEE,
    SME_EMPLOYEE,
    VAT_HOLDER,
    decide,
    email_domain,
)
from tests.support import factories

VALID_VAT = "01199250158"  # passes the Italian check digit (stdnum.it.iva)
INVALID_VAT = "01199250159"


@pytest.fixture
def english(app: Flask) -> Iterator[None]:
    """Messages in English for the duration of a test."""
    with app.test_request_context(), force_locale("en"):
        yield


@dataclass
class Employer:
    """The facts the policy reads of an employer."""

    alliance_member: bool = True
    size_class: str = "small"
    email_domain: str = "acme.example"
    email_domain_verified: bool = True


def test_vat_holder_with_a_valid_vat_number_waits_for_the_municipality(english: None) -> None:
    decision = decide(VAT_HOLDER, user_email="a@b.example", vat_number=VALID_VAT)
    assert decision.status == "pending"
    assert decision.beneficiary_class == VAT_HOLDER
    assert "workplace" in str(decision.reason)


def test_vat_holder_with_an_invalid_vat_number_is_rejected(english: None) -> None:
    for vat in (INVALID_VAT, "", "IT123", "abcdefghijk"):
        decision = decide(VAT_HOLDER, user_email="a@b.example", vat_number=vat)
        assert decision.status == "rejected", vat
        assert "VAT" in str(decision.reason)


def test_alliance_employee_with_the_verified_domain_is_approved(app: Flask) -> None:
    decision = decide(ALLIANCE_EMPLOYEE, user_email="Anna@ACME.example", employer=Employer())
    assert decision.status == "approved"


def test_alliance_employee_otherwise_waits(app: Flask) -> None:
    cases = [
        Employer(alliance_member=False),
        Employer(email_domain_verified=False),
        Employer(email_domain=""),
        None,
    ]
    for employer in cases:
        decision = decide(ALLIANCE_EMPLOYEE, user_email="anna@acme.example", employer=employer)
        assert decision.status == "pending", employer
    other_domain = decide(ALLIANCE_EMPLOYEE, user_email="anna@gmail.example", employer=Employer())
    assert other_domain.status == "pending"
    subdomain = decide(ALLIANCE_EMPLOYEE, user_email="anna@mail.acme.example", employer=Employer())
    assert subdomain.status == "pending"


def test_sme_employee_is_approved_only_for_micro_small_medium_with_verified_domain(
    app: Flask,
) -> None:
    for size in ("micro", "small", "medium"):
        employer = Employer(size_class=size, alliance_member=False)
        decision = decide(SME_EMPLOYEE, user_email="b@acme.example", employer=employer)
        assert decision.status == "approved", size
    large = decide(SME_EMPLOYEE, user_email="b@acme.example", employer=Employer(size_class="large"))
    assert large.status == "pending"
    unverified = Employer(email_domain_verified=False)
    assert decide(SME_EMPLOYEE, user_email="b@acme.example", employer=unverified).status == (
        "pending"
    )
    assert decide(SME_EMPLOYEE, user_email="b@acme.example", employer=None).status == "pending"


def test_an_unknown_class_is_rejected(app: Flask) -> None:
    assert decide("astronaut", user_email="a@b.example").status == "rejected"


def test_email_domain() -> None:
    assert email_domain("Anna.Rossi@NodoDigitale.example") == "nododigitale.example"
    assert email_domain("no-at-sign") == ""


def _declaration(district_id: int, **fields: object) -> BeneficiaryDeclaration:
    return BeneficiaryDeclaration(district_id=district_id, **fields)


def test_hook_answers_for_isola_with_employers_of_the_district(app: Flask) -> None:
    host = app.extensions["concilia"]
    config = host.districts["isola-garibaldi"]
    isola = factories.district("isola-garibaldi")
    elsewhere = factories.district("borgo-test")
    member = factories.organisation(
        isola, alliance_member=True, email_domain="acme.example", email_domain_verified=True
    )
    foreign = factories.organisation(
        elsewhere, alliance_member=True, email_domain="acme.example", email_domain_verified=True
    )
    person = factories.user("giorgio@acme.example")

    approved = host.hook.eligibility(
        user=person,
        district=config,
        declaration=_declaration(
            isola.id, beneficiary_class=ALLIANCE_EMPLOYEE, employer_id=member.id
        ),
    )
    assert approved.status == "approved"
    # An organisation of another district does not count as an Alliance member of Isola.
    other = host.hook.eligibility(
        user=person,
        district=config,
        declaration=_declaration(
            isola.id, beneficiary_class=ALLIANCE_EMPLOYEE, employer_id=foreign.id
        ),
    )
    assert other.status == "pending"
    rejected = host.hook.eligibility(
        user=person,
        district=config,
        declaration=_declaration(isola.id, beneficiary_class=VAT_HOLDER, vat_number=INVALID_VAT),
    )
    assert rejected.status == "rejected"


def test_hook_leaves_other_districts_to_their_policy(app: Flask) -> None:
    host = app.extensions["concilia"]
    borgo = factories.district("borgo-test")
    person = factories.user("giorgio@acme.example")
    decision = host.hook.eligibility(
        user=person,
        district=host.districts["borgo-test"],
        declaration=_declaration(borgo.id, beneficiary_class=VAT_HOLDER, vat_number=INVALID_VAT),
    )
    # Isola's rule would reject the invalid VAT number; the core default answers instead.
    assert decision.status == "pending"
