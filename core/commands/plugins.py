"""``concilia plugins``: what is loaded, and what failed to load."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group()
def plugins() -> None:
    """Inspect the installed plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects.")
@with_appcontext
def list_plugins(as_json: bool) -> None:
    """List the loaded plugins (name, kind, version) and any that failed to load."""
    host = current_app.extensions["concilia"]
    infos = host.plugins()
    if as_json:
        click.echo(json.dumps([info.as_dict() for info in infos], indent=2))
    else:
        width = max((len(info.name) for info in infos), default=4)
        for info in infos:
            click.echo(f"{info.name:<{width}}  {info.kind:<8}  {info.version:<8}  {info.module}")
    for name, reason in sorted(host.failures.items()):
        click.echo(f"failed to load: {name}: {reason}", err=True)
