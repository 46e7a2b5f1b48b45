"""Role guards (core.auth.access) on a small blueprint made for the test."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from core.auth.access import (
    require_district_admin,
    require_platform_admin,
    require_staff_of,
)
from core.extensions import db
from core.models import District, Organisation
from tests.support import factories


@pytest.fixture
def guarded(make_app: Callable[..., Flask]) -> Flask:
    bp = Blueprint("guarded", __name__)

    @bp.get("/t/district/<int:district_id>")
    def district_area(district_id: int) -> str:
        row = db.get_or_404(District, district_id)
        return f"admin:{require_district_admin(row).email}"

    @bp.get("/t/org/<int:org_id>")
    def staff_area(org_id: int) -> str:
        return f"staff:{require_staff_of(db.get_or_404(Organisation, org_id)).email}"

    @bp.get("/t/org-or-admin/<int:org_id>")
    def staff_or_admin_area(org_id: int) -> str:
        org = db.get_or_404(Organisation, org_id)
        return f"ok:{require_staff_of(org, allow_district_admin=True).email}"

    @bp.get("/t/platform")
    def platform_area() -> str:
        return f"platform:{require_platform_admin().email}"

    app = make_app()
    app.register_blueprint(bp)
    return app


def client_as(app: Flask, session_id: str | None) -> FlaskClient:
    """A client logged in with this Flask-Login session id (None: anonymous)."""
    client = app.test_client()
    if session_id is not None:
        with client.session_transaction() as session:
            session["_user_id"] = session_id
            session["_fresh"] = True
    return client


def test_guards_admit_the_right_roles_and_refuse_the_others(guarded: Flask) -> None:
    with guarded.app_context():
        borgo, altra = factories.district("borgo-test"), factories.district("altra-citta")
        org = factories.organisation(borgo)
        resident = factories.user()
        staff = factories.staff(org)
        admin = factories.district_admin(borgo)
        other_admin = factories.district_admin(altra)
        platform = factories.user(is_platform_admin=True)
        db.session.commit()
        ids = {"borgo": borgo.id, "org": org.id}
        users = {
            "resident": resident.get_id(),
            "staff": staff.get_id(),
            "admin": admin.get_id(),
            "other_admin": other_admin.get_id(),
            "platform": platform.get_id(),
        }

    expected = {
        # path: {user: status}
        f"/t/district/{ids['borgo']}": {
            "resident": 403,
            "staff": 403,
            "admin": 200,
            "other_admin": 403,
            "platform": 200,
        },
        f"/t/org/{ids['org']}": {
            "resident": 403,
            "staff": 200,
            "admin": 403,
            "other_admin": 403,
            "platform": 403,
        },
        f"/t/org-or-admin/{ids['org']}": {
            "resident": 403,
            "staff": 200,
            "admin": 200,
            "other_admin": 403,
            "platform": 200,
        },
        "/t/platform": {
            "resident": 404,
            "staff": 404,
            "admin": 404,
            "other_admin": 404,
            "platform": 200,
        },
    }
    for path, by_user in expected.items():
        anonymous = client_as(guarded, None).get(path)
        assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
        for name, status in by_user.items():
            response = client_as(guarded, users[name]).get(path, headers={"Accept-Language": "en"})
            assert response.status_code == status, (path, name, response.status_code)
            if status == 403:
                assert "You do not have permission" in response.get_data(as_text=True)
