"""Parsing the API's query strings and JSON bodies into checked values (422 when invalid)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from flask import request
from flask_babel import gettext as _

from core.api.errors import ApiError, field_problem, validation

IDEMPOTENCY_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
MAX_PAGE = 10_000
MIN_YEAR, MAX_YEAR = 2000, 2100


def has_nul(value: Any) -> bool:
    """Whether a JSON value holds a NUL character anywhere (databases refuse them)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def check_query() -> None:
    """Refuse query strings with NUL characters or dates outside 2000-2100 (422)."""
    for name, value in request.args.items(multi=True):
        if "\x00" in value or "\x00" in name:
            raise validation([field_problem(name, _("This value is not valid."))])
    raw_day = request.args.get("day")
    if raw_day:
        _in_range(raw_day, "day")


def _in_range(raw: str, name: str) -> None:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise validation([field_problem(name, _("Use a date between the years 2000 and 2100."))])


def date_arg(name: str, default: date) -> date:
    """A ``YYYY-MM-DD`` query argument (``default`` when absent)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise validation([field_problem(name, _("Use a date in the format YYYY-MM-DD."))]) from None
    _in_range(raw, name)
    return day


def date_range(default_from: date, default_days: int, max_days: int) -> tuple[date, date]:
    """The ``from`` and ``to`` query arguments (inclusive local days), checked."""
    start = date_arg("from", default_from)
    end = date_arg("to", start + timedelta(days=default_days))
    if end < start:
        raise validation([field_problem("to", _("The end date is before the start date."))])
    if (end - start).days > max_days:
        raise validation(
            [field_problem("to", _("Ask for at most %(days)s days at once.", days=max_days))]
        )
    return start, end


def page_arg() -> int:
    """The ``page`` query argument: an integer from 1 (default 1)."""
    raw = request.args.get("page")
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise validation(
            [field_problem("page", _("The page must be a whole number from 1 to 10000."))]
        )
    return int(raw)


def choice_arg(name: str, allowed: tuple[str, ...]) -> str:
    """A query argument that must be one of ``allowed`` (empty when absent)."""
    raw = request.args.get(name, "")
    if raw and raw not in allowed:
        raise validation([field_problem(name, _("This value is not one of those allowed."))])
    return raw


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object (400 otherwise)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or has_nul(body):
        raise ApiError(
            400, "invalid_json", _("Send a JSON object with Content-Type: application/json.")
        )
    return body


def optional_json_object() -> dict[str, Any]:
    """The JSON body if one was sent (an empty object if none)."""
    if not request.get_data():
        return {}
    return json_object()


def int_field(body: dict[str, Any], name: str, *, default: int | None, lo: int, hi: int) -> int:
    """An integer member of a JSON body within ``lo``..``hi``."""
    value = body.get(name, default)
    if value is None:
        raise validation([field_problem(name, _("This field is required."), "required")])
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise validation(
            [field_problem(name, _("Enter a whole number from %(lo)s to %(hi)s.", lo=lo, hi=hi))]
        )
    return value


def text_field(body: dict[str, Any], name: str, *, max_length: int) -> str:
    """An optional string member of a JSON body (stripped, at most ``max_length``)."""
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise validation(
            [field_problem(name, _("Enter text of at most %(n)s characters.", n=max_length))]
        )
    return value.strip()


def idempotency_key() -> str | None:
    """The ``Idempotency-Key`` header, if sent (1-80 of ``A-Z a-z 0-9 _ . : -``)."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    if not IDEMPOTENCY_RE.match(raw):
        raise validation(
            [
                field_problem(
                    "Idempotency-Key",
                    _("The Idempotency-Key must be 1 to 80 letters, digits or _ . : -"),
                )
            ]
        )
    return raw
