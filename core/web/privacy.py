"""Privacy pages: each district's privacy notice, the personal-data download, account deletion.

Views are thin: the rules live in :mod:`core.privacy`. Deleting an account asks for the
password again (a POST with a CSRF token, rate limited like logins).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, InputRequired, Length

from core.auth.access import require_login
from core.auth.passwords import verify_password
from core.auth.service import audit
from core.extensions import db, limiter
from core.privacy import delete_account, export_user_data
from core.tenancy import get_district_or_404

bp = Blueprint("privacy", __name__)


class DeleteAccountForm(FlaskForm):
    """Confirm the deletion with the password and an explicit tick."""

    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(_l("Enter your password.")), Length(max=1000)],
    )
    confirm = BooleanField(
        _l("I understand that my account and my personal data will be deleted for good"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


@bp.get("/<district>/privacy")
def notice(district: str) -> str:
    """The district's privacy notice: controller, purposes, retention, rights, version."""
    config, row = get_district_or_404(district)
    return render_template("privacy/notice.html", config=config, district_row=row)


@bp.get("/me/data.json")
@login_required
def download() -> Response:
    """Everything the platform holds about the person, as a JSON file."""
    user = require_login()
    data = export_user_data(user)
    audit("privacy.export", user)
    db.session.commit()
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="concilia-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


def _rate_limit() -> str:
    return str(current_app.config["CONCILIA_LOGIN_RATE_LIMIT"])


@bp.route("/me/delete", methods=["GET", "POST"])
@limiter.limit(
    _rate_limit,
    methods=["POST"],
    exempt_when=lambda: not current_app.config.get("RATELIMIT_ENABLED", True),
)
@login_required
def delete() -> Response | tuple[str, int]:
    """Delete the account after the password is given again."""
    user = require_login()
    form = DeleteAccountForm()
    status = 200
    if form.validate_on_submit():
        if verify_password(user.password_hash, form.password.data or ""):
            delete_account(user)
            logout_user()
            flash(_("Your account has been deleted. Goodbye."), "success")
            return redirect(url_for("public.index"))
        form.password.errors = [_("The password is not correct.")]
        status = 403
    elif form.is_submitted():
        status = 400 if "csrf_token" in form.errors else 422
    return render_template("privacy/delete.html", form=form), status
