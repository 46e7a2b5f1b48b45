"""Queue mail in the outbox, in the caller's transaction: it is sent only if that commits.

A message may be queued unrendered (empty subject and body) when a *composer* is registered
for its kind: the sender calls it just before sending (:func:`compose`), so that a busy
request only writes the row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache

from sqlalchemy import Insert, insert
from sqlalchemy.orm import Session

from core.extensions import db
from core.models import OutboxMessage
from core.models.types import utcnow

#: ``session.info`` key: ids of the messages the session's open transaction has queued (the
#: mailer delivers them once it commits, in the ``console`` and ``smtp`` modes).
INSERTED_KEY = "concilia.outbox_inserted"


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


def track_inserted(session: Session, message_id: int) -> None:
    """Note that ``session``'s transaction queued message ``message_id``."""
    session.info.setdefault(INSERTED_KEY, set()).add(message_id)


@cache
def _insert_unrendered() -> Insert:
    table = OutboxMessage.__table__
    return insert(table).returning(table.c.id)


def queue_unrendered(kind: str, recipient: str, *, booking_id: int, locale: str) -> int:
    """Queue a message for its kind's composer to write when it is sent (:func:`compose`).

    One ``INSERT`` now, in the caller's transaction (no unit of work to flush): what a busy
    request pays for a mail. Returns the message's id.
    """
    values = {"kind": kind, "recipient": recipient, "subject": "", "body_text": ""}
    message_id = db.session.execute(
        _insert_unrendered(), {**values, "booking_id": booking_id, "locale": locale}
    ).scalar_one()  # the other columns take the model's defaults (due now, no attempt yet)
    track_inserted(db.session(), message_id)
    return int(message_id)
