"""Queue mail in the outbox, in the caller's transaction: it is sent only if that commits.

A message may be queued unrendered (empty subject and body) when a *composer* is registered
for its kind: the sender calls it just before sending (:func:`compose`), so that a busy
request only writes the row.
"""

from __future__ import annotations

from collections.abc import Callable
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


Composer = Callable[[OutboxMessage], None]
_COMPOSERS: dict[str, Composer] = {}


def register_composer(kind_prefix: str, composer: Composer) -> None:
    """Let ``composer`` fill in the subject and bodies of unrendered messages whose kind starts
    with ``kind_prefix`` (e.g. ``booking_``)."""
    _COMPOSERS[kind_prefix] = composer


def compose(message: OutboxMessage) -> bool:
    """Render an unrendered message in place (no commit); ``False`` if it was rendered already.

    Raises ``LookupError`` if no composer knows its kind.
    """
    if not message.unrendered:
        return False
    for prefix, composer in _COMPOSERS.items():
        if message.kind.startswith(prefix):
            composer(message)
            return True
    raise LookupError(f"no composer for outbox messages of kind {message.kind!r}")
