"""Free-text search and the catalogue's order, both kept in derived columns of ``Service``.

``Service.search_text`` is a lowercased, accent-free concatenation of the service's titles and
descriptions (both languages), its place and its provider's name; the catalogue searches it with
``LIKE``. ``Service.sort_title_it`` / ``sort_title_en`` are the title the catalogue sorts by in
each language (accent-free, case-folded, falling back to the other language's title), so a
catalogue page is read in order from an index instead of sorting every service of the district.

Both are recomputed on every flush that inserts or changes a service (or renames its provider),
whoever writes it through the ORM (provider area, admin, demo data, API), by the listener
:func:`install_search_indexing` installs. Rows written around the ORM (bulk loads) use
:func:`service_sort_titles` and :func:`service_search_text`, or :func:`reindex_search_text`.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from core.models import Organisation, Service

MAX_TERMS = 8
MAX_QUERY_LENGTH = 100
SORT_KEY_LENGTH = 200  # the columns' length (a title has at most 200 characters)


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


def title_sort_key(title: str | None, fallback: str | None = "") -> str:
    """How a title sorts: accent-free, case-folded, blanks collapsed; ``fallback`` when empty.

    >>> title_sort_key("  Èlite   Yoga ", "x")
    'elite yoga'
    >>> title_sort_key("", "Swimming")
    'swimming'
    """
    key = " ".join(normalize_text(title).split())
    if not key:
        key = " ".join(normalize_text(fallback).split())
    return key[:SORT_KEY_LENGTH]


def service_sort_titles(title_it: str | None, title_en: str | None) -> tuple[str, str]:
    """``(sort_title_it, sort_title_en)``: each language's title, else the other's."""
    return title_sort_key(title_it, title_en), title_sort_key(title_en, title_it)


def refresh_sort_titles(service: Service) -> None:
    """Recompute ``service``'s sort keys from its titles."""
    service.sort_title_it, service.sort_title_en = service_sort_titles(
        service.title_it, service.title_en
    )


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


_TITLE_FIELDS = ("title_it", "title_en", "sort_title_it", "sort_title_en")


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Service):
            state = inspect(obj)
            new = obj in session.new
            if new or any(state.attrs[name].history.has_changes() for name in _SEARCHED_FIELDS):
                refresh_search_text(session, obj)
            if new or any(state.attrs[name].history.has_changes() for name in _TITLE_FIELDS):
                refresh_sort_titles(obj)
        elif (
            isinstance(obj, Organisation)
            and obj not in session.new
            and inspect(obj).attrs["name"].history.has_changes()
        ):
            for service in obj.services:
                service.search_text = service_search_text(service, obj.name)


def install_search_indexing() -> None:
    """Keep ``Service.search_text`` and the sort titles up to date on every flush (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


def reindex_search_text(session: Session, district_id: int | None = None) -> int:
    """Recompute ``search_text`` and the sort titles of every service (of one district if
    given); returns how many.

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
        refresh_sort_titles(service)
    session.flush()
    return len(services)
