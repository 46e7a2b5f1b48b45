"""Locale and time zone selection, and the formatting helpers for dates and money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_currency as babel_format_currency
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request
from flask.globals import _cv_app
from flask_babel import Domain, get_domain, get_locale
from flask_babel import _get_current_context as babel_context  # where Flask-Babel keeps state
from flask_login import current_user

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


def install_template_gettext(app: Flask) -> None:
    """Give templates ``_``/``ngettext`` that look the catalog up once per request."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
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
