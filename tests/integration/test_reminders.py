"""Reminders: one mail per confirmed booking starting soon, never two, even from two runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from core.booking import send_reminders
from core.extensions import db
from core.models import OutboxMessage
from tests.support import factories as f
from tests.support.booking_factories import bookable, booking_in, run_together
from tests.support.mail import composed


def reminder_count() -> int:
    """How many reminder mails are queued."""
    return db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "booking_reminder")
    )


def test_confirmed_bookings_starting_soon_are_reminded_once(app: Flask) -> None:
    svc, soon = bookable(capacity=5, starts_in=timedelta(hours=10))
    later = f.slot(svc, starts_in=timedelta(hours=30), capacity=5)
    past = f.slot(svc, starts_in=timedelta(hours=-1), capacity=5)
    cancelled_slot = f.slot(svc, starts_in=timedelta(hours=5), capacity=5, cancelled=True)
    person = f.user(locale="en")
    reminded = booking_in(soon, "confirmed", person)
    booking_in(soon, "pending")
    booking_in(soon, "cancelled")
    booking_in(soon, "waitlisted")
    booking_in(later, "confirmed")
    booking_in(past, "confirmed")
    booking_in(cancelled_slot, "confirmed")
    now = datetime.now(UTC)

    assert send_reminders(now) == 1

    (mail,) = map(composed, db.session.scalars(select(OutboxMessage)).all())
    assert (mail.kind, mail.recipient) == ("booking_reminder", person.email)
    assert mail.subject == f"Reminder: {svc.title_en}"
    assert f"/me/bookings/{reminded.public_id}" in mail.body_text
    db.session.refresh(reminded)
    assert reminded.reminder_sent_at is not None
    assert send_reminders(now) == 0
    assert send_reminders(now + timedelta(minutes=5)) == 0
    assert reminder_count() == 1


def test_the_lead_time_is_configurable(app: Flask) -> None:
    _svc, slot = bookable(starts_in=timedelta(hours=40))
    booking_in(slot, "confirmed")
    now = datetime.now(UTC)
    assert send_reminders(now) == 0
    assert send_reminders(now, lead=timedelta(hours=48)) == 1


def test_two_runs_at_once_send_each_reminder_once(app: Flask) -> None:
    _svc, slot = bookable(capacity=10, starts_in=timedelta(hours=3))
    for _ in range(6):
        booking_in(slot, "confirmed")
    now = datetime.now(UTC)

    results = run_together(app, lambda: send_reminders(now), [()] * 4)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6
    assert reminder_count() == 6


def test_the_remind_command(app: Flask) -> None:
    _svc, slot = bookable(starts_in=timedelta(hours=30))
    booking_in(slot, "confirmed")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["bookings", "remind"])
    assert result.exit_code == 0, result.output
    assert "0 reminder(s) queued." in result.output
    result = runner.invoke(args=["bookings", "remind", "--lead-hours", "36"])
    assert "1 reminder(s) queued." in result.output
    result = runner.invoke(args=["bookings", "remind", "--lead-hours", "36"])
    assert "0 reminder(s) queued." in result.output
