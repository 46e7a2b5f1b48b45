"""Creating and editing services, their opening hours and closures, and their status.

Status transitions::

    draft / withdrawn --publish--> published              (district without approval)
    draft / withdrawn --publish--> pending_approval       (district requiring approval)
    pending_approval  --approve--> published
    pending_approval  --send_back(reason)--> draft
    published / pending_approval --withdraw--> withdrawn

Every function validates everything first and changes nothing when it refuses, so a refused
request never leaves half-written data. Functions flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import AuditEntry, Closure, OpeningRule, Organisation, Service, User, utcnow
from core.plugins.types import Category, DistrictConfig

QUOTA_SCOPES = ("service", "category")
MAX_SEATS_PER_RULE = 500
MAX_SEATS_PER_BOOKING = 50
MIN_SLOT_MINUTES = 5
MAX_NOTICE_MINUTES = 365 * 24 * 60
MAX_ADVANCE_DAYS = 730
MAX_HOLD_MINUTES = 7 * 24 * 60
MAX_REASON_LENGTH = 500


class CatalogueError(Exception):
    """A refused change. ``errors`` maps a field name ("" for the whole form) to messages."""

    def __init__(self, errors: Mapping[str, Sequence[Any]]) -> None:
        super().__init__("; ".join(str(m) for ms in errors.values() for m in ms))
        self.errors = {name: list(messages) for name, messages in errors.items()}


class InvalidTransition(CatalogueError):
    """The service's status does not allow this action (e.g. approving a published service)."""

    def __init__(self, status: str, action: str) -> None:
        super().__init__({"": [_l("This service cannot be changed this way in its status.")]})
        self.status = status
        self.action = action


@dataclass
class ServiceData:
    """What a provider enters about a service, already parsed (cents, minutes)."""

    category: str
    service_type: str = ""
    title_it: str = ""
    title_en: str = ""
    description_it: str = ""
    description_en: str = ""
    place_name: str = ""
    address: str = ""
    postcode: str = ""
    price_cents: int = 0
    beneficiary_price_cents: int | None = None
    beneficiaries_only: bool = False
    min_notice_minutes: int = 60
    max_advance_days: int = 60
    cancel_deadline_minutes: int = 120
    requires_approval: bool = False
    max_seats_per_booking: int = 1
    quota_per_month: int | None = None
    quota_scope: str = "service"
    waitlist_enabled: bool = True
    waitlist_hold_minutes: int = 0
    ical_public: bool = False

    @classmethod
    def from_service(cls, service: Service) -> ServiceData:
        """The data of an existing service (to prefill an edit form)."""
        return cls(**{f.name: getattr(service, f.name) for f in fields(cls)})


def enabled_categories(
    config: DistrictConfig, categories: Mapping[str, Category]
) -> list[Category]:
    """The categories the district enables and some plugin registers, in display order."""
    found = [categories[slug] for slug in config.categories if slug in categories]
    return sorted(found, key=lambda c: (c.order, c.slug))


def validate_service_data(
    data: ServiceData, config: DistrictConfig, categories: Mapping[str, Category]
) -> None:
    """Raise :class:`CatalogueError` listing every problem of ``data`` in this district."""
    errors: dict[str, list[Any]] = {}

    def add(name: str, message: Any) -> None:
        """Record a problem of one field."""
        errors.setdefault(name, []).append(message)

    enabled = {c.slug: c for c in enabled_categories(config, categories)}
    category = enabled.get(data.category)
    if category is None:
        add("category", _l("Choose one of the areas offered in this district."))
    elif data.service_type and category.service_type(data.service_type) is None:
        add("service_type", _l("This type of service does not belong to the chosen area."))
    if not data.title_it.strip() and not data.title_en.strip():
        add("title_it", _l("Give the service a title, in Italian or in English."))
    if data.price_cents < 0:
        add("price", _l("The price cannot be negative."))
    if data.beneficiary_price_cents is not None:
        if data.beneficiary_price_cents < 0:
            add("beneficiary_price", _l("The price cannot be negative."))
        elif data.beneficiary_price_cents > data.price_cents:
            add(
                "beneficiary_price",
                _l("The beneficiary price cannot be higher than the full price."),
            )
    if not 0 <= data.min_notice_minutes <= MAX_NOTICE_MINUTES:
        add("min_notice_hours", _l("Enter a notice between 0 and 8760 hours."))
    if not 1 <= data.max_advance_days <= MAX_ADVANCE_DAYS:
        add("max_advance_days", _l("Enter between 1 and 730 days."))
    if not 0 <= data.cancel_deadline_minutes <= MAX_NOTICE_MINUTES:
        add("cancel_deadline_hours", _l("Enter a deadline between 0 and 8760 hours."))
    elif data.max_advance_days * 24 * 60 <= data.min_notice_minutes:
        add("max_advance_days", _l("Bookings must open before the minimum notice closes them."))
    if not 1 <= data.max_seats_per_booking <= MAX_SEATS_PER_BOOKING:
        add("max_seats_per_booking", _l("Enter between 1 and 50 seats."))
    if data.quota_per_month is not None and not 1 <= data.quota_per_month <= 1000:
        add("quota_per_month", _l("Enter a monthly limit between 1 and 1000, or leave it empty."))
    if data.quota_scope not in QUOTA_SCOPES:
        add("quota_scope", _l("Choose whether the limit counts this service or the whole area."))
    if not 0 <= data.waitlist_hold_minutes <= MAX_HOLD_MINUTES:
        add("waitlist_hold_minutes", _l("Enter between 0 and 10080 minutes."))
    for name, limit in (
        ("title_it", 200),
        ("title_en", 200),
        ("place_name", 200),
        ("address", 300),
        ("postcode", 10),
    ):
        if len(getattr(data, name)) > limit:
            add(name, _l("This text is too long."))
    if errors:
        raise CatalogueError(errors)


def _apply(service: Service, data: ServiceData) -> None:
    for f in fields(data):
        value = getattr(data, f.name)
        setattr(service, f.name, value.strip() if isinstance(value, str) else value)


def _audit(
    session: Session, actor: User | None, action: str, service: Service, **details: Any
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.id if actor is not None else None,
            action=action,
            target_type="service",
            target_id=str(service.id),
            district_id=service.district_id,
            details=details,
        )
    )


def create_service(
    session: Session,
    organisation: Organisation,
    data: ServiceData,
    config: DistrictConfig,
    categories: Mapping[str, Category],
    actor: User | None = None,
) -> Service:
    """Create a draft service of ``organisation`` (validated first)."""
    validate_service_data(data, config, categories)
    service = Service(
        district_id=organisation.district_id, organisation=organisation, status="draft"
    )
    _apply(service, data)
    session.add(service)
    session.flush()
    _audit(session, actor, "service.created", service)
    session.flush()
    return service


def update_service(
    session: Session,
    service: Service,
    data: ServiceData,
    config: DistrictConfig,
    categories: Mapping[str, Category],
    actor: User | None = None,
) -> Service:
    """Change a service's description and rules (validated first; the status stays)."""
    validate_service_data(data, config, categories)
    _apply(service, data)
    _audit(session, actor, "service.updated", service)
    session.flush()
    return service


def publish(
    session: Session, service: Service, config: DistrictConfig, actor: User | None = None
) -> str:
    """Publish a draft or withdrawn service, or send it for approval; returns the new status."""
    if service.status not in {"draft", "withdrawn"}:
        raise InvalidTransition(service.status, "publish")
    if config.requires_service_approval:
        service.status = "pending_approval"
    else:
        service.status = "published"
        service.published_at = utcnow()
    _audit(session, actor, "service.submitted", service, status=service.status)
    session.flush()
    return service.status


def withdraw(session: Session, service: Service, actor: User | None = None) -> None:
    """Take a published (or pending) service out of the catalogue."""
    if service.status not in {"published", "pending_approval"}:
        raise InvalidTransition(service.status, "withdraw")
    service.status = "withdrawn"
    _audit(session, actor, "service.withdrawn", service)
    session.flush()


def approve(session: Session, service: Service, actor: User | None = None) -> None:
    """A district admin publishes a service waiting for approval."""
    if service.status != "pending_approval":
        raise InvalidTransition(service.status, "approve")
    service.status = "published"
    service.published_at = utcnow()
    _audit(session, actor, "service.approved", service)
    session.flush()


def send_back(session: Session, service: Service, reason: str, actor: User | None = None) -> None:
    """A district admin returns a pending service to draft, telling the provider why."""
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError({"reason": [_l("Tell the provider what to change.")]})
    if len(reason) > MAX_REASON_LENGTH:
        raise CatalogueError({"reason": [_l("This text is too long.")]})
    if service.status != "pending_approval":
        raise InvalidTransition(service.status, "send_back")
    service.status = "draft"
    _audit(session, actor, "service.sent_back", service, reason=reason)
    session.flush()


def review_notes(session: Session, services: Sequence[Service]) -> dict[int, str]:
    """The reason of the last send-back of each draft among ``services`` (one query)."""
    drafts = {str(s.id): s.id for s in services if s.status == "draft"}
    if not drafts:
        return {}
    rows = session.execute(
        select(AuditEntry.target_id, AuditEntry.details)
        .where(
            AuditEntry.target_type == "service",
            AuditEntry.action.in_(("service.sent_back", "service.submitted")),
            AuditEntry.target_id.in_(list(drafts)),
        )
        .order_by(AuditEntry.id)
    ).all()
    notes: dict[int, str] = {}
    for target_id, details in rows:
        reason = (details or {}).get("reason", "")
        notes[drafts[target_id]] = reason  # a later submission clears an earlier note
    return {k: v for k, v in notes.items() if v}


# Opening hours and closures -------------------------------------------------------------


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def validate_opening_rule(
    weekday: int,
    start: time,
    end: time,
    slot_minutes: int,
    seats: int,
    existing: Sequence[OpeningRule] = (),
) -> None:
    """Raise :class:`CatalogueError` unless the weekly opening makes sense and overlaps nothing."""
    errors: dict[str, list[Any]] = {}
    if not 0 <= weekday <= 6:
        errors.setdefault("weekday", []).append(_l("Choose a day of the week."))
    length = _minutes(end) - _minutes(start)
    if length <= 0:
        errors.setdefault("end", []).append(_l("The end must be later than the start."))
    if not MIN_SLOT_MINUTES <= slot_minutes <= 720:
        errors.setdefault("slot_minutes", []).append(
            _l("Enter a slot length between 5 and 720 minutes.")
        )
    elif length > 0 and slot_minutes > length:
        errors.setdefault("slot_minutes", []).append(
            _l("A slot must fit between the start and the end.")
        )
    if not 1 <= seats <= MAX_SEATS_PER_RULE:
        errors.setdefault("seats", []).append(_l("Enter between 1 and 500 seats."))
    if not errors:
        for rule in existing:
            if (
                rule.weekday == weekday
                and _minutes(rule.start) < _minutes(end)
                and _minutes(start) < _minutes(rule.end)
            ):
                errors.setdefault("start", []).append(
                    _l("This opening overlaps another one on the same day.")
                )
                break
    if errors:
        raise CatalogueError(errors)


def add_opening_rule(
    session: Session,
    service: Service,
    weekday: int,
    start: time,
    end: time,
    slot_minutes: int,
    seats: int,
    actor: User | None = None,
) -> OpeningRule:
    """Add a weekly opening to ``service`` (validated against its other openings)."""
    validate_opening_rule(weekday, start, end, slot_minutes, seats, service.opening_rules)
    rule = OpeningRule(
        weekday=weekday, start=start, end=end, slot_minutes=slot_minutes, seats=seats
    )
    service.opening_rules.append(rule)
    _audit(session, actor, "service.hours_changed", service)
    session.flush()
    return rule


def remove_opening_rule(
    session: Session, service: Service, rule_id: int, actor: User | None = None
) -> bool:
    """Remove one of ``service``'s weekly openings; False if it has no such opening."""
    rule = next((r for r in service.opening_rules if r.id == rule_id), None)
    if rule is None:
        return False
    service.opening_rules.remove(rule)
    _audit(session, actor, "service.hours_changed", service)
    session.flush()
    return True


def add_closure(
    session: Session,
    service: Service,
    day: date,
    reason: str,
    today: date,
    actor: User | None = None,
) -> Closure:
    """Close ``service`` on ``day`` (today or later, once per day)."""
    reason = (reason or "").strip()
    errors: dict[str, list[Any]] = {}
    if day < today:
        errors["day"] = [_l("Choose today or a later day.")]
    elif any(c.day == day for c in service.closures):
        errors["day"] = [_l("The service is already closed on that day.")]
    if len(reason) > 200:
        errors["reason"] = [_l("This text is too long.")]
    if errors:
        raise CatalogueError(errors)
    closure = Closure(day=day, reason=reason)
    service.closures.append(closure)
    _audit(session, actor, "service.closure_added", service, day=day.isoformat())
    session.flush()
    return closure


def remove_closure(
    session: Session, service: Service, closure_id: int, actor: User | None = None
) -> bool:
    """Reopen ``service`` on a closed day; False if it has no such closure."""
    closure = next((c for c in service.closures if c.id == closure_id), None)
    if closure is None:
        return False
    service.closures.remove(closure)
    _audit(session, actor, "service.closure_removed", service, day=closure.day.isoformat())
    session.flush()
    return True


def local_today(config: DistrictConfig, now: datetime | None = None) -> date:
    """Today's date in the district's zone."""
    from zoneinfo import ZoneInfo

    return (now or utcnow()).astimezone(ZoneInfo(config.timezone)).date()
