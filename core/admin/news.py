"""News and events on the district home."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from core.admin.organisations import AdminError
from core.audit import record
from core.extensions import db
from core.models import NEWS_KINDS, District, News, User


@dataclass(frozen=True)
class NewsData:
    """The editable fields of a news item or event."""

    title: str
    body: str = ""
    kind: str = "news"
    event_at: datetime | None = None
    place: str = ""
    published: bool = True


def _validate(data: NewsData) -> None:
    if not data.title.strip():
        raise AdminError(_("Give a title."), "title")
    if data.kind not in NEWS_KINDS:
        raise AdminError(_("Choose news or event."), "kind")
    if data.kind == "event" and data.event_at is None:
        raise AdminError(_("An event needs its date and time."), "event_at")
    if data.event_at is not None and data.event_at.tzinfo is None:
        raise AdminError(_("An event needs its date and time."), "event_at")


def _apply(row: News, data: NewsData) -> None:
    row.title = data.title.strip()[:200]
    row.body = data.body.strip()
    row.kind = data.kind
    row.event_at = data.event_at if data.kind == "event" else None
    row.place = data.place.strip()[:200]
    row.published = data.published


def news_of(district: District, *, published_only: bool = False, limit: int = 50) -> list[News]:
    """The district's news and events, newest first."""
    query = select(News).where(News.district_id == district.id)
    if published_only:
        query = query.where(News.published.is_(True))
    return list(
        db.session.scalars(query.order_by(News.created_at.desc(), News.id.desc()).limit(limit))
    )


def news_in(district: District, news_id: int) -> News | None:
    """The news item with this id if it belongs to the district."""
    row = db.session.get(News, news_id)
    return row if row is not None and row.district_id == district.id else None


def create_news(district: District, data: NewsData, actor: User) -> News:
    """Publish (or save unpublished) a news item or event. No commit."""
    _validate(data)
    row = News(district_id=district.id, author_id=actor.id)
    _apply(row, data)
    db.session.add(row)
    db.session.flush()
    record(
        "news.create", actor=actor, target_type="news", target_id=row.id, district_id=district.id
    )
    return row


def update_news(row: News, data: NewsData, actor: User) -> News:
    """Change a news item or event. No commit."""
    _validate(data)
    _apply(row, data)
    record(
        "news.update",
        actor=actor,
        target_type="news",
        target_id=row.id,
        district_id=row.district_id,
    )
    db.session.flush()
    return row


def delete_news(row: News, actor: User) -> None:
    """Remove a news item or event. No commit."""
    record(
        "news.delete",
        actor=actor,
        target_type="news",
        target_id=row.id,
        district_id=row.district_id,
        details={"title": row.title},
    )
    db.session.delete(row)
