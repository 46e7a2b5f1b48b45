"""The outbox and its senders, against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select, update

from core.extensions import db
from core.models import OutboxMessage
from core.notifications import mail_user, queue_mail, render_mail
from core.notifications.mailer import backoff, claim, send_pending
from tests.support import factories
from tests.support.mail import SMTPSink, free_port, outbox, running_smtp_server
from tests.support.web import submit

MakeApp = Callable[..., Flask]


@pytest.fixture
def smtp() -> Iterator[SMTPSink]:
    with running_smtp_server() as sink:
        yield sink


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def queue_some(app: Flask, count: int = 2) -> None:
    """Queue ``count`` plain messages, due now, and commit."""
    with app.app_context():
        for n in range(count):
            queue_mail(f"person{n}@example.org", f"Subject {n}", f"Body {n}\nhttp://x/{n}")
        db.session.commit()


def run_send(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["mail", "send", *args])


def test_mail_send_delivers_due_messages_once_over_smtp(make_app: MakeApp, smtp: SMTPSink) -> None:
    app = make_app(**smtp.config(), CONCILIA_MAIL_SENDER="Comune <welfare@comune.example>")
    with app.app_context():
        user = factories.user("anna@example.org", full_name="Anna D'Amico", locale="it")
        mail_user(user, "mail/password_changed.html", kind="test", reset_link="http://x/reset")
        queue_mail("bob@example.org", "Plain", "Just text")
        db.session.commit()

    result = run_send(app)
    assert result.exit_code == 0, result.output
    assert re.search(r"^sent #\d+ to anna@example.org: ", result.output, re.MULTILINE)
    assert "Sent 2, failed 0, 0 still queued." in result.output

    assert [r.recipients for r in smtp.received] == [["anna@example.org"], ["bob@example.org"]]
    first = smtp.received[0]
    assert first.subject == "La tua password è stata cambiata"
    assert first.message["From"] == "Comune <welfare@comune.example>"
    assert first.message["Auto-Submitted"] == "auto-generated"
    text, html = first.part("text/plain"), first.part("text/html")
    assert "Gentile Anna D'Amico," in text  # plain text is not HTML-escaped
    assert "Anna D&#39;Amico" in html and '<a href="http://x/reset">' in html
    assert '<html lang="it">' in html
    assert smtp.received[1].message.get_content_type() == "text/plain"

    with app.app_context():
        sent = rows()
        assert all(m.sent_at is not None and m.attempts == 1 and not m.last_error for m in sent)

    again = run_send(app)
    assert again.exit_code == 0 and "Sent 0, failed 0, 0 still queued." in again.output
    assert len(smtp.received) == 2


def test_a_down_server_records_the_error_and_backs_off(make_app: MakeApp) -> None:
    sink = SMTPSink(port=free_port())  # not started: connections are refused
    app = make_app(**sink.config())
    queue_some(app, 1)

    before = datetime.now(UTC)
    result = run_send(app)
    assert result.exit_code == 1
    assert "failed #" in result.output and "Sent 0, failed 1, 1 still queued." in result.output
    with app.app_context():
        (message,) = rows()
        assert message.sent_at is None and message.attempts == 1
        assert "ConnectionRefusedError" in message.last_error
        assert before + timedelta(minutes=2) <= message.send_after
        assert message.send_after <= datetime.now(UTC) + timedelta(minutes=2)

    # not due yet: a second run leaves it alone
    result = run_send(app)
    assert result.exit_code == 0 and "Sent 0, failed 0, 1 still queued." in result.output
    with app.app_context():
        assert rows()[0].attempts == 1

    # a second failure waits longer
    _make_due(app)
    assert run_send(app).exit_code == 1
    with app.app_context():
        (message,) = rows()
        assert message.attempts == 2
        assert message.send_after >= datetime.now(UTC) + timedelta(minutes=3)

    # the server is back: the message goes out once, and only once
    sink.start()
    try:
        _make_due(app)
        assert run_send(app).exit_code == 0
        assert run_send(app).exit_code == 0
        assert len(sink.received) == 1
        with app.app_context():
            (message,) = rows()
            assert message.sent_at is not None and message.last_error == ""
            assert message.attempts == 3
    finally:
        sink.stop()


def _make_due(app: Flask) -> None:
    with app.app_context():
        db.session.execute(
            update(OutboxMessage).values(send_after=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()


def test_mail_status_counts_the_queue(app: Flask) -> None:
    queue_mail("a@example.org", "S", "B")
    queue_mail("b@example.org", "S", "B", send_after=datetime.now(UTC) + timedelta(days=1))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "status"])
    assert result.exit_code == 0 and "2 messages queued." in result.output


def test_backoff_doubles_and_is_capped_at_a_day() -> None:
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff(30) == timedelta(days=1)


def test_limit_and_future_messages(make_app: MakeApp, smtp: SMTPSink) -> None:
    app = make_app(**smtp.config())
    queue_some(app, 3)
    with app.app_context():
        queue_mail(
            "later@example.org", "Later", "x", send_after=datetime.now(UTC) + timedelta(hours=1)
        )
        db.session.commit()
    result = run_send(app, "--limit", "2")
    assert result.exit_code == 0 and "Sent 2, failed 0, 2 still queued." in result.output
    result = run_send(app)
    assert "Sent 1, failed 0, 1 still queued." in result.output
    assert sorted(r.recipients[0] for r in smtp.received) == [
        "person0@example.org",
        "person1@example.org",
        "person2@example.org",
    ]
    assert run_send(app, "--limit", "0").exit_code == 2


def test_a_message_can_be_claimed_only_once(app: Flask) -> None:
    message = queue_mail("a@example.org", "S", "B")
    db.session.commit()
    assert claim(db.session, message.id) is True
    assert claim(db.session, message.id) is False  # leased to the first sender


def test_concurrent_senders_never_send_a_message_twice(make_app: MakeApp, smtp: SMTPSink) -> None:
    app = make_app(**smtp.config())
    queue_some(app, 12)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                send_pending()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    ids = sorted(int(r.message["X-Concilia-Outbox-Id"]) for r in smtp.received)
    assert len(ids) == 12 and len(set(ids)) == 12
    with app.app_context():
        assert all(m.sent_at is not None and m.attempts == 1 for m in rows())


def test_smtp_login_and_starttls_are_used_when_configured(make_app: MakeApp) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        logins.append((auth.login, auth.password))
        return AuthResult(success=auth.password == b"s3cret")

    sink = SMTPSink(port=free_port())
    sink.controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=sink.port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    sink.controller.start()
    try:
        app = make_app(
            **sink.config(), CONCILIA_MAIL_USERNAME="concilia", CONCILIA_MAIL_PASSWORD="s3cret"
        )
        queue_some(app, 1)
        assert run_send(app).exit_code == 0
        assert logins == [(b"concilia", b"s3cret")] and len(sink.received) == 1

        tls_app = make_app(**sink.config(), CONCILIA_MAIL_USE_TLS=True)
        queue_some(tls_app, 1)
        assert run_send(tls_app).exit_code == 1  # this server offers no STARTTLS: refused
        with tls_app.app_context():
            assert "STARTTLS" in rows()[-1].last_error
    finally:
        sink.stop()


# --- inline delivery ----------------------------------------------------------------------


def test_smtp_mode_sends_right_after_the_request_commits(make_app: MakeApp, smtp: SMTPSink) -> None:
    app = make_app(CONCILIA_MAIL_MODE="smtp", **smtp.config())
    with app.app_context():
        factories.user("me@example.org", locale="en")
        db.session.commit()
    client = app.test_client()
    response = submit(client, "/password/forgot", {"email": "me@example.org"})
    assert response.status_code == 302
    assert [r.recipients for r in smtp.received] == [["me@example.org"]]
    assert smtp.received[0].subject == "Choose a new password"
    assert "/password/reset/" in smtp.received[0].part("text/plain")
    with app.app_context():
        assert all(m.sent_at is not None for m in rows())


def test_inline_delivery_never_sends_a_rolled_back_message(
    make_app: MakeApp, smtp: SMTPSink
) -> None:
    app = make_app(CONCILIA_MAIL_MODE="smtp", **smtp.config())
    with app.app_context():
        queue_mail("ghost@example.org", "Rolled back", "never")
        db.session.flush()
        db.session.rollback()
        queue_mail("left@example.org", "Never committed", "never")
        db.session.flush()
    assert smtp.received == []
    with app.app_context():
        queue_mail("real@example.org", "Committed", "yes")
        db.session.commit()
    assert [r.recipients for r in smtp.received] == [["real@example.org"]]
    with app.app_context():
        assert [m.recipient for m in rows()] == ["real@example.org"]


def test_outbox_mode_leaves_messages_for_the_cron(make_app: MakeApp, smtp: SMTPSink) -> None:
    app = make_app(CONCILIA_MAIL_MODE="outbox", **smtp.config())
    with app.app_context():
        queue_mail("a@example.org", "Queued", "x")
        db.session.commit()
    assert smtp.received == []
    with app.app_context():
        assert rows()[0].sent_at is None


def test_a_failed_inline_send_does_not_break_the_request(make_app: MakeApp) -> None:
    app = make_app(CONCILIA_MAIL_MODE="smtp", CONCILIA_MAIL_PORT=free_port())
    with app.app_context():
        factories.user("me@example.org")
        db.session.commit()
    response = submit(app.test_client(), "/password/forgot", {"email": "me@example.org"})
    assert response.status_code == 302
    with app.app_context():
        (message,) = outbox("account.reset")
        assert message.sent_at is None and message.attempts == 1 and message.last_error


def test_console_mode_prints_the_message_with_its_links(
    make_app: MakeApp, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(CONCILIA_MAIL_MODE="console", CONCILIA_BASE_URL="https://welfare.example.it")
    client = app.test_client()
    response = submit(
        client,
        "/register",
        {
            "email": "new@example.org",
            "full_name": "New Person",
            "password": "Lungo-e-sicuro-42",
            "confirm": "Lungo-e-sicuro-42",
            "locale": "en",
            "privacy": "y",
        },
    )
    assert response.status_code == 302
    printed = capsys.readouterr().out
    assert "to: new@example.org" in printed
    assert "Subject: Confirm your email address" in printed
    assert "https://welfare.example.it/verify/" in printed
    with app.app_context():
        assert rows()[0].sent_at is not None


# --- rendering ----------------------------------------------------------------------------


def test_emails_are_rendered_in_the_recipients_language(app: Flask) -> None:
    user = factories.user(full_name="Luca")
    italian = render_mail("mail/verify_email.html", "it", user=user, link="https://x/v/1", hours=72)
    english = render_mail("mail/verify_email.html", "en", user=user, link="https://x/v/1", hours=72)
    default = render_mail("mail/verify_email.html", None, user=user, link="https://x/v/1", hours=72)
    assert italian.subject == "Conferma il tuo indirizzo email" == default.subject
    assert english.subject == "Confirm your email address"
    assert "valido per 72 ore" in italian.text and "valid for 72 hours" in english.text
    assert "https://x/v/1" in english.text and 'href="https://x/v/1"' in english.html
    assert "\n\n\n" not in english.text
    assert "\n-- \nThis message was sent automatically" in english.text
    assert "please do not reply" in english.text
