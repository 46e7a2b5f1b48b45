"""``concilia privacy purge``: apply the districts' retention periods (run daily from cron)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.privacy import purge as purge_data
from core.tenancy import sync_districts


@click.group()
def privacy() -> None:
    """Personal data: retention."""


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what would be purged.")
@with_appcontext
def purge(dry_run: bool) -> None:
    """Anonymise old bookings, delete unconfirmed accounts and old sent mails.

    Each district's ``retention_*`` periods apply. Safe to run again: what is already purged
    is not counted twice.
    """
    sync_districts()
    report = purge_data(dry_run=dry_run)
    prefix = "Would purge" if dry_run else "Purged"
    click.echo(
        f"{prefix}: {report.bookings_anonymised} bookings anonymised, "
        f"{report.unverified_accounts_deleted} unconfirmed accounts deleted, "
        f"{report.outbox_messages_deleted} sent mails deleted."
    )
