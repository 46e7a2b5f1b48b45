"""Jinja globals and filters: template hooks, money, local dates, the current district."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, url_for
from flask_babel import format_date, format_datetime, format_time
from flask_login import current_user
from markupsafe import Markup, escape

from core.i18n import SUPPORTED_LOCALES, locale_code, money
from core.tenancy import current_district_config, default_district_slug


def run_hook(name: str, **context: Any) -> Markup:
    """Render every plugin's answer to the named template hook, in order."""
    host = current_app.extensions["concilia"]
    parts = host.hook.template_hook(name=name, context=context)
    return Markup("").join(
        part if isinstance(part, Markup) else escape(part) for part in parts if part
    )


def local_datetime(moment: datetime | None, fmt: str = "medium") -> str:
    """Format an aware datetime in the request's zone and locale."""
    return "" if moment is None else format_datetime(moment, fmt)


def local_date(moment: datetime | None, fmt: str = "full") -> str:
    """Format the local date of an aware datetime."""
    return "" if moment is None else format_date(moment, fmt)


def local_time(moment: datetime | None, fmt: str = "short") -> str:
    """Format the local time of an aware datetime."""
    return "" if moment is None else format_time(moment, fmt)


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
    app.jinja_env.globals.update(
        run_hook=run_hook,
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
