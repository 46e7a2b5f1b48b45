"""Public pages of the platform itself: the root, the language switcher, the health check."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from core.extensions import db
from core.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES
from core.tenancy import district_configs
from core.web.safety import safe_next

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    """The platform's home: the districts it serves."""
    districts = sorted(district_configs().values(), key=lambda d: d.slug)
    return render_template("public/index.html", districts=districts)


@bp.post("/language")
def set_language() -> Response:
    """The language switcher: remember the choice (cookie, and profile when logged in)."""
    code = request.form.get("lang", "")
    target = safe_next(request.form.get("next"))
    if code not in SUPPORTED_LOCALES:
        return make_response(_("Unknown language."), 400)
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    response = redirect(target)
    response.set_cookie(
        LOCALE_COOKIE,
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=request.is_secure,
    )
    return response


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness and database check for load balancers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200


@bp.get("/privacy")
def privacy() -> str:
    """The platform's privacy notice."""
    return render_template("public/privacy.html")


@bp.get("/accessibility")
def accessibility() -> str:
    """The accessibility statement."""
    return render_template("public/accessibility.html")


@bp.get("/home")
def home_redirect() -> Response:
    """Old-style address of the home page."""
    return redirect(url_for("public.index"))
