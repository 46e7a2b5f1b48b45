"""Districts as tenants: resolving the current district from the URL and keeping its row."""

from __future__ import annotations

from flask import abort, current_app, g, has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from werkzeug.routing import BaseConverter, ValidationError

from core.extensions import db
from core.models import District
from core.plugins.types import DistrictConfig


def district_configs() -> dict[str, DistrictConfig]:
    """The districts the loaded plugins registered, by slug."""
    return current_app.extensions["concilia"].districts


def current_district_config() -> DistrictConfig | None:
    """The district named by the URL's ``district`` segment, if any and if known."""
    if not has_request_context() or not request.view_args:
        return None
    slug = request.view_args.get("district")
    return district_configs().get(slug) if slug else None


def ensure_district_row(config: DistrictConfig) -> District:
    """Return the database row of a configured district, creating or refreshing it."""
    row = db.session.scalar(select(District).where(District.slug == config.slug))
    if row is None:
        row = District(slug=config.slug)
        db.session.add(row)
    row.name = str(config.name)
    row.municipality = str(config.municipality)
    row.timezone = config.timezone
    row.default_locale = config.default_locale
    try:
        db.session.flush()
    except IntegrityError:  # another process created it first
        db.session.rollback()
        row = db.session.scalar(select(District).where(District.slug == config.slug))
        assert row is not None
    return row


def sync_districts() -> list[District]:
    """Create or refresh the rows of every configured district; returns them."""
    rows = [ensure_district_row(config) for config in district_configs().values()]
    db.session.commit()
    return rows


ROW_CACHE = "concilia.district_rows"


def _known_rows() -> dict[str, District]:
    """This app's detached copies of district rows, by slug (see :func:`get_district_or_404`)."""
    return current_app.extensions.setdefault(ROW_CACHE, {})


def forget_district_rows() -> None:
    """Drop the current app's copies of district rows: call it after deleting district rows
    while the app runs (the tests do, when they empty the tables)."""
    _known_rows().clear()


def _detached_copy(row: District) -> District:
    copy = District(**{column.key: getattr(row, column.key) for column in District.__table__.c})
    make_transient_to_detached(copy)
    return copy


def get_district_or_404(slug: str) -> tuple[DistrictConfig, District]:
    """The config and row of district ``slug``; 404 if no plugin registers it.

    A district's row holds its id and what its config says (synced by
    :func:`ensure_district_row`), and is never deleted while the app runs, so the app keeps a
    detached copy after the first read and puts it in each request's session without a query.
    """
    cache = g.setdefault("_districts", {}) if has_request_context() else {}
    if slug in cache:
        return cache[slug]
    config = district_configs().get(slug)
    if config is None:
        abort(404)
    known = _known_rows()
    if slug in known:
        row = db.session.merge(known[slug], load=False)
    else:
        row = db.session.scalar(select(District).where(District.slug == slug))
        if row is None:
            row = ensure_district_row(config)
            db.session.commit()
        known[slug] = _detached_copy(row)
    cache[slug] = (config, row)
    return config, row


def default_district_slug() -> str | None:
    """The district the site root leads to: the configured one, else the first by slug."""
    configured = current_app.config.get("CONCILIA_DEFAULT_DISTRICT")
    configs = district_configs()
    if configured and configured in configs:
        return configured
    return sorted(configs)[0] if configs else None


class DistrictConverter(BaseConverter):
    """URL converter ``<district:district>`` that matches installed district slugs only.

    Used where a district slug is the whole first segment (``/<district>/``), so that other
    one-segment paths (``/logout``, a mistyped page) are not taken for a district.
    """

    regex = "[a-z0-9][a-z0-9-]{0,63}"

    def to_python(self, value: str) -> str:
        """Accept the slug only if a plugin registers that district."""
        if value not in district_configs():
            raise ValidationError()
        return value
