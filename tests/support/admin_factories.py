"""Factories and helpers for the admin-area tests: admins, declarations, bookings in the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.models import (
    AuditEntry,
    BeneficiaryDeclaration,
    Booking,
    OutboxMessage,
    Service,
    Slot,
    User,
)
from tests.support import factories as f

VALID_VAT = "00743110157"
INVALID_VAT = "12345678901"


def declaration(
    person: User, district_id: int, status: str = "pending", **fields: Any
) -> BeneficiaryDeclaration:
    """A declaration of ``person`` written directly (pending by default)."""
    row = BeneficiaryDeclaration(
        user_id=person.id,
        district_id=district_id,
        beneficiary_class=fields.pop("beneficiary_class", "resident-worker"),
        status=status,
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def slot_at(svc: Service, starts_at: datetime, capacity: int = 4, **fields: Any) -> Slot:
    """A slot of ``svc`` starting at ``starts_at`` (an hour long)."""
    return f.slot(
        svc,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        capacity=capacity,
        **fields,
    )


def booking(slot: Slot, status: str, person: User | None = None, **fields: Any) -> Booking:
    """A booking in ``status`` written directly (no commit; seat-holding states take seats)."""
    person = person or f.user()
    seats = fields.pop("seats", 1)
    row = Booking(
        slot_id=slot.id,
        service_id=slot.service_id,
        user_id=person.id,
        seats=seats,
        status=status,
        applicant_name=person.full_name,
        applicant_email=person.email,
        **fields,
    )
    if status in ("pending", "confirmed", "offered"):
        slot.taken += seats
    db.session.add(row)
    db.session.flush()
    return row


def audit_actions(**where: Any) -> list[str]:
    """The audit actions recorded, oldest first (optionally filtered by column values)."""
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    return list(db.session.scalars(query))


def outbox_to(address: str) -> list[OutboxMessage]:
    """The messages queued for ``address``."""
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)))


def utc(year: int, month: int, day: int, hour: int = 10) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, tzinfo=UTC)
