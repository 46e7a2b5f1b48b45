"""Sending the outbox: SMTP (or the console in development), inline after commit or from cron.

Delivery modes (``CONCILIA_MAIL_MODE``):

* ``console`` – print each message (recipient, subject, text with its links) to stdout and mark
  it sent, right after the transaction that queued it commits. The development default.
* ``smtp`` – send over SMTP right after the transaction that queued it commits.
* ``outbox`` – leave messages queued; ``concilia mail send`` (run from cron) sends them.

Inline delivery never sends a message whose transaction rolled back: inserted outbox ids are
remembered per session, promoted on ``after_commit``, dropped on ``after_rollback``, and
delivered when the app context ends (end of the request or CLI command).

A message queued unrendered (a booking's mail) is composed right after its claim, and the
text is committed before it is sent.

Every delivery first *claims* its row with one conditional UPDATE (``sent_at IS NULL AND
send_after <= now`` → ``send_after = now + lease, attempts + 1``) and commits, so two senders
running at once (two cron runs, cron and a request) can never both send the same message.
A failed attempt records ``last_error`` and backs off: ``send_after = now + 2^attempts``
minutes (at most a day). A sender that dies after claiming leaves the row to be retried when
its lease ends (at-least-once delivery).

Production advice: ``outbox`` mode with ``concilia mail send`` in cron every minute. Inline
``smtp`` delivery happens before the response is returned, so a slow SMTP server slows the page,
and a page that sends mail only for existing accounts (password reset) then answers measurably
later than one that does not.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, TextIO

from flask import Flask, current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, object_session

from core.extensions import db
from core.models import OutboxMessage
from core.models.types import utcnow
from core.notifications.outbox import INSERTED_KEY, compose, track_inserted

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)
MAX_BACKOFF = timedelta(days=1)
_COMMITTED = "concilia.outbox_committed"

Echo = Callable[[str], None]


@dataclass
class SendReport:
    """What a delivery run did."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: 2^attempts minutes, at most a day.

    >>> backoff(1), backoff(3)
    (datetime.timedelta(seconds=120), datetime.timedelta(seconds=480))
    """
    return min(timedelta(minutes=2 ** min(attempts, 20)), MAX_BACKOFF)


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The MIME message of an outbox row: a text part and, if any, an HTML alternative."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "concilia.local"
    email["Message-ID"] = make_msgid(idstring=f"outbox.{message.id}", domain=domain)
    email["Auto-Submitted"] = "auto-generated"
    email["X-Concilia-Outbox-Id"] = str(message.id)
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


class SMTPTransport:
    """One SMTP connection, opened on first use (STARTTLS and login when configured)."""

    def __init__(self, config: dict[str, Any] | Any, timeout: float = 30) -> None:
        self.config = config
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None
        self._connect_error: Exception | None = None

    def _connect(self) -> smtplib.SMTP:
        """Connect (and STARTTLS, log in); after one failed connection, fail fast for the run."""
        if self._connect_error is not None:
            raise self._connect_error
        config = self.config
        try:
            smtp = smtplib.SMTP(
                config["CONCILIA_MAIL_SERVER"], config["CONCILIA_MAIL_PORT"], timeout=self.timeout
            )
        except OSError as exc:
            self._connect_error = exc
            raise
        try:
            if config["CONCILIA_MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["CONCILIA_MAIL_USERNAME"]:
                smtp.login(config["CONCILIA_MAIL_USERNAME"], config["CONCILIA_MAIL_PASSWORD"])
        except Exception:
            smtp.close()
            raise
        return smtp

    def send(self, message: OutboxMessage) -> None:
        """Send one message (reconnecting once if the kept connection went away)."""
        email = build_email(message, self.config["CONCILIA_MAIL_SENDER"])
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(email)
        except smtplib.SMTPServerDisconnected:
            self._smtp = self._connect()
            self._smtp.send_message(email)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except Exception:  # the connection is gone anyway
                self._smtp.close()
            self._smtp = None


class ConsoleTransport:
    """Print messages instead of sending them (development)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: OutboxMessage) -> None:
        """Write the recipient, subject and text body (with its links) to stdout."""
        stream = self.stream or sys.stdout
        rule = "-" * 72
        stream.write(
            f"{rule}\nMail #{message.id} to: {message.recipient}\nSubject: {message.subject}\n\n"
            f"{message.body_text.rstrip()}\n{rule}\n"
        )
        stream.flush()

    def close(self) -> None:
        """Nothing to close."""


def transport_for(app: Flask, timeout: float = 30) -> SMTPTransport | ConsoleTransport:
    """Console transport in console mode, SMTP otherwise."""
    if app.config["CONCILIA_MAIL_MODE"] == "console":
        return ConsoleTransport()
    return SMTPTransport(app.config, timeout=timeout)


def claim(session: Session, message_id: int, now: datetime | None = None) -> bool:
    """Take a due, unsent message for sending (and commit); False if it is not due or taken."""
    now = now or utcnow()
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.send_after <= now,
        )
        .values(send_after=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def _mark_sent(session: Session, message_id: int) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(sent_at=utcnow(), last_error="")
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _mark_failed(session: Session, message: OutboxMessage, error: Exception) -> datetime:
    retry_at = utcnow() + backoff(message.attempts)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(send_after=retry_at, last_error=f"{type(error).__name__}: {error}"[:2000])
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return retry_at


def deliver(
    message_ids: Iterable[int],
    *,
    transport: SMTPTransport | ConsoleTransport | None = None,
    echo: Echo | None = None,
) -> SendReport:
    """Claim and send each message in turn; record successes and failures (commits each)."""
    session = db.session
    transport = transport or transport_for(current_app._get_current_object())  # type: ignore[attr-defined]
    report = SendReport()
    try:
        for message_id in message_ids:
            if not claim(session, message_id):
                continue
            message = session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .execution_options(populate_existing=True)
            ).scalar_one()
            try:
                if compose(message):
                    session.commit()  # what is sent is what the outbox keeps
                transport.send(message)
            except Exception as exc:  # any failure: keep the message, retry later
                session.rollback()
                retry_at = _mark_failed(session, message, exc)
                report.failed.append(message_id)
                log.warning("mail %s to %s failed: %s", message_id, message.recipient, exc)
                if echo:
                    echo(
                        f"failed #{message_id} to {message.recipient}: {exc}"
                        f" (attempt {message.attempts}, retry after {retry_at:%Y-%m-%d %H:%M} UTC)"
                    )
                continue
            _mark_sent(session, message_id)
            report.sent.append(message_id)
            if echo:
                echo(f"sent #{message_id} to {message.recipient}: {message.subject}")
    finally:
        transport.close()
    return report


def due_message_ids(limit: int | None = None, now: datetime | None = None) -> list[int]:
    """Ids of unsent messages whose time has come, oldest first."""
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.send_after <= (now or utcnow()))
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
    )
    if limit is not None:
        query = query.limit(limit)
    ids = list(db.session.scalars(query))
    db.session.commit()  # end the read transaction before claiming (SQLite lock upgrades)
    return ids


def send_pending(limit: int | None = None, *, echo: Echo | None = None) -> SendReport:
    """Send every due message (at most ``limit``); what ``concilia mail send`` runs."""
    return deliver(due_message_ids(limit), echo=echo)


def pending_count() -> int:
    """How many messages are still unsent (due or not)."""
    from sqlalchemy import func

    return int(
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        )
        or 0
    )


# --- inline delivery after commit -------------------------------------------------------------


def _remember_insert(_mapper: Any, _connection: Any, target: OutboxMessage) -> None:
    session = object_session(target)
    if session is not None:
        track_inserted(session, target.id)


def _promote(session: Session) -> None:
    inserted = session.info.pop(INSERTED_KEY, None)
    if inserted:
        session.info.setdefault(_COMMITTED, set()).update(inserted)


def _forget(session: Session) -> None:
    session.info.pop(INSERTED_KEY, None)


def _install_session_events() -> None:
    if not event.contains(OutboxMessage, "after_insert", _remember_insert):
        event.listen(OutboxMessage, "after_insert", _remember_insert)
        event.listen(Session, "after_commit", _promote)
        event.listen(Session, "after_rollback", _forget)


def committed_outbox_ids() -> set[int]:
    """Outbox ids inserted by transactions of the current session that have committed."""
    return set(db.session.info.get(_COMMITTED, set()))


def flush_outbox(*, echo: Echo | None = None) -> SendReport:
    """Deliver the messages the current session queued and committed (console/smtp modes).

    Ends the current session first (anything uncommitted is rolled back, never sent), so call it
    when the unit of work is over; the app does at the end of each request and CLI command.
    In ``outbox`` mode it only forgets the ids: the cron sends them.
    """
    ids = db.session.info.pop(_COMMITTED, set())
    if not ids or current_app.config["CONCILIA_MAIL_MODE"] == "outbox":
        return SendReport()
    db.session.remove()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # a short timeout: the person is waiting for the page; the cron retries what fails
    return deliver(sorted(ids), transport=transport_for(app, timeout=10), echo=echo)


def init_app(app: Flask) -> None:
    """Track queued messages per session and deliver them when the app context ends."""
    _install_session_events()
    if app.extensions.get("concilia.mail_delivery"):
        return
    app.extensions["concilia.mail_delivery"] = True

    @app.teardown_appcontext
    def _deliver_committed_mail(_exc: BaseException | None) -> None:
        try:
            flush_outbox()
        except Exception:  # the cron will send it; the request must not fail for this
            log.exception("inline mail delivery failed; messages stay queued")
            db.session.rollback()
