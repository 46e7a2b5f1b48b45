"""Private iCal feeds: issue, rotate and revoke a person's secret feed address, and answer it.

The secret is shown once, when it is made; only its SHA-256 is stored, so a database leak does
not leak working feed addresses. Plain functions over a session: no Flask request in here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from core.models import Booking, CalendarFeed, District, Service, Slot, User
from core.models.bookings import LIVE_STATES
from core.models.types import utcnow

FEED_STATES = (*LIVE_STATES, "attended")
PAST_WINDOW = timedelta(days=365)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a feed secret is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def active_feed(session: Session, user: User) -> CalendarFeed | None:
    """The person's feed that still answers, if any."""
    return session.scalar(
        select(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id.desc())
        .limit(1)
    )


def revoke_feeds(session: Session, user: User) -> int:
    """Revoke every live feed of the person; returns how many were revoked (not committed)."""
    result = session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def issue_feed(session: Session, user: User) -> str:
    """Revoke the person's feeds and make a new one; returns its secret (not committed)."""
    revoke_feeds(session, user)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(user_id=user.id, token_hash=hash_token(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The owner of a live feed secret; ``None`` for a malformed, unknown or revoked one."""
    if not _TOKEN_RE.match(token):
        return None
    feed = session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == hash_token(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    if feed is None or not feed.user.is_active:
        return None
    now = utcnow()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(hours=1):
        feed.last_used_at = now  # at most one write an hour per feed
    return feed.user


def feed_bookings(session: Session, user: User) -> list[Booking]:
    """The person's live and attended bookings of the last year and the future, by start."""
    since = utcnow() - PAST_WINDOW
    return list(
        session.scalars(
            select(Booking)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Booking.user_id == user.id,
                Booking.status.in_(FEED_STATES),
                or_(Slot.starts_at >= since, Booking.status != "attended"),
            )
            .options(
                selectinload(Booking.slot),
                selectinload(Booking.service).selectinload(Service.organisation),
            )
            .order_by(Slot.starts_at, Booking.id)
        )
    )


def district_zones(session: Session, district_ids: set[int]) -> dict[int, str]:
    """The IANA zone of each district, by id."""
    if not district_ids:
        return {}
    rows = session.execute(
        select(District.id, District.timezone).where(District.id.in_(district_ids))
    )
    return {row.id: row.timezone for row in rows}
