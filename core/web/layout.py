"""The page layout's fixed parts, rendered once per language, district and script root.

``base.html`` is on every page. Most of it (the stylesheets, the brand, the language buttons,
the footer) is the same for everyone reading one district's pages in one language, yet it cost
dozens of ``url_for`` and ``_()`` calls on every request. The pieces live as macros in
``layout/_chrome.html``; :func:`layout_chrome` renders them once per language, script root and
district (:mod:`core.web.reader_memo`). Whatever depends on the person or the request (the
CSRF tokens, the ``next`` address, the menu, flash messages, plugins' hooks) stays in
``base.html``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Flask, current_app
from jinja2.runtime import Macro
from markupsafe import Markup

from core.web.reader_memo import per_reader_language

TEMPLATE = "layout/_chrome.html"


def render_chrome(district: Any) -> SimpleNamespace:
    """Every macro of ``layout/_chrome.html`` rendered for ``district``, by macro name."""
    module = current_app.jinja_env.get_template(TEMPLATE).module
    parts = {
        name: Markup(value(district))
        for name, value in vars(module).items()
        if isinstance(value, Macro)
    }
    return SimpleNamespace(**parts)


def layout_chrome(district: Any = None) -> SimpleNamespace:
    """The layout's fixed parts for this request's language and ``district``."""
    return per_reader_language("layout", district, lambda: render_chrome(district))


def install_layout(app: Flask) -> None:
    """Give templates ``layout_chrome``."""
    app.jinja_env.globals["layout_chrome"] = layout_chrome
