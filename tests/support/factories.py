"""Factory functions for test rows: districts, users, organisations, services, rules, slots.

Each returns a flushed row with sensible defaults; pass keyword arguments to override.
Add new factories in a module of your own area (e.g. ``tests/support/booking_factories.py``).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from typing import Any

from core.auth.passwords import hash_password
from core.extensions import db
from core.models import (
    District,
    DistrictAdmin,
    Membership,
    OpeningRule,
    Organisation,
    Service,
    Slot,
    User,
)

_seq = itertools.count(1)
PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)


def district(slug: str = "isola-garibaldi", **fields: Any) -> District:
    """A district row (get-or-create by slug)."""
    row = db.session.query(District).filter_by(slug=slug).one_or_none()
    if row is None:
        row = District(
            slug=slug,
            name=fields.pop("name", slug.title()),
            municipality=fields.pop("municipality", "Comune di Milano"),
            **fields,
        )
        db.session.add(row)
        db.session.flush()
    return row


def user(email: str | None = None, *, verified: bool = True, **fields: Any) -> User:
    """A user whose password is :data:`PASSWORD`."""
    n = next(_seq)
    row = User(
        email=email or f"person{n}@example.org",
        password_hash=_HASH,
        full_name=fields.pop("full_name", f"Person {n}"),
        email_verified_at=datetime.now(UTC) if verified else None,
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def district_admin(of: District, **fields: Any) -> User:
    """A district admin of ``of``."""
    row = user(**fields)
    db.session.add(DistrictAdmin(user_id=row.id, district_id=of.id))
    db.session.flush()
    return row


def organisation(of: District | None = None, **fields: Any) -> Organisation:
    """An active provider organisation of ``of`` (default district: isola-garibaldi)."""
    n = next(_seq)
    of = of or district()
    row = Organisation(
        district_id=of.id,
        slug=fields.pop("slug", f"org-{n}"),
        name=fields.pop("name", f"Organisation {n}"),
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def staff(of: Organisation, **fields: Any) -> User:
    """A provider staff member of ``of``."""
    row = user(**fields)
    db.session.add(Membership(user_id=row.id, organisation_id=of.id))
    db.session.flush()
    return row


def service(org: Organisation | None = None, **fields: Any) -> Service:
    """A published service of ``org`` with booking rules that allow booking tomorrow."""
    org = org or organisation()
    n = next(_seq)
    defaults: dict[str, Any] = {
        "category": "health",
        "service_type": "",
        "title_it": f"Servizio {n}",
        "title_en": f"Service {n}",
        "status": "published",
        "min_notice_minutes": 0,
        "max_advance_days": 365,
        "cancel_deadline_minutes": 0,
    }
    defaults.update(fields)
    row = Service(district_id=org.district_id, organisation_id=org.id, **defaults)
    db.session.add(row)
    db.session.flush()
    return row


def opening_rule(svc: Service, weekday: int = 0, **fields: Any) -> OpeningRule:
    """A weekly opening, Mondays 09:00-12:00 in hourly slots of 2 seats by default."""
    row = OpeningRule(
        service_id=svc.id,
        weekday=weekday,
        start=fields.pop("start", time(9)),
        end=fields.pop("end", time(12)),
        slot_minutes=fields.pop("slot_minutes", 60),
        seats=fields.pop("seats", 2),
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def slot(
    svc: Service | None = None, *, starts_in: timedelta = timedelta(days=2), **fields: Any
) -> Slot:
    """A slot of ``svc`` starting ``starts_in`` from now (an hour long, 2 seats by default)."""
    svc = svc or service()
    start = fields.pop("starts_at", datetime.now(UTC).replace(microsecond=0) + starts_in)
    row = Slot(
        service_id=svc.id,
        starts_at=start,
        ends_at=fields.pop("ends_at", start + timedelta(hours=1)),
        capacity=fields.pop("capacity", 2),
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row
