"""A booking's mail is queued unrendered in the booking's transaction and composed by the sender.

The booking's request writes one small outbox row (its kind, recipient, booking and language);
``concilia mail send`` renders it just before sending, over a real SMTP server, and keeps the
text it sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, select, update

from core.booking import book
from core.extensions import db
from core.models import Booking, OutboxMessage, Slot
from core.models.types import utcnow
from core.notifications.mailer import send_pending
from core.notifications.outbox import compose, queue_mail
from tests.support import factories as f
from tests.support.booking_web import borgo_service, confirm, key_of, logged_in, walk_to_summary
from tests.support.mail import SMTPSink, running_smtp_server

MakeApp = Callable[..., Flask]
NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[SMTPSink]:
    with running_smtp_server() as sink:
        yield sink


def _booked(locale: str | None = "en") -> Booking:
    svc = f.service(title_it="Yoga al parco", title_en="Yoga in the park")
    slot = f.slot(svc, starts_at=datetime(2030, 1, 21, 8, 0, tzinfo=UTC), capacity=3)
    person = f.user(locale=locale)
    db.session.commit()
    return book(user=person, slot_id=slot.id, now=NOW)


def test_the_booking_queues_its_mail_unrendered(app: Flask) -> None:
    booking = _booked()
    (mail,) = db.session.scalars(select(OutboxMessage)).all()
    assert (mail.kind, mail.recipient) == ("booking_confirmed", booking.user.email)
    assert (mail.booking_id, mail.locale) == (booking.id, "en")
    assert (mail.subject, mail.body_text, mail.body_html) == ("", "", "")
    assert mail.unrendered


def test_the_sender_composes_sends_and_keeps_the_text(make_app: MakeApp, smtp: SMTPSink) -> None:
    app = make_app(**smtp.config(), CONCILIA_MAIL_MODE="outbox")
    with app.app_context():
        booking = _booked(locale=None)  # the district's language: Italian
        public_id = booking.public_id
        report = send_pending()
        assert len(report.sent) == 1 and not report.failed

        (received,) = smtp.received
        assert received.subject == "Prenotazione confermata: Yoga al parco"
        text = received.part("text/plain")
        assert "lunedì 21 gennaio 2030, 09:00" in text
        assert f"/me/bookings/{public_id}" in text
        assert "La tua prenotazione è confermata" in received.part("text/html")

        db.session.expire_all()
        (kept,) = db.session.scalars(select(OutboxMessage)).all()
        assert kept.sent_at is not None and not kept.unrendered
        assert kept.subject == received.subject and kept.body_text.split() == text.split()

        assert send_pending().sent == []  # sent once
        assert len(smtp.received) == 1


def test_a_message_that_cannot_be_composed_is_kept_and_retried(
    make_app: MakeApp, smtp: SMTPSink
) -> None:
    app = make_app(**smtp.config(), CONCILIA_MAIL_MODE="outbox")
    with app.app_context():
        orphan = queue_mail("someone@example.org", "", "", kind="booking_confirmed")
        queue_mail("other@example.org", "Plain", "Just text")
        db.session.commit()
        orphan_id = orphan.id

        report = send_pending()

        assert report.failed == [orphan_id] and len(report.sent) == 1
        assert [r.recipients for r in smtp.received] == [["other@example.org"]]
        db.session.expire_all()
        kept = db.session.get(OutboxMessage, orphan_id)
        assert kept is not None and kept.sent_at is None and kept.attempts == 1
        assert "no booking" in kept.last_error and kept.send_after > utcnow()  # backed off


def test_deleting_the_booking_deletes_its_unsent_mail(app: Flask) -> None:
    booking = _booked()
    db.session.execute(delete(Booking).where(Booking.id == booking.id))
    db.session.commit()
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_compose_leaves_a_rendered_message_alone_and_refuses_unknown_kinds(app: Flask) -> None:
    written = queue_mail("a@example.org", "Hello", "Body")
    assert compose(written) is False and (written.subject, written.body_text) == ("Hello", "Body")
    unknown = queue_mail("a@example.org", "", "", kind="no-such-kind")
    with pytest.raises(LookupError):
        compose(unknown)


def test_smtp_mode_sends_the_booking_mail_right_after_the_booking(
    make_app: MakeApp, smtp: SMTPSink
) -> None:
    """In ``smtp`` mode the request that books also sends its mail, composed, once committed;
    a refused booking queues nothing that could be sent."""
    app = make_app(CONCILIA_MAIL_MODE="smtp", **smtp.config())
    client = app.test_client()
    with app.app_context():
        svc = borgo_service(title_en="Yoga in the park")
        slot = f.slot(svc, capacity=1)
        db.session.commit()
        logged_in(client)
        response = confirm(client, svc, key_of(walk_to_summary(client, svc, slot)))
        assert response.status_code == 302, response.get_data(as_text=True)
        assert [r.recipients for r in smtp.received] == [["anna@example.org"]]  # the applicant
        assert smtp.received[0].subject == "Booking confirmed: Yoga in the park"

        other = f.slot(svc, capacity=1, starts_in=timedelta(days=3))
        db.session.commit()
        summary = walk_to_summary(client, svc, other)
        with db.engine.begin() as conn:  # someone else takes the seat meanwhile
            conn.execute(update(Slot).where(Slot.id == other.id).values(taken=1))
        assert confirm(client, svc, key_of(summary)).status_code == 409
        assert len(smtp.received) == 1
        db.session.expire_all()
        kinds = db.session.scalars(select(OutboxMessage.kind)).all()
        assert kinds == ["booking_confirmed"]
