"""The atomic seat claim: one conditional UPDATE whose row count says whether it worked.

No "read availability, then write" anywhere: two requests can never both take the last seat,
on SQLite (a single writer, WAL and a busy timeout) or on PostgreSQL (the UPDATE's row lock,
after which the WHERE clause is re-checked against the committed row). The CHECK constraint
``seats_within_capacity`` on ``slot`` is the last line of defence.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, Update, bindparam, update

from core.extensions import db
from core.models import Slot


@cache
def _claim() -> Update:
    """The claim statement, built once (parameters ``slot_id`` and ``seats``). On the table,
    not the mapped class: the session runs it as is, without the ORM's bulk-update steps
    (:func:`_expire_taken` does the one thing they would)."""
    seats = bindparam("seats", type_=Integer)
    slot = Slot.__table__.c
    return (
        update(Slot.__table__)
        .where(
            slot.id == bindparam("slot_id", type_=Integer),
            slot.cancelled.is_(False),
            slot.taken + seats <= slot.capacity,
        )
        .values(taken=slot.taken + seats)
    )


def claim_seats(slot_id: int, seats: int) -> bool:
    """Take ``seats`` seats of slot ``slot_id`` if they are free; ``True`` if taken.

    Runs in the caller's transaction (no commit).
    """
    if seats < 1:
        raise ValueError("seats must be at least 1")
    result = db.session.execute(_claim(), {"slot_id": slot_id, "seats": seats})
    _expire_taken(slot_id)
    return result.rowcount == 1


def release_seats(slot_id: int, seats: int) -> bool:
    """Give back ``seats`` seats of slot ``slot_id`` (never below zero); ``True`` if released.

    Runs in the caller's transaction (no commit).
    """
    if seats < 1:
        raise ValueError("seats must be at least 1")
    result = db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.taken >= seats)
        .values(taken=Slot.taken - seats)
        .execution_options(synchronize_session=False)
    )
    _expire_taken(slot_id)
    return result.rowcount == 1


def _expire_taken(slot_id: int) -> None:
    """Make a loaded slot re-read ``taken`` (and ``capacity``) after a statement changed them."""
    slot = db.session.identity_map.get(db.session.identity_key(Slot, slot_id))
    if slot is not None:
        db.session.expire(slot, ["taken", "capacity"])
