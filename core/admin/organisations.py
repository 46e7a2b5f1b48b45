"""Organisations of a district: create, edit, Alliance membership, e-mail domain, suspension."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import record
from core.booking.engine import cancel
from core.extensions import db
from core.models import LIVE_STATES, Booking, District, Organisation, Service, Slot, User
from core.models.catalogue import ORGANISATION_KINDS
from core.models.types import utcnow

SIZES = ("", "micro", "small", "medium", "large")
_DOMAIN = re.compile(r"^(?=.{3,120}$)[a-z0-9-]+(\.[a-z0-9-]+)+$")
_SLUG = re.compile(r"[^a-z0-9]+")


class AdminError(Exception):
    """A request the rules refuse; ``field`` names the form field, ``status`` the HTTP code."""

    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass(frozen=True)
class OrganisationData:
    """The editable facts of an organisation."""

    name: str
    kind: str = "company"
    size_class: str = ""
    alliance_member: bool = False
    is_provider: bool = True
    vat_number: str = ""
    email: str = ""
    email_domain: str = ""
    website: str = ""
    address: str = ""
    postcode: str = ""


def organisations_of(district: District) -> list[Organisation]:
    """The district's organisations, Alliance members first, then by name."""
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.district_id == district.id)
            .order_by(Organisation.alliance_member.desc(), Organisation.name)
        )
    )


def organisation_in(district: District, organisation_id: int) -> Organisation | None:
    """The organisation with this id if it belongs to the district."""
    row = db.session.get(Organisation, organisation_id)
    return row if row is not None and row.district_id == district.id else None


def _validate(data: OrganisationData) -> None:
    if not data.name.strip():
        raise AdminError(_("Give the organisation's name."), "name")
    if data.kind not in ORGANISATION_KINDS:
        raise AdminError(_("Choose a kind of organisation."), "kind")
    if data.size_class not in SIZES:
        raise AdminError(_("Choose a size."), "size_class")
    domain = data.email_domain.strip().lower()
    if domain and not _DOMAIN.match(domain):
        raise AdminError(_("Write a domain such as example.org."), "email_domain")


def _unique_slug(district: District, name: str, own_id: int | None = None) -> str:
    base = _SLUG.sub("-", name.lower()).strip("-")[:70] or "organisation"
    taken = set(
        db.session.scalars(
            select(Organisation.slug).where(
                Organisation.district_id == district.id, Organisation.id != (own_id or 0)
            )
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _apply(row: Organisation, data: OrganisationData) -> None:
    domain = data.email_domain.strip().lower()
    if domain != (row.email_domain or ""):
        row.email_domain_verified = False  # a new domain must be verified again
    row.name = data.name.strip()[:200]
    row.kind = data.kind
    row.size_class = data.size_class
    row.alliance_member = data.alliance_member
    row.is_provider = data.is_provider
    row.vat_number = data.vat_number.strip()[:20]
    row.email = data.email.strip()[:254]
    row.email_domain = domain
    row.website = data.website.strip()[:300]
    row.address = data.address.strip()[:300]
    row.postcode = data.postcode.strip()[:10]


def create_organisation(district: District, data: OrganisationData, actor: User) -> Organisation:
    """Register an organisation in the district. No commit."""
    _validate(data)
    row = Organisation(district_id=district.id, slug=_unique_slug(district, data.name))
    _apply(row, data)
    db.session.add(row)
    db.session.flush()
    record(
        "organisation.create",
        actor=actor,
        target_type="organisation",
        target_id=row.id,
        district_id=district.id,
        details={"name": row.name, "alliance": row.alliance_member},
    )
    return row


def update_organisation(row: Organisation, data: OrganisationData, actor: User) -> Organisation:
    """Change an organisation's facts. No commit."""
    _validate(data)
    before = {"alliance": row.alliance_member, "domain": row.email_domain}
    _apply(row, data)
    record(
        "organisation.update",
        actor=actor,
        target_type="organisation",
        target_id=row.id,
        district_id=row.district_id,
        details={"before": before, "alliance": row.alliance_member, "domain": row.email_domain},
    )
    db.session.flush()
    return row


def set_alliance(row: Organisation, member: bool, actor: User) -> None:
    """Mark or unmark the organisation as an Alliance member. No commit."""
    row.alliance_member = member
    record(
        "organisation.alliance" if member else "organisation.alliance_removed",
        actor=actor,
        target_type="organisation",
        target_id=row.id,
        district_id=row.district_id,
    )


def verify_domain(row: Organisation, actor: User) -> None:
    """Record that the municipality checked the organisation owns its e-mail domain. No commit."""
    if not row.email_domain:
        raise AdminError(_("The organisation has no e-mail domain to verify."), status=409)
    row.email_domain_verified = True
    record(
        "organisation.verify_domain",
        actor=actor,
        target_type="organisation",
        target_id=row.id,
        district_id=row.district_id,
        details={"domain": row.email_domain},
    )


def future_live_bookings(row: Organisation) -> list[Booking]:
    """The live bookings of the organisation's services whose slot has not started yet."""
    return list(
        db.session.scalars(
            select(Booking)
            .join(Slot, Slot.id == Booking.slot_id)
            .join(Service, Service.id == Booking.service_id)
            .where(
                Service.organisation_id == row.id,
                Booking.status.in_(LIVE_STATES),
                Slot.starts_at > utcnow(),
            )
            .order_by(Booking.id)
        )
    )


def suspend(row: Organisation, actor: User, reason: str) -> int:
    """Suspend a provider: its services leave the catalogue and its future bookings are cancelled.

    Each resident is emailed by the booking engine. Commits; returns how many bookings ended.
    """
    reason = reason.strip()
    if not reason:
        raise AdminError(_("Say why the provider is suspended."), "reason")
    if row.status == "suspended":
        raise AdminError(_("The provider is already suspended."), status=409)
    row.status = "suspended"
    # waiting people first, so that freed seats are not offered to them just before
    bookings = sorted(
        future_live_bookings(row), key=lambda b: (b.status not in ("waitlisted", "offered"), b.id)
    )
    record(
        "organisation.suspend",
        actor=actor,
        target_type="organisation",
        target_id=row.id,
        district_id=row.district_id,
        details={"reason": reason[:500], "bookings_cancelled": len(bookings)},
    )
    db.session.commit()
    for booking in bookings:
        cancel(booking, by="admin", actor=actor, reason=reason)
    return len(bookings)


def reinstate(row: Organisation, actor: User) -> None:
    """Lift a suspension: the provider's published services show again. No commit."""
    if row.status != "suspended":
        raise AdminError(_("The provider is not suspended."), status=409)
    row.status = "active"
    record(
        "organisation.reinstate",
        actor=actor,
        target_type="organisation",
        target_id=row.id,
        district_id=row.district_id,
    )
