"""The waiting list: join a full slot, get freed seats first come first served.

When seats free up, the first in line (by ``created_at``, then ``id``) whose seats fit is
served: confirmed at once if the service's ``waitlist_hold_minutes`` is 0 (``pending`` if the
service requires approval), else ``offered`` with the seats held until ``offer_expires_at``.
The line is strict: if the first person's seats do not fit, nobody behind them is served.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.booking import events, notifications
from core.booking.errors import BookingProblem, BookingRefused
from core.booking.seats import claim_seats, release_seats
from core.booking.states import StateChange, announce, call_after_commit, transition
from core.extensions import db
from core.models import Booking, Slot, User
from core.models.types import utcnow


def join_waitlist(
    *,
    user: User,
    slot_id: int,
    seats: int = 1,
    answers: dict[str, Any] | None = None,
    applicant: Any = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    in_transaction: Callable[[Booking], object] | None = None,
) -> Booking:
    """Put ``user`` on the waiting list of a full slot (status ``waitlisted``); commits.

    The same rules as :func:`core.booking.book` apply (eligibility, quota, window, plugins);
    refused with ``waitlist_disabled`` if the service has no waiting list and with
    ``slot_not_full`` while the seats asked for are still free. ``in_transaction`` as for
    :func:`core.booking.book`: what it writes is committed with the booking, or not at all.
    """
    from core.booking.engine import (
        _existing_by_key,
        _load_slot,
        _Replay,
        insert_or_replay,
        new_booking,
        refuse_or_replay,
    )
    from core.booking.rules import check_all, load_context

    now = now or utcnow()
    if idempotency_key:
        existing = _existing_by_key(user, idempotency_key)
        if existing is not None:
            return existing
    slot = _load_slot(slot_id)
    ctx = load_context(slot)
    problems = check_all(ctx, user, seats, answers or {}, now, waitlist=True)
    if not ctx.service.waitlist_enabled:
        problems.insert(0, BookingProblem.of("waitlist_disabled"))
    elif not problems and slot.taken + seats <= slot.capacity:
        problems.append(BookingProblem.of("slot_not_full"))
    if problems:
        outcome = refuse_or_replay(problems, user, idempotency_key)
        if isinstance(outcome, _Replay):
            return outcome.booking
        raise outcome
    booking = new_booking(
        ctx,
        user=user,
        seats=seats,
        status="waitlisted",
        answers=answers,
        applicant=applicant,
        idempotency_key=idempotency_key,
        now=now,
    )
    result = insert_or_replay(booking, user, idempotency_key)
    if result is not booking:
        return result
    if in_transaction is not None:
        in_transaction(booking)
    events.record(booking, "booking.created")
    notifications.booking_event(booking, "waitlisted")
    # Seats freed between the check and now would otherwise wait for the next release.
    changes = offer_freed_seats(slot.id, now=now)
    db.session.commit()
    call_after_commit("booking_created", booking=booking)
    after_commit(changes)
    return booking


def waiting_line(slot_id: int) -> list[Booking]:
    """The slot's waiting bookings, first in line first."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.slot_id == slot_id, Booking.status == "waitlisted")
            .order_by(Booking.created_at, Booking.id)
        )
    )


def offer_freed_seats(slot_id: int, *, now: datetime | None = None) -> list[StateChange]:
    """Serve the waiting line of a slot with its free seats; queues the mails, no commit.

    Each served booking claims its seats atomically first, so a seat is never given twice.
    The line is strict (whoever needs more seats than are free keeps the others waiting),
    except for a request the slot can no longer hold since it was made smaller: it is passed
    over, since it would otherwise block everyone behind it for good.
    Returns the state changes, to be announced after the commit (:func:`after_commit`).
    """
    now = now or utcnow()
    slot = db.session.get(Slot, slot_id)
    if slot is None or slot.cancelled or slot.starts_at <= now:
        return []
    service = slot.service
    changes: list[StateChange] = []
    for waiting in waiting_line(slot_id):
        if waiting.seats > slot.capacity:  # the slot shrank: it can never be served here
            continue
        if not claim_seats(slot_id, waiting.seats):
            break
        try:
            if service.waitlist_hold_minutes > 0:
                expires = now + timedelta(minutes=service.waitlist_hold_minutes)
                change = transition(waiting, "offered", now=now, offer_expires_at=expires)
            else:
                new = "pending" if service.requires_approval else "confirmed"
                change = transition(waiting, new, now=now, offer_expires_at=None)
        except BookingRefused:  # it left the line meanwhile: give the seats to the next
            release_seats(slot_id, waiting.seats)
            continue
        notifications.for_change(change)
        changes.append(change)
    return changes


def accept_offer(booking: Booking, user: User, *, now: datetime | None = None) -> Booking:
    """Take the held seats of an offer: ``confirmed`` (``pending`` if approval is needed)."""
    now = now or utcnow()
    if booking.user_id != user.id:
        raise BookingRefused.single("not_owner")
    if booking.status != "offered":
        raise BookingRefused.single("invalid_transition")
    if booking.offer_expires_at is not None and booking.offer_expires_at <= now:
        raise BookingRefused.single("offer_expired")
    new = "pending" if booking.service.requires_approval else "confirmed"
    change = transition(booking, new, now=now, offer_expires_at=None)
    notifications.for_change(change)
    db.session.commit()
    after_commit([change])
    return booking


def expire_offers(now: datetime | None = None) -> int:
    """Cancel offers past their expiry, free their seats for the next in line; commits.

    Returns how many offers expired. Safe to run concurrently (each expiry is a conditional
    state change).
    """
    now = now or utcnow()
    ids = db.session.scalars(
        select(Booking.id)
        .where(Booking.status == "offered", Booking.offer_expires_at <= now)
        .order_by(Booking.offer_expires_at, Booking.id)
    ).all()
    expired = 0
    for booking_id in ids:
        booking = db.session.get(Booking, booking_id)
        if booking is None or booking.status != "offered":
            continue
        try:
            changes = [
                transition(
                    booking,
                    "cancelled",
                    now=now,
                    cancelled_by="system",
                    cancel_reason="offer expired",
                )
            ]
        except BookingRefused:
            db.session.rollback()
            continue
        release_seats(booking.slot_id, booking.seats)
        notifications.booking_event(booking, "offer_expired")
        changes.extend(offer_freed_seats(booking.slot_id, now=now))
        db.session.commit()
        after_commit(changes)
        expired += 1
    return expired


def after_commit(changes: Iterable[StateChange]) -> None:
    """Announce committed state changes to the plugins (``booking_state_changed``)."""
    announce(changes)
