"""Accounts through the browser: sign-up, confirmation, login, lockout, passwords, profile."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.auth.passwords import verify_password
from core.auth.tokens import make_reset_token, make_verify_token
from core.extensions import db
from core.models import AuditEntry, User
from tests.support import factories
from tests.support.auth import login_as
from tests.support.mail import last_mail, link_path, outbox
from tests.support.web import csrf_token, submit

GOOD_PASSWORD = "Lungo-e-sicuro-42"
EN = {"Accept-Language": "en"}
IT = {"Accept-Language": "it"}
TOKEN_RE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+')


def page(response: object) -> str:
    """A response body with the CSRF tokens blanked (they differ from page to page)."""
    return unescape(TOKEN_RE.sub(r"\1", response.get_data(as_text=True)))  # type: ignore[attr-defined]


def sign_up(client: FlaskClient, **overrides: object) -> object:
    data = {
        "email": "Mario.Rossi@Example.org",
        "full_name": "Mario Rossi",
        "password": GOOD_PASSWORD,
        "confirm": GOOD_PASSWORD,
        "locale": "it",
        "privacy": "y",
    }
    data.update(overrides)
    headers = overrides.pop("headers", None) if "headers" in overrides else None
    data.pop("headers", None)
    return submit(client, "/register", data, headers=headers or {})


def log_in(client: FlaskClient, email: str, password: str, **kwargs: object) -> object:
    return submit(client, "/login", {"email": email, "password": password}, **kwargs)


def user_by_email(email: str) -> User:
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


# --- sign-up and confirmation ------------------------------------------------------------------


def test_sign_up_confirm_by_the_emailed_link_then_log_in(app: Flask, client: FlaskClient) -> None:
    response = sign_up(client)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/check-email")
    user = user_by_email("mario.rossi@example.org")  # normalized, lower-cased
    assert user.full_name == "Mario Rossi" and user.locale == "it"
    assert not user.is_verified
    assert verify_password(user.password_hash, GOOD_PASSWORD)
    consent = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.register"))
    assert consent is not None and consent.details["privacy_consent"] is True

    # unconfirmed: the right password gets a clear message and a way to a new link
    response = log_in(client, "mario.rossi@example.org", GOOD_PASSWORD, headers=IT)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "non è ancora confermato" in html and "/verify/resend" in html

    mail = last_mail("account.verify", "mario.rossi@example.org")
    assert mail.subject == "Conferma il tuo indirizzo email"  # in the chosen language
    assert "Gentile Mario Rossi" in mail.body_text and "<a href=" in mail.body_html
    path = link_path(mail, "/verify/", app.config["CONCILIA_BASE_URL"])
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert user_by_email("mario.rossi@example.org").is_verified

    response = log_in(client, "MARIO.ROSSI@example.org", GOOD_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    profile = client.get("/profile", headers=IT)
    assert profile.status_code == 200
    assert "Area personale" in profile.get_data(as_text=True)


def test_sign_up_page_is_localized(client: FlaskClient) -> None:
    html = client.get("/register", headers=IT).get_data(as_text=True)
    assert "Registrati" in html and "Ripeti la password" in html and "Informativa" in html
    html = client.get("/register", headers=EN).get_data(as_text=True)
    assert "Sign up" in html and "Repeat the password" in html


@pytest.mark.parametrize(
    ("overrides", "italian", "english"),
    [
        ({"email": "not-an-email"}, "indirizzo email valido", "valid email address"),
        ({"email": "a@b"}, "indirizzo email valido", "valid email address"),
        (
            {"password": "short1", "confirm": "short1"},
            "almeno 10 caratteri",
            "at least 10 characters",
        ),
        (
            {"password": "abcdefghijkl", "confirm": "abcdefghijkl"},
            "tipi di caratteri",
            "different kinds of characters",
        ),
        (
            {"password": "1234567890123", "confirm": "1234567890123"},
            "tipi di caratteri",
            "different kinds of characters",
        ),
        (
            {
                "email": "anna@example.org",
                "password": "anna@example.org",
                "confirm": "anna@example.org",
            },
            "non deve essere il tuo indirizzo email",
            "must not be your email address",
        ),
        ({"confirm": "Qualcos-altro-99"}, "non coincidono", "do not match"),
        ({"privacy": ""}, "informativa sulla privacy", "accept the privacy notice"),
        ({"full_name": ""}, "Inserisci il tuo nome e cognome", "Enter your full name"),
    ],
)
def test_bad_sign_up_input_is_a_422_with_a_localized_message_and_creates_nothing(
    client: FlaskClient, overrides: dict[str, str], italian: str, english: str
) -> None:
    for headers, expected in ((IT, italian), (EN, english)):
        response = sign_up(client, headers=headers, **overrides)
        assert response.status_code == 422
        assert expected in response.get_data(as_text=True)
    assert db.session.scalar(select(User)) is None
    assert outbox() == []


def test_sign_up_without_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post(
        "/register",
        data={"email": "x@example.org", "csrf_token": "forged"},
        headers=EN,
    )
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert db.session.scalar(select(User)) is None


def test_signing_up_with_a_taken_address_looks_the_same_and_tells_the_owner(
    app: Flask, client: FlaskClient
) -> None:
    owner = factories.user("taken@example.org", full_name="Owner")
    db.session.commit()
    first = sign_up(client, email="new@example.org", headers=EN)
    again = sign_up(client, email="Taken@Example.org", headers=EN)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert page(client.get(first.headers["Location"], headers=EN)) == page(
        client.get(again.headers["Location"], headers=EN)
    )
    # the owner's account is untouched, and they are told
    assert user_by_email("taken@example.org").password_hash == owner.password_hash
    notice = last_mail("account.exists", "taken@example.org")
    assert "/password/forgot" in notice.body_text
    assert outbox("account.verify", "taken@example.org") == []


def test_signing_up_again_while_unconfirmed_sends_a_fresh_link(client: FlaskClient) -> None:
    factories.user("waiting@example.org", verified=False)
    db.session.commit()
    assert sign_up(client, email="waiting@example.org").status_code == 302
    assert len(outbox("account.verify", "waiting@example.org")) == 1


def test_expired_and_tampered_confirmation_links_are_a_400_with_a_way_to_resend(
    app: Flask, client: FlaskClient
) -> None:
    user = factories.user("late@example.org", verified=False)
    db.session.commit()
    old = make_verify_token(user, issued_at=datetime.now(UTC) - timedelta(days=4))
    response = client.get(f"/verify/{old}", headers=IT)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Questo link è scaduto" in html and 'action="/verify/resend"' in html
    response = client.get(f"/verify/{old}", headers=EN)
    assert "This link has expired" in response.get_data(as_text=True)

    good = make_verify_token(user)
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    response = client.get(f"/verify/{tampered}", headers=EN)
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)
    assert not user_by_email("late@example.org").is_verified

    # a reset token is no confirmation token (separate salts)
    response = client.get(f"/verify/{make_reset_token(user)}")
    assert response.status_code == 400


def test_resending_the_confirmation_link_answers_the_same_for_any_address(
    client: FlaskClient,
) -> None:
    factories.user("waiting@example.org", verified=False)
    factories.user("done@example.org", verified=True)
    db.session.commit()
    answers = []
    for address in ("waiting@example.org", "done@example.org", "nobody@example.org"):
        response = submit(client, "/verify/resend", {"email": address})
        assert response.status_code == 302
        answers.append(page(client.get(response.headers["Location"])))
    assert answers[0] == answers[1] == answers[2]
    assert [m.recipient for m in outbox("account.verify")] == ["waiting@example.org"]
    response = submit(client, "/verify/resend", {"email": "nonsense"}, headers=EN)
    assert response.status_code == 422 and "valid email address" in response.get_data(as_text=True)


# --- login ------------------------------------------------------------------------------------


def test_login_failure_is_identical_for_unknown_address_and_wrong_password(
    client: FlaskClient,
) -> None:
    factories.user("known@example.org")
    db.session.commit()
    unknown = log_in(client, "unknown@example.org", "whatever-123", headers=EN)
    wrong = log_in(client, "known@example.org", "whatever-123", headers=EN)
    assert unknown.status_code == wrong.status_code == 401
    # the same page, but for the address echoed back into the form
    assert page(unknown).replace("unknown@", "@") == page(wrong).replace("known@", "@")
    assert "The email address or the password is not correct." in page(wrong)
    italian = log_in(client, "known@example.org", "whatever-123", headers=IT)
    assert "L'indirizzo email o la password non sono corretti." in page(italian)


def test_login_redirects_only_to_local_next(client: FlaskClient) -> None:
    factories.user("me@example.org")
    db.session.commit()
    response = submit(
        client,
        "/login",
        {"email": "me@example.org", "password": factories.PASSWORD, "next": "/privacy"},
    )
    assert response.headers["Location"] == "/privacy"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    response = submit(
        client,
        "/login",
        {"email": "me@example.org", "password": factories.PASSWORD, "next": "//evil.example/"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/profile"


def test_login_page_carries_next_and_links_to_reset_and_sign_up(client: FlaskClient) -> None:
    html = client.get("/login?next=/privacy", headers=IT).get_data(as_text=True)
    assert 'value="/privacy"' in html
    assert "Password dimenticata?" in html and "Registrati" in html and "Accedi" in html


def test_empty_login_form_is_a_422(client: FlaskClient) -> None:
    response = submit(client, "/login", {"email": "", "password": ""}, headers=EN)
    assert response.status_code == 422
    assert "Enter your email address." in response.get_data(as_text=True)


def test_logout_needs_a_post_with_csrf(client: FlaskClient) -> None:
    user = factories.user()
    db.session.commit()
    login_as(client, user)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/profile").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    assert response.status_code == 302
    response = client.get("/profile")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_five_wrong_passwords_lock_the_account_quietly_and_tell_the_owner(
    client: FlaskClient,
) -> None:
    factories.user("target@example.org", locale="en")
    db.session.commit()
    for _attempt in range(4):
        assert log_in(client, "target@example.org", "wrong-password-1").status_code == 401
    assert user_by_email("target@example.org").locked_until is None
    assert outbox("account.locked") == []
    fifth = log_in(client, "target@example.org", "wrong-password-1", headers=IT)
    assert "L'indirizzo email o la password non sono corretti." in page(fifth)  # page: Italian
    locked = user_by_email("target@example.org")
    assert locked.locked_until is not None
    assert locked.locked_until > datetime.now(UTC) + timedelta(minutes=14)
    mail = last_mail("account.locked", "target@example.org")
    assert mail.subject == "Your account has been locked for a while"  # mail: their language
    assert "/password/forgot" in mail.body_text and "15 minutes" in mail.body_text
    # now even the right password fails, with the very same generic answer
    right = log_in(client, "target@example.org", factories.PASSWORD, headers=IT)
    assert right.status_code == 401 and page(right) == page(fifth)
    assert len(outbox("account.locked")) == 1  # told once

    # when the lock has run out, the right password works and the counters reset
    locked.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert log_in(client, "target@example.org", factories.PASSWORD).status_code == 302
    assert user_by_email("target@example.org").locked_until is None


def test_a_successful_login_resets_the_failure_count(client: FlaskClient) -> None:
    factories.user("me@example.org")
    db.session.commit()
    for _attempt in range(4):
        log_in(client, "me@example.org", "wrong-password-1")
    assert user_by_email("me@example.org").failed_logins == 4
    assert log_in(client, "me@example.org", factories.PASSWORD).status_code == 302
    assert user_by_email("me@example.org").failed_logins == 0


def test_disabled_accounts_cannot_log_in(client: FlaskClient) -> None:
    factories.user("gone@example.org", active=False)
    db.session.commit()
    assert log_in(client, "gone@example.org", factories.PASSWORD).status_code == 401


# --- forgotten password ----------------------------------------------------------------------


def test_forgot_password_answers_the_same_and_the_link_works_once(
    app: Flask, client: FlaskClient
) -> None:
    factories.user("me@example.org", full_name="Me", locale="en")
    db.session.commit()
    known = submit(client, "/password/forgot", {"email": "me@example.org"})
    unknown = submit(client, "/password/forgot", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert page(client.get(known.headers["Location"])) == page(
        client.get(unknown.headers["Location"])
    )
    assert [m.recipient for m in outbox("account.reset")] == ["me@example.org"]
    mail = last_mail("account.reset")
    assert mail.subject == "Choose a new password"  # the user's language
    path = link_path(mail, "/password/reset/", app.config["CONCILIA_BASE_URL"])

    assert client.get(path).status_code == 200
    response = submit(client, path, {"password": "Nuova-password-7", "confirm": "Nuova-password-7"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert log_in(client, "me@example.org", "Nuova-password-7").status_code == 302

    # single use: the password changed, so the link is dead
    response = client.get(path, headers=EN)
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)
    assert "/password/forgot" in response.get_data(as_text=True)


def test_reset_link_rejects_weak_passwords_expired_and_tampered_tokens(
    client: FlaskClient,
) -> None:
    user = factories.user("me@example.org")
    db.session.commit()
    token = make_reset_token(user)
    response = submit(
        client,
        f"/password/reset/{token}",
        {"password": "aaaaaaaaaaaa", "confirm": "aaaaaaaaaaaa"},
        headers=IT,
    )
    assert response.status_code == 422 and "tipi di caratteri" in response.get_data(as_text=True)
    response = submit(
        client,
        f"/password/reset/{token}",
        {"password": "Buona-password-1", "confirm": "Altra-1"},
        headers=EN,
    )
    assert response.status_code == 422 and "do not match" in response.get_data(as_text=True)

    expired = make_reset_token(user, issued_at=datetime.now(UTC) - timedelta(hours=2))
    response = client.get(f"/password/reset/{expired}", headers=IT)
    assert response.status_code == 400 and "scaduto" in response.get_data(as_text=True)
    response = client.get(f"/password/reset/{token}x", headers=EN)
    assert response.status_code == 400
    assert verify_password(user_by_email("me@example.org").password_hash, factories.PASSWORD)


def test_a_reset_lifts_a_lock_and_confirms_the_address(client: FlaskClient) -> None:
    user = factories.user(
        "me@example.org", verified=False, locked_until=datetime.now(UTC) + timedelta(minutes=10)
    )
    db.session.commit()
    token = make_reset_token(user)
    submit(
        client,
        f"/password/reset/{token}",
        {"password": "Nuova-pass-77", "confirm": "Nuova-pass-77"},
    )
    user = user_by_email("me@example.org")
    assert user.locked_until is None and user.is_verified
    assert log_in(client, "me@example.org", "Nuova-pass-77").status_code == 302


# --- change password, sessions --------------------------------------------------------------


def test_changing_the_password_ends_the_other_sessions(app: Flask) -> None:
    factories.user("me@example.org")
    db.session.commit()
    laptop, phone = app.test_client(), app.test_client()
    assert log_in(laptop, "me@example.org", factories.PASSWORD).status_code == 302
    assert log_in(phone, "me@example.org", factories.PASSWORD).status_code == 302
    assert phone.get("/profile").status_code == 200

    response = submit(
        laptop,
        "/password/change",
        {
            "current_password": factories.PASSWORD,
            "password": "Nuova-pass-77",
            "confirm": "Nuova-pass-77",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert laptop.get("/profile").status_code == 200  # this session goes on
    response = phone.get("/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert last_mail("account.password_changed", "me@example.org")
    assert log_in(phone, "me@example.org", "Nuova-pass-77").status_code == 302


def test_change_password_needs_the_current_one_and_a_strong_new_one(client: FlaskClient) -> None:
    user = factories.user("me@example.org")
    db.session.commit()
    login_as(client, user)
    response = submit(
        client,
        "/password/change",
        {
            "current_password": "wrong-one-123",
            "password": "Nuova-pass-77",
            "confirm": "Nuova-pass-77",
        },
        headers=IT,
    )
    assert response.status_code == 422
    assert "La password attuale non è corretta." in response.get_data(as_text=True)
    response = submit(
        client,
        "/password/change",
        {"current_password": factories.PASSWORD, "password": "short", "confirm": "short"},
        headers=EN,
    )
    assert response.status_code == 422 and "at least 10" in response.get_data(as_text=True)
    response = submit(
        client,
        "/password/change",
        {
            "current_password": factories.PASSWORD,
            "password": factories.PASSWORD,
            "confirm": factories.PASSWORD,
        },
        headers=EN,
    )
    assert response.status_code == 422 and "different from the current" in response.get_data(
        as_text=True
    )
    assert user_by_email("me@example.org").session_version == user.session_version


def test_pages_for_logged_in_users_send_visitors_to_login(client: FlaskClient) -> None:
    response = client.get("/profile", headers=IT, follow_redirects=True)
    assert "Devi accedere per vedere questa pagina." in page(response)
    for path in ("/profile", "/password/change"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith(
            f"/login?next=%2F{path[1:].replace('/', '%2F')}"
        )


# --- profile ---------------------------------------------------------------------------------


def test_profile_shows_and_saves_details_and_language(client: FlaskClient) -> None:
    user = factories.user("me@example.org", full_name="Giulia Bianchi", locale="it")
    db.session.commit()
    login_as(client, user)
    html = client.get("/profile").get_data(as_text=True)
    assert "Area personale" in html and "Giulia Bianchi" in html and "me@example.org" in html
    assert "Residente" in html
    assert 'action="/logout"' in html and "/password/change" in html
    response = submit(
        client, "/profile", {"full_name": "Giulia Verdi", "phone": "+39 02 1234", "locale": "en"}
    )
    assert response.status_code == 302
    user = user_by_email("me@example.org")
    assert (user.full_name, user.phone, user.locale) == ("Giulia Verdi", "+39 02 1234", "en")
    html = client.get("/profile").get_data(as_text=True)
    assert "Personal area" in html  # the saved language now wins
    response = submit(client, "/profile", {"full_name": "", "locale": "en"})
    assert response.status_code == 422 and "Enter your full name." in response.get_data(
        as_text=True
    )


def test_profile_links_to_my_bookings_only_when_that_page_exists(
    app: Flask, client: FlaskClient
) -> None:
    user = factories.user()
    db.session.commit()
    login_as(client, user)
    html = client.get("/profile").get_data(as_text=True)
    has_bookings = "bookings.mine" in app.view_functions
    assert ('data-element="my-bookings"' in html) is has_bookings


def test_profile_lists_staff_and_admin_roles(client: FlaskClient) -> None:
    district = factories.district("borgo-test")
    org = factories.organisation(district, name="Cooperativa Sole")
    user = factories.staff(org)
    user.is_platform_admin = True
    db.session.commit()
    login_as(client, user)
    html = client.get("/profile", headers=EN).get_data(as_text=True)
    assert "Provider staff" in html and "Platform administrator" in html
    assert "Cooperativa Sole" in html


# --- rate limits -----------------------------------------------------------------------------


def test_login_and_sign_up_attempts_are_rate_limited_per_address(make_app: object) -> None:
    app = make_app(RATELIMIT_ENABLED=True, CONCILIA_LOGIN_RATE_LIMIT="3 per minute")  # type: ignore[operator]
    client = app.test_client()
    for _attempt in range(3):
        assert log_in(client, "x@example.org", "wrong-password-1").status_code == 401
    response = log_in(client, "x@example.org", "wrong-password-1", headers=IT)
    assert response.status_code == 429
    assert "Troppi tentativi" in response.get_data(as_text=True)
    response = log_in(client, "x@example.org", "wrong-password-1", headers=EN)
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)
    # pages still open (only attempts count); other forms have their own budget
    assert client.get("/login").status_code == 200
    for _attempt in range(3):
        assert submit(client, "/password/forgot", {"email": "x@example.org"}).status_code == 302
    assert submit(client, "/password/forgot", {"email": "x@example.org"}).status_code == 429
    for _attempt in range(3):
        assert sign_up(client, email="bad").status_code == 422
    assert sign_up(client).status_code == 429


def test_remember_me_sets_a_lasting_cookie_only_when_asked(app: Flask) -> None:
    factories.user("me@example.org")
    db.session.commit()
    plain, remembered = app.test_client(), app.test_client()
    response = log_in(plain, "me@example.org", factories.PASSWORD)
    assert "remember_token" not in response.headers.get("Set-Cookie", "")
    response = submit(
        remembered,
        "/login",
        {"email": "me@example.org", "password": factories.PASSWORD, "remember": "y"},
    )
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "remember_token=" in cookies and "HttpOnly" in cookies
