"""Every booking-engine refusal code passes through the API with a documented status."""

from __future__ import annotations

from flask import Flask

from core.api.errors import HTTP_CODES, error_response, http_code, refused
from core.api.openapi import document
from core.booking import MESSAGES, BookingProblem, BookingRefused


def test_every_engine_code_keeps_its_code_and_a_documented_status(app: Flask) -> None:
    documented = set(document()["paths"]["/bookings"]["post"]["responses"])
    with app.test_request_context(headers={"Accept-Language": "en"}):
        for code in MESSAGES:
            error = refused(BookingRefused.single(code))
            assert error.code == code
            assert str(error.status) in documented, code
            assert error.message == str(MESSAGES[code])
            assert error.problems == [{"code": code, "message": error.message}]
        both = refused(
            BookingRefused([BookingProblem.of("too_late"), BookingProblem.of("quota_reached")])
        )
        assert both.code == "too_late" and [p["code"] for p in both.problems] == [
            "too_late",
            "quota_reached",
        ]
        assert refused(BookingRefused.single("slot_full")).status == 409
        assert refused(BookingRefused.single("quota_reached")).status == 422


def test_generic_codes_and_the_error_shape(app: Flask) -> None:
    assert http_code(404) == "not_found" and http_code(418) == "http_418"
    assert set(HTTP_CODES.values()) >= {"unauthorized", "forbidden", "validation_error"}
    with app.test_request_context():
        response, status = error_response(401, "unauthorized", "Log in.")
    assert status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json() == {
        "error": {
            "code": "unauthorized",
            "message": "Log in.",
            "problems": [{"code": "unauthorized", "message": "Log in."}],
        }
    }
