"""Every account page: well formed for CSP and screen readers, and never a 500 on odd input."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.auth.tokens import make_reset_token
from core.extensions import db
from tests.support import factories
from tests.support.auth import login_as
from tests.support.web import csrf_token

PUBLIC_PAGES = ["/login", "/register", "/password/forgot", "/verify/resend", "/check-email"]
PRIVATE_PAGES = ["/profile", "/password/change"]


def assert_well_formed(html: str, path: str) -> None:
    assert "style=" not in html, path
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path  # no inline scripts
    assert not re.search(r"<[^>]+\son[a-z]+=", html), path  # no inline event handlers
    assert html.count("<h1") == 1, path
    for field_id in re.findall(r'<input[^>]*\bid="([^"]+)"[^>]*type="(?!hidden)', html):
        assert f'for="{field_id}"' in html, (path, field_id)  # every visible input has a label


def test_account_pages_are_well_formed_in_both_languages(client: FlaskClient) -> None:
    user = factories.user()
    db.session.commit()
    token = make_reset_token(user)
    for lang in ("it", "en"):
        headers = {"Accept-Language": lang}
        for path in [*PUBLIC_PAGES, f"/password/reset/{token}"]:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, path
            assert_well_formed(response.get_data(as_text=True), path)
    login_as(client, user)
    for path in PRIVATE_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_well_formed(response.get_data(as_text=True), path)


def test_a_logged_in_visit_to_login_goes_to_the_personal_area(client: FlaskClient) -> None:
    user = factories.user()
    db.session.commit()
    login_as(client, user)
    for target in ("/login?next=/login", "/login"):
        response = client.get(target)
        assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert client.get("/login?next=/privacy").headers["Location"] == "/privacy"
    assert client.get("/register").headers["Location"] == "/profile"


text = st.text(max_size=300)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(email=text, password=text, name=text, locale=text, privacy=text)
def test_odd_form_input_is_never_a_server_error(
    app: Flask, email: str, password: str, name: str, locale: str, privacy: str
) -> None:
    client = app.test_client()
    token = csrf_token(client, "/login")
    forms = {
        "/login": {"email": email, "password": password, "remember": privacy, "next": name},
        "/register": {
            "email": email,
            "full_name": name,
            "password": password,
            "confirm": password,
            "locale": locale,
            "privacy": privacy,
        },
        "/password/forgot": {"email": email},
        "/verify/resend": {"email": email},
    }
    for path, data in forms.items():
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code < 500, (path, data)
    response = client.get(f"/verify/{password or 'x'}".replace("?", "%3F").replace("#", "%23"))
    assert response.status_code < 500
