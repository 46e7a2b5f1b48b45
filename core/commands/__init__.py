"""The core's ``concilia`` subcommands, one module per group."""

from __future__ import annotations

import click


def register_core_commands(cli: click.Group) -> None:
    """Attach every core command group to the app's CLI."""
    from core.commands.bookings import bookings
    from core.commands.demo import demo, districts
    from core.commands.plugins import plugins

    for command in (plugins, demo, districts, bookings):
        cli.add_command(command)
