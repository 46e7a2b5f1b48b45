"""The OpenAPI document: valid OpenAPI 3, served as JSON, and in step with the routes."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from core.api.openapi import document

REQUIRED = {
    ("get", "/districts"),
    ("get", "/districts/{district}/services"),
    ("get", "/services/{service_id}"),
    ("get", "/services/{service_id}/slots"),
    ("post", "/bookings"),
    ("get", "/me/bookings"),
    ("get", "/bookings/{public_id}"),
    ("delete", "/bookings/{public_id}"),
    ("get", "/districts/{district}/report"),
}


def test_the_served_document_is_valid_openapi(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    validate(spec)
    assert spec == document()


def test_the_promised_paths_are_documented() -> None:
    doc = document()
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented >= REQUIRED
    slot = doc["components"]["schemas"]["Slot"]
    assert {"id", "starts_at", "ends_at", "capacity", "available"} <= set(slot["required"])
    assert {"id", "slot_id", "status"} <= set(doc["components"]["schemas"]["Booking"]["required"])


def test_documented_operations_match_the_routes(app: Flask) -> None:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi_json":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method.lower(), path))
    documented = {(m, p) for p, ops in document()["paths"].items() for m in ops}
    assert routes == documented


def test_every_operation_documents_its_errors() -> None:
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            assert any(code.startswith("2") for code in operation["responses"]), (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
            if operation.get("security") != [{}]:
                assert "401" in operation["responses"], (method, path)
