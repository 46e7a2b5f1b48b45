"""Values that depend only on the app, the reader's language, the script root and the district.

The layout, the district menu's fixed links and similar pieces are the same for every request
in one language under one district; working them out on every request cost hundreds of
``url_for`` and ``_()`` calls per page. :func:`per_reader_language` builds such a value once
per (kind, language, script root, district) and keeps it on the app, for the life of the
worker process. Nothing kept here may depend on the person, the request's path or the data.

With template auto-reload on (``debug``), nothing is kept, so edited templates show at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from core.i18n import locale_code

T = TypeVar("T")

EXTENSION = "concilia_reader_memo"
#: A guard on the kept values: the keys come from the configured districts and languages.
MAX_KEPT = 512


def per_reader_language(kind: str, district: Any, build: Callable[[], T]) -> T:
    """``build()`` for this request's language, script root and ``district``, built once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.jinja_env.auto_reload:
        return build()
    key = (kind, locale_code(), request.script_root, district.slug if district else None)
    kept: dict[tuple[str, str, str, str | None], Any] = app.extensions[EXTENSION]
    value = kept.get(key)
    if value is None:
        if len(kept) >= MAX_KEPT:
            kept.clear()
        value = kept[key] = build()
    return value  # type: ignore[no-any-return]


def install_reader_memo(app: Flask) -> None:
    """Give the app an empty store of kept values."""
    app.extensions[EXTENSION] = {}
