"""The booking engine: book, cancel, approve, reject, attendance and ratings.

One code path for the web flow, the API and the CLI. Each operation runs in one
transaction over ``db.session`` (checks, atomic seat claim, booking row, outbox mail, the
plugins' ``booking_events`` rows), commits, and only then calls the plugins'
``booking_created`` / ``booking_state_changed``.

:func:`book` does its reads first, then writes the booking and its (unrendered) mail,
claims the seats last and commits at once: the slot's row lock (on
PostgreSQL) or the database's write lock (on SQLite) is held for as little as possible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, event, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached

from core.booking import events, notifications, waitlist
from core.booking.errors import BookingProblem, BookingRefused
from core.booking.rules import (
    BookingContext,
    check_all,
    check_quota,
    is_beneficiary,
    load_context,
)
from core.booking.seats import claim_seats, release_seats
from core.booking.states import StateChange, call_after_commit, holds_seats, transition
from core.extensions import db
from core.models import Booking, Slot, User
from core.models.bookings import LIVE_STATES, new_public_id
from core.models.types import utcnow

CANCELLED_BY = ("resident", "provider", "admin", "system")
KEY_MAX_LENGTH = 80


@dataclass(frozen=True)
class Applicant:
    """Who the booking is for, when not the account holder's own details."""

    name: str = ""
    email: str = ""
    phone: str = ""


def _load_slot(slot_id: int) -> Slot:
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise BookingRefused.single("slot_not_found")
    return slot


def _check_key(key: str) -> None:
    if len(key) > KEY_MAX_LENGTH:
        raise ValueError(f"idempotency keys have at most {KEY_MAX_LENGTH} characters")


def _existing_by_key(user: User, key: str) -> Booking | None:
    _check_key(key)
    return db.session.scalar(
        select(Booking).where(Booking.user_id == user.id, Booking.idempotency_key == key)
    )


@cache
def _prior_query(with_key: bool) -> Select[tuple[Booking]]:
    """The query of :func:`prior_bookings`, built once (``user_id``, ``slot_id``, ``key``)."""
    live_here = and_(
        Booking.slot_id == bindparam("slot_id", type_=Integer), Booking.status.in_(LIVE_STATES)
    )
    wanted = or_(Booking.idempotency_key == bindparam("key"), live_here) if with_key else live_here
    return select(Booking).where(Booking.user_id == bindparam("user_id", type_=Integer), wanted)


def prior_bookings(user: User, slot_id: int, key: str | None) -> tuple[Booking | None, bool]:
    """One read for two questions: the booking an earlier request with ``key`` made (if any),
    and whether ``user`` already holds a live booking of the slot."""
    if key:
        _check_key(key)
    params = {"user_id": user.id, "slot_id": slot_id, "key": key}
    rows = db.session.scalars(_prior_query(bool(key)), params).all()
    earlier = next((b for b in rows if key and b.idempotency_key == key), None)
    booked = any(b.slot_id == slot_id and b.status in LIVE_STATES for b in rows)
    return earlier, booked


def commit_keeping_loaded() -> None:
    """Commit without expiring the objects the session holds.

    They were read during this unit of work, and the new rows hold exactly what was written
    (the seat counts the claim changed are expired by the claim itself), so the caller and the
    after-commit hooks use them without reading every row back.
    """
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _price(ctx: BookingContext, user: User, seats: int) -> int:
    service = ctx.service
    unit = service.price_cents
    if service.beneficiary_price_cents is not None and is_beneficiary(user, service.district_id):
        unit = service.beneficiary_price_cents
    return unit * seats


def _column_defaults() -> dict[str, Any]:
    """The model's own value for each booking column that has one without a call: its scalar
    default, or NULL where a nullable column has no default (the others :func:`new_booking`
    sets itself)."""
    values: dict[str, Any] = {}
    for column in Booking.__table__.columns:
        if column.default is not None and column.default.is_scalar:
            values[column.key] = column.default.arg
        elif column.default is None and column.nullable and not column.primary_key:
            values[column.key] = None
    return values


_DEFAULTS = _column_defaults()
#: Where the session keeps the bookings written in its current transaction.
WRITTEN_KEY = "concilia_written_bookings"
_BOOKING_COLUMNS = tuple(c.key for c in Booking.__table__.columns if c.key != "id")


@cache
def _insert_booking() -> Any:
    """``INSERT INTO booking (every column but id) … RETURNING id``, built once."""
    table = Booking.__table__
    return insert(table).returning(table.c.id)


def new_booking(
    ctx: BookingContext,
    *,
    user: User,
    seats: int,
    status: str,
    answers: dict[str, Any] | None,
    applicant: Applicant | None,
    idempotency_key: str | None,
    now: datetime,
) -> Booking:
    """A booking row (not yet in the session) for ``user`` on ``ctx.slot``.

    Only its foreign keys are set: its slot, service and user are in the session already, so
    reading them from it costs no query. Every other column holds its value, the model's
    default where the booking has none of its own.
    """
    applicant = applicant or Applicant()
    fields = {
        "public_id": new_public_id(),
        "slot_id": ctx.slot.id,
        "slot_starts_at": ctx.slot.starts_at,
        "slot_ends_at": ctx.slot.ends_at,
        "service_id": ctx.service.id,
        "user_id": user.id,
        "seats": seats,
        "status": status,
        "answers": dict(answers or {}),
        "applicant_name": applicant.name or user.full_name,
        "applicant_email": applicant.email or user.email,
        "applicant_phone": applicant.phone or user.phone,
        "price_cents": _price(ctx, user, seats),
        "idempotency_key": idempotency_key or None,
        "created_at": now,
        "updated_at": now,
    }
    return Booking(**(_DEFAULTS | fields))  # every column set: insert_or_replay writes them all


class _Replay(Exception):
    """Internal: an identical request (same idempotency key) has committed meanwhile."""

    def __init__(self, booking: Booking) -> None:
        super().__init__(booking.id)
        self.booking = booking


def refuse_or_replay(
    problems: list[BookingProblem], user: User, idempotency_key: str | None
) -> Exception:
    """Roll back; the exception to raise: the refusal, or a replay of a committed twin.

    A twin request (same key) committed while this one was checked would show up here as
    ``already_booked`` or ``slot_full``; the caller must get the twin's booking instead.
    """
    db.session.rollback()
    if idempotency_key:
        twin = _existing_by_key(user, idempotency_key)
        if twin is not None:
            return _Replay(twin)
    return BookingRefused(problems)


def recheck_quota(ctx: BookingContext, user: User, idempotency_key: str | None) -> None:
    """Count the quota again inside the write transaction, the new booking already written.

    The first check ran before any write; two requests of the same person for different
    slots could both pass it. Here, on PostgreSQL a ``FOR NO KEY UPDATE`` lock on the user
    row serializes them (it does not conflict with the key-share lock that the booking rows'
    foreign key takes, so two such requests cannot deadlock); on SQLite the booking's INSERT
    already holds the database's write lock. The count includes the new booking itself.
    """
    if ctx.service.quota_per_month is None:
        return
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    problems = check_quota(ctx, user, written=1)
    if problems:
        raise refuse_or_replay(problems, user, idempotency_key)


def insert_or_replay(booking: Booking, user: User, idempotency_key: str | None) -> Booking:
    """Write a new booking (from :func:`new_booking`); if a concurrent twin won the race,
    roll back and return it.

    One ``INSERT … RETURNING id`` of every column, without the unit of work's flush; the
    booking then joins the session as a persistent row holding exactly what was written. A
    clash on the idempotency key returns the first booking; a clash on the
    one-live-booking-per-person-and-slot index refuses with ``already_booked``.
    """
    values = {key: booking.__dict__[key] for key in _BOOKING_COLUMNS}
    try:
        booking.id = db.session.execute(_insert_booking(), values).scalar_one()
    except IntegrityError:
        db.session.rollback()
        if idempotency_key:
            twin = _existing_by_key(user, idempotency_key)
            if twin is not None:
                return twin
        raise BookingRefused.single("already_booked") from None
    make_transient_to_detached(booking)
    session = db.session()
    session.add(booking)
    session.info.setdefault(WRITTEN_KEY, []).append(booking)
    return booking


def _forget_written(session: Session, previous: SessionTransaction) -> None:
    """A rollback undoes the bookings :func:`insert_or_replay` wrote: take them out of the
    session too (the unit of work does so for the rows it inserts itself), so no row that
    no longer exists stays in its identity map."""
    if previous.nested:
        return  # a savepoint's rollback: the outer transaction decides
    for booking in session.info.pop(WRITTEN_KEY, ()):
        if booking in session:
            session.expunge(booking)


def _keep_written(session: Session) -> None:
    session.info.pop(WRITTEN_KEY, None)


def install() -> None:
    """Forget, on rollback, the bookings written in the rolled-back transaction (idempotent)."""
    if not event.contains(Session, "after_soft_rollback", _forget_written):
        event.listen(Session, "after_soft_rollback", _forget_written)
        event.listen(Session, "after_commit", _keep_written)


def book(
    *,
    user: User,
    slot_id: int,
    seats: int = 1,
    answers: dict[str, Any] | None = None,
    applicant: Applicant | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    in_transaction: Callable[[Booking], object] | None = None,
) -> Booking:
    """Book ``seats`` seats of a slot for ``user``; returns the committed booking.

    Every rule is checked and all problems are reported together in ``BookingRefused``;
    then the seats are claimed atomically (``slot_full`` if someone was faster). A refusal
    leaves nothing of the booking in the session: refused before any write, the session is
    as it was (its objects stay loaded); refused after, its transaction is rolled back. The
    booking is ``pending`` if the service requires approval, else ``confirmed``. Repeating
    a call with the same ``idempotency_key`` returns the first booking unchanged.
    ``in_transaction`` is called with the new booking right after its row is written, in
    its transaction (e.g. to record the privacy consent given on the summary page): what it
    writes is committed with the booking, or not at all. A replay does not call it.
    """
    try:
        return _book(
            user=user,
            slot_id=slot_id,
            seats=seats,
            answers=answers,
            applicant=applicant,
            idempotency_key=idempotency_key,
            now=now or utcnow(),
            in_transaction=in_transaction,
        )
    except _Replay as replay:
        return replay.booking


def _book(
    *,
    user: User,
    slot_id: int,
    seats: int,
    answers: dict[str, Any] | None,
    applicant: Applicant | None,
    idempotency_key: str | None,
    now: datetime,
    in_transaction: Callable[[Booking], object] | None,
) -> Booking:
    # Reads only, until the booking is written. An earlier request with the same key, or a
    # live booking of the same slot, is caught by the unique indexes when the booking is
    # written (insert_or_replay); only a refusal reads them, to answer with the earlier
    # booking or to name every problem. A refusal here has written nothing, so it leaves
    # the session as it is (no rollback: what was read stays loaded for the caller's page).
    if idempotency_key:
        _check_key(idempotency_key)
    slot = _load_slot(slot_id)
    ctx = load_context(slot)
    problems = check_all(ctx, user, seats, answers or {}, now, booked=False)
    if problems:
        existing, booked = prior_bookings(user, slot_id, idempotency_key)
        if existing is not None:
            return existing
        if booked:
            problems = check_all(ctx, user, seats, answers or {}, now, booked=True)
        raise BookingRefused(problems)  # prior_bookings has just looked for a twin
    status = "pending" if ctx.service.requires_approval else "confirmed"
    booking = new_booking(
        ctx,
        user=user,
        seats=seats,
        status=status,
        answers=answers,
        applicant=applicant,
        idempotency_key=idempotency_key,
        now=now,
    )
    # The writes: the booking (alone, so that a clash of its unique indexes is told apart
    # from any other error), its mail (queued unrendered: the sender composes it), the
    # caller's and the plugins' rows, the seat claim last; then commit.
    result = insert_or_replay(booking, user, idempotency_key)
    if result is not booking:  # an identical request committed first
        return result
    notifications.booking_event(booking, status)
    try:
        if in_transaction is not None:
            in_transaction(booking)
        events.record(booking, "booking.created")
        events.publish_pending()  # the plugins' reads, before the slot's row is locked
    except BookingRefused:  # a plugin's veto: nothing of this booking stays
        db.session.rollback()
        raise
    recheck_quota(ctx, user, idempotency_key)
    if not claim_seats(slot.id, seats):
        raise refuse_or_replay([BookingProblem.of("slot_full")], user, idempotency_key)
    commit_keeping_loaded()
    call_after_commit("booking_created", booking=booking)
    return booking


def _release_and_offer(booking: Booking, now: datetime) -> list[StateChange]:
    """Give back the seats the booking held, then offer them to the waiting list."""
    release_seats(booking.slot_id, booking.seats)
    return waitlist.offer_freed_seats(booking.slot_id, now=now)


def cancel(
    booking: Booking,
    *,
    by: str,
    actor: User | None,
    reason: str = "",
    now: datetime | None = None,
) -> Booking:
    """Cancel a live booking; freed seats go to the waiting list. Commits.

    ``by`` is ``resident``, ``provider``, ``admin`` or ``system``. Residents may cancel only
    before the service's cancellation deadline (``cancel_deadline_passed``), and only their
    own bookings (``not_owner``). Mails the resident, and the provider when the resident
    cancels. A waiting booking that leaves may unblock the line: seats left idle because it
    needed more go to the next in line who fits.
    """
    if by not in CANCELLED_BY:
        raise ValueError(f"by must be one of {CANCELLED_BY}")
    now = now or utcnow()
    if by == "resident":
        if actor is None or booking.user_id != actor.id:
            raise BookingRefused.single("not_owner")
        deadline = booking.slot.starts_at - timedelta(
            minutes=booking.service.cancel_deadline_minutes
        )
        if booking.status in ("pending", "confirmed") and now > deadline:
            raise BookingRefused.single("cancel_deadline_passed")
    held, waiting = holds_seats(booking.status), booking.status == "waitlisted"
    changes = [
        transition(booking, "cancelled", now=now, cancelled_by=by, cancel_reason=reason[:500])
    ]
    if held:
        changes.extend(_release_and_offer(booking, now))
    elif waiting:  # the next in line may fit the seats the leaver was waiting for
        changes.extend(waitlist.offer_freed_seats(booking.slot_id, now=now))
    notifications.booking_event(booking, "cancelled")
    if by == "resident":
        notifications.provider_cancellation(booking)
    db.session.commit()
    waitlist.after_commit(changes)
    return booking


def approve(booking: Booking, actor: User | None, *, now: datetime | None = None) -> Booking:
    """Confirm a pending booking (provider or admin decision). Commits.

    Only ``pending`` bookings are decided: a waiting booking holds no seat (confirming it
    would overfill the slot and jump the line) and an offer is the resident's to accept.
    """
    now = now or utcnow()
    if booking.status != "pending":
        raise BookingRefused.single("invalid_transition")
    change = transition(booking, "confirmed", now=now, decided_at=now)
    notifications.booking_event(booking, "approved")
    db.session.commit()
    waitlist.after_commit([change])
    return booking


def reject(
    booking: Booking, actor: User | None, reason: str = "", *, now: datetime | None = None
) -> Booking:
    """Reject a pending booking, free its seats for the waiting list. Commits."""
    now = now or utcnow()
    changes = [transition(booking, "rejected", now=now, decided_at=now, cancel_reason=reason[:500])]
    changes.extend(_release_and_offer(booking, now))
    notifications.booking_event(booking, "rejected")
    db.session.commit()
    waitlist.after_commit(changes)
    return booking


def _require_started(booking: Booking, now: datetime) -> None:
    if booking.slot.starts_at > now:
        raise BookingRefused.single("not_started")


def mark_attended(booking: Booking, actor: User | None, *, now: datetime | None = None) -> Booking:
    """Record that the resident came (confirmed bookings, once the slot has started)."""
    now = now or utcnow()
    _require_started(booking, now)
    change = transition(booking, "attended", now=now)
    db.session.commit()
    waitlist.after_commit([change])
    return booking


def mark_no_show(booking: Booking, actor: User | None, *, now: datetime | None = None) -> Booking:
    """Record that the resident did not come (confirmed bookings, once the slot has started)."""
    now = now or utcnow()
    _require_started(booking, now)
    change = transition(booking, "no_show", now=now)
    db.session.commit()
    waitlist.after_commit([change])
    return booking


def rate(
    booking: Booking,
    user: User,
    rating: int,
    comment: str = "",
    *,
    now: datetime | None = None,
) -> Booking:
    """Let the owner rate an attended booking once, 1 to 5 stars with an optional comment."""
    now = now or utcnow()
    problems: list[BookingProblem] = []
    if booking.user_id != user.id:
        problems.append(BookingProblem.of("not_owner"))
    if booking.status != "attended":
        problems.append(BookingProblem.of("invalid_transition"))
    if booking.rating is not None:
        problems.append(BookingProblem.of("already_rated"))
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        problems.append(BookingProblem.of("invalid_rating"))
    if problems:
        raise BookingRefused(problems)
    rated = db.session.execute(  # conditional: two submits at once rate once
        update(Booking)
        .where(Booking.id == booking.id, Booking.rating.is_(None), Booking.status == "attended")
        .values(rating=rating, rating_comment=comment.strip()[:2000], rated_at=now)
        .execution_options(synchronize_session=False)
    )
    if rated.rowcount != 1:
        db.session.rollback()
        raise BookingRefused.single("already_rated")
    db.session.commit()
    db.session.refresh(booking)
    return booking


def cancel_slot(
    slot: Slot,
    *,
    by: str = "provider",
    actor: User | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> int:
    """Cancel a whole slot (the provider closes it): no more bookings, every live booking
    cancelled and mailed, waiting list included. Commits; returns how many were cancelled.

    The slot is marked cancelled first, so a concurrent seat claim either committed before
    (and its booking is cancelled here) or fails.
    """
    if by not in CANCELLED_BY:
        raise ValueError(f"by must be one of {CANCELLED_BY}")
    now = now or utcnow()
    db.session.execute(
        update(Slot)
        .where(Slot.id == slot.id)
        .values(cancelled=True)
        .execution_options(synchronize_session=False)
    )
    live = db.session.scalars(
        select(Booking)
        .where(Booking.slot_id == slot.id, Booking.status.in_(LIVE_STATES))
        .order_by(Booking.id)
    ).all()
    changes: list[StateChange] = []
    for booking in live:
        held = holds_seats(booking.status)
        changes.append(
            transition(booking, "cancelled", now=now, cancelled_by=by, cancel_reason=reason[:500])
        )
        if held:
            release_seats(slot.id, booking.seats)
        notifications.booking_event(booking, "cancelled")
    db.session.commit()
    db.session.refresh(slot)
    waitlist.after_commit(changes)
    return len(changes)
