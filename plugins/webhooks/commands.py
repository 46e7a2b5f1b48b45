"""``concilia webhooks``: deliver the queued booking events."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group()
def webhooks() -> None:
    """Webhooks: signed booking events sent to registered URLs."""


@webhooks.command("deliver")
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Send at most N deliveries."
)
@with_appcontext
def deliver(limit: int | None) -> None:
    """Send the due deliveries; failures are retried later with growing delays (run from cron)."""
    from plugins.webhooks.delivery import deliver_due

    report = deliver_due(limit)
    click.echo(
        f"Delivered {len(report.delivered)}, will retry {len(report.retrying)}, "
        f"gave up {len(report.failed)}."
    )
