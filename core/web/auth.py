"""Accounts: sign up, email confirmation, log in and out, passwords, the personal area.

Views are thin: they parse a form, call one function of :mod:`core.auth.service`, and render
or redirect. Invalid input is answered with 422 and the form's messages; a failed login with
401 and one generic message; a bad link with 400 and a way to get a new one. Login, sign-up,
reset and confirmation requests (POST) are rate limited per client address by
``CONCILIA_LOGIN_RATE_LIMIT``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from core.auth import forms, service
from core.auth.access import require_login
from core.auth.service import AccountError, LinkError
from core.extensions import limiter, login_manager
from core.i18n import locale_code
from core.web.safety import safe_next

bp = Blueprint("auth", __name__)

View = Response | str | tuple[str, int]


@bp.record_once
def _setup(state: Any) -> None:
    """Localize Flask-Login's messages and turn on mail delivery after commit.

    Done when this blueprint is registered (every app registers it) so that the accounts work
    needs no change to ``core/setup.py``; a ``configure_mail`` step there would be the tidier home.
    """
    from core import notifications

    login_manager.localize_callback = _
    # the same msgid as the 401 page in core/web/errors.py, so it is already translated
    login_manager.login_message = "You need to log in to see this page."
    notifications.init_app(state.app)


@bp.context_processor
def _password_help() -> dict[str, str]:
    """The password rule, in words (shown under every new-password field)."""
    return {"password_help": str(forms.PASSWORD_HELP)}


def _rate_limit() -> str:
    return str(current_app.config["CONCILIA_LOGIN_RATE_LIMIT"])


def _limits_off() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)


rate_limited = limiter.limit(_rate_limit, methods=["POST"], exempt_when=_limits_off)


def _form_error(form: FlaskForm, error: AccountError) -> None:
    """Show a service refusal beside its field (or at the top of the form)."""
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, error.message]
    else:
        form.form_errors.append(error.message)


def _status(form: FlaskForm) -> int:
    return 422 if form.is_submitted() else 200


def _after_login(target: str | None) -> str:
    """Where to go after logging in: ``target`` if local (and not the login page itself)."""
    url = safe_next(target, "auth.profile")
    if url.split("?", 1)[0] == url_for("auth.login"):
        return url_for("auth.profile")
    return url


@bp.route("/register", methods=["GET", "POST"])
@rate_limited
def register() -> View:
    """Sign up; always ends on the same "check your email" page (no enumeration)."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.profile"))
    form = forms.RegisterForm()
    if request.method == "GET":
        form.locale.data = locale_code()
    if form.validate_on_submit():
        try:
            service.register_user(
                form.email.data,
                form.full_name.data,
                form.password.data,
                form.locale.data,
                privacy_consent=bool(form.privacy.data),
            )
        except AccountError as error:
            _form_error(form, error)
        else:
            return redirect(url_for("auth.check_email", reason="register"))
    return render_template("auth/register.html", form=form), _status(form)


@bp.get("/check-email")
def check_email() -> str:
    """The answer after sign-up, reset or new-link requests, the same whatever the address."""
    reason = request.args.get("reason", "register")
    if reason not in {"register", "reset", "verify"}:
        reason = "register"
    return render_template("auth/check_email.html", reason=reason)


@bp.get("/verify/<token>")
def verify(token: str) -> View:
    """Open a confirmation link."""
    try:
        service.verify_email(token)
    except LinkError as error:
        return render_template(
            "auth/link_error.html", message=error.message, form=forms.EmailForm(), kind="verify"
        ), 400
    flash(_("Your email address is confirmed. You can now log in."), "success")
    return redirect(url_for("auth.profile" if current_user.is_authenticated else "auth.login"))


@bp.route("/verify/resend", methods=["GET", "POST"])
@rate_limited
def resend_verification() -> View:
    """Ask for a new confirmation link (same answer whether or not the address exists)."""
    form = forms.EmailForm()
    if form.validate_on_submit():
        service.resend_verification(form.email.data)
        return redirect(url_for("auth.check_email", reason="verify"))
    return render_template("auth/resend.html", form=form), _status(form)


@bp.route("/login", methods=["GET", "POST"])
@rate_limited
def login() -> View:
    """Log in with email and password; ``next`` may only point inside the site."""
    form = forms.LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(_after_login(form.next.data))
    if form.validate_on_submit():
        result = service.authenticate(form.email.data, form.password.data)
        if result.status == "ok" and result.user is not None:
            login_user(result.user, remember=bool(form.remember.data))
            return redirect(_after_login(form.next.data))
        if result.status == "unverified":
            return render_template("auth/login.html", form=form, unverified=True), 403
        return render_template(
            "auth/login.html",
            form=form,
            error=_("The email address or the password is not correct."),
        ), 401
    return render_template("auth/login.html", form=form), _status(form)


@bp.post("/logout")
def logout() -> Response:
    """Log out (a POST with a CSRF token, so no other site can log you out)."""
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@rate_limited
def forgot_password() -> View:
    """Ask for a reset link (same answer whether or not the address exists)."""
    form = forms.EmailForm()
    if form.validate_on_submit():
        service.start_password_reset(form.email.data)
        return redirect(url_for("auth.check_email", reason="reset"))
    return render_template("auth/forgot.html", form=form), _status(form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@rate_limited
def reset_password(token: str) -> View:
    """Choose a new password from a reset link (usable once, until it expires)."""
    try:
        user = service.check_reset_token(token)
    except LinkError as error:
        return render_template("auth/link_error.html", message=error.message, kind="reset"), 400
    form = forms.ResetPasswordForm()
    form.account_email = user.email
    if form.validate_on_submit():
        try:
            service.reset_password(token, form.password.data)
        except LinkError as error:
            return render_template("auth/link_error.html", message=error.message, kind="reset"), 400
        except AccountError as error:
            _form_error(form, error)
        else:
            logout_user()
            flash(_("Your new password is set. You can now log in."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), _status(form)


@bp.route("/password/change", methods=["GET", "POST"])
@login_required
def change_password() -> View:
    """Change the password; every other session of the account ends."""
    user = require_login()
    form = forms.ChangePasswordForm()
    form.account_email = user.email
    if form.validate_on_submit():
        try:
            service.change_password(user, form.current_password.data, form.password.data)
        except AccountError as error:
            _form_error(form, error)
        else:
            login_user(user)  # this session continues under the new session version
            flash(
                _("Your password has been changed. Other devices have been logged out."), "success"
            )
            return redirect(url_for("auth.profile"))
    return render_template("auth/change_password.html", form=form), _status(form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> View:
    """The personal area: details, language, links to bookings and password."""
    user = require_login()
    form = forms.ProfileForm(obj=user)
    if request.method == "GET" and user.locale not in {"it", "en"}:
        form.locale.data = locale_code()
    if form.validate_on_submit():
        try:
            service.update_profile(
                user,
                full_name=form.full_name.data,
                phone=form.phone.data or "",
                locale=form.locale.data,
            )
        except AccountError as error:
            _form_error(form, error)
        else:
            flash(_("Your details have been saved."), "success")
            return redirect(url_for("auth.profile"))
    return render_template(
        "auth/profile.html",
        form=form,
        user=user,
        role_names=[str(forms.ROLE_NAMES.get(role, role)) for role in user.roles],
        logout_form=forms.LogoutForm(),
    ), _status(form)
