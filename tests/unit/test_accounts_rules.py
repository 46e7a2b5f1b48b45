"""Password rule, email normalization and signed links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from core.auth.passwords import character_classes, generate_password, password_problems
from core.auth.service import InvalidEmail, normalize_email
from core.auth.tokens import (
    TokenError,
    make_reset_token,
    make_verify_token,
    read_reset_token,
    read_verify_token,
)
from core.models import User


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short1A", False),
        ("alllowercaseletters", False),
        ("ALLUPPERCASELETTERS", False),
        ("12345678901234", False),
        ("!!!!!!!!!!!!", False),
        ("lowercase and spaces", True),
        ("Mixedcaseletters", True),
        ("letters1234", True),
        ("àèìòùàèìòù1", True),
    ],
)
def test_password_rule(app: Flask, password: str, ok: bool) -> None:
    assert (password_problems(password) == []) is ok


def test_password_may_not_be_the_email(app: Flask) -> None:
    assert password_problems("Mario@Example.org", "mario@example.org")
    assert password_problems("Mario@Example.org", "luigi@example.org") == []


def test_generated_passwords_pass_the_rule(app: Flask) -> None:
    for _ in range(50):
        password = generate_password()
        assert len(password) == 16 and password_problems(password) == []
        assert len(character_classes(password)) >= 3


def test_normalize_email(app: Flask) -> None:
    assert normalize_email("  Mario.Rossi@Example.ORG ") == "mario.rossi@example.org"
    for bad in ("", "mario", "mario@", "@example.org", "a@b", "a b@example.org"):
        with pytest.raises(InvalidEmail):
            normalize_email(bad)


def _user(**fields: object) -> User:
    return User(id=7, email="me@example.org", password_hash="hash-1", **fields)


def test_verify_tokens_are_bound_to_the_address_and_expire(app: Flask) -> None:
    user = _user()
    payload = read_verify_token(make_verify_token(user))
    assert (payload.user_id, payload.bound_to) == (7, "me@example.org")
    old = make_verify_token(user, issued_at=datetime.now(UTC) - timedelta(days=3, minutes=1))
    with pytest.raises(TokenError) as info:
        read_verify_token(old)
    assert info.value.expired
    with pytest.raises(TokenError) as info:
        read_verify_token(make_reset_token(user))  # another purpose, another salt
    assert not info.value.expired


def test_reset_tokens_carry_a_password_fingerprint(app: Flask) -> None:
    user = _user()
    first = read_reset_token(make_reset_token(user)).bound_to
    user.password_hash = "hash-2"
    assert read_reset_token(make_reset_token(user)).bound_to != first
    assert "hash" not in first  # a keyed digest, not the hash itself


def test_a_sign_up_that_loses_a_race_for_the_address_answers_like_a_taken_one(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import func, select

    from core.auth import service
    from core.extensions import db

    # both sign-ups check before either has written: the unique index decides
    monkeypatch.setattr(service, "find_user_by_email", lambda email: None)
    first = service.register_user(
        "race@example.org", "A", "Buona-password-1", "it", privacy_consent=True
    )
    second = service.register_user(
        "race@example.org", "B", "Buona-password-1", "it", privacy_consent=True
    )
    assert first is not None and second is None
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
