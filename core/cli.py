"""The ``concilia`` command: a Flask CLI group bound to the app factory."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from core.config import ConfigError


def _create_app() -> object:
    from core import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=True)
def cli() -> None:
    """Concilia: manage a district welfare platform."""


def main() -> None:
    """Entry point of the console script; a bad setting ends with one clear line."""
    try:
        cli.main(prog_name="concilia")
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
