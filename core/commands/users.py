"""``concilia users``: create accounts with a role from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from core.auth.passwords import generate_password
from core.auth.service import (
    AccountError,
    EmailTaken,
    InvalidEmail,
    audit,
    create_account,
    find_user_by_email,
    set_password,
)
from core.extensions import db
from core.models import ROLES, District, DistrictAdmin, Membership, Organisation
from core.tenancy import district_configs, ensure_district_row


@click.group()
def users() -> None:
    """Manage user accounts."""


def _district(slug: str) -> District:
    row = db.session.scalar(select(District).where(District.slug == slug))
    if row is not None:
        return row
    config = district_configs().get(slug)
    if config is None:
        known = ", ".join(sorted(district_configs())) or "none installed"
        raise click.BadParameter(
            f"unknown district {slug!r} (known: {known})", param_hint="--district"
        )
    return ensure_district_row(config)


def _organisation(district: District, slug: str) -> Organisation:
    row = db.session.scalar(
        select(Organisation).where(
            Organisation.district_id == district.id, Organisation.slug == slug
        )
    )
    if row is None:
        raise click.BadParameter(
            f"no organisation {slug!r} in district {district.slug!r}", param_hint="--org"
        )
    return row


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="resident",
    show_default=True,
    help="provider needs --district and --org; district-admin needs --district.",
)
@click.option("--district", "district_slug", default=None, help="District slug.")
@click.option("--org", "org_slug", default=None, help="Organisation slug (within --district).")
@click.option("--name", default="", help="Full name.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input.",
)
@with_appcontext
def create(
    email: str,
    role: str,
    district_slug: str | None,
    org_slug: str | None,
    name: str,
    password_stdin: bool,
) -> None:
    """Create an account whose address is already confirmed, with ROLE.

    Without --password-stdin a strong password is generated and printed once.
    Exit status 2: bad arguments (unknown district or organisation, invalid address);
    1: the address is taken or the password is too weak.
    """
    if role == "provider" and not (district_slug and org_slug):
        raise click.UsageError("--role provider needs --district and --org")
    if role == "district-admin" and not district_slug:
        raise click.UsageError("--role district-admin needs --district")
    if org_slug and role != "provider":
        raise click.UsageError("--org is only for --role provider")
    if district_slug and role not in {"provider", "district-admin"}:
        raise click.UsageError("--district is only for --role provider or district-admin")
    district = _district(district_slug) if district_slug else None
    organisation = _organisation(district, org_slug) if district and org_slug else None

    generated = not password_stdin
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else generate_password()

    with force_locale("en"):
        try:
            user = create_account(
                email, password, full_name=name, verified=True, test_environment=True
            )
        except InvalidEmail as exc:
            db.session.rollback()
            raise click.BadParameter(exc.message, param_hint="EMAIL") from None
        except (EmailTaken, AccountError) as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        if role == "platform-admin":
            user.is_platform_admin = True
        if role == "district-admin" and district is not None:
            db.session.add(DistrictAdmin(user_id=user.id, district_id=district.id))
        if role == "provider" and organisation is not None:
            db.session.add(Membership(user_id=user.id, organisation_id=organisation.id))
        audit(
            "account.created_by_operator",
            user,
            operator=True,
            role=role,
            district=district.slug if district else "",
            organisation=organisation.slug if organisation else "",
        )
        db.session.commit()

    where = ""
    if organisation is not None:
        where = f" of {organisation.name} ({district.slug if district else ''})"
    elif district is not None:
        where = f" of {district.slug}"
    click.echo(f"Created {role}{where}: {user.email}")
    if generated:
        click.echo(f"Password (shown only now): {password}")


@users.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input.",
)
@with_appcontext
def set_password_command(email: str, password_stdin: bool) -> None:
    """Give the account EMAIL a new password (its sessions end, a lock is lifted).

    Without --password-stdin a strong password is generated and printed once. The owner is
    told by email. Exit status 1: no such account, or the password is too weak.
    """
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account with the address {email!r}")
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else generate_password()
    with force_locale("en"):
        try:
            set_password(user, password)
        except AccountError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
    click.echo(f"New password set for {user.email}")
    if not password_stdin:
        click.echo(f"Password (shown only now): {password}")
