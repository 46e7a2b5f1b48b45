"""The core's ``concilia`` subcommands, one module per group."""

from __future__ import annotations

import click


def register_core_commands(cli: click.Group) -> None:
    """Attach every core command group to the app's CLI."""
    from core.commands.bookings import bookings
    from core.commands.demo import demo, districts
    from core.commands.mail import mail
    from core.commands.plugins import plugins
    from core.commands.scaffold import new_district, new_plugin
    from core.commands.tokens import tokens
    from core.commands.users import users

    for command in (
        plugins,
        demo,
        districts,
        users,
        mail,
        bookings,
        new_plugin,
        new_district,
        tokens,
    ):
        cli.add_command(command)
