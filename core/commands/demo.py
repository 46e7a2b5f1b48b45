"""``concilia demo load`` and ``concilia districts sync``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.extensions import db
from core.tenancy import district_configs, sync_districts


@click.group()
def districts() -> None:
    """Manage the districts registered by plugins."""


@districts.command("sync")
@with_appcontext
def sync() -> None:
    """Create or refresh the database row of every installed district."""
    rows = sync_districts()
    for row in rows:
        click.echo(f"{row.slug}: {row.name} ({row.municipality})")


@districts.command("list")
@with_appcontext
def list_districts() -> None:
    """List the installed districts."""
    for slug, config in sorted(district_configs().items()):
        click.echo(f"{slug}  {config.name}  {config.municipality}")


@click.group()
def demo() -> None:
    """Demo data for trying the platform."""


@demo.command("load")
@click.option("--district", "only", default=None, help="Load only this district's demo.")
@with_appcontext
def load(only: str | None) -> None:
    """Load the demo data of the installed districts (running it twice changes nothing)."""
    host = current_app.extensions["concilia"]
    configs = district_configs()
    if only and only not in configs:
        raise click.BadParameter(f"unknown district {only!r}; installed: {', '.join(configs)}")
    sync_districts()
    for slug, config in sorted(configs.items()):
        if only and slug != only:
            continue
        click.echo(f"Loading demo data of {slug}…")
        host.hook.demo_data(district=config, session=db.session)
        db.session.commit()
    from core.booking import generate_all

    created = generate_all()
    click.echo(f"{created} slot(s) generated from the opening hours.")
    click.echo("Demo data loaded.")


@demo.command("logins")
@with_appcontext
def logins() -> None:
    """Print the address to open and the demo accounts of every installed district."""
    base = current_app.config["CONCILIA_BASE_URL"]
    click.echo("")
    click.echo(f"Concilia is ready: open {base}/")
    for slug, config in sorted(district_configs().items()):
        click.echo(f"  {config.name}: {base}/{slug}/")
        roles = [str(login.role) for login in config.demo_logins]
        role_width = max(map(len, roles), default=0)
        email_width = max((len(login.email) for login in config.demo_logins), default=0)
        for role, login in zip(roles, config.demo_logins, strict=True):
            click.echo(
                f"    {role:<{role_width}}  {login.email:<{email_width}}  "
                f"password: {login.password}"
            )
    click.echo("")
