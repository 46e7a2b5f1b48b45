"""Free-text search: ``Service.search_text`` is a lowercased, accent-free concatenation of the
service's titles and descriptions (both languages), its place and its provider's name.

It is recomputed on every flush that inserts or changes a service (or renames its provider),
whoever writes it (provider area, demo data, API), by the listener :func:`install_search_indexing`
installs; the catalogue then searches it with ``LIKE``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from core.models import Organisation, Service

MAX_TERMS = 8
MAX_QUERY_LENGTH = 100


def normalize_text(text: str | None) -> str:
    """Lowercase ``text`` and strip its accents ("Città" → "citta").

    >>> normalize_text("Caffè  CITTÀ")
    'caffe  citta'
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def service_search_text(service: Service, provider_name: str = "") -> str:
    """The normalised text a service is found by."""
    parts = (
        service.title_it,
        service.title_en,
        service.description_it,
        service.description_en,
        service.place_name,
        service.address,
        provider_name,
    )
    return normalize_text(" \n".join(p for p in parts if p))


def refresh_search_text(session: Session, service: Service) -> None:
    """Recompute ``service.search_text`` (loads its provider's name if needed)."""
    organisation = service.organisation
    if organisation is None and service.organisation_id is not None:
        organisation = session.get(Organisation, service.organisation_id)
    service.search_text = service_search_text(service, organisation.name if organisation else "")


def search_terms(query: str | None) -> list[str]:
    """Split a person's query into normalised terms (each must match), bounded in number/length.

    >>> search_terms("  Yoga   Città ")
    ['yoga', 'citta']
    """
    text = normalize_text((query or "")[:MAX_QUERY_LENGTH])
    return [term for term in text.split() if term][:MAX_TERMS]


def like_pattern(term: str) -> str:
    """A ``LIKE`` pattern matching ``term`` anywhere, with ``%``, ``_`` and ``\\`` escaped."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_SEARCHED_FIELDS = (
    "title_it",
    "title_en",
    "description_it",
    "description_en",
    "place_name",
    "address",
    "organisation_id",
)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Service):
            state = inspect(obj)
            if obj in session.new or any(
                state.attrs[name].history.has_changes() for name in _SEARCHED_FIELDS
            ):
                refresh_search_text(session, obj)
        elif (
            isinstance(obj, Organisation)
            and obj not in session.new
            and inspect(obj).attrs["name"].history.has_changes()
        ):
            for service in obj.services:
                service.search_text = service_search_text(service, obj.name)


def install_search_indexing() -> None:
    """Keep ``Service.search_text`` up to date on every session's flush (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


def reindex_search_text(session: Session, district_id: int | None = None) -> int:
    """Recompute ``search_text`` of every service (of one district if given); returns how many.

    For rows written around the ORM (raw SQL, imports); the caller commits.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    query = select(Service).options(selectinload(Service.organisation))
    if district_id is not None:
        query = query.where(Service.district_id == district_id)
    services = list(session.scalars(query))
    for service in services:
        service.search_text = service_search_text(service, service.organisation.name)
    session.flush()
    return len(services)
