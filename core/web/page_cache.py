"""A short-lived cache of the public catalogue pages, for visitors who are not logged in.

The district home, the catalogue, a service and a provider page are the same for every
anonymous visitor who asks for the same address in the same language, and they are what a
crowd reads when a popular service opens. Such a page is rendered once and then served from
memory for ``CONCILIA_PUBLIC_CACHE_SECONDS`` (default 10; 0 turns the cache off), per worker
process. What may be served:

* only ``GET``/``HEAD`` answered 200, to a visitor with no login and no pending flash message;
* the key is the host, the full path with its query string and the language, so filters,
  pages and languages never mix;
* the one per-visitor part of these pages, the CSRF token of the language switcher, is cut
  out when the page is stored and the visitor's own token is put back on every answer.

A logged-in person (a resident booking, a provider checking their service) always gets a page
rendered from the database; the booking itself always reads live seats. A visitor who is not
logged in may see a page up to the configured number of seconds old.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from core.i18n import locale_code

CSRF_HOLE = "\x00concilia-csrf\x00"
EXTENSION = "concilia_page_cache"

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class CachedPage:
    """A stored answer: its body with the CSRF hole, its type, and when it goes stale."""

    body: str
    mimetype: str
    expires: float


class PageCache:
    """A bounded, thread-safe map of pages that expire ``ttl`` seconds after being stored.

    Bounded twice: by number of pages and by their total size in characters, so that requests
    for endless distinct addresses (junk query strings) cannot grow a worker's memory.
    """

    def __init__(
        self, ttl: float, max_entries: int = 1000, max_chars: int = 16 * 1024 * 1024
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._pages: OrderedDict[tuple[str, ...], CachedPage] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...], now: float | None = None) -> CachedPage | None:
        """The fresh page stored under ``key``, or None (a stale one is dropped)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if page.expires <= now:
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, ...], body: str, mimetype: str) -> None:
        """Store a page; the least recently used one leaves when the cache is full."""
        if len(body) > self.max_chars:
            return
        page = CachedPage(body, mimetype, time.monotonic() + self.ttl)
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = page
            self._chars += len(body)
            while len(self._pages) > self.max_entries or self._chars > self.max_chars:
                self._drop(next(iter(self._pages)))

    def _drop(self, key: tuple[str, ...]) -> None:
        self._chars -= len(self._pages.pop(key).body)

    def clear(self) -> None:
        """Forget every stored page."""
        with self._lock:
            self._pages.clear()
            self._chars = 0

    @property
    def chars(self) -> int:
        """The total size of the stored pages, in characters."""
        return self._chars

    def __len__(self) -> int:
        return len(self._pages)


def install_page_cache(app: Flask) -> None:
    """Create the app's page cache from ``CONCILIA_PUBLIC_CACHE_SECONDS`` (0: none)."""
    ttl = float(app.config.get("CONCILIA_PUBLIC_CACHE_SECONDS", 0) or 0)
    app.extensions[EXTENSION] = PageCache(ttl) if ttl > 0 else None


def page_cache() -> PageCache | None:
    """The current app's page cache, if it has one."""
    return cast(PageCache | None, current_app.extensions.get(EXTENSION))


def may_use_cache() -> bool:
    """Whether this request may be answered from, and stored into, the cache."""
    if request.method not in ("GET", "HEAD"):
        return False
    if "_flashes" in session:  # a message waits to be shown to this visitor only
        return False
    return not current_user.is_authenticated


def cache_key() -> tuple[str, ...]:
    """What makes two anonymous requests get the same page."""
    return (request.host, request.script_root, request.full_path, locale_code())


def _answer(page: CachedPage) -> Response:
    body = page.body.replace(CSRF_HOLE, generate_csrf()) if CSRF_HOLE in page.body else page.body
    return Response(body, mimetype=page.mimetype)


def _store(cache: PageCache, key: tuple[str, ...], response: Response) -> None:
    if response.status_code != 200 or response.direct_passthrough:
        return
    body = response.get_data(as_text=True)
    token = g.get("csrf_token")
    if token:
        body = body.replace(token, CSRF_HOLE)
    cache.put(key, body, response.mimetype or "text/html")


def public_page(view: View) -> View:
    """Serve a public page from the cache to anonymous visitors (see the module's notes)."""

    @wraps(view)
    def cached_view(*args: Any, **kwargs: Any) -> Any:
        cache = page_cache()
        if cache is None or not may_use_cache():
            return view(*args, **kwargs)
        key = cache_key()
        page = cache.get(key)
        if page is not None:
            return _answer(page)
        response = make_response(view(*args, **kwargs))
        _store(cache, key, response)
        return response

    return cast(View, cached_view)
