"""The rate limits that protect bookings and the API, per account (per address before login).

``booking_limit`` decorates every way of booking (the web flow's confirmation and
``POST /api/v1/bookings``), so a script with an API token gets no more attempts than a
person in a browser. ``install_api_limit`` puts a general limit on the whole API.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user

from core.extensions import limiter


def limits_off() -> bool:
    """Whether rate limits are turned off (``CONCILIA_RATELIMIT_ENABLED=false``)."""
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def per_account() -> str:
    """The key a limit counts by: the account, else the client address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{request.remote_addr or ''}"


def booking_rate_limit() -> str:
    """``CONCILIA_BOOKING_RATE_LIMIT`` (e.g. ``30 per minute``)."""
    return str(current_app.config["CONCILIA_BOOKING_RATE_LIMIT"])


def api_rate_limit() -> str:
    """``CONCILIA_API_RATE_LIMIT`` (e.g. ``300 per minute``)."""
    return str(current_app.config["CONCILIA_API_RATE_LIMIT"])


booking_limit = limiter.limit(booking_rate_limit, key_func=per_account, exempt_when=limits_off)


def install_api_limit(blueprint: Blueprint) -> None:
    """Limit every request to ``blueprint`` per account (the token's owner) or address."""
    limiter.limit(api_rate_limit, key_func=per_account, exempt_when=limits_off)(blueprint)
