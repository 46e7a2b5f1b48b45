"""The district admin's approval queue of services (issue #5 extends the admin area).

Only admins of the district in the URL (or platform admins) may see or act: others get 403,
and a service of another district is 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from core.catalogue.events import service_schedule_changed
from core.catalogue.queries import pending_services
from core.catalogue.services import CatalogueError, approve, send_back
from core.extensions import db
from core.models import District, Service
from core.plugins.types import DistrictConfig
from core.tenancy import get_district_or_404

bp = Blueprint("admin_services", __name__, url_prefix="/<district>/admin/services")


class SendBackForm(FlaskForm):
    """Why a service goes back to its provider."""

    reason = TextAreaField(
        _l("What the provider should change"),
        validators=[InputRequired(_l("Tell the provider what to change.")), Length(max=500)],
    )


def _admin_district(district: str) -> tuple[DistrictConfig, District]:
    config, row = get_district_or_404(district)
    if not current_user.administers(row.id):
        abort(403)
    return config, row


def _district_service(row: District, service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None or service.district_id != row.id:
        abort(404)
    return service


def _queue(
    config: DistrictConfig,
    row: District,
    failed: tuple[int, SendBackForm] | None = None,
    status: int = 200,
) -> str | tuple[str, int]:
    services = pending_services(db.session, row)
    forms = {s.id: SendBackForm(formdata=None, prefix=f"s{s.id}") for s in services}
    if failed is not None:
        forms[failed[0]] = failed[1]
    html = render_template(
        "admin/services_pending.html",
        config=config,
        services=services,
        forms=forms,
        categories=current_app.extensions["concilia"].categories,
    )
    return (html, status) if status != 200 else html


@bp.get("/pending")
@login_required
def pending(district: str) -> str | tuple[str, int]:
    """The services of the district waiting for approval."""
    config, row = _admin_district(district)
    return _queue(config, row)


@bp.post("/<int:service_id>/approve")
@login_required
def approve_service(district: str, service_id: int) -> Response:
    """Publish a service waiting for approval."""
    _config, row = _admin_district(district)
    service = _district_service(row, service_id)
    try:
        approve(db.session, service, actor=current_user)
    except CatalogueError:
        db.session.rollback()
        abort(409)
    service_schedule_changed(db.session, service)
    db.session.commit()
    flash(_("The service is published."), "success")
    return redirect(url_for(".pending", district=district))


@bp.post("/<int:service_id>/send-back")
@login_required
def send_back_service(district: str, service_id: int) -> Response | str | tuple[str, int]:
    """Return a service to its provider as a draft, with the reason."""
    config, row = _admin_district(district)
    service = _district_service(row, service_id)
    if service.status != "pending_approval":
        abort(409)
    form = SendBackForm(prefix=f"s{service.id}")
    if form.validate_on_submit():
        try:
            send_back(db.session, service, form.reason.data or "", actor=current_user)
        except CatalogueError as exc:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, *exc.errors.get("reason", [])]
        else:
            db.session.commit()
            flash(_("The service was sent back to its provider."), "success")
            return redirect(url_for(".pending", district=district))
    return _queue(config, row, failed=(service.id, form), status=422)
