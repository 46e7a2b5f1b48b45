"""The personal area's access tokens page: create (the secret is shown once) and revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from core.api.tokens import MAX_ACTIVE, TokenError, active_tokens, create_token, revoke_token
from core.auth.access import require_login
from core.extensions import db

bp = Blueprint("api_tokens", __name__)


class TokenForm(FlaskForm):
    """A new token: a name to recognise it and what it may do."""

    name = StringField(
        _l("Token name"),
        validators=[
            InputRequired(message=_l("Give the token a name, e.g. the script that uses it.")),
            Length(max=100, message=_l("Keep the name under 100 characters.")),
        ],
    )
    scope = SelectField(
        _l("Access"),
        choices=[
            SelectChoice("read", _l("Read only (see my bookings)")),
            SelectChoice("read-write", _l("Read and write (also book and cancel)")),
        ],
        default="read",
    )


class RevokeForm(FlaskForm):
    """A revoke button: CSRF only."""


def _page(form: TokenForm, secret: str = "", status: int = 200) -> tuple[str, int]:
    user = require_login()
    return (
        render_template(
            "api/tokens.html",
            form=form,
            revoke_form=RevokeForm(),
            tokens=active_tokens(db.session, user),
            secret=secret,
            max_active=MAX_ACTIVE,
        ),
        status,
    )


@bp.get("/me/api-tokens")
@login_required
def index() -> tuple[str, int]:
    """The person's active tokens and the form to make one."""
    return _page(TokenForm(formdata=None))


@bp.post("/me/api-tokens")
@login_required
def create() -> tuple[str, int]:
    """Make a token and show its secret once (never again: only its hash is kept)."""
    user = require_login()
    form = TokenForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _page(form, status=422)
    try:
        issued = create_token(db.session, user, form.name.data, form.scope.data)
    except TokenError:
        db.session.rollback()
        form.name.errors = [_("You have too many tokens: revoke one first.")]
        return _page(form, status=422)
    db.session.commit()
    return _page(TokenForm(formdata=None), secret=issued.secret, status=201)


@bp.post("/me/api-tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    """Revoke one of the person's tokens (404 for anyone else's)."""
    user = require_login()
    if not RevokeForm().validate_on_submit():
        abort(400)
    if token_id > 2**31 - 1 or not revoke_token(db.session, user, token_id):
        abort(404)
    db.session.commit()
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("api_tokens.index"))
