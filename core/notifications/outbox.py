"""Queue mail in the outbox, in the caller's transaction: it is sent only if that commits."""

from __future__ import annotations

from datetime import datetime

from core.extensions import db
from core.models import OutboxMessage
from core.models.types import utcnow


def new_mail(
    recipient: str,
    subject: str,
    body_text: str,
    *,
    body_html: str = "",
    kind: str = "",
    send_after: datetime | None = None,
) -> OutboxMessage:
    """An outbox message, not yet in the session (the caller adds it when it is due)."""
    return OutboxMessage(
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        kind=kind,
        send_after=send_after or utcnow(),
    )


def queue_mail(
    recipient: str,
    subject: str,
    body_text: str,
    *,
    body_html: str = "",
    kind: str = "",
    send_after: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox (no commit: it belongs to the caller's transaction)."""
    message = new_mail(
        recipient, subject, body_text, body_html=body_html, kind=kind, send_after=send_after
    )
    db.session.add(message)
    return message
