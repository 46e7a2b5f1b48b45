"""Concilia: a district welfare marketplace. The app factory lives here, and nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from core.config import ConfigError


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings, extensions, plugins, blueprints, i18n, security.

    ``config`` overrides the settings read from ``CONCILIA_*`` environment variables
    (tests pass their database URL and ``CONCILIA_EXTRA_PLUGINS`` here).
    """
    from core import setup

    app = Flask(__name__, instance_relative_config=False)
    setup.configure_settings(app, config or {})
    setup.configure_logging(app)
    setup.configure_extensions(app)
    setup.configure_plugins(app)
    setup.configure_i18n(app)
    setup.configure_blueprints(app)
    setup.configure_templates(app)
    setup.configure_security(app)
    setup.configure_errors(app)
    setup.configure_commands(app)
    return app


__all__ = ["ConfigError", "create_app"]
