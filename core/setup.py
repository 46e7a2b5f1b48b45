"""The small ``configure_*`` steps that :func:`core.create_app` is made of."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from core.config import derived_settings, load_settings
from core.extensions import babel, csrf, db, limiter, login_manager, migrate

CORE_TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def configure_settings(app: Flask, overrides: Mapping[str, Any]) -> None:
    """Load ``CONCILIA_*`` settings (or fail with a one-line message), then apply overrides."""
    instance = os.environ.get("CONCILIA_INSTANCE_PATH") or overrides.get("INSTANCE_PATH")
    if instance:
        app.instance_path = str(instance)
    settings = load_settings(app.instance_path)
    settings.update(overrides)
    settings.update({k: v for k, v in derived_settings(settings).items() if k not in overrides})
    app.config.update(settings)
    if app.config["CONCILIA_ENV"] == "testing":
        app.config["TESTING"] = True


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    FIELDS = ("method", "path", "status", "duration_ms", "remote_addr", "user_id")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single JSON line."""
        import json

        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(app: Flask) -> None:
    """Log one line per event to stderr: JSON in production (or ``CONCILIA_LOG_FORMAT=json``).

    With JSON logs on, every request also logs one ``request`` line (method, path, status,
    duration, client address, user id).
    """
    fmt = app.config.get("CONCILIA_LOG_FORMAT") or (
        "json" if app.config.get("CONCILIA_ENV") == "production" else "text"
    )
    root = logging.getLogger()
    if fmt != "json":
        if not root.handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
            )
        return
    if not any(isinstance(h.formatter, JsonLogFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLogFormatter())
        # replace plain text handlers (basicConfig's); keep others, e.g. a test's capture
        root.handlers = [h for h in root.handlers if type(h) is not logging.StreamHandler]
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    _log_requests(app)


def _log_requests(app: Flask) -> None:
    """One structured log line per request."""
    import time

    from flask import Response, g, request
    from flask_login import current_user

    log = logging.getLogger("concilia.request")

    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = g.get("request_started", time.perf_counter())
        user_id = current_user.get_id() if current_user.is_authenticated else None
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "remote_addr": request.remote_addr,
                "user_id": user_id.split(":")[0] if user_id else None,
            },
        )
        return response


def configure_extensions(app: Flask) -> None:
    """Bind the database, migrations, login, CSRF and rate limiter to the app."""
    import core.models  # noqa: F401  (registers every table)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    limiter.init_app(app)
    _configure_sqlite(app)
    _configure_pool(app)

    from core.booking import engine, events, read_along

    events.install()
    read_along.install()
    engine.install()

    from core.auth.loader import load_user

    login_manager.user_loader(load_user)


def _configure_pool(app: Flask) -> None:
    """Check pooled server connections after they sat idle (``core.db_pool``)."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from core.db_pool import install_idle_ping

    with app.app_context():
        install_idle_ping(db.engine, app.config["CONCILIA_DB_PING_AFTER_IDLE_SECONDS"])


def _configure_sqlite(app: Flask) -> None:
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            if ":memory:" not in app.config["SQLALCHEMY_DATABASE_URI"]:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()


def configure_plugins(app: Flask) -> None:
    """Discover and load plugins; record those that failed so ``plugins list`` shows them."""
    from core.plugins.manager import build_host

    host = build_host(
        allow=app.config["CONCILIA_PLUGINS"],
        deny=app.config["CONCILIA_DISABLED_PLUGINS"],
        extra=app.config.get("CONCILIA_EXTRA_PLUGINS", ()),
    )
    app.extensions["concilia"] = host


def configure_i18n(app: Flask) -> None:
    """Flask-Babel with the core catalogs plus every plugin's ``translation_dirs()``."""
    from core.i18n import install_template_gettext, select_locale, select_timezone

    host = app.extensions["concilia"]
    dirs = [str(CORE_TRANSLATIONS)]
    for _name, plugin_dirs in host.call_each("translation_dirs"):
        dirs.extend(str(d) for d in plugin_dirs)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)


def configure_blueprints(app: Flask) -> None:
    """Register the core's blueprints, then the plugins'."""
    from core.tenancy import DistrictConverter
    from core.web import register_core_blueprints
    from core.web.safety import BoundedIntConverter

    app.url_map.converters["district"] = DistrictConverter
    app.url_map.converters["int"] = BoundedIntConverter
    register_core_blueprints(app)
    host = app.extensions["concilia"]
    for _name, blueprints in host.call_each("register_blueprints", app=app):
        for blueprint in blueprints:
            app.register_blueprint(blueprint)


def configure_templates(app: Flask) -> None:
    """Jinja globals and filters, and the cache of public pages for anonymous visitors."""
    from core.web.page_cache import install_page_cache
    from core.web.templating import install_template_helpers

    install_template_helpers(app)
    install_page_cache(app)


def configure_security(app: Flask) -> None:
    """Security headers on every response; trust ``CONCILIA_PROXY_HOPS`` reverse proxies.

    Behind a proxy, the client's address (for rate limits and the audit log) and the scheme
    come from the X-Forwarded-For / -Proto / -Host headers the proxies set; with no proxy
    declared those headers are ignored, so a client cannot forge its address.
    """
    from core.web.security import install_security_headers

    install_security_headers(app)
    hops = int(app.config.get("CONCILIA_PROXY_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def configure_errors(app: Flask) -> None:
    """Localized error pages (and JSON errors under ``/api``) for 4xx and 5xx."""
    from core.web.errors import install_error_handlers

    install_error_handlers(app)


def configure_commands(app: Flask) -> None:
    """The core's ``concilia`` commands, then the plugins'."""
    from core.commands import register_core_commands

    register_core_commands(app.cli)
    host = app.extensions["concilia"]
    host.call_each("register_commands", cli=app.cli)
