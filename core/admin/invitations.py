"""Inviting provider staff by e-mail: a signed, expiring link that creates the Membership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from core.admin.organisations import AdminError
from core.audit import record
from core.auth.service import InvalidEmail, normalize_email
from core.extensions import db
from core.models import District, Membership, Organisation, User
from core.notifications.compose import absolute_url
from core.notifications.outbox import queue_mail

INVITE_SALT = "concilia.invite-staff.v1"
INVITE_MAX_AGE = 7 * 24 * 3600


@dataclass(frozen=True)
class Invitation:
    """What a valid invitation token says."""

    organisation_id: int
    email: str


def _serializer(issued_at: datetime | None = None) -> URLSafeTimedSerializer:
    signer: type[TimestampSigner] = TimestampSigner
    if issued_at is not None:
        stamp = int(issued_at.timestamp())

        class _IssuedAt(TimestampSigner):
            def get_timestamp(self) -> int:
                return stamp

        signer = _IssuedAt
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITE_SALT, signer=signer)


def make_token(organisation: Organisation, email: str, *, issued_at: datetime | None = None) -> str:
    """A signed token inviting ``email`` to work for ``organisation`` (``issued_at`` back-dates)."""
    return str(_serializer(issued_at).dumps({"o": organisation.id, "e": email.lower()}))


def read_token(token: str, max_age: int = INVITE_MAX_AGE) -> Invitation:
    """Decode an invitation token; raises AdminError (400) if expired, forged or malformed."""
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise AdminError(
            _("This invitation has expired: ask the district for a new one."), status=400
        ) from None
    except BadSignature:
        raise AdminError(_("This invitation link is not valid."), status=400) from None
    if not isinstance(data, dict) or not isinstance(data.get("o"), int) or not data.get("e"):
        raise AdminError(_("This invitation link is not valid."), status=400)
    return Invitation(organisation_id=data["o"], email=str(data["e"]))


def invite(organisation: Organisation, district: District, email: str, actor: User) -> str:
    """Queue an invitation e-mail to ``email`` (caller's transaction); returns the token."""
    try:
        address = normalize_email(email)
    except InvalidEmail:
        raise AdminError(_("Write a valid e-mail address."), "email") from None
    token = make_token(organisation, address)
    link = absolute_url("admin.accept_invitation", district=district.slug, token=token)
    subject = _("Invitation to manage %(organisation)s on Concilia", organisation=organisation.name)
    body = _(
        "You are invited to publish and manage the services of %(organisation)s in %(district)s. "
        "Open this link within 7 days to accept: %(link)s",
        organisation=organisation.name,
        district=district.name,
        link=link,
    )
    queue_mail(address, subject, body + "\n", kind="admin.invitation")
    record(
        "organisation.invite",
        actor=actor,
        target_type="organisation",
        target_id=organisation.id,
        district_id=district.id,
        details={"email": address},
    )
    return token


def invited_organisation(district: District, invitation: Invitation) -> Organisation:
    """The organisation of the invitation, which must be of this district (else AdminError 400)."""
    row = db.session.get(Organisation, invitation.organisation_id)
    if row is None or row.district_id != district.id:
        raise AdminError(_("This invitation link is not valid."), status=400)
    return row


def accept(user: User, organisation: Organisation, invitation: Invitation) -> Membership:
    """Make ``user`` staff of the organisation (the invited address must be theirs). No commit."""
    if user.email.lower() != invitation.email:
        raise AdminError(_("This invitation was sent to another e-mail address."), status=403)
    existing = db.session.scalar(
        select(Membership).filter_by(user_id=user.id, organisation_id=organisation.id)
    )
    if existing is not None:
        return existing
    membership = Membership(user_id=user.id, organisation_id=organisation.id)
    db.session.add(membership)
    record(
        "organisation.join",
        actor=user,
        target_type="organisation",
        target_id=organisation.id,
        subject_user_id=user.id,
        district_id=organisation.district_id,
    )
    db.session.flush()
    return membership
