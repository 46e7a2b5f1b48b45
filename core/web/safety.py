"""Small guards shared by views: safe redirect targets, bounded integer URL arguments."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import request, url_for
from werkzeug.routing import IntegerConverter, Map


def safe_next(target: str | None, fallback_endpoint: str = "public.index") -> str:
    """Return ``target`` if it is a local path on this site, else the fallback's URL.

    Refuses absolute URLs, scheme-relative ``//host`` and backslash tricks (open redirects).
    """
    if target:
        target = target.strip()
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
            and not any(ord(ch) < 32 for ch in target)
        ):
            return target
    return url_for(fallback_endpoint)


def back_to_referrer(fallback_endpoint: str = "public.index") -> str:
    """The page the request came from, if it is on this site."""
    referrer = request.referrer or ""
    host_url = request.host_url
    if referrer.startswith(host_url):
        return safe_next("/" + referrer[len(host_url) :], fallback_endpoint)
    return url_for(fallback_endpoint)


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to the database's INTEGER range, so a huge id is a plain 404.

    Without the bound, ``/services/99999999999999999999`` reaches the database and fails
    there (SQLite cannot bind it, PostgreSQL reports an out-of-range value).
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)
