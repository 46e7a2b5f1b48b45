"""``concilia tokens``: personal access tokens for the JSON API, from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from core.api.tokens import TokenError, active_tokens, create_token, revoke_token
from core.extensions import db
from core.models import User
from core.models.tokens import TOKEN_SCOPES


@click.group()
def tokens() -> None:
    """API access tokens."""


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.BadParameter(f"no account with address {email!r}", param_hint="EMAIL")
    return user


@tokens.command("create")
@click.argument("email")
@click.option(
    "--scope",
    type=click.Choice(TOKEN_SCOPES),
    default="read",
    show_default=True,
    help="read: see; read-write: also book, cancel and decide.",
)
@click.option("--name", default="command line", show_default=True, help="To recognise it.")
@with_appcontext
def create(email: str, scope: str, name: str) -> None:
    """Make a token for the account EMAIL and print it once (only its hash is stored)."""
    user = _user(email)
    try:
        issued = create_token(db.session, user, name, scope)
    except TokenError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(issued.secret)
    click.echo(f"Token {issued.token.id} ({scope}) for {user.email}: shown only now.", err=True)


@tokens.command("list")
@click.argument("email")
@with_appcontext
def list_tokens(email: str) -> None:
    """List the account's active tokens (never their secrets)."""
    for token in active_tokens(db.session, _user(email)):
        used = token.last_used_at.isoformat() if token.last_used_at else "never"
        click.echo(f"{token.id}\t{token.scope}\t{token.name}\tlast used: {used}")


@tokens.command("revoke")
@click.argument("email")
@click.argument("token_id", type=int)
@with_appcontext
def revoke(email: str, token_id: int) -> None:
    """Revoke the account's token TOKEN_ID."""
    if not revoke_token(db.session, _user(email), token_id):
        raise click.ClickException(f"no active token {token_id} for {email}")
    db.session.commit()
    click.echo(f"Token {token_id} revoked.")
