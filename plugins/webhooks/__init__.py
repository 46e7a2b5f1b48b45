"""Webhooks, a built-in plugin: booking events delivered as signed JSON to registered URLs.

A district admin (for the whole district) or provider staff (for their organisation)
registers a URL on ``/<district>/webhooks``. Each booking event (``booking.created`` and
``booking.<new state>``) becomes a :class:`~core.models.WebhookDelivery` row, the outbox,
written in the booking's own transaction (the ``booking_events`` hook), so it commits with
the change or not at all; ``concilia webhooks deliver`` (cron, every minute) POSTs the
due ones with ``X-Concilia-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>``
and retries failures with exponential backoff. Every delivery and its outcome is logged in
that row and shown on the management page.

The tables are declared in ``core/models/webhooks.py`` so the core's single migration creates
them (the core must not import a plugin, and Alembic sees only ``core.models``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
from flask import Blueprint, Flask, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from core.plugins import hookimpl

PLUGIN_KIND = "other"
__version__ = "1.0.0"
HERE = Path(__file__).resolve().parent

log = logging.getLogger(__name__)


@hookimpl
def booking_events(events: list[Any]) -> None:
    """Queue each event (``booking.created``, ``booking.<new state>``) for the webhooks that
    want it, in the booking's own transaction."""
    from plugins.webhooks.delivery import queue_events

    queue_events(events)


@hookimpl
def booking_read_along() -> dict[str, Any]:
    """Ask, in the booking's first read, whether any webhook sees the service: when none
    does (most districts), :func:`booking_events` then has nothing to look up."""
    from plugins.webhooks.delivery import LISTENING, listening

    return {LISTENING: listening()}


@hookimpl
def template_hook(name: str, context: dict[str, Any]) -> Markup | None:
    """In the personal area, link the webhooks page of each district the person manages."""
    if name != "profile_links" or context.get("user") is None:
        return None
    from plugins.webhooks.views import managed_districts

    links = [
        Markup('<li class="mb-2"><a href="{}">{}</a></li>').format(
            url_for("webhooks.index", district=slug),
            _("Webhooks of %(district)s", district=district_name),
        )
        for slug, district_name in managed_districts(context["user"])
    ]
    if not links:
        return None
    return Markup('<ul class="list-unstyled" data-element="webhooks-links">{}</ul>').format(
        Markup("").join(links)
    )


@hookimpl
def register_blueprints(app: Flask) -> list[Blueprint]:
    """The management pages."""
    from plugins.webhooks.views import bp

    return [bp]


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``concilia webhooks deliver``."""
    from plugins.webhooks.commands import webhooks

    cli.add_command(webhooks)


@hookimpl
def translation_dirs() -> list[str]:
    """The plugin's own catalogs."""
    return [str(HERE / "translations")]
