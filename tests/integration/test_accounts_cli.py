"""``concilia users create`` through Flask's CLI runner."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from core.auth.passwords import password_problems, verify_password
from core.extensions import db
from core.models import AuditEntry, District, DistrictAdmin, Membership, OutboxMessage, User
from tests.support import factories


def run(app: Flask, *args: str, input: str | None = None) -> object:
    return app.test_cli_runner().invoke(args=["users", "create", *args], input=input)


def account(email: str) -> User:
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def test_create_a_resident_with_a_generated_password_shown_once(app: Flask) -> None:
    result = run(app, "Anna@Example.org", "--name", "Anna Neri")
    assert result.exit_code == 0, result.output
    match = re.search(r"Password \(shown only now\): (\S+)", result.output)
    assert match, result.output
    password = match.group(1)
    assert password_problems(password) == []
    user = account("anna@example.org")
    assert user.full_name == "Anna Neri" and user.is_verified
    assert user.roles == ["resident"]
    assert verify_password(user.password_hash, password)
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "account.created_by_operator")
    )
    assert entry is not None and entry.actor_id is None and entry.subject_user_id == user.id


def test_password_from_stdin_is_not_printed(app: Flask) -> None:
    result = run(
        app,
        "boss@example.org",
        "--role",
        "platform-admin",
        "--password-stdin",
        input="Segreta-e-lunga-9\n",
    )
    assert result.exit_code == 0, result.output
    assert "Segreta-e-lunga-9" not in result.output and "Password" not in result.output
    user = account("boss@example.org")
    assert user.is_platform_admin and verify_password(user.password_hash, "Segreta-e-lunga-9")


def test_create_provider_staff_of_an_organisation_of_a_district(app: Flask) -> None:
    district = factories.district("borgo-test")
    org = factories.organisation(district, slug="coop-sole", name="Cooperativa Sole")
    factories.organisation(factories.district("altra-citta"), slug="coop-sole")
    db.session.commit()
    result = run(
        app,
        "staff@example.org",
        "--role",
        "provider",
        "--district",
        "borgo-test",
        "--org",
        "coop-sole",
        "--password-stdin",
        input="Segreta-e-lunga-9\n",
    )
    assert result.exit_code == 0, result.output
    assert "Cooperativa Sole" in result.output
    user = account("staff@example.org")
    assert [m.organisation_id for m in user.memberships] == [org.id]
    assert user.roles == ["resident", "provider"]


def test_create_a_district_admin_even_before_the_district_row_exists(app: Flask) -> None:
    result = run(app, "admin@example.org", "--role", "district-admin", "--district", "borgo-test")
    assert result.exit_code == 0, result.output
    district = db.session.scalar(select(District).where(District.slug == "borgo-test"))
    assert district is not None
    user = account("admin@example.org")
    assert user.administers(district.id) and user.roles == ["resident", "district-admin"]
    assert db.session.scalar(select(DistrictAdmin).where(DistrictAdmin.user_id == user.id))


def test_bad_arguments_exit_2_with_a_clear_message(app: Flask) -> None:
    factories.district("borgo-test")
    db.session.commit()
    cases = [
        (
            ["x@example.org", "--role", "district-admin", "--district", "nowhere"],
            "unknown district",
        ),
        (
            ["x@example.org", "--role", "provider", "--district", "borgo-test"],
            "needs --district and --org",
        ),
        (
            ["x@example.org", "--role", "provider", "--district", "borgo-test", "--org", "nope"],
            "no organisation 'nope'",
        ),
        (["x@example.org", "--role", "district-admin"], "needs --district"),
        (["x@example.org", "--org", "coop"], "--org is only for --role provider"),
        (
            ["x@example.org", "--role", "platform-admin", "--district", "borgo-test"],
            "--district is only for",
        ),
        (["x@example.org", "--role", "wizard"], "Invalid value for '--role'"),
        (["not-an-email"], "valid email address"),
    ]
    for args, message in cases:
        result = run(app, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    assert db.session.scalar(select(User)) is None
    assert db.session.scalar(select(Membership)) is None


def test_taken_address_and_weak_password_exit_1(app: Flask) -> None:
    factories.user("taken@example.org")
    db.session.commit()
    result = run(app, "TAKEN@example.org")
    assert result.exit_code == 1 and "already exists" in result.output
    result = run(app, "new@example.org", "--password-stdin", input="short\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    result = run(app, "new@example.org", "--password-stdin", input="new@example.org\n")
    assert result.exit_code == 1 and "must not be your email address" in result.output
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None


def test_a_created_account_can_log_in_through_the_web(app: Flask) -> None:
    run(app, "web@example.org", "--password-stdin", input="Segreta-e-lunga-9\n")
    from tests.support.web import submit

    response = submit(
        app.test_client(), "/login", {"email": "web@example.org", "password": "Segreta-e-lunga-9"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/profile"


def test_set_password_gives_a_new_password_and_ends_sessions(app: Flask) -> None:
    from datetime import UTC, datetime, timedelta

    user = factories.user("me@example.org", locked_until=datetime.now(UTC) + timedelta(minutes=9))
    db.session.commit()
    version = user.session_version
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "ME@example.org", "--password-stdin"],
        input="Segreta-e-lunga-9\n",
    )
    assert result.exit_code == 0, result.output
    assert "Segreta-e-lunga-9" not in result.output
    user = account("me@example.org")
    assert verify_password(user.password_hash, "Segreta-e-lunga-9")
    assert user.session_version == version + 1 and user.locked_until is None
    changed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == user.email))
    assert changed is not None and changed.kind == "account.password_changed"

    result = app.test_cli_runner().invoke(args=["users", "set-password", "me@example.org"])
    assert result.exit_code == 0
    generated = re.search(r"Password \(shown only now\): (\S+)", result.output)
    assert generated and verify_password(
        account("me@example.org").password_hash, generated.group(1)
    )

    weak = app.test_cli_runner().invoke(
        args=["users", "set-password", "me@example.org", "--password-stdin"], input="short\n"
    )
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
    missing = app.test_cli_runner().invoke(args=["users", "set-password", "nobody@example.org"])
    assert missing.exit_code == 1 and "no account" in missing.output
