"""Privacy (GDPR): consents, a person's data export, account deletion and retention purges.

Plain functions over ``db.session``; the web views (core/web/privacy.py) and the
``concilia privacy`` command call them.

* :func:`record_consent` writes which privacy notice (platform or district, and its version)
  a person accepted, when and from which address.
* :func:`export_user_data` gathers everything the platform holds about a person as JSON-ready
  data (art. 15 and 20).
* :func:`delete_account` erases the account (art. 17): live future bookings are cancelled
  (seats go to the waiting list), the bookings providers keep for their records are
  anonymised, declarations, memberships, consents and calendar feeds are deleted.
* :func:`purge` applies each district's retention periods (art. 5(1)(e)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Exists, Insert, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.sql.elements import BindParameter

from core.extensions import db
from core.models import (
    AuditEntry,
    BeneficiaryDeclaration,
    Booking,
    CalendarFeed,
    Consent,
    District,
    DistrictAdmin,
    Membership,
    OutboxMessage,
    Service,
    Slot,
    User,
)
from core.models.bookings import LIVE_STATES
from core.models.types import utcnow

#: Version of the platform's own privacy notice (``/privacy``), accepted at sign-up.
PLATFORM_NOTICE_VERSION = "1"
EXPORT_FORMAT = "concilia-personal-data/1"


def _client_ip() -> str:
    return (request.remote_addr or "")[:64] if has_request_context() else ""


def new_consent(
    user: User, *, district_slug: str | None, version: str, purpose: str = "account"
) -> Consent:
    """The row saying that ``user`` accepted a notice, now (not added to the session)."""
    return Consent(
        user_id=user.id,
        district_slug=district_slug,
        purpose=purpose[:32],
        notice_version=str(version)[:32],
        accepted_at=utcnow(),
        ip=_client_ip(),
    )


def record_consent(
    user: User, *, district_slug: str | None, version: str, purpose: str = "account"
) -> Consent:
    """Record that ``user`` accepted a notice (the platform's if no district); no commit."""
    consent = new_consent(user, district_slug=district_slug, version=version, purpose=purpose)
    db.session.add(consent)
    return consent


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_user_data(user: User) -> dict[str, Any]:
    """Everything about ``user``: profile, roles, declarations, bookings, consents, feeds, audit.

    Secrets (password hash, feed token hashes) are left out; they are not personal data the
    person could use and would only weaken the account.
    """
    districts = {d.id: d.slug for d in db.session.scalars(select(District))}
    bookings = db.session.execute(
        select(Booking, Slot, Service)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Service, Service.id == Booking.service_id)
        .where(Booking.user_id == user.id)
        .order_by(Booking.created_at, Booking.id)
    ).all()
    declarations = db.session.scalars(
        select(BeneficiaryDeclaration).where(BeneficiaryDeclaration.user_id == user.id)
    )
    consents = db.session.scalars(
        select(Consent).where(Consent.user_id == user.id).order_by(Consent.accepted_at)
    )
    feeds = db.session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    audit = db.session.scalars(
        select(AuditEntry)
        .where(or_(AuditEntry.subject_user_id == user.id, AuditEntry.actor_id == user.id))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "profile": {
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "locale": user.locale,
            "created_at": _iso(user.created_at),
            "email_verified_at": _iso(user.email_verified_at),
            "roles": user.roles,
            "organisations": [m.organisation.name for m in user.memberships],
            "administered_districts": [districts.get(r.district_id) for r in user.district_roles],
        },
        "beneficiary_declarations": [
            {
                "district": districts.get(d.district_id),
                "beneficiary_class": d.beneficiary_class,
                "vat_number": d.vat_number,
                "employer_name": d.employer_name,
                "status": d.status,
                "reason": d.reason,
                "created_at": _iso(d.created_at),
                "decided_at": _iso(d.decided_at),
            }
            for d in declarations
        ],
        "bookings": [
            {
                "reference": b.public_id,
                "district": districts.get(service.district_id),
                "service": service.title_it or service.title_en,
                "starts_at": _iso(slot.starts_at),
                "ends_at": _iso(slot.ends_at),
                "status": b.status,
                "seats": b.seats,
                "answers": b.answers,
                "applicant": {
                    "name": b.applicant_name,
                    "email": b.applicant_email,
                    "phone": b.applicant_phone,
                },
                "price_cents": b.price_cents,
                "rating": b.rating,
                "rating_comment": b.rating_comment,
                "created_at": _iso(b.created_at),
                "cancelled_by": b.cancelled_by,
                "cancel_reason": b.cancel_reason,
            }
            for b, slot, service in bookings
        ],
        "consents": [
            {
                "district": c.district_slug,
                "purpose": c.purpose,
                "notice_version": c.notice_version,
                "accepted_at": _iso(c.accepted_at),
                "ip": c.ip,
            }
            for c in consents
        ],
        "calendar_feeds": [
            {
                "created_at": _iso(f.created_at),
                "revoked_at": _iso(f.revoked_at),
                "last_used_at": _iso(f.last_used_at),
                "active": f.is_active,
            }
            for f in feeds
        ],
        "audit": [
            {
                "at": _iso(a.at),
                "action": a.action,
                "by_me": a.actor_id == user.id,
                "target": f"{a.target_type}:{a.target_id}",
                "district": districts.get(a.district_id) if a.district_id else None,
                "details": a.details,
                "ip": a.ip,
            }
            for a in audit
        ],
    }


def anonymise_bookings(condition: Any) -> int:
    """Strip the person from the bookings matching ``condition`` (no commit); returns how many.

    The provider keeps the row (date, service, seats, price, status) for its records.
    """
    result = db.session.execute(
        update(Booking)
        .where(condition)
        .values(
            user_id=None,
            applicant_name="",
            applicant_email="",
            applicant_phone="",
            answers={},
            rating_comment="",
            idempotency_key=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _cancel_live_bookings(user: User, now: datetime) -> None:
    """Cancel the person's live bookings of future slots, so their seats go to others."""
    from core.booking import BookingRefused, cancel

    live = db.session.scalars(
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.user_id == user.id,
            Booking.status.in_(LIVE_STATES),
            Slot.starts_at > now,
        )
    ).all()
    for booking in live:
        try:
            cancel(booking, by="system", actor=None, reason="account deleted", now=now)
        except BookingRefused:  # changed meanwhile: nothing left to free
            db.session.rollback()


def delete_account(user: User, *, now: datetime | None = None) -> None:
    """Erase ``user``'s account; bookings stay, anonymised, for the providers. Commits."""
    now = now or utcnow()
    user_id = user.id
    _cancel_live_bookings(user, now)
    anonymise_bookings(Booking.user_id == user_id)
    for model in (BeneficiaryDeclaration, Membership, DistrictAdmin, CalendarFeed, Consent):
        db.session.execute(delete(model).where(model.user_id == user_id))
    db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.recipient == user.email, OutboxMessage.sent_at.is_not(None)
        )
    )
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.subject_user_id == user_id)
        .values(subject_user_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.actor_id == user_id)
        .values(actor_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.add(
        AuditEntry(action="account.deleted", target_type="user", target_id=str(user_id), ip="")
    )
    db.session.expunge(user)
    db.session.execute(delete(User).where(User.id == user_id))
    db.session.commit()


@dataclass
class PurgeReport:
    """What a purge did (or would do, in a dry run)."""

    bookings_anonymised: int = 0
    unverified_accounts_deleted: int = 0
    outbox_messages_deleted: int = 0
    dry_run: bool = False


def purge(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Apply every district's retention periods; commits unless ``dry_run``.

    * bookings whose slot ended more than ``retention_booking_days`` ago are anonymised;
    * accounts never confirmed after ``retention_unverified_account_days`` are deleted;
    * sent mails older than ``retention_outbox_days`` leave the outbox.
    """
    from core.tenancy import district_configs

    now = now or utcnow()
    configs = list(district_configs().values())
    report = PurgeReport(dry_run=dry_run)
    rows = {d.slug: d.id for d in db.session.scalars(select(District))}
    for config in configs:
        district_id = rows.get(config.slug)
        if district_id is None:
            continue
        cutoff = now - timedelta(days=config.retention_booking_days)
        old = (
            select(Booking.id)
            .join(Slot, Slot.id == Booking.slot_id)
            .join(Service, Service.id == Booking.service_id)
            .where(
                Service.district_id == district_id,
                Slot.ends_at < cutoff,
                or_(Booking.user_id.is_not(None), Booking.applicant_email != ""),
            )
        )
        ids = list(db.session.scalars(old))
        report.bookings_anonymised += len(ids)
        if ids and not dry_run:
            anonymise_bookings(Booking.id.in_(ids))
    unverified_days = min((c.retention_unverified_account_days for c in configs), default=30)
    stale = list(
        db.session.scalars(
            select(User).where(
                User.email_verified_at.is_(None),
                User.created_at < now - timedelta(days=unverified_days),
                User.is_platform_admin.is_(False),
            )
        )
    )
    report.unverified_accounts_deleted = len(stale)
    outbox_days = min((c.retention_outbox_days for c in configs), default=90)
    old_mail = (
        OutboxMessage.sent_at.is_not(None),
        OutboxMessage.created_at < now - timedelta(days=outbox_days),
    )
    report.outbox_messages_deleted = len(
        list(db.session.scalars(select(OutboxMessage.id).where(*old_mail)))
    )
    if dry_run:
        db.session.rollback()
        return report
    db.session.execute(delete(OutboxMessage).where(*old_mail))
    db.session.commit()
    for user in stale:
        delete_account(user, now=now)
    return report


def record_booking_consent(user: User, district_slug: str, version: str) -> None:
    """Record the privacy consent given on a booking's summary page, once per notice version.

    One statement in the caller's transaction (no commit; the booking engine runs it in the
    booking's own): the consent row is inserted unless the person already accepted this
    version of the district's notice for a booking.
    """
    row = new_consent(user, district_slug=district_slug, version=version, purpose="booking")
    db.session.execute(
        _insert_consent_once(), {f"new_{c}": getattr(row, c) for c in _CONSENT_COLUMNS}
    )


_CONSENT_COLUMNS = ("user_id", "district_slug", "purpose", "notice_version", "accepted_at", "ip")


_ACCEPTANCE = ("user_id", "district_slug", "purpose", "notice_version")


def _acceptance_exists(params: dict[str, BindParameter[Any]]) -> Exists:
    """``EXISTS`` of a consent row matching ``params`` on the columns of one acceptance."""
    table = Consent.__table__
    return exists().where(*(table.c[c] == params[c] for c in _ACCEPTANCE))


@cache
def _insert_consent_once() -> Insert:
    """``INSERT INTO consent … SELECT <the new row> WHERE NOT EXISTS (<the same acceptance>)``,
    built once (its parameters are ``new_<column>``)."""
    table = Consent.__table__
    new = {c: bindparam(f"new_{c}", type_=table.c[c].type) for c in _CONSENT_COLUMNS}
    values = select(*new.values()).where(~_acceptance_exists(new))
    return insert(table).from_select(_CONSENT_COLUMNS, values)


@cache
def booking_consent_given() -> Exists:
    """Whether a person has accepted a version of a district's notice for a booking, as an
    expression to read beside other rows, built once.

    Its parameters are ``consent_user_id``, ``consent_district`` and ``consent_version``. A
    caller that finds it true may skip :func:`record_booking_consent`, which would write
    nothing (consent rows go only with the account).
    """
    table = Consent.__table__
    params = {
        "user_id": bindparam("consent_user_id", type_=table.c.user_id.type),
        "district_slug": bindparam("consent_district", type_=table.c.district_slug.type),
        "purpose": bindparam("consent_purpose", "booking", type_=table.c.purpose.type),
        "notice_version": bindparam("consent_version", type_=table.c.notice_version.type),
    }
    return _acceptance_exists(params)


#: Put this in a booking field's ``render_kw`` to ask for health details in free text on
#: purpose (GDPR art. 9); the booking form then shows a warning above the field.
HEALTH_DATA_MARKER = {"data-sensitive": "health"}
FREE_TEXT_FIELDS = frozenset({"StringField", "TextAreaField"})


def is_free_text(field: Any) -> bool:
    """Whether a (bound or unbound) WTForms field takes free text."""
    cls = getattr(field, "field_class", type(field))
    return any(base.__name__ in FREE_TEXT_FIELDS for base in cls.__mro__)


def asks_for_health_data(field: Any) -> bool:
    """Whether the field is explicitly marked as asking for health details."""
    kwargs = getattr(field, "kwargs", None) or {}
    render_kw = kwargs.get("render_kw") or getattr(field, "render_kw", None) or {}
    return render_kw.get("data-sensitive") == HEALTH_DATA_MARKER["data-sensitive"]
