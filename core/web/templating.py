"""Jinja globals and filters: template hooks, money, local dates, the current district."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from babel import dates
from flask import Flask, current_app, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from core.i18n import SUPPORTED_LOCALES, current_timezone, locale_code, money
from core.tenancy import current_district_config, default_district_slug


def run_hook(name: str, **context: Any) -> Markup:
    """Render every plugin's answer to the named template hook, in order."""
    host = current_app.extensions["concilia"]
    parts = host.hook.template_hook(name=name, context=context)
    return Markup("").join(
        part if isinstance(part, Markup) else escape(part) for part in parts if part
    )


@lru_cache(maxsize=8192)
def format_moment(kind: str, moment: date, fmt: str, locale: str, zone: tzinfo | None) -> str:
    """Babel's ``format_<kind>`` (``date``, ``time``, ``datetime``) of ``moment`` in ``zone`` and
    ``locale``; memoised, since slot times repeat.

    A naive datetime is UTC (as in Flask-Babel); a plain date (no time) is a day of the
    calendar: it is formatted as it is.
    """
    if kind == "date":
        if isinstance(moment, datetime):  # naive means UTC, as in Flask-Babel
            aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            moment = aware.astimezone(zone)
        return dates.format_date(moment, fmt, locale=locale)
    formatter = dates.format_time if kind == "time" else dates.format_datetime
    return formatter(moment, fmt, tzinfo=zone, locale=locale)


def _local(kind: str, moment: date | None, fmt: str) -> str:
    if moment is None:
        return ""
    return format_moment(kind, moment, fmt, locale_code(), current_timezone())


def local_datetime(moment: datetime | None, fmt: str = "medium") -> str:
    """Format an aware datetime in the request's zone and locale."""
    return _local("datetime", moment, fmt)


def local_date(moment: date | None, fmt: str = "full") -> str:
    """Format the local date of an aware datetime (or a plain date)."""
    return _local("date", moment, fmt)


def local_time(moment: datetime | None, fmt: str = "short") -> str:
    """Format the local time of an aware datetime."""
    return _local("time", moment, fmt)


ICON_SPRITE = "vendor/bootstrap-italia/svg/sprites.svg"


@lru_cache(maxsize=1024)
def _icon_markup(name: str, classes: str, sprite: str) -> Markup:
    return Markup(
        f'<svg class="icon {escape(classes)}" aria-hidden="true" focusable="false">'
        f'<use href="{escape(sprite)}#{escape(name)}"></use></svg>'
    )


def icon(name: str, classes: str = "icon-sm") -> Markup:
    """An icon of Bootstrap Italia's sprite, hidden from screen readers (decorative)."""
    sprites = current_app.extensions.setdefault("concilia_icon_sprite", {})
    root = request.script_root
    sprite = sprites.get(root)
    if sprite is None:
        sprite = sprites[root] = url_for("static", filename=ICON_SPRITE)
    return _icon_markup(str(name), str(classes), sprite)


def district_areas(config: Any) -> list[Any]:
    """The service areas (categories) a district enables, in display order, for its header nav."""
    if config is None:
        return []
    registry = current_app.extensions["concilia"].categories
    found = [registry[slug] for slug in config.categories if slug in registry]
    return sorted(found, key=lambda c: (c.order, c.slug))


def endpoint_url(endpoint: str, **values: Any) -> str:
    """``url_for`` of an endpoint that may not be registered (a plugin's): "" then."""
    if endpoint not in current_app.view_functions:
        return ""
    return url_for(endpoint, **values)


def install_template_helpers(app: Flask) -> None:
    """Make the helpers available to every template."""
    from core.web.area_markup import install_area_markup
    from core.web.booking_lists_markup import install_booking_lists_markup
    from core.web.layout import install_layout
    from core.web.navigation import install_navigation
    from core.web.reader_memo import install_reader_memo
    from core.web.service_markup import install_service_markup

    install_reader_memo(app)
    install_layout(app)
    install_navigation(app)
    install_area_markup(app)
    install_booking_lists_markup(app)
    install_service_markup(app)
    app.jinja_env.globals.update(
        run_hook=run_hook,
        icon=icon,
        endpoint_url=endpoint_url,
        locale_code=locale_code,
        supported_locales=SUPPORTED_LOCALES,
        current_district=current_district_config,
        district_areas=district_areas,
        current_user=current_user,
        default_district_slug=default_district_slug,
    )
    app.jinja_env.filters.update(
        money=money, local_datetime=local_datetime, local_date=local_date, local_time=local_time
    )
