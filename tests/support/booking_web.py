"""Helpers for the booking web tests: a plugin adding form fields, and walking the flow."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from core.extensions import db
from core.models import Service, Slot, User
from core.plugins import hookimpl
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.web import csrf_token

KEY_RE = re.compile(r'name="idempotency_key"[^>]*value="([^"]+)"')


class ChildAgeField:
    """A test plugin asking the child's age (0-14) for services of the ``test-care`` area."""

    PLUGIN_NAME = "test-child-age"

    @hookimpl
    def booking_form_fields(self, service: Any) -> list[tuple[str, Any]] | None:
        """The extra field, for care services only."""
        if service.category != "test-care":
            return None
        return [
            (
                "child_age",
                IntegerField(
                    "Child's age",
                    validators=[
                        InputRequired(message="Enter the child's age."),
                        NumberRange(0, 14, message="The service is for children up to 14."),
                    ],
                ),
            )
        ]


def borgo_service(**fields: Any) -> Service:
    """A published service of a provider of ``borgo-test`` (committed)."""
    org = f.organisation(f.district("borgo-test"))
    fields.setdefault("category", "test-wellness")
    svc = f.service(org, **fields)
    db.session.commit()
    return svc


def base(svc: Service) -> str:
    """The booking flow's first address for ``svc``."""
    return f"/borgo-test/services/{svc.id}/book"


def key_of(page: TestResponse) -> str:
    """The idempotency key the summary page carries."""
    match = KEY_RE.search(page.get_data(as_text=True))
    assert match, "no idempotency key on the summary page"
    return match.group(1)


def walk_to_summary(
    client: FlaskClient,
    svc: Service,
    slot: Slot,
    *,
    waitlist: bool = False,
    details: dict[str, Any] | None = None,
    applicant: dict[str, str] | None = None,
) -> TestResponse:
    """Go through steps 1-3 with valid answers and return the summary page (asserting 200)."""
    path = base(svc)
    token = csrf_token(client, path)
    choice = f"waitlist-{slot.id}" if waitlist else str(slot.id)
    response = client.post(path, data={"slot": choice, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    if response.location.endswith("/details"):
        response = client.post(f"{path}/details", data={"csrf_token": token, **(details or {})})
        assert response.status_code == 302, response.get_data(as_text=True)
    data = applicant or {
        "name": "Anna Rossi",
        "email": "anna@example.org",
        "phone": "+39 02 123456",
    }
    response = client.post(f"{path}/applicant", data={"csrf_token": token, **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    summary = client.get(f"{path}/summary")
    assert summary.status_code == 200, summary.get_data(as_text=True)
    return summary


def confirm(client: FlaskClient, svc: Service, key: str, consent: bool = True) -> TestResponse:
    """Submit the summary (step 4) with the page's key."""
    data = {"idempotency_key": key, "csrf_token": csrf_token(client, "/")}
    if consent:
        data["consent"] = "y"
    return client.post(f"{base(svc)}/confirm", data=data)


def logged_in(client: FlaskClient, **fields: Any) -> User:
    """A new committed user (English pages unless ``locale`` says otherwise), logged in."""
    fields.setdefault("locale", "en")
    person = f.user(**fields)
    db.session.commit()
    login_as(client, person)
    return person
