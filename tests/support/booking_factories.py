"""Factories for booking-engine tests: beneficiaries, bookable slots, bookings in any state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.extensions import db
from core.models import BeneficiaryDeclaration, Booking, Service, Slot, User
from tests.support import factories as f


def beneficiary(person: User, district_id: int, status: str = "approved") -> BeneficiaryDeclaration:
    """A beneficiary declaration of ``person`` in the district (approved by default)."""
    row = BeneficiaryDeclaration(
        user_id=person.id, district_id=district_id, beneficiary_class="resident", status=status
    )
    db.session.add(row)
    db.session.flush()
    return row


def bookable(
    *, capacity: int = 2, starts_in: timedelta = timedelta(days=2), **service_fields: Any
) -> tuple[Service, Slot]:
    """A published service (with the given rules) and one future slot of it; committed."""
    org = f.organisation(email=service_fields.pop("org_email", "provider@example.org"))
    svc = f.service(org, **service_fields)
    slot = f.slot(svc, starts_in=starts_in, capacity=capacity)
    db.session.commit()
    return svc, slot


def booking_in(slot: Slot, status: str, person: User | None = None, **fields: Any) -> Booking:
    """A booking row in ``status`` written directly (seats counted for seat-holding states)."""
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
        created_at=fields.pop("created_at", datetime.now(UTC)),
        **fields,
    )
    if status in ("pending", "confirmed", "offered", "attended", "no_show"):
        slot.taken += seats
    db.session.add(row)
    db.session.commit()
    return row
