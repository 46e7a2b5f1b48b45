"""The ``booking_events`` hook: plugins write their rows in the booking's own transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.booking import BookingRefused, book, cancel, join_waitlist
from core.booking.events import BookingEvent
from core.extensions import db
from core.models import Booking, OutboxMessage, Slot
from core.plugins import hookimpl
from tests.support import factories as f
from tests.support.booking_factories import bookable
from tests.support.test_plugins import TEST_PLUGINS


class AuditFeed:
    """Writes one outbox row per event, in the transaction it is given (and remembers them)."""

    PLUGIN_NAME = "test-audit-feed"

    def __init__(self, *, fail: bool = False) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        self.fail = fail

    @hookimpl
    def booking_events(self, events: list[BookingEvent]) -> None:
        for event in events:
            self.seen.append((event.name, event.status, event.old))
            db.session.add(
                OutboxMessage(
                    kind="audit-feed",
                    recipient="audit@example.org",
                    subject=f"{event.name} {event.booking.public_id}",
                    body_text=f"{event.old} -> {event.status}",
                )
            )
        if self.fail:
            raise RuntimeError("audit feed refuses")


def feed_subjects() -> list[str]:
    """The audit rows that were committed, in order."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage.subject)
            .where(OutboxMessage.kind == "audit-feed")
            .order_by(OutboxMessage.id)
        )
    )


def test_hook_booking_events(make_app: Any) -> None:
    """Creation and each change reach the hook once, and its rows commit with them."""
    feed = AuditFeed()
    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, feed])
    with app.app_context():
        _svc, slot = bookable(capacity=1, waitlist_enabled=True)
        first, second = f.user(), f.user()
        db.session.commit()
        held = book(user=first, slot_id=slot.id)
        waiting = join_waitlist(user=second, slot_id=slot.id)
        assert feed.seen == [
            ("booking.created", "confirmed", None),
            ("booking.created", "waitlisted", None),
        ]
        cancel(held, by="resident", actor=first)  # the seat goes to the next in line
        assert feed.seen[2:] == [
            ("booking.cancelled", "cancelled", "confirmed"),
            ("booking.confirmed", "confirmed", "waitlisted"),
        ]
        assert feed_subjects() == [
            f"booking.created {held.public_id}",
            f"booking.created {waiting.public_id}",
            f"booking.cancelled {held.public_id}",
            f"booking.confirmed {waiting.public_id}",
        ]


def test_a_refused_booking_reaches_no_plugin(make_app: Any) -> None:
    feed = AuditFeed()
    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, feed])
    with app.app_context():
        _svc, slot = bookable(capacity=1)
        person = f.user()
        db.session.commit()
        book(user=f.user(), slot_id=slot.id)
        feed.seen.clear()
        with pytest.raises(BookingRefused):
            book(user=person, slot_id=slot.id)  # full
        assert feed.seen == []
        db.session.commit()  # a later commit publishes nothing left over
        assert feed.seen == []
        assert len(feed_subjects()) == 1


def test_a_plugin_that_raises_in_the_transaction_undoes_the_booking(make_app: Any) -> None:
    """What the hook writes commits with the booking or not at all: here, not at all."""
    feed = AuditFeed(fail=True)
    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, feed])
    with app.app_context():
        _svc, slot = bookable(capacity=2)
        person = f.user()
        db.session.commit()
        with pytest.raises(RuntimeError, match="audit feed refuses"):
            book(user=person, slot_id=slot.id)
        db.session.rollback()
        assert feed.seen == [("booking.created", "confirmed", None)]
        assert feed_subjects() == []
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
        assert db.session.get(Slot, slot.id).taken == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
