"""Locale and time zone selection, and the formatting helpers for dates and money."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context, request
from flask_babel import format_currency, get_locale
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


def locale_code() -> str:
    """The active locale as a two-letter code (``it`` or ``en``)."""
    return str(get_locale() or "it")[:2]


def money(cents: int | None) -> str:
    """Format an amount in euro cents for the active locale (``€ 12,50`` / ``€12.50``)."""
    if cents is None:
        return ""
    return format_currency(cents / 100, "EUR")


def to_local(moment: datetime, zone: str) -> datetime:
    """Convert an aware UTC datetime to the given IANA zone."""
    return moment.astimezone(ZoneInfo(zone))
