"""Role guards for views: call one at the top of a view; it returns the current user or aborts.

Roles: everyone is a *resident*; *provider staff* have a Membership of an organisation;
*district admins* have a DistrictAdmin row for a district; *platform admins* have
``User.is_platform_admin`` (and pass every district-admin check).

Anonymous visitors are sent to the login page (Flask-Login's ``unauthorized``); logged-in
users without the role get 403, or 404 with ``hide=True`` where even the existence of the
thing must stay private. :func:`district_roles` answers, in one statement, what the district
menu asks on every page: is this person staff or admin in this district?

>>> @bp.get("/<district>/admin")                          # doctest: +SKIP
... def admin_home(district):
...     config, row = get_district_or_404(district)
...     require_district_admin(row)
"""

from __future__ import annotations

from typing import Any, NoReturn, Protocol, cast

from flask import abort, current_app
from flask_login import current_user, login_required
from sqlalchemy import Select, bindparam, exists, select

from core.extensions import db
from core.models import DistrictAdmin, Membership, Organisation, User

__all__ = [
    "current_account",
    "district_roles",
    "login_required",
    "require_district_admin",
    "require_login",
    "require_platform_admin",
    "require_staff_of",
]


class _HasId(Protocol):
    id: int


class _HasDistrict(Protocol):
    id: int
    district_id: int


def _to_login() -> NoReturn:
    abort(current_app.login_manager.unauthorized())  # type: ignore[attr-defined]


def _refuse(hide: bool) -> NoReturn:
    abort(404 if hide else 403)


def current_account() -> User | None:
    """The logged-in user, or None for an anonymous visitor."""
    if current_user and current_user.is_authenticated:
        return cast(User, current_user._get_current_object())  # type: ignore[attr-defined]
    return None


def require_login() -> User:
    """The logged-in user; anonymous visitors are redirected to the login page."""
    user = current_account()
    if user is None:
        _to_login()
    return user


def require_district_admin(district: _HasId, *, hide: bool = False) -> User:
    """The current user if they administer ``district`` (a District row) or are platform admin."""
    user = require_login()
    if not user.administers(district.id):
        _refuse(hide)
    return user


def require_staff_of(
    organisation: _HasDistrict, *, allow_district_admin: bool = False, hide: bool = False
) -> User:
    """The current user if they work for ``organisation``.

    With ``allow_district_admin`` the admins of the organisation's district (and platform
    admins) pass too.
    """
    user = require_login()
    if user.works_for(organisation.id):
        return user
    if allow_district_admin and user.administers(organisation.district_id):
        return user
    _refuse(hide)


def require_platform_admin(*, hide: bool = True) -> User:
    """The current user if they are a platform admin (others get 404: the area stays unseen)."""
    user = require_login()
    if not user.is_platform_admin:
        _refuse(hide)
    return user


def _roles_statement() -> Select[tuple[bool, bool]]:
    """Whether a user works for a provider of a district, and administers it: one statement."""
    user_id, district_id = bindparam("user_id"), bindparam("district_id")
    staff = exists().where(
        Membership.user_id == user_id,
        Membership.organisation_id == Organisation.id,
        Organisation.district_id == district_id,
    )
    admin = exists().where(
        DistrictAdmin.user_id == user_id, DistrictAdmin.district_id == district_id
    )
    return select(staff, admin)


_ROLES = _roles_statement()  # built once: the menu asks on every page of a logged-in person


def district_roles(user: Any, district_id: int) -> tuple[bool, bool]:
    """``(staff, admin)``: whether ``user`` works for a provider of the district, and whether they
    administer it (platform admins administer every district)."""
    staff, admin = db.session.execute(
        _ROLES, {"user_id": user.id, "district_id": district_id}
    ).one()
    return bool(staff), bool(admin) or bool(user.is_platform_admin)
