"""Locale and time zone selection, and the formatting helpers for dates and money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_currency as babel_format_currency
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request
from flask.globals import _cv_app
from flask_babel import Domain, get_domain, get_locale, get_timezone
from flask_babel import _get_current_context as babel_context  # where Flask-Babel keeps state
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

SUPPORTED_LOCALES = ("it", "en")
LOCALE_COOKIE = "concilia_lang"


def select_locale() -> str:
    """User preference, then the switcher's cookie, then Accept-Language, then the district's."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    forced = getattr(g, "force_locale", None)
    if forced in SUPPORTED_LOCALES:
        return forced
    if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return current_user.locale
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in SUPPORTED_LOCALES:
        return cookie
    if request.headers.get("Accept-Language"):
        best = request.accept_languages.best_match(SUPPORTED_LOCALES)
        if best:
            return best
    from core.tenancy import current_district_config

    district = current_district_config()
    if district is not None and district.default_locale in SUPPORTED_LOCALES:
        return district.default_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """The current district's zone, else the platform default."""
    if has_request_context():
        from core.tenancy import current_district_config

        district = current_district_config()
        if district is not None:
            return district.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


@dataclass(frozen=True)
class _LocaleMemo:
    """What a request has already worked out about its locale."""

    locale: Locale | None
    code: str
    translations: NullTranslations


def _locale_memo() -> _LocaleMemo:
    """The current request's locale, code and catalog, worked out once per locale.

    A page calls ``_()`` and ``locale_code()`` hundreds of times; Flask-Babel resolves the app,
    the domain, the locale and the catalog cache on every call. The memo lives on the request
    context beside Flask-Babel's own (the app context's ``g``) and is keyed by the locale
    object itself, so ``force_locale`` (e-mails written in
    the recipient's language) gets its own.
    """
    app_ctx = _cv_app.get(None)  # read directly: this runs hundreds of times per page
    if app_ctx is None:
        return _LocaleMemo(None, "it", NullTranslations())
    ctx = app_ctx.g.__dict__.get("_flask_babel") or babel_context()
    locale = getattr(ctx, "babel_locale", None) or get_locale()
    memo = getattr(ctx, "concilia_locale_memo", None)
    if memo is None or memo.locale is not locale:
        domain = get_domain()  # Flask-Babel's own lookup, not the memoised override
        memo = _LocaleMemo(locale, str(locale or "it")[:2], Domain.get_translations(domain))
        ctx.concilia_locale_memo = memo
    return memo


def locale_code() -> str:
    """The active locale as a two-letter code (``it`` or ``en``)."""
    return _locale_memo().code


def current_translations() -> NullTranslations:
    """The active locale's message catalog (the same object Flask-Babel would return)."""
    return _locale_memo().translations


def gettext(string: str, **variables: object) -> str:
    """``flask_babel.gettext`` through the per-request catalog (for code run many times a page)."""
    text = current_translations().ugettext(string)
    return text % variables if variables else text


def current_timezone() -> tzinfo | None:
    """The request's time zone: Flask-Babel's ``get_timezone``, read from where it keeps it.

    Every date and time on a page asks for it; Flask-Babel resolves ``g`` and its context
    through proxies on each call.
    """
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        zone = getattr(app_ctx.g.__dict__.get("_flask_babel"), "babel_tzinfo", None)
        if zone is not None:
            return zone  # type: ignore[no-any-return]
    return get_timezone()


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    """Templates' ``_``/``gettext``: Jinja's new-style ``gettext``, in one call.

    Jinja's own goes through three context calls per ``_()`` (the alias, the wrapper, the
    callable); the result is the same: the translation, as markup where autoescaping is on,
    always formatted with ``variables`` (``%%`` is a literal ``%`` even without variables).
    """
    text = current_translations().ugettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables or "%" in text else text


@pass_eval_context
def template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
) -> str:
    """Templates' ``ngettext``: Jinja's new-style one (``num`` is a variable too), in one call."""
    variables.setdefault("num", num)
    text = current_translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables  # type: ignore[no-any-return]


def install_template_gettext(app: Flask) -> None:
    """Give templates ``_``/``ngettext`` that look the catalog up once per request.

    Jinja's i18n extension is installed as usual (new style, for ``{% trans %}`` too); then
    ``_``, ``gettext`` and ``ngettext`` are replaced by :func:`template_gettext` and
    :func:`template_ngettext`, which return the same and cost one call.
    """
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(
        _=template_gettext, gettext=template_gettext, ngettext=template_ngettext
    )


@lru_cache(maxsize=4096)
def _format_euros(cents: int, locale: str) -> str:
    return babel_format_currency(cents / 100, "EUR", locale=locale)


def money(cents: int | None) -> str:
    """Format an amount in euro cents for the active locale (``€ 12,50`` / ``€12.50``).

    Prices repeat across a page and across requests, so the formatted text is memoised per
    amount and locale.
    """
    if cents is None:
        return ""
    return _format_euros(int(cents), locale_code())


def to_local(moment: datetime, zone: str) -> datetime:
    """Convert an aware UTC datetime to the given IANA zone."""
    return moment.astimezone(ZoneInfo(zone))
