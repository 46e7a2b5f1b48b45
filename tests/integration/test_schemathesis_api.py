"""A bounded schemathesis run against the OpenAPI document, in-process over WSGI.

Every GET operation and ``POST /bookings`` (with a read-write token) get a few generated
requests; no answer may be a 500, have an undocumented status or content type, or contradict
its schema. Kept small (a handful of examples per operation, no shrinking database) so the
whole run stays within seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from core.extensions import db
from tests.support import factories as f
from tests.support.api import token_for
from tests.support.booking_factories import booking_in
from tests.support.booking_web import borgo_service

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 8


def fresh_contexts(app: Flask) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """The app as a WSGI callable whose every request runs in its own app context."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with app.app_context():
            return list(app.wsgi_app(environ, start_response))

    return wsgi


def test_the_api_conforms_to_its_openapi_document(app: Flask) -> None:
    svc = borgo_service()
    slot = f.slot(svc, capacity=3)
    f.slot(svc, starts_in=timedelta(days=4))
    person = f.user(locale="en")
    admin = f.district_admin(f.district("borgo-test"))
    f.staff(svc.organisation, email="staff@example.org")
    db.session.commit()
    booking_in(slot, "confirmed", person)
    headers = {"Authorization": f"Bearer {token_for(person)}"}
    admin_headers = {"Authorization": f"Bearer {token_for(admin)}"}

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fresh_contexts(app))
    operations = [result.ok() for result in schema.get_all_operations()]
    chosen = [
        op
        for op in operations
        if op.method.upper() == "GET" or (op.method.upper(), op.path) == ("POST", "/bookings")
    ]
    assert len(chosen) >= 10, [op.label for op in operations]

    for operation in chosen:
        auth = admin_headers if operation.path.endswith("/report") else headers
        fuzz(operation, auth)()


def fuzz(operation: Any, auth: dict[str, str]) -> Callable[[], None]:
    """A Hypothesis test sending generated requests of ``operation`` with ``auth``."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(headers=auth, checks=CHECKS)

    return run
