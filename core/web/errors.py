"""Localized error pages, and JSON errors for the API, for every HTTP error."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def error_message(code: int) -> str:
    """A short explanation, in the reader's language, of what an HTTP error means for them."""
    messages = {
        400: _("The request could not be understood. Check what you entered and try again."),
        401: _("You need to log in to see this page."),
        403: _("You do not have permission to do this."),
        404: _("The page you are looking for does not exist or has been moved."),
        405: _("This address does not accept that kind of request."),
        409: _("Someone else changed this at the same time. Reload the page and try again."),
        413: _("What you sent is too large."),
        422: _("Some of what you entered is not valid. Correct it and try again."),
        429: _("Too many attempts. Wait a minute and try again."),
    }
    return messages.get(code, _("Something went wrong on our side. Try again in a few minutes."))


def _render(code: int, message: str) -> tuple[Response | str, int]:
    if request.path.startswith("/api/"):
        from core.api.errors import error_response, http_code

        return error_response(code, http_code(code), message)
    return render_template("errors/error.html", code=code, message=message), code


def install_error_handlers(app: Flask) -> None:
    """Register handlers so every error has a clear, localized page and the right status."""

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[Response | str, int]:
        return _render(
            400,
            _(
                "The form has expired or was not sent from this site."
                " Reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        return _render(error.code, error_message(error.code))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        from core.extensions import db

        db.session.rollback()
        return _render(500, error_message(InternalServerError.code))
