"""Account rules as plain functions: registration, verification, login, password reset.

Views, the CLI and other modules call these; each one is a unit of work and commits.
Messages in the exceptions are localized (gettext at raise time).

No-enumeration rules, kept here so every caller inherits them:

* registering an address that already has an account answers exactly like a new one, and
  emails the owner instead (a fresh confirmation link if they never confirmed);
* a failed login has one outcome for an unknown address, a wrong password and a locked
  account, and an unknown address still costs one password check (:data:`DUMMY_HASH`);
* only someone who typed the right password learns that the address is unconfirmed;
* asking for a reset or a new confirmation link answers the same whether or not the
  address exists.

Lockout: after :data:`MAX_FAILED_LOGINS` consecutive wrong passwords the account is locked for
:data:`LOCKOUT_DURATION`; the owner is emailed (with a reset link), the login page keeps the
generic message, and a password reset lifts the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.auth.passwords import DUMMY_HASH, hash_password, password_problems, verify_password
from core.auth.tokens import (
    TokenError,
    make_reset_token,
    make_verify_token,
    password_fingerprint,
    read_reset_token,
    read_verify_token,
)
from core.extensions import db
from core.i18n import SUPPORTED_LOCALES
from core.models import AuditEntry, User
from core.models.types import utcnow
from core.notifications.compose import absolute_url, mail_user

MAX_FAILED_LOGINS = 5
LOCKOUT_DURATION = timedelta(minutes=15)


class AccountError(Exception):
    """A rule refused the request. ``message`` is localized; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidEmail(AccountError):
    """The address is not a valid email address."""


class WeakPassword(AccountError):
    """The new password breaks the strength rule."""


class EmailTaken(AccountError):
    """An account with this address exists (raised only to operators, never to the public)."""


class WrongPassword(AccountError):
    """The current password given to confirm a change is not right."""


class LinkError(AccountError):
    """A verification or reset link that is expired, forged or already used."""

    def __init__(self, message: str, expired: bool) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class LoginResult:
    """What :func:`authenticate` decided: ``ok`` (with the user), ``unverified``, ``invalid``."""

    status: Literal["ok", "unverified", "invalid"]
    user: User | None = None


# --- helpers ----------------------------------------------------------------------------------


def normalize_email(raw: str, *, test_environment: bool = False) -> str:
    """Validate an address (syntax only, no DNS) and return it lower-cased. Raises InvalidEmail."""
    try:
        checked = validate_email(
            (raw or "").strip(), check_deliverability=False, test_environment=test_environment
        )
    except EmailNotValidError:
        raise InvalidEmail(
            _("Enter a valid email address, like name@example.com."), field="email"
        ) from None
    return checked.normalized.lower()


def find_user_by_email(email: str) -> User | None:
    """The account with this address (case-insensitive), if any."""
    email = (email or "").strip().lower()
    if not email:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == email))


def check_new_password(password: str, email: str, field: str = "password") -> None:
    """Raise WeakPassword (all problems in one message) if ``password`` breaks the rule."""
    problems = password_problems(password, email)
    if problems:
        raise WeakPassword(" ".join(problems), field=field)


def audit(
    action: str,
    user: User | None,
    *,
    by: User | None = None,
    operator: bool = False,
    **details: object,
) -> None:
    """Write an audit row about ``user`` (no commit).

    The actor is ``by`` if given, nobody for an ``operator`` act (CLI), else the user themself.
    """
    if operator:
        actor_id = None
    elif by is not None:
        actor_id = by.id
    else:
        actor_id = user.id if user is not None else None
    db.session.add(
        AuditEntry(
            action=action,
            actor_id=actor_id,
            target_type="user",
            target_id=str(user.id) if user is not None else "",
            subject_user_id=user.id if user is not None else None,
            details={**details, "operator": True} if operator else dict(details),
            ip=(request.remote_addr or "")[:64] if has_request_context() else "",
        )
    )


def _hours(seconds: int) -> int:
    return max(1, round(seconds / 3600))


def send_verification(user: User) -> None:
    """Queue an email with a fresh confirmation link for ``user`` (no commit)."""
    from flask import current_app

    mail_user(
        user,
        "mail/verify_email.html",
        kind="account.verify",
        link=absolute_url("auth.verify", token=make_verify_token(user)),
        hours=_hours(current_app.config["CONCILIA_VERIFY_TOKEN_MAX_AGE"]),
    )


def _send_reset(user: User) -> None:
    from flask import current_app

    mail_user(
        user,
        "mail/password_reset.html",
        kind="account.reset",
        link=absolute_url("auth.reset_password", token=make_reset_token(user)),
        hours=_hours(current_app.config["CONCILIA_RESET_TOKEN_MAX_AGE"]),
    )


# --- accounts ---------------------------------------------------------------------------------


def create_account(
    email: str,
    password: str,
    *,
    full_name: str = "",
    locale: str | None = None,
    phone: str = "",
    verified: bool = False,
    test_environment: bool = False,
) -> User:
    """Create an account (no commit). Raises InvalidEmail, WeakPassword or EmailTaken.

    If another transaction takes the address first, the session is rolled back and EmailTaken
    is raised.
    """
    address = normalize_email(email, test_environment=test_environment)
    check_new_password(password, address)
    if find_user_by_email(address) is not None:
        raise EmailTaken(_("An account with this email address already exists."), field="email")
    user = User(
        email=address,
        password_hash=hash_password(password),
        full_name=full_name.strip()[:200],
        phone=phone.strip()[:40],
        locale=locale if locale in SUPPORTED_LOCALES else None,
        email_verified_at=utcnow() if verified else None,
        failed_logins=0,
        session_version=1,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same address was signed up at the same moment
        db.session.rollback()
        raise EmailTaken(
            _("An account with this email address already exists."), field="email"
        ) from None
    return user


def register_user(
    email: str, full_name: str, password: str, locale: str | None, *, privacy_consent: bool
) -> User | None:
    """Sign up from the public form; returns the new account, or None if the address was taken.

    Either way the caller shows the same "check your email" answer. A new account gets a
    confirmation link; the owner of an existing address gets a notice instead (or a new link
    if they never confirmed). Commits.
    """
    if not privacy_consent:
        raise AccountError(
            _("You must accept the privacy notice to create an account."), field="privacy"
        )
    address = normalize_email(email)
    check_new_password(password, address)
    existing = find_user_by_email(address)
    if existing is not None:
        hash_password(password)  # same work as a real sign-up: no timing difference
        if existing.active:
            if existing.is_verified:
                mail_user(
                    existing,
                    "mail/account_exists.html",
                    kind="account.exists",
                    login_link=absolute_url("auth.login"),
                    reset_link=absolute_url("auth.forgot_password"),
                )
            else:
                send_verification(existing)
        db.session.commit()
        return None
    try:
        user = create_account(address, password, full_name=full_name, locale=locale)
    except EmailTaken:  # lost a race with a simultaneous sign-up: answer as for a taken one
        return None
    audit("account.register", user, privacy_consent=True, locale=user.locale or "")
    from core.privacy import PLATFORM_NOTICE_VERSION, record_consent

    record_consent(user, district_slug=None, version=PLATFORM_NOTICE_VERSION)
    send_verification(user)
    db.session.commit()
    return user


def resend_verification(email: str) -> None:
    """Send a new confirmation link if this address has an unconfirmed account. Commits."""
    user = find_user_by_email(email)
    if user is not None and user.active and not user.is_verified:
        send_verification(user)
        db.session.commit()


def verify_email(token: str) -> User:
    """Confirm the address a link was made for; returns the account. Raises LinkError. Commits.

    Opening a link twice is fine (the account simply stays confirmed).
    """
    try:
        payload = read_verify_token(token)
    except TokenError as exc:
        raise _link_error(exc.expired) from None
    user = db.session.get(User, payload.user_id)
    if user is None or not user.active or user.email.lower() != payload.bound_to.lower():
        raise _link_error(False)
    if not user.is_verified:
        user.email_verified_at = utcnow()
        audit("account.verify", user)
        db.session.commit()
    return user


def _link_error(expired: bool) -> LinkError:
    if expired:
        return LinkError(_("This link has expired. Ask for a new one below."), expired=True)
    return LinkError(
        _("This link is not valid: it may have been used already or copied incompletely."),
        expired=False,
    )


def authenticate(email: str, password: str) -> LoginResult:
    """Check a login attempt, counting failures and locking after too many. Commits.

    ``invalid`` is returned alike for an unknown address, a wrong password, a disabled or a
    locked account; ``unverified`` only when the password is right.
    """
    user = find_user_by_email(email)
    now = utcnow()
    if user is None or not user.active or (user.locked_until and user.locked_until > now):
        verify_password(DUMMY_HASH, password)
        return LoginResult("invalid")
    if not verify_password(user.password_hash, password):
        _record_failure(user)
        db.session.commit()
        return LoginResult("invalid")
    if user.failed_logins or user.locked_until:
        user.failed_logins = 0
        user.locked_until = None
    if not user.is_verified:
        db.session.commit()
        return LoginResult("unverified", user)
    db.session.commit()
    return LoginResult("ok", user)


def _record_failure(user: User) -> None:
    """Count a wrong password atomically; lock the account (once) at the limit, and tell them."""
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )
    locked_until = utcnow() + LOCKOUT_DURATION
    locked = db.session.execute(
        update(User)
        .where(User.id == user.id, User.failed_logins >= MAX_FAILED_LOGINS)
        .values(failed_logins=0, locked_until=locked_until)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user)
    if locked.rowcount == 1:  # type: ignore[attr-defined]
        audit("account.locked", user, attempts=MAX_FAILED_LOGINS)
        mail_user(
            user,
            "mail/account_locked.html",
            kind="account.locked",
            minutes=int(LOCKOUT_DURATION.total_seconds() // 60),
            attempts=MAX_FAILED_LOGINS,
            reset_link=absolute_url("auth.forgot_password"),
        )


def start_password_reset(email: str) -> None:
    """Email a reset link if the address has an active account; silent otherwise. Commits."""
    user = find_user_by_email(email)
    if user is not None and user.active:
        _send_reset(user)
        audit("account.reset_requested", user)
        db.session.commit()


def check_reset_token(token: str) -> User:
    """The account a reset link is for, if the link is still usable. Raises LinkError."""
    try:
        payload = read_reset_token(token)
    except TokenError as exc:
        raise _link_error(exc.expired) from None
    user = db.session.get(User, payload.user_id)
    if (
        user is None
        or not user.active
        or password_fingerprint(user.password_hash) != payload.bound_to
    ):
        raise _link_error(False)
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link (which then stops working). Commits.

    Also confirms the address (the link reached its mailbox), lifts any lock and ends every
    session of the account. Raises LinkError or WeakPassword.
    """
    user = check_reset_token(token)
    check_new_password(new_password, user.email)
    _set_password(user, new_password)
    user.failed_logins = 0
    user.locked_until = None
    if not user.is_verified:
        user.email_verified_at = utcnow()
    audit("account.password_reset", user)
    db.session.commit()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change a password knowing the current one; ends the account's other sessions. Commits.

    Raises WrongPassword (field ``current_password``) or WeakPassword (field ``password``).
    """
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword(_("The current password is not correct."), field="current_password")
    if new_password == current_password:
        raise WeakPassword(
            _("The new password must be different from the current one."), field="password"
        )
    check_new_password(new_password, user.email)
    _set_password(user, new_password)
    audit("account.password_changed", user)
    db.session.commit()


def set_password(user: User, new_password: str) -> None:
    """Set a password for someone (an operator's act): ends their sessions, lifts any lock,
    and tells the owner by email. Raises WeakPassword. Commits."""
    check_new_password(new_password, user.email)
    _set_password(user, new_password)
    user.failed_logins = 0
    user.locked_until = None
    audit("account.password_set_by_operator", user, operator=True)
    db.session.commit()


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.session_version = (user.session_version or 1) + 1
    mail_user(
        user,
        "mail/password_changed.html",
        kind="account.password_changed",
        reset_link=absolute_url("auth.forgot_password"),
    )


def update_profile(user: User, *, full_name: str, phone: str, locale: str | None) -> None:
    """Save the personal details a person may edit themselves. Commits."""
    name = full_name.strip()
    if not name:
        raise AccountError(_("Enter your full name."), field="full_name")
    user.full_name = name[:200]
    user.phone = phone.strip()[:40]
    user.locale = locale if locale in SUPPORTED_LOCALES else None
    db.session.commit()
