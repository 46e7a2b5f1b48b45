"""``concilia mail``: send the outbox (run ``concilia mail send`` from cron every minute)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.notifications.mailer import pending_count, send_pending


@click.group()
def mail() -> None:
    """The outgoing mail queue."""


@mail.command("send")
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Send at most N messages in this run."
)
@with_appcontext
def send(limit: int | None) -> None:
    """Send the messages that are due; failed ones are retried later with growing delays.

    Safe to run from cron and in parallel: each message is claimed before it is sent, so no
    message goes out twice. Exit status 1 if any message failed this run.
    """
    report = send_pending(limit, echo=click.echo)
    left = pending_count()
    click.echo(f"Sent {len(report.sent)}, failed {len(report.failed)}, {left} still queued.")
    if report.failed:
        raise SystemExit(1)


@mail.command("status")
@with_appcontext
def status() -> None:
    """How many messages are waiting."""
    click.echo(f"{pending_count()} messages queued.")
