"""Typed settings read from ``CONCILIA_*`` environment variables, with safe defaults.

Every setting is declared once in :data:`SETTINGS`; :func:`load_settings` reads, converts and
validates them, and raises :class:`ConfigError` with a one-line message naming the bad setting.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limits import parse_many


class ConfigError(RuntimeError):
    """A setting has a value the platform cannot start with."""


@dataclass(frozen=True)
class Setting:
    """One declared setting: environment name, Flask config key, parser and default."""

    env: str
    key: str
    parse: Callable[[str], Any]
    default: Any
    help: str


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false")


def _int(value: str) -> int:
    return int(value.strip())


def _int_between(low: int, high: int, what: str) -> Callable[[str], int]:
    """A parser of whole numbers from ``low`` to ``high``, named ``what`` in its error."""

    def parse(value: str) -> int:
        number = int(value.strip())
        if not low <= number <= high:
            raise ValueError(f"expected {what} between {low} and {high}")
        return number

    return parse


_port = _int_between(1, 65535, "a TCP port")
_seconds = _int_between(0, 3600, "a number of seconds")
_min_count = _int_between(1, 100, "a whole number")


def _rate_limit(value: str) -> str:
    value = value.strip()
    parse_many(value)  # ValueError: "couldn't parse rate limit string …"
    return value


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _str(value: str) -> str:
    return value.strip()


def _database_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("sqlite:", "postgresql")):
        raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
    return value


def _locale(value: str) -> str:
    value = value.strip()
    if value not in {"it", "en"}:
        raise ValueError("expected 'it' or 'en'")
    return value


def _mail_mode(value: str) -> str:
    value = value.strip().lower()
    if value not in {"console", "smtp", "outbox"}:
        raise ValueError("expected console, smtp or outbox")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "CONCILIA_DATABASE_URL",
        "SQLALCHEMY_DATABASE_URI",
        _database_url,
        None,
        "Database URL; default: a SQLite file in the instance folder",
    ),
    Setting(
        "CONCILIA_SECRET_KEY",
        "SECRET_KEY",
        _str,
        None,
        "Signing key; default: generated once and kept in the instance folder",
    ),
    Setting(
        "CONCILIA_ENV",
        "CONCILIA_ENV",
        _str,
        "development",
        "development or production (production turns on Secure cookies and HSTS)",
    ),
    Setting(
        "CONCILIA_BASE_URL",
        "CONCILIA_BASE_URL",
        _str,
        "http://127.0.0.1:5000",
        "Public address used in links sent by email",
    ),
    Setting(
        "CONCILIA_DEFAULT_LOCALE",
        "BABEL_DEFAULT_LOCALE",
        _locale,
        "it",
        "Language used when nothing else decides",
    ),
    Setting(
        "CONCILIA_DEFAULT_TIMEZONE",
        "BABEL_DEFAULT_TIMEZONE",
        _str,
        "Europe/Rome",
        "Time zone used when no district decides",
    ),
    Setting(
        "CONCILIA_MAIL_MODE",
        "CONCILIA_MAIL_MODE",
        _mail_mode,
        "console",
        "console (print), smtp (send inline) or outbox (queue for `concilia mail send`)",
    ),
    Setting("CONCILIA_MAIL_SERVER", "CONCILIA_MAIL_SERVER", _str, "127.0.0.1", "SMTP host"),
    Setting("CONCILIA_MAIL_PORT", "CONCILIA_MAIL_PORT", _port, 25, "SMTP port"),
    Setting("CONCILIA_MAIL_USERNAME", "CONCILIA_MAIL_USERNAME", _str, "", "SMTP user"),
    Setting("CONCILIA_MAIL_PASSWORD", "CONCILIA_MAIL_PASSWORD", _str, "", "SMTP password"),
    Setting("CONCILIA_MAIL_USE_TLS", "CONCILIA_MAIL_USE_TLS", _bool, False, "STARTTLS"),
    Setting(
        "CONCILIA_MAIL_SENDER",
        "CONCILIA_MAIL_SENDER",
        _str,
        "Concilia <noreply@concilia.local>",
        "From: address",
    ),
    Setting(
        "CONCILIA_PLUGINS",
        "CONCILIA_PLUGINS",
        _list,
        [],
        "Comma-separated allow list of plugin names (empty: all installed)",
    ),
    Setting(
        "CONCILIA_DISABLED_PLUGINS",
        "CONCILIA_DISABLED_PLUGINS",
        _list,
        [],
        "Comma-separated deny list of plugin names",
    ),
    Setting(
        "CONCILIA_REDIS_URL",
        "CONCILIA_REDIS_URL",
        _str,
        "",
        "Redis URL for rate limits and queues (empty: in memory)",
    ),
    Setting(
        "CONCILIA_DEFAULT_DISTRICT",
        "CONCILIA_DEFAULT_DISTRICT",
        _str,
        "",
        "District whose home the site root redirects to (empty: the only or first one)",
    ),
    Setting(
        "CONCILIA_VERIFY_TOKEN_MAX_AGE",
        "CONCILIA_VERIFY_TOKEN_MAX_AGE",
        _int,
        3 * 24 * 3600,
        "Seconds an email verification link stays valid",
    ),
    Setting(
        "CONCILIA_RESET_TOKEN_MAX_AGE",
        "CONCILIA_RESET_TOKEN_MAX_AGE",
        _int,
        3600,
        "Seconds a password reset link stays valid",
    ),
    Setting(
        "CONCILIA_LOGIN_RATE_LIMIT",
        "CONCILIA_LOGIN_RATE_LIMIT",
        _rate_limit,
        "10 per minute",
        "Rate limit on login, registration and reset attempts per client address",
    ),
    Setting(
        "CONCILIA_BOOKING_RATE_LIMIT",
        "CONCILIA_BOOKING_RATE_LIMIT",
        _rate_limit,
        "30 per minute",
        "Rate limit on booking confirmations per account (or client address)",
    ),
    Setting(
        "CONCILIA_API_RATE_LIMIT",
        "CONCILIA_API_RATE_LIMIT",
        _rate_limit,
        "300 per minute",
        "Rate limit on API requests per account (or client address)",
    ),
    Setting(
        "CONCILIA_RATELIMIT_PREFIX",
        "RATELIMIT_KEY_PREFIX",
        _str,
        "concilia",
        "Prefix of the rate-limit keys in Redis (when several sites share one Redis)",
    ),
    Setting(
        "CONCILIA_PROXY_HOPS",
        "CONCILIA_PROXY_HOPS",
        _int,
        0,
        "Reverse proxies in front of the app whose X-Forwarded-* headers to trust (0: none)",
    ),
    Setting(
        "CONCILIA_LOG_FORMAT",
        "CONCILIA_LOG_FORMAT",
        _str,
        "",
        "text or json (default: json in production, text elsewhere)",
    ),
    Setting(
        "CONCILIA_RATELIMIT_ENABLED", "RATELIMIT_ENABLED", _bool, True, "Turn rate limits on or off"
    ),
    Setting(
        "CONCILIA_PUBLIC_CACHE_SECONDS",
        "CONCILIA_PUBLIC_CACHE_SECONDS",
        _seconds,
        10,
        "How long a public catalogue page is reused for visitors not logged in (0: off)",
    ),
    Setting(
        "CONCILIA_DB_PING_AFTER_IDLE_SECONDS",
        "CONCILIA_DB_PING_AFTER_IDLE_SECONDS",
        _seconds,
        30,
        "Check a pooled database connection before use once idle this long (0: always)",
    ),
    Setting(
        "CONCILIA_OPEN_DATA_MIN_COUNT",
        "CONCILIA_OPEN_DATA_MIN_COUNT",
        _min_count,
        3,
        "Open data withholds counts below this (1: publish every count)",
    ),
)


def _instance_secret(instance_path: Path) -> str:
    """Return the secret key stored in the instance folder, creating it on first run."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_settings(
    instance_path: str | os.PathLike[str], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Read every declared setting from ``environ`` (default ``os.environ``) into a config dict.

    >>> load_settings("/tmp/x", {"CONCILIA_MAIL_PORT": "2525"})["CONCILIA_MAIL_PORT"]
    2525
    """
    environ = os.environ if environ is None else environ
    instance = Path(instance_path)
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None:
            value = setting.default
        else:
            try:
                value = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{setting.env}={raw!r} is not valid: {exc}") from None
        config[setting.key] = value
    if not config["SQLALCHEMY_DATABASE_URI"]:
        instance.mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'concilia.sqlite'}"
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _instance_secret(instance)
    elif len(config["SECRET_KEY"]) < 16:
        raise ConfigError("CONCILIA_SECRET_KEY is too short: use at least 16 characters")
    if config["CONCILIA_ENV"] not in {"development", "production", "testing"}:
        raise ConfigError(
            f"CONCILIA_ENV={config['CONCILIA_ENV']!r} is not valid: "
            "expected development, production or testing"
        )
    return config


def derived_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings that follow from the declared ones (cookies, limiter storage, engine options)."""
    production = config.get("CONCILIA_ENV") == "production"
    uri: str = config["SQLALCHEMY_DATABASE_URI"]
    engine_options: dict[str, Any] = {}  # pings: core.db_pool, after idle only
    if uri.startswith("sqlite"):
        engine_options = {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "RATELIMIT_STORAGE_URI": config.get("CONCILIA_REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_TRANSLATION_DIRECTORIES": "",
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }
