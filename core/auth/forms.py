"""The account forms. Field checks reuse the service's rules, so form and CLI agree."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from core.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problems
from core.auth.service import InvalidEmail, normalize_email

LANGUAGE_CHOICES = [
    SelectChoice("it", "Italiano", render_kw={"lang": "it"}),
    SelectChoice("en", "English", render_kw={"lang": "en"}),
]
PASSWORD_HELP = _l(
    "At least %(count)d characters, mixing letters with numbers or symbols, or upper- and"
    " lower-case letters.",
    count=MIN_PASSWORD_LENGTH,
)
ROLE_NAMES = {
    "resident": _l("Resident"),
    "provider": _l("Provider staff"),
    "district-admin": _l("District administrator"),
    "platform-admin": _l("Platform administrator"),
}


def _valid_email(_form: Any, field: Any) -> None:
    try:
        field.data = normalize_email(field.data or "")
    except InvalidEmail as exc:
        raise ValidationError(exc.message) from None


def _strong_password(email_field: str | None = None) -> Any:
    def check(form: FlaskForm, field: Any) -> None:
        """Refuse a password that breaks the rule, naming every problem."""
        email = ""
        if email_field is not None:
            email = form[email_field].data or ""
        elif hasattr(form, "account_email"):
            email = form.account_email
        problems = password_problems(field.data or "", email)
        if problems:
            raise ValidationError(" ".join(problems))

    return check


class RegisterForm(FlaskForm):
    """Sign up: address, name, password twice, language, privacy consent."""

    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254), _valid_email],
    )
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Enter your full name.")), Length(max=200)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Choose a password.")), _strong_password("email")],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            InputRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords do not match.")),
        ],
    )
    locale = SelectField(_l("Preferred language"), choices=LANGUAGE_CHOICES, default="it")
    privacy = BooleanField(
        _l("I have read the privacy notice and agree to the processing of my data"),
        validators=[DataRequired(_l("You must accept the privacy notice to create an account."))],
    )


class LoginForm(FlaskForm):
    """Log in (no format check on the address: any mismatch gets the same generic answer)."""

    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()


class EmailForm(FlaskForm):
    """Just an address: forgotten password, new confirmation link."""

    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254), _valid_email],
    )


class ResetPasswordForm(FlaskForm):
    """Choose a new password from a reset link (``account_email`` set by the view)."""

    account_email = ""
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Choose a password.")), _strong_password()],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            InputRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords do not match.")),
        ],
    )


class ChangePasswordForm(ResetPasswordForm):
    """Change the password, confirming the current one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Enter your current password."))],
    )


class ProfileForm(FlaskForm):
    """The personal details a person edits themselves."""

    full_name = StringField(
        _l("Full name"), validators=[DataRequired(_l("Enter your full name.")), Length(max=200)]
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    locale = SelectField(_l("Preferred language"), choices=LANGUAGE_CHOICES)


class LogoutForm(FlaskForm):
    """An empty form: logging out is a POST with a CSRF token."""
