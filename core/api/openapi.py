"""The OpenAPI 3 document of the API, served at ``/api/v1/openapi.json``.

Kept true by tests: it passes ``openapi-spec-validator``, each endpoint's responses are
validated against it, and a bounded schemathesis run checks no operation answers outside it.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from core.api import bp
from core.catalogue.queries import MAX_PAGES, MAX_RESULTS

VERSION = "1.0.0"
INT32 = 2**31 - 1


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    """The error answers of an operation; every one may also be rate limited (429)."""
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        422: "Unprocessable",
        429: "TooManyRequests",
    }
    return {str(s): {"$ref": f"#/components/responses/{names[s]}"} for s in (*statuses, 429)}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


DATE = {"type": "string", "format": "date", "example": "2026-11-23"}
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": "string", "format": "date-time", "nullable": True}
DISTRICT = _path(
    "district",
    {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$", "example": "isola-garibaldi"},
    "The district's slug.",
)
SERVICE_ID = _path(
    "service_id", {"type": "integer", "minimum": 1, "maximum": INT32}, "The service's id."
)
BOOKING_ID = _path(
    "public_id",
    {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"},
    "The booking's public id (the ``id`` of a Booking).",
)
PAGE = _query("page", {"type": "integer", "minimum": 1, "maximum": 10000}, "Page number (from 1).")
FROM = _query("from", DATE, "First local day (inclusive).")
TO = _query("to", DATE, "Last local day (inclusive).")
STATES = [
    "pending",
    "confirmed",
    "waitlisted",
    "offered",
    "cancelled",
    "rejected",
    "attended",
    "no_show",
]
STATUS = _query("status", {"type": "string", "enum": STATES}, "Only bookings in this state.")

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "field": {"type": "string"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "problems"],
                "properties": {
                    "code": {
                        "type": "string",
                        "description": "Stable machine code, e.g. not_found, unauthorized, "
                        "invalid_token, insufficient_scope, forbidden, csrf_failed, "
                        "invalid_json, validation_error, idempotency_conflict, or a booking "
                        "engine code such as slot_full, already_booked, quota_reached.",
                    },
                    "message": {"type": "string", "description": "In the reader's language."},
                    "problems": {"type": "array", "items": _ref("Problem")},
                },
            }
        },
    },
    "District": {
        "type": "object",
        "required": ["slug", "name", "municipality", "timezone", "locales", "default_locale"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "municipality": {"type": "string"},
            "timezone": {"type": "string"},
            "locales": {"type": "array", "items": {"type": "string"}},
            "default_locale": {"type": "string"},
        },
    },
    "Category": {
        "type": "object",
        "required": ["slug", "name", "description", "service_types"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "service_types": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["slug", "name"],
                    "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
                },
            },
        },
    },
    "Service": {
        "type": "object",
        "required": [
            "id",
            "district",
            "category",
            "title",
            "organisation",
            "price_cents",
            "requires_approval",
            "max_seats_per_booking",
            "waitlist_enabled",
            "ical_public",
        ],
        "properties": {
            "id": {"type": "integer"},
            "district": {"type": "string"},
            "category": {"type": "string"},
            "service_type": {"type": "string", "nullable": True},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "organisation": {
                "type": "object",
                "required": ["slug", "name"],
                "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
            },
            "place_name": {"type": "string"},
            "address": {"type": "string"},
            "postcode": {"type": "string"},
            "latitude": {"type": "number", "nullable": True},
            "longitude": {"type": "number", "nullable": True},
            "price_cents": {"type": "integer", "minimum": 0},
            "beneficiary_price_cents": {"type": "integer", "nullable": True},
            "beneficiaries_only": {"type": "boolean"},
            "requires_approval": {"type": "boolean"},
            "max_seats_per_booking": {"type": "integer", "minimum": 1},
            "waitlist_enabled": {"type": "boolean"},
            "min_notice_minutes": {"type": "integer"},
            "max_advance_days": {"type": "integer"},
            "cancel_deadline_minutes": {"type": "integer"},
            "ical_public": {"type": "boolean"},
        },
    },
    "BookingField": {
        "type": "object",
        "required": ["name", "label", "type", "required"],
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "string"},
            "type": {"type": "string", "description": "The WTForms field type."},
            "required": {"type": "boolean"},
            "choices": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ServiceDetail": {
        "allOf": [
            _ref("Service"),
            {
                "type": "object",
                "required": ["booking_fields", "next_slots"],
                "properties": {
                    "booking_fields": {"type": "array", "items": _ref("BookingField")},
                    "next_slots": {"type": "array", "items": _ref("Slot")},
                },
            },
        ]
    },
    "ServicePage": {
        "type": "object",
        "required": ["items", "page", "pages", "page_size", "total", "more"],
        "properties": {
            "items": {"type": "array", "items": _ref("Service")},
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1, "maximum": MAX_PAGES},
            "page_size": {"type": "integer"},
            "total": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_RESULTS,
                "description": f"Matching services, counted up to {MAX_RESULTS}.",
            },
            "more": {
                "type": "boolean",
                "description": f"More services match than the {MAX_PAGES} pages reach: "
                "narrow the search with an area or a filter.",
            },
        },
    },
    "Slot": {
        "type": "object",
        "required": ["id", "starts_at", "ends_at", "capacity", "available"],
        "properties": {
            "id": {"type": "integer"},
            "starts_at": DATE_TIME,
            "ends_at": DATE_TIME,
            "capacity": {"type": "integer", "minimum": 0},
            "available": {"type": "integer", "minimum": 0},
            "kind": {"type": "string"},
            "title": {"type": "string"},
        },
    },
    "SlotList": {
        "type": "object",
        "required": ["service_id", "from", "to", "items"],
        "properties": {
            "service_id": {"type": "integer"},
            "from": DATE,
            "to": DATE,
            "items": {"type": "array", "items": _ref("Slot")},
        },
    },
    "Booking": {
        "type": "object",
        "required": ["id", "slot_id", "service_id", "status", "seats", "starts_at", "ends_at"],
        "properties": {
            "id": {"type": "string", "description": "Unguessable public id."},
            "slot_id": {"type": "integer"},
            "service_id": {"type": "integer"},
            "status": {"type": "string", "enum": STATES},
            "seats": {"type": "integer", "minimum": 1},
            "starts_at": DATE_TIME,
            "ends_at": DATE_TIME,
            "price_cents": {"type": "integer"},
            "answers": {"type": "object", "additionalProperties": True},
            "applicant": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                    "phone": {"type": "string"},
                },
            },
            "created_at": DATE_TIME,
            "updated_at": DATE_TIME,
            "cancelled_by": {"type": "string", "nullable": True},
            "cancel_reason": {"type": "string", "nullable": True},
            "offer_expires_at": NULLABLE_DATE_TIME,
        },
    },
    "BookingPage": {
        "type": "object",
        "required": ["items", "page", "pages", "page_size", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref("Booking")},
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "page_size": {"type": "integer"},
            "total": {"type": "integer"},
        },
    },
    "BookingList": {
        "type": "object",
        "required": ["from", "to", "items"],
        "properties": {
            "from": DATE,
            "to": DATE,
            "items": {"type": "array", "items": _ref("Booking")},
        },
    },
    "NewBooking": {
        "type": "object",
        "required": ["slot_id"],
        "additionalProperties": False,
        "properties": {
            "slot_id": {"type": "integer", "minimum": 1, "maximum": INT32},
            "seats": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
            "answers": {
                "type": "object",
                "additionalProperties": True,
                "description": "The service's extra fields (see booking_fields of the service).",
            },
            "applicant": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "email"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "email": {"type": "string", "format": "email", "maxLength": 254},
                    "phone": {"type": "string", "maxLength": 40},
                },
            },
            "waitlist": {
                "type": "boolean",
                "default": False,
                "description": "Join the waiting list of a full slot instead of booking.",
            },
        },
    },
    "Reason": {
        "type": "object",
        "properties": {"reason": {"type": "string", "maxLength": 500}},
    },
    "Report": {
        "type": "object",
        "required": ["district", "from", "to", "totals", "by_area_month", "utilisation"],
        "properties": {
            "district": {"type": "string"},
            "from": DATE,
            "to": DATE,
            "totals": {
                "type": "object",
                "required": ["bookings", "by_status", "cancellations", "no_shows", "attended"],
                "properties": {
                    "bookings": {"type": "integer"},
                    "by_status": {
                        "type": "object",
                        "additionalProperties": {"type": "integer"},
                    },
                    "cancellations": {"type": "integer"},
                    "no_shows": {"type": "integer"},
                    "attended": {"type": "integer"},
                },
            },
            "by_area_month": {
                "type": "array",
                "description": "Bookings in every state by area and local month (YYYY-MM in "
                "the district's time zone) of the slot's start.",
                "items": {
                    "type": "object",
                    "required": ["area", "month", "bookings", "cancellations", "no_shows"],
                    "properties": {
                        "area": {"type": "string"},
                        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        "bookings": {"type": "integer"},
                        "cancellations": {"type": "integer"},
                        "no_shows": {"type": "integer"},
                        "attended": {"type": "integer"},
                    },
                },
            },
            "utilisation": {
                "type": "array",
                "description": "Per area: seats offered by slots not cancelled (`capacity`), "
                "seats of the bookings that took them (`taken`: pending, confirmed, attended, "
                "no-show) and `taken / capacity`.",
                "items": {
                    "type": "object",
                    "required": ["area", "capacity", "taken", "rate"],
                    "properties": {
                        "area": {"type": "string"},
                        "capacity": {"type": "integer"},
                        "taken": {"type": "integer"},
                        "rate": {"type": "number", "minimum": 0},
                    },
                },
            },
        },
    },
}


def _list_of(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": _ref(name)}},
    }


def _booking_action(summary: str, with_reason: bool = False) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": ["provider"],
        "security": [{"bearer": []}, {"session": []}],
        "parameters": [BOOKING_ID],
        "responses": {
            "200": _json(_ref("Booking"), "The booking, changed."),
            **_errors(400, 401, 403, 404, 409, 422),
        },
    }
    if with_reason:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["reason"],
                        "properties": {
                            "reason": {"type": "string", "minLength": 1, "maxLength": 500}
                        },
                    }
                }
            },
        }
    return operation


def document() -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``/api/v1``."""
    public = {"security": [{}], "tags": ["public"]}
    resident = {"security": [{"bearer": []}, {"session": []}], "tags": ["resident"]}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Concilia API",
            "version": VERSION,
            "description": (
                "The open JSON API of a Concilia district welfare marketplace. Public catalogue "
                "data needs no authentication; bookings need a personal access token "
                "(`Authorization: Bearer cnc_…`) or the browser session with the CSRF token "
                "in `X-CSRFToken`. Errors are JSON with a stable `code` and a localized "
                "`message`. Times are ISO 8601 in UTC; dates are the district's local days."
            ),
            "license": {"name": "EUPL-1.2"},
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "public"},
            {"name": "resident"},
            {"name": "provider"},
            {"name": "admin"},
        ],
        "paths": {
            "/districts": {
                "get": {
                    **public,
                    "operationId": "listDistricts",
                    "summary": "The districts this deployment serves",
                    "responses": {
                        "200": _json(_list_of("District"), "The districts."),
                        **_errors(),
                    },
                }
            },
            "/districts/{district}/categories": {
                "get": {
                    **public,
                    "operationId": "listCategories",
                    "summary": "The areas a district enables",
                    "parameters": [DISTRICT],
                    "responses": {
                        "200": _json(_list_of("Category"), "The areas."),
                        **_errors(404),
                    },
                }
            },
            "/districts/{district}/services": {
                "get": {
                    **public,
                    "operationId": "listServices",
                    "summary": "Published services, filtered and paginated like the catalogue",
                    "parameters": [
                        DISTRICT,
                        _query("category", {"type": "string"}, "Area slug."),
                        _query("service_type", {"type": "string"}, "Service type slug."),
                        _query("provider", {"type": "string"}, "Provider slug."),
                        _query("day", DATE, "Only services with a free time that day."),
                        _query(
                            "price",
                            {"type": "string", "enum": ["free", "discounted"]},
                            "Price filter.",
                        ),
                        _query("q", {"type": "string", "maxLength": 100}, "Words to search."),
                        PAGE,
                    ],
                    "responses": {
                        "200": _json(_ref("ServicePage"), "One page of services."),
                        **_errors(404, 422),
                    },
                }
            },
            "/services/{service_id}": {
                "get": {
                    **public,
                    "operationId": "getService",
                    "summary": "A published service, with the fields a booking must send",
                    "parameters": [SERVICE_ID],
                    "responses": {
                        "200": _json(_ref("ServiceDetail"), "The service."),
                        **_errors(404),
                    },
                }
            },
            "/services/{service_id}/slots": {
                "get": {
                    **public,
                    "operationId": "listSlots",
                    "summary": "The service's future slots between two local days (≤ 92 days)",
                    "parameters": [SERVICE_ID, FROM, TO],
                    "responses": {
                        "200": _json(_ref("SlotList"), "The slots, earliest first."),
                        **_errors(404, 422),
                    },
                }
            },
            "/bookings": {
                "post": {
                    **resident,
                    "operationId": "createBooking",
                    "summary": "Book a slot (or join its waiting list)",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,80}$"},
                            "description": "Repeating a request with the same key returns the "
                            "first booking (200) instead of booking twice.",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("NewBooking")}},
                    },
                    "responses": {
                        "201": _json(_ref("Booking"), "Booked (or waitlisted)."),
                        "200": _json(_ref("Booking"), "A replay of an earlier request."),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                }
            },
            "/me/bookings": {
                "get": {
                    **resident,
                    "operationId": "listMyBookings",
                    "summary": "The caller's bookings, newest first",
                    "parameters": [STATUS, PAGE],
                    "responses": {
                        "200": _json(_ref("BookingPage"), "One page of bookings."),
                        **_errors(401, 404, 422),
                    },
                }
            },
            "/bookings/{public_id}": {
                "get": {
                    **resident,
                    "operationId": "getBooking",
                    "summary": "A booking the caller owns, provides or administers",
                    "parameters": [BOOKING_ID],
                    "responses": {
                        "200": _json(_ref("Booking"), "The booking."),
                        **_errors(401, 404),
                    },
                },
                "delete": {
                    **resident,
                    "operationId": "cancelBooking",
                    "summary": "Cancel a booking",
                    "parameters": [BOOKING_ID],
                    "requestBody": {
                        "required": False,
                        "content": {"application/json": {"schema": _ref("Reason")}},
                    },
                    "responses": {
                        "200": _json(_ref("Booking"), "The cancelled booking."),
                        **_errors(400, 401, 403, 404, 409, 422),
                    },
                },
            },
            "/bookings/{public_id}/approve": {"post": _booking_action("Approve a pending booking")},
            "/bookings/{public_id}/reject": {
                "post": _booking_action("Reject a pending booking", with_reason=True)
            },
            "/bookings/{public_id}/attended": {"post": _booking_action("Mark attended")},
            "/bookings/{public_id}/no-show": {"post": _booking_action("Mark no-show")},
            "/districts/{district}/provider/bookings": {
                "get": {
                    "security": resident["security"],
                    "tags": ["provider"],
                    "operationId": "listProviderBookings",
                    "summary": "Bookings of the services of the caller's organisations",
                    "parameters": [
                        DISTRICT,
                        FROM,
                        TO,
                        STATUS,
                        _query("service", {"type": "integer", "minimum": 1}, "One service."),
                    ],
                    "responses": {
                        "200": _json(_ref("BookingList"), "The bookings, by start."),
                        **_errors(401, 403, 404, 422),
                    },
                }
            },
            "/districts/{district}/report": {
                "get": {
                    "security": resident["security"],
                    "tags": ["admin"],
                    "operationId": "getReport",
                    "summary": "The district's figures (district admins)",
                    "parameters": [DISTRICT, FROM, TO],
                    "responses": {
                        "200": _json(_ref("Report"), "The figures."),
                        **_errors(401, 403, 404, 422),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token (profile page, or "
                    "`concilia tokens create`).",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": SCHEMAS,
            "responses": {
                name: _json(_ref("Error"), description)
                for name, description in (
                    ("BadRequest", "Malformed request (e.g. not JSON, missing CSRF header)."),
                    ("Unauthorized", "No valid token or session."),
                    ("Forbidden", "Not allowed (or the token is read-only)."),
                    ("NotFound", "No such thing, or not yours to see."),
                    ("Conflict", "The slot is full, already booked, or the state changed."),
                    ("Unprocessable", "Invalid data, or the booking rules refuse it."),
                    (
                        "TooManyRequests",
                        "Too many requests from this account (or address): wait and retry.",
                    ),
                )
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document."""
    return jsonify(document())
