"""JSON errors of the API: a stable machine ``code`` and a ``message`` in the reader's language.

Every error body is ``{"error": {"code": …, "message": …, "problems": [{code, message, field?}]}}``.
The booking engine's problem codes pass through unchanged (``slot_full``, ``quota_reached`` …).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import gettext as _

from core.booking import BookingRefused

#: HTTP status -> the stable code of a generic error of that status.
HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}

#: Engine problem codes that are not "unprocessable" (422) but another status.
ENGINE_STATUS: dict[str, int] = {
    "slot_not_found": 404,
    "slot_full": 409,
    "already_booked": 409,
    "invalid_transition": 409,
    "already_rated": 409,
    "not_owner": 403,
}


class ApiError(Exception):
    """An error the API answers with ``status`` and a JSON body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        problems: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.problems = problems or [{"code": code, "message": message}]

    def response(self) -> tuple[Response, int]:
        """The JSON response of this error."""
        return error_response(self.status, self.code, self.message, self.problems)


def error_response(
    status: int, code: str, message: str, problems: list[dict[str, Any]] | None = None
) -> tuple[Response, int]:
    """A JSON error response."""
    body = {
        "error": {
            "code": code,
            "message": message,
            "problems": problems or [{"code": code, "message": message}],
        }
    }
    response = jsonify(body)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="concilia"'
    return response, status


def http_code(status: int) -> str:
    """The stable code of a generic HTTP error."""
    return HTTP_CODES.get(status, f"http_{status}")


def refused(error: BookingRefused) -> ApiError:
    """An engine refusal as an API error: first problem's code, every problem listed."""
    problems = [p.as_dict() for p in error.reasons]
    first = problems[0]
    return ApiError(
        ENGINE_STATUS.get(first["code"], 422), first["code"], first["message"], problems
    )


def not_found() -> ApiError:
    """404: the thing does not exist (or is not the caller's to see)."""
    return ApiError(404, "not_found", _("Not found."))


def forbidden() -> ApiError:
    """403: authenticated, but not allowed."""
    return ApiError(403, "forbidden", _("You do not have permission to do this."))


def validation(problems: list[dict[str, str]]) -> ApiError:
    """422 with one problem per invalid field (``field`` names it)."""
    return ApiError(
        422, "validation_error", _("Some of what you sent is not valid."), problems=problems
    )


def field_problem(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    """One invalid field, for :func:`validation`."""
    return {"code": code, "field": field, "message": message}
