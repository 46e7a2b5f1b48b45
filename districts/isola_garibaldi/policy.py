"""Isola-Garibaldi's eligibility policy, as a plain function over plain facts.

Three beneficiary classes are admitted:

* ``vat-holder`` — a VAT-number holder working in the district. A valid Italian VAT number
  makes the declaration ``pending``: the municipality checks that the workplace is in the
  district. An invalid number is ``rejected``.
* ``alliance-employee`` — an employee of an Alliance member. ``approved`` when the employer is
  an Alliance member of the district with a verified e-mail domain equal to the domain of the
  person's address; otherwise ``pending``.
* ``district-sme-employee`` — an employee of a micro, small or medium business registered in
  the district: ``approved`` with the same verified-domain match; otherwise ``pending``.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from stdnum.it import iva

from core.plugins import EligibilityDecision

VAT_HOLDER = "vat-holder"
SME_EMPLOYEE = "district-sme-employee"
ALLIANCE_EMPLOYEE = "alliance-employee"
CLASSES = (VAT_HOLDER, SME_EMPLOYEE, ALLIANCE_EMPLOYEE)
SME_SIZES = frozenset({"micro", "small", "medium"})


class Employer(Protocol):
    """What the policy reads of an employer (an :class:`~core.models.Organisation` fits)."""

    alliance_member: bool
    size_class: str
    email_domain: str
    email_domain_verified: bool


def email_domain(address: str) -> str:
    """The lower-cased domain of an e-mail address ("" if there is none)."""
    _, at, domain = (address or "").strip().rpartition("@")
    return domain.lower() if at else ""


def domain_matches(user_email: str, employer: Employer) -> bool:
    """Whether the employer's verified e-mail domain is exactly the domain of ``user_email``."""
    expected = (employer.email_domain or "").strip().lower()
    return (
        bool(expected) and employer.email_domain_verified and email_domain(user_email) == expected
    )


def decide(
    beneficiary_class: str,
    *,
    user_email: str,
    vat_number: str = "",
    employer: Employer | None = None,
) -> EligibilityDecision:
    """Decide a declaration of the Isola-Garibaldi district.

    ``employer`` is the declared employer **if it is registered in this district**, else None.
    """
    if beneficiary_class == VAT_HOLDER:
        if vat_number and iva.is_valid(vat_number):
            return EligibilityDecision(
                "pending",
                _l("The municipality will check that your workplace is in the district."),
                VAT_HOLDER,
            )
        return EligibilityDecision(
            "rejected", _l("This is not a valid Italian VAT number."), VAT_HOLDER
        )
    if beneficiary_class == ALLIANCE_EMPLOYEE:
        if (
            employer is not None
            and employer.alliance_member
            and domain_matches(user_email, employer)
        ):
            return EligibilityDecision(
                "approved",
                _l("Your work address confirms you are employed by an Alliance member."),
                ALLIANCE_EMPLOYEE,
            )
        return EligibilityDecision(
            "pending",
            _l("The municipality will check your employment with an Alliance member."),
            ALLIANCE_EMPLOYEE,
        )
    if beneficiary_class == SME_EMPLOYEE:
        if (
            employer is not None
            and employer.size_class in SME_SIZES
            and domain_matches(user_email, employer)
        ):
            return EligibilityDecision(
                "approved",
                _l("Your work address confirms you are employed by a business of the district."),
                SME_EMPLOYEE,
            )
        return EligibilityDecision(
            "pending",
            _l("The municipality will check your employment with a business of the district."),
            SME_EMPLOYEE,
        )
    return EligibilityDecision(
        "rejected", _l("The district does not admit this kind of beneficiary."), beneficiary_class
    )


def employer_in_district(declaration: Any, district_slug: str) -> Any:
    """The declared employer as an Organisation row, if it belongs to district ``district_slug``."""
    employer_id = getattr(declaration, "employer_id", None)
    if not employer_id:
        return None
    from core.extensions import db
    from core.models import District, Organisation

    organisation = db.session.get(Organisation, employer_id)
    if organisation is None:
        return None
    district_id = db.session.query(District.id).filter_by(slug=district_slug).scalar()
    return organisation if organisation.district_id == district_id else None
