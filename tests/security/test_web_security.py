"""Web security: CSRF everywhere, cookie flags, security headers, rate limits, redirects."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from core.extensions import db
from core.models import Booking
from core.web.safety import safe_next
from tests.security.route_table import ROUTES
from tests.security.scenario import ROLES, Scenario
from tests.security.test_access_matrix import app_rules, build_url
from tests.support.auth import login_as
from tests.support.booking_web import base, borgo_service, key_of, logged_in, walk_to_summary
from tests.support.factories import slot as make_slot
from tests.support.web import csrf_token, submit

REDIS_URL = "redis://127.0.0.1:6379/15"
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


# --- CSRF -------------------------------------------------------------------------------------


def test_every_state_changing_route_refuses_a_request_without_csrf_token(
    app: Flask, scenario: Scenario
) -> None:
    """Each POST/PUT/PATCH/DELETE, sent by a role the route lets in, is refused with 400."""
    checked, wrong = 0, []
    for rule in app_rules(app):
        row = ROUTES.get(rule.endpoint)
        methods = [m for m in STATE_CHANGING if m in (rule.methods or ())]
        if row is None or not methods or row.csrf_exempt:
            continue
        role = next(r for r in ROLES if r in row.access.roles)
        url = build_url(app, rule, row, scenario)
        for method in methods:
            client = app.test_client()
            user = scenario.users[role]
            if user is not None:
                login_as(client, user)
            response = client.open(
                url, method=method, data={"anything": "x"}, headers={"Accept-Language": "en"}
            )
            checked += 1
            if url.startswith("/api/"):  # JSON, with the API's stable code
                body = response.get_json(silent=True) or {}
                refused = body.get("error", {}).get("code") == "csrf_failed"
            else:
                refused = "form has expired" in response.get_data(as_text=True)
            if response.status_code != 400 or not refused:
                wrong.append(f"{method} {url} as {role}: {response.status_code}")
    assert checked >= 25
    assert not wrong, "\n".join(wrong)


def test_a_token_from_another_session_is_refused(app: Flask, client: Any) -> None:
    svc = borgo_service()
    make_slot(svc)
    db.session.commit()
    logged_in(client)
    other = app.test_client()
    token = csrf_token(other, "/login")
    response = client.post(base(svc), data={"slot": "1", "csrf_token": token})
    assert response.status_code == 400


# --- cookies and headers ----------------------------------------------------------------------


def test_session_cookie_flags_in_development_and_production(make_app: Any) -> None:
    for env, secure in (("development", False), ("production", True)):
        app = make_app(CONCILIA_ENV=env)
        client = app.test_client()
        response = client.get("/login")
        cookie = next(h for h in response.headers.getlist("Set-Cookie") if "session=" in h)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure, (env, cookie)
        assert app.config["REMEMBER_COOKIE_SECURE"] is secure
        assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True


def test_security_headers_on_pages_errors_and_files(make_app: Any) -> None:
    dev = make_app(CONCILIA_ENV="development").test_client()
    prod = make_app(CONCILIA_ENV="production").test_client()
    for path in ("/", "/login", "/borgo-test/", "/no-such-page", "/healthz"):
        response = dev.get(path)
        csp = response.headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
        assert "'unsafe-inline'" not in directives["script-src"]
        assert "'unsafe-eval'" not in directives["script-src"]
        assert "'unsafe-inline'" not in directives.get("style-src", "")
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in response.headers
        hsts = prod.get(path).headers["Strict-Transport-Security"]
        assert "max-age=63072000" in hsts and "includeSubDomains" in hsts
        assert len(response.headers.getlist("Content-Security-Policy")) == 1


def test_a_views_own_security_header_is_kept(make_app: Any) -> None:
    app = make_app(CONCILIA_ENV="production")

    @app.get("/embeddable")
    def embeddable() -> Any:
        return "ok", 200, {"x-frame-options": "SAMEORIGIN"}  # any case: the view's is kept

    response = app.test_client().get("/embeddable")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "Strict-Transport-Security" in response.headers


def test_no_template_has_inline_scripts_styles_or_handlers(app: Flask) -> None:
    """CSP forbids them; a template with one would break silently in browsers."""
    import re
    from pathlib import Path

    roots = [Path(app.root_path) / "templates"]
    roots += list(Path(app.root_path).parent.glob("*/*/templates"))
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    style_attr = re.compile(r"\sstyle\s*=", re.I)
    offenders = []
    for root in roots:
        for path in root.rglob("*.html"):
            if "/mail/" in str(path):  # emails are not served under the CSP
                continue
            text = path.read_text()
            for pattern in (inline_script, handler, style_attr):
                if pattern.search(text):
                    offenders.append(f"{path}: {pattern.pattern}")
    assert not offenders, "\n".join(offenders)


# --- open redirects ---------------------------------------------------------------------------

EVIL_TARGETS = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/%0d%0aLocation: https://evil.example",
    "/\tevil",
    "data:text/html,<script>alert(1)</script>",
]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_safe_next_refuses_foreign_targets(app: Flask, target: str) -> None:
    with app.test_request_context():
        result = safe_next(target)
        assert result == "/" or (result.startswith("/") and not result.startswith("//"))
        assert "evil" not in result or result.startswith("/%0d")


def test_login_and_language_switch_never_redirect_off_site(app: Flask, client: Any) -> None:
    person = logged_in(client)
    for target in EVIL_TARGETS:
        response = client.get("/login", query_string={"next": target})
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), target
        response = submit(client, "/language", {"lang": "en", "next": target}, page="/")
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), target
    assert client.get("/login?next=/me/bookings").headers["Location"] == "/me/bookings"
    assert person.id


# --- rate limits ------------------------------------------------------------------------------


@pytest.fixture
def client_ip() -> Iterator[str]:
    """A client address of this test's own; its rate-limit keys in Redis db 15 go afterwards.

    (The limiter is one object per process, so its key prefix is set by the first app; a
    unique address keeps this test's counters apart from any other run sharing the Redis.)
    """
    address = "10.{}.{}.{}".format(*secrets.token_bytes(3))
    yield address
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(match=f"*{address}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


def _book_twice_then_limited(app: Flask) -> list[int]:
    """Confirm three bookings in a row (different slots); the statuses of the confirmations."""
    client = app.test_client()
    with app.app_context():
        logged_in(client)
        svc = borgo_service()
        slots = [make_slot(svc, capacity=5, starts_in=timedelta(days=2 + i)) for i in range(3)]
        db.session.commit()
        statuses = []
        for slot in slots:
            summary = walk_to_summary(client, svc, slot)
            data = {"idempotency_key": key_of(summary), "consent": "y"}
            data["csrf_token"] = csrf_token(client, "/")
            statuses.append(client.post(f"{base(svc)}/confirm", data=data).status_code)
        return statuses


def test_api_bookings_share_the_booking_limit_per_account(make_app: Any) -> None:
    """A script with a token gets no more booking attempts than a person in a browser."""
    from tests.support.api import Api, token_for
    from tests.support.factories import user

    app = make_app(RATELIMIT_ENABLED=True, CONCILIA_BOOKING_RATE_LIMIT="2 per minute")
    with app.app_context():
        svc = borgo_service()
        slots = [make_slot(svc, capacity=5, starts_in=timedelta(days=2 + i)) for i in range(3)]
        person, other = user(), user()
        db.session.commit()
        api, fresh = Api(app.test_client(), token_for(person)), token_for(other)
        answers = [api.post("/api/v1/bookings", json={"slot_id": s.id}) for s in slots]
        assert [status for status, _body in answers] == [201, 201, 429]
        assert answers[2][1]["error"]["code"] == "rate_limited"
        assert db.session.scalar(select(func.count(Booking.id))) == 2
        # per account: somebody else still books
        assert (
            Api(app.test_client(), fresh).post("/api/v1/bookings", json={"slot_id": slots[2].id})[0]
            == 201
        )


def test_the_api_is_rate_limited_per_account(make_app: Any) -> None:
    from tests.support.api import Api, token_for
    from tests.support.factories import user

    app = make_app(RATELIMIT_ENABLED=True, CONCILIA_API_RATE_LIMIT="3 per minute")
    with app.app_context():
        person = user()
        db.session.commit()
        secret = token_for(person)
        api = Api(app.test_client(), secret)
        statuses = [api.get("/api/v1/me/bookings")[0] for _ in range(4)]
        again = app.test_client().get(
            "/api/v1/me/bookings", headers={"Authorization": f"Bearer {secret}"}
        )
    assert statuses == [200, 200, 200, 429]
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0


def test_booking_confirmations_are_rate_limited_per_account(make_app: Any) -> None:
    app = make_app(RATELIMIT_ENABLED=True, CONCILIA_BOOKING_RATE_LIMIT="2 per minute")
    statuses = _book_twice_then_limited(app)
    assert statuses == [302, 302, 429]
    with app.app_context():
        assert db.session.scalar(select(func.count(Booking.id))) == 2


def test_rate_limit_counters_live_in_redis_when_configured(make_app: Any, client_ip: str) -> None:
    from core.config import derived_settings

    settings = derived_settings(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "CONCILIA_REDIS_URL": REDIS_URL}
    )
    assert settings["RATELIMIT_STORAGE_URI"] == REDIS_URL
    config = {
        "RATELIMIT_ENABLED": True,
        "CONCILIA_REDIS_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "CONCILIA_LOGIN_RATE_LIMIT": "2 per minute",
    }
    connection = redis.Redis.from_url(REDIS_URL)
    client = make_app(**config).test_client()
    client.environ_base["REMOTE_ADDR"] = client_ip
    form = {"email": "x@example.org", "password": "wrong-password-1"}
    assert submit(client, "/login", form).status_code == 401
    assert submit(client, "/login", form).status_code == 401
    keys = list(connection.scan_iter(match=f"*{client_ip}*"))
    assert keys, "no rate-limit counter in Redis"
    # another instance of the app (as in another worker) sees the same counter
    other = make_app(**config).test_client()
    other.environ_base["REMOTE_ADDR"] = client_ip
    assert submit(other, "/login", form).status_code == 429
    connection.delete(*keys)  # the counter really lives in Redis: removing it lifts the limit
    assert submit(other, "/login", form).status_code == 401
    connection.close()


def test_client_addresses_come_from_the_proxy_only_when_declared(make_app: Any) -> None:
    """Limits count per real client behind a declared proxy; forged headers count for nothing."""
    form = {"email": "x@example.org", "password": "wrong-password-1"}
    behind_proxy = make_app(
        RATELIMIT_ENABLED=True, CONCILIA_LOGIN_RATE_LIMIT="1 per minute", CONCILIA_PROXY_HOPS=1
    )
    alice, bob = behind_proxy.test_client(), behind_proxy.test_client()
    alice.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.1"
    bob.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.2"
    assert submit(alice, "/login", form).status_code == 401
    assert submit(bob, "/login", form).status_code == 401  # another client, its own budget
    assert submit(alice, "/login", form).status_code == 429
    direct = make_app(RATELIMIT_ENABLED=True, CONCILIA_LOGIN_RATE_LIMIT="1 per minute")
    forger = direct.test_client()
    forger.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    forger.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    assert submit(forger, "/login", form).status_code == 401
    forger.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.10"  # a new forged address
    assert submit(forger, "/login", form).status_code == 429
