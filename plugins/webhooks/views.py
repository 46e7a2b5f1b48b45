"""Management pages: district admins and provider staff register URLs and read the log."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from core.auth.access import require_login
from core.extensions import db
from core.models import District, Membership, Organisation, User, Webhook, WebhookDelivery
from core.tenancy import get_district_or_404
from plugins.webhooks.delivery import EVENTS

bp = Blueprint("webhooks", __name__, template_folder="templates")

LOG_SIZE = 50
DISTRICT_WIDE = "district"


def url_problem(url: str, production: bool) -> str:
    """Why ``url`` may not receive webhooks ("" if it may).

    In production only ``https`` to a public host: no loopback, private or link-local
    addresses, so a webhook cannot be aimed at the server's own network.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Enter a full address starting with https://")
    if not production:
        return ""
    if parts.scheme != "https":
        return _("Enter a full address starting with https://")
    host = parts.hostname
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        internal = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    else:
        internal = not address.is_global
    return _("Enter the address of a public server.") if internal else ""


def _check_url(_form: Any, field: Any) -> None:
    production = current_app.config.get("CONCILIA_ENV") == "production"
    problem = url_problem(field.data or "", production)
    if problem:
        raise ValidationError(problem)


class WebhookForm(FlaskForm):
    """A new webhook: where, for whom, which events."""

    url = StringField(
        _l("Address (URL) that receives the events"),
        validators=[
            InputRequired(message=_l("Enter the address.")),
            Length(max=500, message=_l("The address is too long.")),
            _check_url,
        ],
    )
    owner = SelectField(_l("Events of"), validators=[InputRequired()])
    events = SelectMultipleField(
        _l("Events (none chosen: all)"), choices=[SelectChoice(e, e) for e in EVENTS], default=[]
    )


class DeleteForm(FlaskForm):
    """A delete button: CSRF only."""


def _scope(district: District) -> tuple[User, bool, list[Organisation]]:
    """The caller, whether they administer the district, and the organisations they staff."""
    user = require_login()
    organisations = list(
        db.session.scalars(
            select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user.id, Organisation.district_id == district.id)
            .order_by(Organisation.name)
        )
    )
    admin = user.administers(district.id)
    if not admin and not organisations:
        abort(403)
    return user, admin, organisations


def managed_districts(user: User) -> list[tuple[str, str]]:
    """``(slug, name)`` of the districts whose webhooks ``user`` may manage (admin or staff)."""
    ids = {role.district_id for role in user.district_roles}
    ids |= set(
        db.session.scalars(
            select(Organisation.district_id)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user.id)
        )
    )
    if not ids:
        return []
    rows = db.session.execute(
        select(District.slug, District.name).where(District.id.in_(ids)).order_by(District.name)
    )
    return [(slug, name) for slug, name in rows]


def _visible(district: District, admin: bool, organisations: list[Organisation]) -> Any:
    condition = Webhook.district_id == district.id
    if admin:
        return condition
    return condition & Webhook.organisation_id.in_([o.id for o in organisations])


def _owner_choices(admin: bool, organisations: list[Organisation]) -> list[SelectChoice]:
    choices = [SelectChoice(DISTRICT_WIDE, _("The whole district"))] if admin else []
    return choices + [SelectChoice(str(o.id), o.name) for o in organisations]


def _render(
    district: District, form: WebhookForm, admin: bool, orgs: list[Organisation], status: int = 200
) -> tuple[str, int]:
    hooks = list(
        db.session.scalars(
            select(Webhook).where(_visible(district, admin, orgs)).order_by(Webhook.id)
        )
    )
    names = {
        o.id: o.name
        for o in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_([h.organisation_id for h in hooks if h.organisation_id])
            )
        )
    }
    deliveries = (
        list(
            db.session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id.in_([h.id for h in hooks]))
                .options(selectinload(WebhookDelivery.webhook))
                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                .limit(LOG_SIZE)
            )
        )
        if hooks
        else []
    )
    return (
        render_template(
            "webhooks/index.html",
            district_row=district,
            form=form,
            delete_form=DeleteForm(),
            hooks=hooks,
            names=names,
            deliveries=deliveries,
        ),
        status,
    )


@bp.get("/<district>/webhooks")
@login_required
def index(district: str) -> tuple[str, int]:
    """The caller's webhooks, the form to add one, and the recent deliveries."""
    _config, row = get_district_or_404(district)
    _user, admin, orgs = _scope(row)
    form = WebhookForm(formdata=None)
    form.owner.choices = _owner_choices(admin, orgs)
    return _render(row, form, admin, orgs)


@bp.post("/<district>/webhooks")
@login_required
def create(district: str) -> Response | tuple[str, int]:
    """Register a webhook; its secret is generated and shown on the page."""
    _config, row = get_district_or_404(district)
    user, admin, orgs = _scope(row)
    form = WebhookForm()
    form.owner.choices = _owner_choices(admin, orgs)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _render(row, form, admin, orgs, status=422)
    owner = None if form.owner.data == DISTRICT_WIDE else int(form.owner.data)
    db.session.add(
        Webhook(
            district_id=row.id,
            organisation_id=owner,
            url=form.url.data.strip(),
            secret=secrets.token_hex(32),
            events=",".join(form.events.data or []) or "*",
            created_by_id=user.id,
        )
    )
    db.session.commit()
    flash(_("The webhook has been registered."), "success")
    return redirect(url_for("webhooks.index", district=row.slug))


@bp.post("/<district>/webhooks/<int:hook_id>/delete")
@login_required
def delete(district: str, hook_id: int) -> Response:
    """Delete a webhook and its delivery log (404 if it is not the caller's to manage)."""
    _config, row = get_district_or_404(district)
    _user, admin, orgs = _scope(row)
    if not DeleteForm().validate_on_submit():
        abort(400)
    hook = (
        db.session.scalar(select(Webhook).where(Webhook.id == hook_id, _visible(row, admin, orgs)))
        if hook_id <= 2**31 - 1
        else None
    )
    if hook is None:
        abort(404)
    db.session.delete(hook)
    db.session.commit()
    flash(_("The webhook has been deleted."), "success")
    return redirect(url_for("webhooks.index", district=row.slug))
