"""Factories for booking-engine tests: beneficiaries, bookable slots, bookings in any state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.extensions import db
from core.models import BeneficiaryDeclaration, Booking, Service, Slot, User
from core.plugins import hookimpl
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
    district = f.district(service_fields.pop("district", "isola-garibaldi"))
    org = f.organisation(district, email=service_fields.pop("org_email", "provider@example.org"))
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


def run_together(app: Any, work: Any, arguments: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``work(*args)`` in one thread per entry, all released at once by a barrier.

    Each thread has its own app context (hence its own session and connection). Returns each
    call's result, or the exception it raised, in the order of ``arguments``.
    """
    import threading

    from core.extensions import db as database

    barrier = threading.Barrier(len(arguments))
    results: list[Any] = [None] * len(arguments)

    def worker(index: int, args: tuple[Any, ...]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = work(*args)
            except Exception as exc:  # reported to the test, which asserts on it
                database.session.rollback()
                results[index] = exc
            finally:
                database.session.remove()

    threads = [
        threading.Thread(target=worker, args=(i, args), daemon=True)
        for i, args in enumerate(arguments)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return results


class Recorder:
    """A test plugin that records the booking hooks it receives and can refuse bookings."""

    PLUGIN_NAME = "booking-recorder"

    def __init__(self, *refusals: str) -> None:
        self.refusals = list(refusals)
        self.created: list[tuple[int, str, bool]] = []
        self.changes: list[tuple[int, str, str, bool]] = []
        self.requests: list[Any] = []

    @staticmethod
    def _committed(booking: Booking) -> tuple[bool, str | None]:
        """Whether (and in which status) the booking row is visible to another connection."""
        from sqlalchemy import text

        from core.extensions import db as database

        with database.engine.connect() as conn:
            status = conn.execute(
                text("SELECT status FROM booking WHERE id = :id"), {"id": booking.id}
            ).scalar()
        return status is not None, status

    @hookimpl
    def validate_booking(self, request: Any) -> list[str] | None:
        """Refuse with the configured reasons (and remember the request)."""
        self.requests.append(request)
        return list(self.refusals) or None

    @hookimpl
    def booking_created(self, booking: Booking) -> None:
        """Record the booking and whether it was already committed."""
        visible, status = self._committed(booking)
        self.created.append((booking.id, booking.status, visible and status == booking.status))

    @hookimpl
    def booking_state_changed(self, booking: Booking, old: str, new: str) -> None:
        """Record the change and whether it was already committed."""
        _visible, status = self._committed(booking)
        self.changes.append((booking.id, old, new, status == new))
