"""The checks a booking must pass before its seats are claimed; each returns problems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from core.booking.errors import BookingProblem
from core.extensions import db
from core.models import BeneficiaryDeclaration, Booking, District, Service, Slot, User
from core.models.bookings import LIVE_STATES
from core.plugins.types import BookingRequest, DistrictConfig

QUOTA_STATES = (*LIVE_STATES, "attended")


@dataclass
class BookingContext:
    """Everything the checks need: the slot, its service, organisation and district."""

    slot: Slot
    service: Service
    district: District
    config: DistrictConfig | None

    @property
    def zone(self) -> ZoneInfo:
        """The district's time zone."""
        return ZoneInfo(self.district.timezone or "Europe/Rome")


def load_context(slot: Slot) -> BookingContext:
    """Load the service, district row and district config of ``slot``."""
    service = slot.service
    district = db.session.get(District, service.district_id)
    assert district is not None
    configs = current_app.extensions["concilia"].districts
    return BookingContext(slot, service, district, configs.get(district.slug))


def is_beneficiary(user: User, district_id: int) -> bool:
    """Whether ``user`` holds an approved beneficiary declaration in the district."""
    return (
        db.session.scalar(
            select(BeneficiaryDeclaration.id).where(
                BeneficiaryDeclaration.user_id == user.id,
                BeneficiaryDeclaration.district_id == district_id,
                BeneficiaryDeclaration.status == "approved",
            )
        )
        is not None
    )


def check_service(ctx: BookingContext) -> list[BookingProblem]:
    """The service is published and its organisation active."""
    if ctx.service.status != "published" or ctx.service.organisation.status != "active":
        return [BookingProblem.of("service_unavailable")]
    return []


def check_time(ctx: BookingContext, now: datetime) -> list[BookingProblem]:
    """The slot is not cancelled, not past, and inside the booking window."""
    slot, service = ctx.slot, ctx.service
    if slot.cancelled:
        return [BookingProblem.of("slot_cancelled")]
    if slot.starts_at <= now:
        return [BookingProblem.of("slot_past")]
    if slot.starts_at - now < timedelta(minutes=service.min_notice_minutes):
        return [BookingProblem.of("too_late")]
    if slot.starts_at - now > timedelta(days=service.max_advance_days):
        return [BookingProblem.of("too_early")]
    return []


def check_seats(ctx: BookingContext, seats: int) -> list[BookingProblem]:
    """Between 1 and the service's ``max_seats_per_booking`` seats, and no more than the slot
    has (a waiting booking that can never fit would block the strict waiting line for ever).
    """
    if seats < 1 or seats > min(ctx.service.max_seats_per_booking, ctx.slot.capacity):
        return [BookingProblem.of("too_many_seats")]
    return []


def check_eligibility(ctx: BookingContext, user: User) -> list[BookingProblem]:
    """Beneficiaries-only services need an approved declaration in the service's district."""
    if ctx.service.beneficiaries_only and not is_beneficiary(user, ctx.service.district_id):
        return [BookingProblem.of("not_eligible")]
    return []


def month_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of the local calendar month containing ``moment``."""
    local = moment.astimezone(zone)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + timedelta(days=32)).replace(day=1)
    return first.astimezone(ZoneInfo("UTC")), following.astimezone(ZoneInfo("UTC"))


def check_quota(ctx: BookingContext, user: User, *, written: int = 0) -> list[BookingProblem]:
    """At most ``quota_per_month`` live or attended bookings in the slot's local month.

    ``quota_scope`` is ``service`` (this service) or ``category`` (any service of the same
    category in the district). ``written`` is how many of the counted bookings are the new one
    itself, already inserted by the caller's transaction (the engine's re-check).
    """
    service = ctx.service
    if service.quota_per_month is None:
        return []
    since, until = month_bounds(ctx.slot.starts_at, ctx.zone)
    query = (
        select(func.count(Booking.id))
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.user_id == user.id,
            Booking.status.in_(QUOTA_STATES),
            Slot.starts_at >= since,
            Slot.starts_at < until,
        )
    )
    if service.quota_scope == "category":
        query = query.join(Service, Service.id == Booking.service_id).where(
            Service.category == service.category, Service.district_id == service.district_id
        )
    else:
        query = query.where(Booking.service_id == service.id)
    if (db.session.scalar(query) or 0) - written >= service.quota_per_month:
        return [BookingProblem.of("quota_reached")]
    return []


def check_not_booked(ctx: BookingContext, user: User) -> list[BookingProblem]:
    """No live booking of this user on this slot."""
    existing = db.session.scalar(
        select(Booking.id).where(
            Booking.slot_id == ctx.slot.id,
            Booking.user_id == user.id,
            Booking.status.in_(LIVE_STATES),
        )
    )
    return [BookingProblem.of("already_booked")] if existing is not None else []


def check_plugins(
    ctx: BookingContext, user: User, seats: int, answers: dict[str, Any]
) -> list[BookingProblem]:
    """Every plugin's ``validate_booking`` reasons, all collected."""
    request = BookingRequest(
        user=user,
        service=ctx.service,
        slot=ctx.slot,
        seats=seats,
        answers=dict(answers),
        district=ctx.config,
    )
    hook = current_app.extensions["concilia"].hook
    problems: list[BookingProblem] = []
    for reasons in hook.validate_booking(request=request):
        for reason in reasons or ():
            problems.append(BookingProblem.of("plugin_refused", reason))
    return problems


def check_all(
    ctx: BookingContext,
    user: User,
    seats: int,
    answers: dict[str, Any],
    now: datetime,
    *,
    waitlist: bool = False,
    booked: bool | None = None,
) -> list[BookingProblem]:
    """Every rule, problems collected (the seat availability itself is checked by the claim).

    A refused slot time or unavailable service stops early: the other rules would only add
    noise. ``booked`` says whether the user already holds a live booking of the slot when the
    caller has just read it (``None``: look it up here).
    """
    problems = check_service(ctx) or check_time(ctx, now)
    if problems:
        return problems
    problems = [
        *check_seats(ctx, seats),
        *check_eligibility(ctx, user),
        *check_quota(ctx, user),
        *(
            check_not_booked(ctx, user)
            if booked is None
            else [BookingProblem.of("already_booked")]
            if booked
            else []
        ),
    ]
    if not waitlist and not problems and ctx.slot.taken + seats > ctx.slot.capacity:
        problems.append(BookingProblem.of("slot_full"))
    problems.extend(check_plugins(ctx, user, seats, answers))
    return problems
