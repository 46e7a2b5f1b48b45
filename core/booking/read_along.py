"""Questions the plugins ask in the booking's first read, answered for its transaction.

A plugin that would read something in every booking's transaction (the webhooks plugin: is
anyone listening to this service?) can instead ask it as a yes/no expression
(``booking_read_along`` hook): the confirmation reads the service with every plugin's
questions in one statement (:func:`questions`, :func:`remember`), and the plugin looks at
the answer later in the same transaction (:func:`answer`) and skips its own read when the
answer is no. Answers are forgotten when the transaction ends, so none outlives what it
describes; where a question was not asked (the API, the CLI), ``answer`` is ``None`` and the
plugin reads for itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from core.extensions import db

ANSWERS_KEY = "concilia_read_along"


def questions() -> tuple[tuple[str, Any], ...]:
    """The app's read-along questions, ``(name, boolean expression over Service)``, in a
    stable order (the same tuple for the app's life, so it can key a statement cache)."""
    host = current_app.extensions["concilia"]
    return tuple(sorted(host.read_along.items(), key=lambda item: item[0]))


def remember(service_id: int, answers: Mapping[str, Any]) -> None:
    """Keep the answers read for ``service_id`` until the current transaction ends (outside
    a transaction they describe nothing that follows, and are not kept)."""
    session = db.session()
    if not session.in_transaction():
        return
    known = session.info.setdefault(ANSWERS_KEY, {})
    for name, value in answers.items():
        known[(name, service_id)] = bool(value)


def answer(name: str, service_id: int) -> bool | None:
    """The answer to question ``name`` about ``service_id`` read in this transaction, or
    ``None`` if it was not asked."""
    known = db.session.info.get(ANSWERS_KEY)
    return None if known is None else known.get((name, service_id))


def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: commit or rollback
        session.info.pop(ANSWERS_KEY, None)


def install() -> None:
    """Forget the answers whenever a session's transaction ends (idempotent)."""
    if not event.contains(Session, "after_transaction_end", _forget):
        event.listen(Session, "after_transaction_end", _forget)
