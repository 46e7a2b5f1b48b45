"""Personal access tokens: stored hashed, shown once, revocable from the profile and the CLI."""

from __future__ import annotations

import hashlib
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.api.tokens import MAX_ACTIVE, TokenError, authenticate, create_token
from core.extensions import db
from core.models import ApiToken
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.web import csrf_token

SECRET_RE = re.compile(r'id="token-secret"[^>]*value="(cnc_[^"]+)"')


def test_tokens_are_stored_hashed_and_checked(app: Flask) -> None:
    person = f.user()
    issued = create_token(db.session, person, "script", "read")
    db.session.commit()
    row = db.session.get(ApiToken, issued.token.id)
    assert issued.secret.startswith("cnc_")
    assert row.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret not in (row.token_hash, row.name)
    assert authenticate(db.session, issued.secret).user_id == person.id
    assert authenticate(db.session, issued.secret + "x") is None
    assert authenticate(db.session, "not a token") is None


def test_token_rules(app: Flask) -> None:
    person = f.user()
    for name, scope in (("", "read"), ("x" * 101, "read"), ("ok", "admin")):
        try:
            create_token(db.session, person, name, scope)
        except TokenError:
            continue
        raise AssertionError(f"{name!r}/{scope} accepted")
    for n in range(MAX_ACTIVE):
        create_token(db.session, person, f"t{n}")
    try:
        create_token(db.session, person, "one too many")
    except TokenError:
        pass
    else:
        raise AssertionError("no limit on tokens")


def test_cli_creates_lists_and_revokes(app: Flask, client: FlaskClient) -> None:
    person = f.user("cli@example.org")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "create", "CLI@example.org", "--scope", "read-write"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("cnc_")
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == person.id))
    assert row.scope == "read-write" and row.token_hash != secret
    response = client.get("/api/v1/me/bookings", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200

    listed = runner.invoke(args=["tokens", "list", "cli@example.org"])
    assert listed.exit_code == 0 and f"{row.id}\tread-write" in listed.output
    assert secret not in listed.output
    revoked = runner.invoke(args=["tokens", "revoke", "cli@example.org", str(row.id)])
    assert revoked.exit_code == 0, revoked.output
    again = runner.invoke(args=["tokens", "revoke", "cli@example.org", str(row.id)])
    assert again.exit_code == 1
    response = client.get("/api/v1/me/bookings", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401

    unknown = runner.invoke(args=["tokens", "create", "nobody@example.org"])
    assert unknown.exit_code == 2 and "no account" in unknown.output
    bad_scope = runner.invoke(args=["tokens", "create", "cli@example.org", "--scope", "all"])
    assert bad_scope.exit_code == 2


def test_profile_page_creates_shows_once_and_revokes(client: FlaskClient) -> None:
    person = f.user(locale="en")
    other = f.user()
    others = create_token(db.session, other, "theirs").token
    db.session.commit()
    login_as(client, person)
    profile = client.get("/profile")
    assert profile.status_code == 200
    assert 'href="/me/api-tokens"' in profile.get_data(as_text=True)

    page = client.get("/me/api-tokens")
    assert page.status_code == 200 and "You have no tokens." in page.get_data(as_text=True)
    token = csrf_token(client, "/me/api-tokens")
    response = client.post(
        "/me/api-tokens", data={"name": "My script", "scope": "read-write", "csrf_token": token}
    )
    assert response.status_code == 201
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    listing = client.get("/me/api-tokens").get_data(as_text=True)
    assert "My script" in listing and secret not in listing  # shown once only
    api = client.get("/api/v1/me/bookings", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200

    invalid = client.post("/me/api-tokens", data={"name": "", "csrf_token": token})
    assert invalid.status_code == 422 and 'role="alert"' in invalid.get_data(as_text=True)
    assert client.post("/me/api-tokens", data={"name": "x"}).status_code == 400

    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == person.id))
    assert (
        client.post(f"/me/api-tokens/{others.id}/revoke", data={"csrf_token": token}).status_code
        == 404
    )
    assert client.post(f"/me/api-tokens/{row.id}/revoke").status_code == 400
    done = client.post(f"/me/api-tokens/{row.id}/revoke", data={"csrf_token": token})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is not None
    assert db.session.get(ApiToken, others.id).revoked_at is None
    api = client.get("/api/v1/me/bookings", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_tokens_page_needs_login(client: FlaskClient) -> None:
    response = client.get("/me/api-tokens")
    assert response.status_code == 302 and "/login" in response.location
