"""The JSON API at ``/api/v1``, described by the OpenAPI document at ``/api/v1/openapi.json``.

Authentication: a personal access token (``Authorization: Bearer cnc_…``, scope ``read`` or
``read-write``) or the browser session. Token requests are exempt from CSRF; session requests
that change something must send the CSRF token in the ``X-CSRFToken`` header. Every error is
JSON with a stable ``code`` (see :mod:`core.api.errors`). Views are thin: they parse the request
and call the same engine and catalogue functions as the web pages.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, request
from flask_babel import gettext as _
from flask_wtf.csrf import ValidationError, validate_csrf
from werkzeug.exceptions import HTTPException

from core.api.errors import ApiError, error_response, http_code
from core.api.params import check_query
from core.api.tokens import authenticate
from core.auth.access import current_account
from core.extensions import csrf, db
from core.models import ApiToken, User

bp = Blueprint("api", __name__, url_prefix="/api/v1")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_token() -> ApiToken | None:
    """The token that authenticated this request, if any."""
    return g.get("api_token")


def api_user(*, write: bool = False) -> User:
    """The authenticated caller (token or session); 401 if none, 403 if the token is read-only."""
    user = current_account()
    if user is None:
        raise ApiError(401, "unauthorized", _("Authenticate with an access token or log in."))
    token = request_token()
    if write and token is not None and not token.can_write:
        raise ApiError(
            403, "insufficient_scope", _("This access token may only read: it cannot change data.")
        )
    return user


@bp.before_request
def _authenticate() -> None:
    """Bearer token first (the session is then ignored); else the session, with CSRF on writes."""
    g.api_token = None
    check_query()
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _sep, secret = header.strip().partition(" ")
        token = authenticate(db.session, secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise ApiError(
                401, "invalid_token", _("The access token is not valid or has been revoked.")
            )
        g.api_token = token
        g._login_user = token.user  # Flask-Login's per-request user; the session is untouched
        return
    if request.method not in SAFE_METHODS and current_account() is not None:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError:
            raise ApiError(
                400,
                "csrf_failed",
                _("Send the CSRF token in the X-CSRFToken header, or use an access token."),
            ) from None


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[Response, int]:
    db.session.rollback()
    return error.response()


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[Response, int] | HTTPException:
    from core.web.errors import error_message

    status = error.code or 500
    if status < 400:
        return error
    return error_response(status, http_code(status), error_message(status))


def install_api(app: Flask) -> None:
    """Register the API blueprint (CSRF handled per request above) and the tokens page."""
    from core.api import openapi, views  # noqa: F401  (routes)
    from core.api.tokens_web import bp as tokens_bp
    from core.web.rate_limits import install_api_limit

    csrf.exempt(bp)
    install_api_limit(bp)
    app.register_blueprint(bp)
    app.register_blueprint(tokens_bp)
