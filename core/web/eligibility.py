"""The resident's beneficiary page: declare a class of the district and see the outcome."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from core.auth.access import login_required, require_login
from core.eligibility import (
    STATUS_LABELS,
    Declared,
    EligibilityError,
    class_name,
    declare,
    employers,
    status,
)
from core.extensions import db
from core.models import BeneficiaryDeclaration, User
from core.tenancy import district_configs, get_district_or_404

bp = Blueprint("eligibility", __name__)


class DeclarationForm(FlaskForm):
    """A beneficiary declaration."""

    beneficiary_class = SelectField(
        _l("You are"),
        validators=[InputRequired(_l("Choose one of the classes of the district."))],
        validate_choice=False,  # the service checks it against the district's policy
    )
    vat_number = StringField(_l("VAT number (if you hold one)"), validators=[Length(max=20)])
    employer_id = SelectField(
        _l("Your employer, if registered in the district"), validate_choice=False
    )
    employer_name = StringField(_l("Or write your employer's name"), validators=[Length(max=200)])


@bp.app_template_global()
def beneficiary_statuses(user: User) -> list[dict[str, Any]]:
    """The user's declarations in every district: district name, link, status label, reason."""
    from core.models import District

    configs = district_configs()
    rows = db.session.execute(
        select(BeneficiaryDeclaration, District.slug)
        .join(District, District.id == BeneficiaryDeclaration.district_id)
        .where(BeneficiaryDeclaration.user_id == user.id)
        .order_by(District.slug)
    ).all()
    return [
        {
            "district": str(configs[slug].name),
            "url": url_for("eligibility.beneficiary", district=slug),
            "status": d.status,
            "label": str(STATUS_LABELS.get(d.status, d.status)),
            "reason": d.reason,
        }
        for d, slug in rows
        if slug in configs
    ]


@bp.route("/<district>/beneficiary", methods=["GET", "POST"])
@login_required
def beneficiary(district: str) -> str | tuple[str, int] | Response:
    """Declare which beneficiary class you belong to, and see your status and why."""
    config, row = get_district_or_404(district)
    user = require_login()
    current = status(user, row)
    form = DeclarationForm()
    form.beneficiary_class.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(c.slug, str(c.name)) for c in config.beneficiary_classes
    ]
    form.employer_id.choices = [SelectChoice("", _("Not in the list"))] + [
        SelectChoice(str(o.id), o.name) for o in employers(row)
    ]
    if form.validate_on_submit():
        try:
            declared = declare(
                user,
                row,
                config,
                Declared(
                    beneficiary_class=form.beneficiary_class.data or "",
                    vat_number=form.vat_number.data or "",
                    employer_id=int(form.employer_id.data) if form.employer_id.data else None,
                    employer_name=form.employer_name.data or "",
                ),
            )
        except EligibilityError as error:
            db.session.rollback()
            if error.status == 409:
                flash(error.message, "warning")
                return redirect(url_for(".beneficiary", district=district))
            form[error.field or "beneficiary_class"].errors = [error.message]
        else:
            db.session.commit()
            flash(
                str(STATUS_LABELS[declared.status]),
                "success" if declared.status != "rejected" else "warning",
            )
            return redirect(url_for(".beneficiary", district=district))
    code = 422 if form.errors else 200
    html = render_template(
        "eligibility/beneficiary.html",
        config=config,
        form=form,
        current=current,
        status_label=STATUS_LABELS,
        class_name=class_name,
    )
    return html, code
