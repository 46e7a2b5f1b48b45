"""``concilia bookings``: the booking jobs cron runs (reminders, offer expiry, slot generation).

Each is safe to run at any time and concurrently with itself, and prints what it did.
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext


@click.group()
def bookings() -> None:
    """Booking jobs: reminders, waiting-list offers, slot generation."""


@bookings.command("remind")
@click.option(
    "--lead-hours",
    default=24,
    show_default=True,
    type=click.IntRange(1, 24 * 14),
    help="Remind bookings starting within this many hours.",
)
@with_appcontext
def remind(lead_hours: int) -> None:
    """Queue a reminder for confirmed bookings starting soon (never twice for one booking)."""
    from core.booking import send_reminders

    sent = send_reminders(lead=timedelta(hours=lead_hours))
    click.echo(f"{sent} reminder(s) queued.")


@bookings.command("expire-offers")
@with_appcontext
def expire_offers_command() -> None:
    """Cancel waiting-list offers past their expiry and offer the seats to the next in line."""
    from core.booking import expire_offers

    expired = expire_offers()
    click.echo(f"{expired} offer(s) expired.")


@bookings.command("generate-slots")
@click.option(
    "--days",
    default=60,
    show_default=True,
    type=click.IntRange(1, 366),
    help="How many days ahead to generate.",
)
@with_appcontext
def generate_slots_command(days: int) -> None:
    """Create the slots of every published service's opening rules for the coming days."""
    from core.booking import generate_all

    created = generate_all(horizon_days=days)
    click.echo(f"{created} slot(s) created for the next {days} day(s).")
