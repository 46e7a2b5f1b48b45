"""Beneficiary declarations: a resident declares, the district policy answers, an admin decides.

The policy is the district plugin's: :func:`declare` asks the ``eligibility`` hook (first
answer wins; the core default leaves the declaration pending for a district admin). Functions
here flush but never commit: the caller's transaction holds the declaration and its audit row.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.audit import record
from core.extensions import db
from core.models import BeneficiaryDeclaration, District, Organisation, User
from core.models.types import utcnow
from core.notifications.compose import mail_locale
from core.notifications.outbox import queue_mail
from core.plugins.types import BeneficiaryClass, DistrictConfig

STATUSES = ("pending", "approved", "rejected")
STATUS_LABELS = {
    "pending": _l("Waiting for the district's check"),
    "approved": _l("Approved beneficiary"),
    "rejected": _l("Not approved"),
}


class EligibilityError(Exception):
    """A declaration or decision the rules refuse; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Declared:
    """What a resident declares on the beneficiary page."""

    beneficiary_class: str
    vat_number: str = ""
    employer_id: int | None = None
    employer_name: str = ""


def classes(config: DistrictConfig) -> tuple[BeneficiaryClass, ...]:
    """The beneficiary classes the district's policy admits."""
    return config.beneficiary_classes


def class_name(config: DistrictConfig, slug: str) -> str:
    """The readable name of a class of the district (the slug if unknown)."""
    found = next((c for c in config.beneficiary_classes if c.slug == slug), None)
    return str(found.name) if found is not None else slug


def status(user: User, district: District) -> BeneficiaryDeclaration | None:
    """The resident's declaration in the district, if any."""
    return db.session.scalar(
        select(BeneficiaryDeclaration).where(
            BeneficiaryDeclaration.user_id == user.id,
            BeneficiaryDeclaration.district_id == district.id,
        )
    )


def employers(district: District) -> list[Organisation]:
    """The organisations registered in the district, by name (the employer choices)."""
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.district_id == district.id)
            .order_by(Organisation.name)
        )
    )


def declare(
    user: User, district: District, config: DistrictConfig, declared: Declared
) -> BeneficiaryDeclaration:
    """Record (or re-submit) a declaration and apply the district's policy to it. No commit.

    An approved declaration cannot be re-submitted (409); a pending or rejected one is
    replaced. Raises :class:`EligibilityError`.
    """
    if declared.beneficiary_class not in {c.slug for c in config.beneficiary_classes}:
        raise EligibilityError(_("Choose one of the classes of the district."), "beneficiary_class")
    employer: Organisation | None = None
    if declared.employer_id:
        employer = db.session.get(Organisation, declared.employer_id)
        if employer is None or employer.district_id != district.id:
            raise EligibilityError(_("Choose an organisation of the district."), "employer_id")
    row = status(user, district)
    if row is not None and row.status == "approved":
        raise EligibilityError(_("You are already an approved beneficiary."), status=409)
    if row is None:
        row = BeneficiaryDeclaration(user_id=user.id, district_id=district.id)
        db.session.add(row)
    row.beneficiary_class = declared.beneficiary_class
    row.vat_number = "".join(declared.vat_number.split()).upper()[:20]
    row.employer_id = employer.id if employer is not None else None
    row.employer_name = (employer.name if employer is not None else declared.employer_name)[:200]
    row.decided_by_id = None
    row.decided_at = None
    row.created_at = utcnow()
    db.session.flush()
    host = current_app.extensions["concilia"]
    decision = host.hook.eligibility(user=user, district=config, declaration=row)
    row.status = decision.status if decision is not None else "pending"
    row.reason = str(decision.reason)[:500] if decision is not None else ""
    if row.status != "pending":
        row.decided_at = utcnow()
    record(
        "eligibility.declare",
        actor=user,
        target_type="declaration",
        target_id=row.id,
        subject_user_id=user.id,
        district_id=district.id,
        details={"class": row.beneficiary_class, "status": row.status},
    )
    db.session.flush()
    return row


def declaration_in(district: District, declaration_id: int) -> BeneficiaryDeclaration | None:
    """The declaration with this id if it belongs to the district (else None)."""
    row = db.session.get(BeneficiaryDeclaration, declaration_id)
    return row if row is not None and row.district_id == district.id else None


def pending_declarations(district: District) -> list[BeneficiaryDeclaration]:
    """The declarations of the district waiting for an admin, oldest first."""
    return list(
        db.session.scalars(
            select(BeneficiaryDeclaration)
            .where(
                BeneficiaryDeclaration.district_id == district.id,
                BeneficiaryDeclaration.status == "pending",
            )
            .order_by(BeneficiaryDeclaration.created_at, BeneficiaryDeclaration.id)
        )
    )


def decide(
    declaration: BeneficiaryDeclaration, admin: User, *, approve: bool, reason: str = ""
) -> BeneficiaryDeclaration:
    """An admin approves or rejects a pending declaration (a rejection needs a reason). No commit.

    The resident is emailed the outcome; the decision is audited.
    """
    if declaration.status != "pending":
        raise EligibilityError(_("This declaration has already been decided."), status=409)
    reason = reason.strip()
    if not approve and not reason:
        raise EligibilityError(_("Say why the declaration is rejected."), "reason")
    declaration.status = "approved" if approve else "rejected"
    declaration.reason = reason[:500]
    declaration.decided_by_id = admin.id
    declaration.decided_at = utcnow()
    record(
        "eligibility.approve" if approve else "eligibility.reject",
        actor=admin,
        target_type="declaration",
        target_id=declaration.id,
        subject_user_id=declaration.user_id,
        district_id=declaration.district_id,
        details={"reason": declaration.reason},
    )
    _notify(declaration)
    db.session.flush()
    return declaration


def _notify(declaration: BeneficiaryDeclaration) -> None:
    user = declaration.user
    with force_locale(mail_locale(user.locale)):
        if declaration.status == "approved":
            subject = _("Your beneficiary declaration is approved")
            body = _(
                "The district has approved your declaration: "
                "you can book the services reserved to beneficiaries."
            )
        else:
            subject = _("Your beneficiary declaration was not approved")
            body = _(
                "The district did not approve your declaration. Reason: %(reason)s",
                reason=declaration.reason,
            )
        queue_mail(user.email, subject, body + "\n", kind="eligibility.decision")
