"""What the catalogue pages read. Each function issues a fixed number of SQL statements,
whatever the number of services, organisations or slots (no lazy loading in templates).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, bindparam, exists, func, literal, select, union_all
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from core.catalogue.search import like_pattern, search_terms
from core.catalogue.services import enabled_categories
from core.models import District, Membership, Organisation, Service, Slot, utcnow
from core.plugins.types import Category, DistrictConfig

PAGE_SIZE = 12
_SLUG_RE = re.compile(r"[A-Za-z0-9_-]{1,80}")
MAX_PAGE = 10_000  # a page number above this is junk (read as page 1)
MAX_PAGES = 50  # pages a catalogue search can reach: narrower searches for more
MAX_RESULTS = MAX_PAGES * PAGE_SIZE  # services counted at most (600)
PRICE_FILTERS = ("free", "discounted")
NEXT_SLOTS = 5
MAX_DAYS_AHEAD = 2 * 366  # no service opens bookings further ahead


@dataclass
class CatalogueFilters:
    """The catalogue's filters, all optional, as read from the query string."""

    category: str = ""
    service_type: str = ""
    provider: str = ""
    day: date | None = None
    price: str = ""
    q: str = ""

    def as_args(self) -> dict[str, str]:
        """The non-empty filters as query-string arguments (to keep them in links)."""
        args = {
            "category": self.category,
            "service_type": self.service_type,
            "provider": self.provider,
            "day": self.day.isoformat() if self.day else "",
            "price": self.price,
            "q": self.q,
        }
        return {k: v for k, v in args.items() if v}

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return bool(self.as_args())


def parse_filters(
    args: Mapping[str, str],
    config: DistrictConfig,
    categories: Mapping[str, Category],
    providers: Collection[str] | None = None,
    today: date | None = None,
) -> tuple[CatalogueFilters, list[Any]]:
    """Read the filters from query-string ``args``; unknown values are dropped with a message.

    ``providers`` are the provider slugs that may be chosen (None: any); ``today`` (the
    district's local date) makes past days refused.

    Returns the filters and the (localized, lazy) messages about what was ignored.
    """
    notes: list[Any] = []
    filters = CatalogueFilters()
    enabled = {c.slug: c for c in enabled_categories(config, categories)}
    category = (args.get("category") or "").strip()
    if category:
        if category in enabled:
            filters.category = category
        else:
            notes.append(_l("The area you chose does not exist here: showing every area."))
    service_type = (args.get("service_type") or "").strip()
    if service_type:
        pool = [enabled[filters.category]] if filters.category else list(enabled.values())
        if any(c.service_type(service_type) for c in pool):
            filters.service_type = service_type
        else:
            notes.append(_l("The type of service you chose does not exist: showing every type."))
    provider = (args.get("provider") or "").strip()
    if provider:
        if providers is None or provider in providers:
            filters.provider = provider[:80]
        else:
            notes.append(_l("The provider you chose does not exist here: showing every provider."))
    raw_day = (args.get("day") or "").strip()
    if raw_day:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            notes.append(_l("The date is not valid (use the format YYYY-MM-DD): it was ignored."))
        else:
            if today is not None and day < today:
                notes.append(_l("The date has passed: it was ignored."))
            elif day > (today or date.today()) + timedelta(days=MAX_DAYS_AHEAD):
                notes.append(_l("The date is too far ahead: it was ignored."))
            else:
                filters.day = day
    price = (args.get("price") or "").strip()
    if price:
        if price in PRICE_FILTERS:
            filters.price = price
        else:
            notes.append(_l("The price filter is not valid: it was ignored."))
    raw_q = "".join(ch for ch in (args.get("q") or "") if ch.isprintable() or ch == " ")
    filters.q = raw_q.strip()[:100]
    return filters, notes


def parse_page(raw: str | None) -> int:
    """A page number from the query string: invalid or out-of-range values become 1."""
    try:
        page = int((raw or "1").strip())
    except ValueError:
        return 1
    return page if 1 <= page <= MAX_PAGE else 1


def _published(district_id: int) -> list[ColumnElement[bool]]:
    """Conditions for a service to show in a district's catalogue (joined to its provider)."""
    return [
        Service.district_id == district_id,
        Service.status == "published",
        Organisation.status == "active",
    ]


def _listed(district_id: Any) -> list[ColumnElement[bool]]:
    """Conditions for a service to show in the catalogue, on the service table alone.

    Providers that are not active (suspended) are left out by id (``NOT IN`` the district's
    few such organisations, read from ``ix_organisation_district_status``), so the lists read
    one index of the service table in order instead of joining every service to its provider.
    """
    inactive = select(Organisation.id).where(
        Organisation.district_id == district_id, Organisation.status != "active"
    )
    return [
        Service.district_id == district_id,
        Service.status == "published",
        Service.organisation_id.not_in(inactive),
    ]


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants where the local ``day`` begins and ends in ``zone`` (DST-safe)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def _free_slot_on(day: date, zone: str, now: datetime) -> ColumnElement[bool]:
    start, end = day_bounds(day, zone)
    return exists().where(
        Slot.service_id == Service.id,
        Slot.cancelled.is_(False),
        Slot.taken < Slot.capacity,
        Slot.starts_at >= max(start, now),
        Slot.starts_at < end,
    )


def filter_conditions(
    filters: CatalogueFilters, zone: str, now: datetime, district_id: int
) -> list[ColumnElement[bool]]:
    """The SQL conditions of the catalogue's filters (on the service table)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.category:
        conditions.append(Service.category == filters.category)
    if filters.service_type:
        conditions.append(Service.service_type == filters.service_type)
    if filters.provider:
        provider = select(Organisation.id).where(
            Organisation.district_id == district_id, Organisation.slug == filters.provider
        )
        conditions.append(Service.organisation_id == provider.scalar_subquery())
    if filters.day:
        conditions.append(_free_slot_on(filters.day, zone, now))
    if filters.price == "free":
        conditions.append(Service.price_cents == 0)
    elif filters.price == "discounted":
        conditions.append(
            and_(
                Service.beneficiary_price_cents.is_not(None),
                Service.beneficiary_price_cents < Service.price_cents,
            )
        )
    for term in search_terms(filters.q):
        conditions.append(Service.search_text.like(like_pattern(term), escape="\\"))
    return conditions


def _title_order(locale: str) -> list[Any]:
    """The catalogue's order in ``locale``: the stored sort title, then id (index-backed)."""
    key = Service.sort_title_en if locale == "en" else Service.sort_title_it
    return [key, Service.id]


@dataclass
class CataloguePage:
    """One page of the catalogue.

    ``total`` counts at most :data:`MAX_RESULTS` services; ``more`` says that more match than
    the pages reach (the person should choose an area or a filter).
    """

    services: list[Service]
    total: int
    page: int
    pages: int
    page_size: int = PAGE_SIZE
    next_free: dict[int, datetime] = field(default_factory=dict)
    more: bool = False

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.pages


def bounded_count(session: Session, conditions: Sequence[ColumnElement[bool]], limit: int) -> int:
    """How many services match ``conditions``, counting at most ``limit`` of them.

    ``SELECT count(*) FROM (SELECT service.id … LIMIT limit)``: the database stops after
    ``limit`` index entries, so the cost does not grow with the district.
    """
    matching = select(Service.id).where(*conditions).limit(limit).subquery()
    return session.scalar(select(func.count()).select_from(matching)) or 0


def catalogue_page(
    session: Session,
    district: District,
    config: DistrictConfig,
    filters: CatalogueFilters,
    page: int = 1,
    locale: str = "it",
    now: datetime | None = None,
) -> CataloguePage:
    """The published services of the district matching ``filters``, one page (4 statements).

    Sorted by title in ``locale`` (accent- and case-insensitive, falling back to the other
    language) then id, so pages are stable. Only the first :data:`MAX_PAGES` pages can be read
    and at most :data:`MAX_RESULTS` services are counted (``more`` then tells there are others).
    The page's ids come in order from an index alone (``ix_service_area_order_<locale>`` or
    ``ix_service_order_<locale>``), then the 12 services by id: with an area or no filter, a
    request reads at most ``MAX_RESULTS + 1`` index entries however large the district. The
    other filters (words, type, price, day, provider) are checked along the same order, so a
    rare match may read further. A page past the end shows the last page.
    """
    now = now or utcnow()
    conditions = _listed(district.id) + filter_conditions(
        filters, config.timezone, now, district.id
    )
    counted = bounded_count(session, conditions, MAX_RESULTS + 1)
    more = counted > MAX_RESULTS
    total = min(counted, MAX_RESULTS)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(page, 1), pages)
    ids: list[int] = []
    if counted:  # nothing matched: no second walk along the index
        ids = list(
            session.scalars(
                select(Service.id)
                .where(*conditions)
                .order_by(*_title_order(locale))
                .limit(PAGE_SIZE)
                .offset((page - 1) * PAGE_SIZE)
            )
        )
    found: dict[int, Service] = {}
    if ids:
        found = {
            s.id: s
            for s in session.scalars(
                select(Service).where(Service.id.in_(ids)).options(joinedload(Service.organisation))
            )
        }
    services = [found[i] for i in ids if i in found]
    return CataloguePage(
        services=services,
        total=total,
        page=page,
        pages=pages,
        next_free=next_free_times(session, [s.id for s in services], now),
        more=more,
    )


def next_free_times(
    session: Session, service_ids: Sequence[int], now: datetime | None = None
) -> dict[int, datetime]:
    """The start of each service's next slot with free places (one grouped query)."""
    if not service_ids:
        return {}
    rows = session.execute(
        select(Slot.service_id, func.min(Slot.starts_at))
        .where(
            Slot.service_id.in_(list(service_ids)),
            Slot.cancelled.is_(False),
            Slot.taken < Slot.capacity,
            Slot.starts_at >= (now or utcnow()),
        )
        .group_by(Slot.service_id)
    ).all()
    # min() keeps the column's type, so values come back as aware UTC datetimes
    return {int(service_id): starts_at for service_id, starts_at in rows}


def counts_by_category(
    session: Session,
    district: District,
    categories: Sequence[str],
    limit: int = MAX_RESULTS + 1,
) -> dict[str, int]:
    """How many published services each of ``categories`` has in the district (one statement).

    Each area is counted up to ``limit`` services only (a count of ``limit`` means "at least"),
    from the index alone, so the district home costs the same however large the district.
    """
    statement = _area_counts_statement(tuple(dict.fromkeys(categories)), limit)
    if statement is None:
        return {}
    rows = session.execute(statement, {"district_id": district.id}).all()
    return {str(category): int(count) for category, count in rows if count}


@lru_cache(maxsize=64)
def _area_counts_statement(categories: tuple[str, ...], limit: int) -> Any:
    """The statement of :func:`counts_by_category`, built once per set of areas (the district
    is a bound parameter): building it costs more Python than running it."""
    district_id: Any = bindparam("district_id", type_=Integer)
    parts = [
        select(literal(slug).label("category"), func.count().label("services")).select_from(
            select(Service.id)
            .where(*_listed(district_id), Service.category == slug)
            .limit(limit)
            .subquery()
        )
        for slug in categories
    ]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else union_all(*parts)


def provider_choices(session: Session, district: District) -> list[tuple[str, str]]:
    """``(slug, name)`` of the district's active providers with published services."""
    rows = session.execute(
        select(Organisation.slug, Organisation.name)
        .where(
            Organisation.district_id == district.id,
            Organisation.status == "active",
            exists().where(
                Service.organisation_id == Organisation.id, Service.status == "published"
            ),
        )
        .order_by(func.lower(Organisation.name), Organisation.id)
    ).all()
    return [(slug, name) for slug, name in rows]


@dataclass
class ServiceDetail:
    """A published service with what its page shows."""

    service: Service
    next_slots: list[Slot] = field(default_factory=list)
    upcoming_closures: list[Any] = field(default_factory=list)


def next_free_slots(
    session: Session, service: Service, now: datetime | None = None, limit: int = NEXT_SLOTS
) -> list[Slot]:
    """The next bookable times of ``service``: not cancelled, not full, within its notice and
    advance rules (one query)."""
    now = now or utcnow()
    earliest = now + timedelta(minutes=service.min_notice_minutes or 0)
    latest = now + timedelta(days=service.max_advance_days or 0)
    return list(
        session.scalars(
            select(Slot)
            .where(
                Slot.service_id == service.id,
                Slot.cancelled.is_(False),
                Slot.taken < Slot.capacity,
                Slot.starts_at >= earliest,
                Slot.starts_at <= latest,
            )
            .order_by(Slot.starts_at, Slot.id)
            .limit(limit)
        )
    )


def service_detail(
    session: Session,
    district: District,
    service_id: int,
    today: date,
    now: datetime | None = None,
) -> ServiceDetail | None:
    """A published service of the district with its provider, rules and next times; ``None``
    when it is not published here (4 statements)."""
    service = session.scalar(
        select(Service)
        .join(Service.organisation)
        .where(Service.id == service_id, *_published(district.id))
        .options(
            selectinload(Service.organisation),
            selectinload(Service.opening_rules),
            selectinload(Service.closures),
        )
    )
    if service is None:
        return None
    closures = [c for c in service.closures if c.day >= today][:10]
    return ServiceDetail(
        service=service,
        next_slots=next_free_slots(session, service, now),
        upcoming_closures=closures,
    )


def is_slug(text: str) -> bool:
    """Whether ``text`` can be an organisation slug (letters, digits, ``-``, ``_``; ≤ 80)."""
    return bool(_SLUG_RE.fullmatch(text))


def organisation_by_slug(session: Session, district: District, slug: str) -> Organisation | None:
    """The organisation of the district with this slug (None for a malformed slug)."""
    if not is_slug(slug):
        return None
    return session.scalar(
        select(Organisation).where(
            Organisation.district_id == district.id, Organisation.slug == slug
        )
    )


def provider_profile(
    session: Session, district: District, slug: str, locale: str = "it"
) -> tuple[Organisation, list[Service]] | None:
    """An active organisation of the district and its published services (2 statements)."""
    if not is_slug(slug):
        return None
    organisation = session.scalar(
        select(Organisation).where(
            Organisation.district_id == district.id,
            Organisation.slug == slug,
            Organisation.status == "active",
        )
    )
    if organisation is None:
        return None
    services = list(
        session.scalars(
            select(Service)
            .where(Service.organisation_id == organisation.id, Service.status == "published")
            .order_by(*_title_order(locale))
        )
    )
    for service in services:  # already known: no lazy load per service in templates
        set_committed_value(service, "organisation", organisation)
    return organisation, services


# Provider area and admin queue ------------------------------------------------------------


def staff_organisations(session: Session, user_id: int, district: District) -> list[Organisation]:
    """The organisations of the district ``user_id`` works for, by name."""
    return list(
        session.scalars(
            select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user_id, Organisation.district_id == district.id)
            .order_by(func.lower(Organisation.name), Organisation.id)
        )
    )


def organisations_services(
    session: Session, organisations: Sequence[Organisation]
) -> dict[int, list[Service]]:
    """Every service of each organisation, newest first (one query)."""
    ids = [o.id for o in organisations]
    result: dict[int, list[Service]] = {i: [] for i in ids}
    if not ids:
        return result
    for service in session.scalars(
        select(Service)
        .where(Service.organisation_id.in_(ids))
        .order_by(Service.created_at.desc(), Service.id.desc())
    ):
        result[service.organisation_id].append(service)
    return result


def pending_services(session: Session, district: District) -> list[Service]:
    """The district's services waiting for approval, oldest first, with their providers."""
    return list(
        session.scalars(
            select(Service)
            .where(Service.district_id == district.id, Service.status == "pending_approval")
            .options(selectinload(Service.organisation))
            .order_by(Service.updated_at, Service.id)
        )
    )
