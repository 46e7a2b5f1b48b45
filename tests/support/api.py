"""Helpers for API tests: tokens, authenticated requests, and checking responses against the
OpenAPI document (each response of each test is validated against its operation's schema)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from werkzeug.test import TestResponse

from core.api.openapi import document
from core.api.tokens import create_token
from core.extensions import db
from core.models import User

_DOC = document()
_TEMPLATES = [
    (re.compile("^/api/v1" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
    for path in sorted(_DOC["paths"], key=lambda p: (p.count("{"), -len(p)))
]


def token_for(user: User, scope: str = "read-write") -> str:
    """A committed token of ``user``; returns its secret."""
    issued = create_token(db.session, user, "tests", scope)
    db.session.commit()
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}


def operation_of(method: str, url: str) -> tuple[str, dict[str, Any]]:
    """The OpenAPI path template and operation that ``method url`` belongs to."""
    path = url.split("?", 1)[0]
    for pattern, template in _TEMPLATES:
        if pattern.match(path) and method.lower() in _DOC["paths"][template]:
            return template, _DOC["paths"][template][method.lower()]
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    """Messages of what makes ``instance`` not match ``schema`` (refs resolved in the doc)."""
    root = {**schema, "components": _DOC["components"]}
    validator = OAS30Validator(root, format_checker=oas30_format_checker)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def check(response: TestResponse, method: str, url: str) -> Any:
    """Assert the response's status is documented and its JSON body matches the schema."""
    _template, operation = operation_of(method, url)
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {url}: undocumented status {status}"
    documented = operation["responses"][status]
    if "$ref" in documented:
        documented = _DOC["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    body = response.get_json()
    schema = documented["content"]["application/json"]["schema"]
    errors = schema_errors(schema, body)
    assert not errors, f"{method} {url} {status}: {errors}\n{body}"
    return body


class Api:
    """A test client wrapper that calls the API and checks every answer against the document."""

    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        """Send a request; returns the status and the (validated) JSON body."""
        all_headers = {"Accept-Language": "en", **(bearer(self.token) if self.token else {})}
        all_headers.update(headers or {})
        response = self.client.open(url, method=method, json=json, headers=all_headers, **kwargs)
        return response.status_code, check(response, method, url)

    def get(self, url: str, **kwargs: Any) -> tuple[int, Any]:
        """GET."""
        return self.call("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> tuple[int, Any]:
        """POST."""
        return self.call("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> tuple[int, Any]:
        """DELETE."""
        return self.call("DELETE", url, **kwargs)


def error_code(body: Any) -> str:
    """The stable code of an error body."""
    return str(body["error"]["code"])
