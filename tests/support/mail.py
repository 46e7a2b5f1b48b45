"""Mail helpers for tests: a real SMTP server (aiosmtpd) that collects messages, and outbox
readers that find the links in queued emails."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.extensions import db
from core.models import OutboxMessage

LINK_RE = re.compile(r"https?://[^\s<>\"]+")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message as the SMTP server got it."""

    sender: str
    recipients: list[str]
    message: Message

    @property
    def subject(self) -> str:
        """The decoded Subject header."""
        return str(email.header.make_header(email.header.decode_header(self.message["Subject"])))

    def part(self, content_type: str) -> str:
        """The decoded body part of this type (``text/plain`` or ``text/html``)."""
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode(part.get_content_charset() or "utf-8")
        raise AssertionError(f"no {content_type} part")


@dataclass
class SMTPSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it accepts."""

    port: int
    received: list[Received] = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd handler hook: store the message."""
        self.received.append(
            Received(
                sender=envelope.mail_from,
                recipients=list(envelope.rcpt_tos),
                message=email.message_from_bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 Message accepted for delivery"

    def start(self) -> None:
        """Start listening (again) on :attr:`port`."""
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening: connections to :attr:`port` are refused from now on."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def config(self) -> dict[str, Any]:
        """App settings that send mail to this server."""
        return {"CONCILIA_MAIL_SERVER": "127.0.0.1", "CONCILIA_MAIL_PORT": self.port}


@contextmanager
def running_smtp_server() -> Iterator[SMTPSink]:
    """A started :class:`SMTPSink` on a free port, stopped at the end."""
    sink = SMTPSink(port=free_port())
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


def outbox(kind: str | None = None, recipient: str | None = None) -> list[OutboxMessage]:
    """Queued and sent messages, oldest first, optionally of one kind or recipient."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    db.session.expire_all()
    return list(db.session.scalars(query))


def last_mail(kind: str | None = None, recipient: str | None = None) -> OutboxMessage:
    """The newest matching outbox message (fails the test if there is none)."""
    messages = outbox(kind, recipient)
    assert messages, f"no mail of kind {kind!r} to {recipient!r} in the outbox"
    return messages[-1]


def link_path(message: OutboxMessage, contains: str, base_url: str) -> str:
    """The path of the first link in the text body that contains ``contains``."""
    for link in LINK_RE.findall(message.body_text):
        if contains in link:
            assert link.startswith(base_url), link
            return link[len(base_url.rstrip("/")) :]
    raise AssertionError(f"no link with {contains!r} in: {message.body_text}")


def composed(message: OutboxMessage) -> OutboxMessage:
    """``message`` with its subject and bodies, as the sender sends it: a booking's mail is
    queued unrendered and composed just before sending (rendered here, in place; no commit)."""
    from core.notifications.outbox import compose

    compose(message)
    return message
