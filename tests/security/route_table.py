"""Who may open which route: one row per endpoint of the app (HTML and API).

``test_access_matrix.py`` requests every endpoint (every method) as every role of
:mod:`tests.security.scenario` and compares with this table; it fails on an endpoint missing
here, printing the row to add. To add a route:

1. pick its access level below (or make a new one from the role names);
2. if a URL argument is not one of :meth:`Scenario.url_values` (``district``, ``service_id``,
   ``public_id``, ``org_slug``, ``slug``, ``closure_id``, ``rule_id``, ``token``), give it in
   ``values`` as ``{"argument": "scenario_attribute"}`` or a literal in ``literals``.

A request counts as *refused* when it answers 401, 403 or 404, or redirects to the login page;
anything else under 500 counts as *allowed* (a 409 or 422 still means the role got in). A 5xx
always fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.security.scenario import (
    ANONYMOUS,
    DISTRICT_ADMIN,
    OTHER_STAFF,
    PLATFORM_ADMIN,
    RESIDENT,
    ROLES,
    STAFF,
)


@dataclass(frozen=True)
class Access:
    """An access level: its name (shown in failures) and the roles it lets in."""

    name: str
    roles: frozenset[str]


PUBLIC = Access("PUBLIC", frozenset(ROLES))
LOGGED_IN = Access("LOGGED_IN", frozenset(ROLES) - {ANONYMOUS})
#: Only the resident the booking / account / feed belongs to.
OWNER = Access("OWNER", frozenset({RESIDENT}))
#: Staff of the organisation that owns the service (not staff of other organisations).
STAFF_OF_OWNER = Access("STAFF_OF_OWNER", frozenset({STAFF}))
#: Staff of any organisation of the district (each sees only their own organisations' data).
STAFF_IN_DISTRICT = Access("STAFF_IN_DISTRICT", frozenset({STAFF, OTHER_STAFF}))
#: Admins of the URL's district, and platform admins.
DISTRICT_ADMIN_ONLY = Access("DISTRICT_ADMIN", frozenset({DISTRICT_ADMIN, PLATFORM_ADMIN}))
PLATFORM_ADMIN_ONLY = Access("PLATFORM_ADMIN", frozenset({PLATFORM_ADMIN}))
#: Provider staff of the district and its admins (webhook pages: each sees their own hooks).
STAFF_OR_ADMIN = Access(
    "STAFF_OR_ADMIN", frozenset({STAFF, OTHER_STAFF, DISTRICT_ADMIN, PLATFORM_ADMIN})
)
#: The booking's owner, staff of the service's organisation, and the district's admins
#: (the API lets providers and the municipality manage bookings; the web pages split this).
OWNER_OR_MANAGERS = Access(
    "OWNER_OR_MANAGERS", frozenset({RESIDENT, STAFF, DISTRICT_ADMIN, PLATFORM_ADMIN})
)
#: Only a visitor without an account: the invitation is for an address nobody here owns, so
#: every logged-in person is refused (the invitee registers through it).
INVITEE = Access("INVITEE", frozenset({ANONYMOUS}))
#: Anyone holding the secret in the link (a guessed secret is refused: see test_guessing).
SECRET_LINK = Access("SECRET_LINK", frozenset(ROLES))


@dataclass(frozen=True)
class Route:
    """One row: the access level, and URL values this endpoint needs beyond the usual ones."""

    access: Access
    values: dict[str, str] = field(default_factory=dict)
    literals: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    #: Access for POST/DELETE when it differs from GET's (``access``).
    write_access: Access | None = None
    #: Token-authenticated API routes only: not checked for a CSRF token.
    csrf_exempt: bool = False


ROUTES: dict[str, Route] = {
    # --- platform pages
    "static": Route(PUBLIC, literals={"filename": "css/concilia.css"}),
    "public.index": Route(PUBLIC),
    "public.set_language": Route(PUBLIC),
    "public.healthz": Route(PUBLIC),
    "public.privacy": Route(PUBLIC),
    "public.accessibility": Route(PUBLIC),
    "public.home_redirect": Route(PUBLIC),
    # --- accounts
    "auth.register": Route(PUBLIC),
    "auth.check_email": Route(PUBLIC),
    "auth.verify": Route(SECRET_LINK, values={"token": "verify_token"}),
    "auth.resend_verification": Route(PUBLIC),
    "auth.login": Route(PUBLIC),
    "auth.logout": Route(PUBLIC, note="logging out is harmless; CSRF-protected"),
    "auth.forgot_password": Route(PUBLIC),
    "auth.reset_password": Route(SECRET_LINK, values={"token": "reset_token"}),
    "auth.change_password": Route(LOGGED_IN),
    "auth.profile": Route(LOGGED_IN),
    # --- privacy
    "privacy.notice": Route(PUBLIC),
    "privacy.download": Route(LOGGED_IN, note="always the caller's own data"),
    "privacy.delete": Route(LOGGED_IN, note="always the caller's own account"),
    # --- catalogue
    "catalogue.district_home": Route(PUBLIC),
    "catalogue.branding_css": Route(PUBLIC),
    "catalogue.services": Route(PUBLIC),
    "catalogue.service": Route(PUBLIC),
    "catalogue.provider": Route(PUBLIC),
    # --- booking flow (any logged-in person; eligibility is the engine's: test_eligibility)
    "booking.start": Route(LOGGED_IN),
    "booking.details": Route(LOGGED_IN),
    "booking.applicant": Route(LOGGED_IN),
    "booking.summary": Route(LOGGED_IN),
    "booking.confirm": Route(LOGGED_IN),
    # --- my bookings and calendar
    "bookings.mine": Route(LOGGED_IN),
    "bookings.detail": Route(OWNER),
    "bookings.cancel_booking": Route(OWNER),
    "bookings.accept": Route(OWNER),
    "bookings.rate_booking": Route(OWNER),
    "bookings.booking_ics": Route(OWNER),
    "bookings.calendar": Route(LOGGED_IN),
    "bookings.calendar_issue": Route(LOGGED_IN),
    "bookings.calendar_revoke": Route(LOGGED_IN),
    "bookings.calendar_feed_ics": Route(SECRET_LINK),
    # --- provider area
    "provider.dashboard": Route(STAFF_IN_DISTRICT),
    "provider.new_service": Route(STAFF_OF_OWNER),
    "provider.edit_service": Route(STAFF_OF_OWNER),
    "provider.schedule": Route(STAFF_OF_OWNER),
    "provider.add_hours": Route(STAFF_OF_OWNER),
    "provider.delete_hours": Route(STAFF_OF_OWNER),
    "provider.add_closure_day": Route(STAFF_OF_OWNER),
    "provider.delete_closure": Route(STAFF_OF_OWNER),
    "provider.publish_service": Route(STAFF_OF_OWNER),
    "provider.withdraw_service": Route(STAFF_OF_OWNER),
    "provider_bookings.index": Route(STAFF_IN_DISTRICT, note="lists own orgs only"),
    "provider_bookings.export_csv": Route(STAFF_IN_DISTRICT, note="exports own orgs only"),
    "provider_bookings.approve_booking": Route(STAFF_OF_OWNER),
    "provider_bookings.reject_booking": Route(STAFF_OF_OWNER),
    "provider_bookings.attended": Route(STAFF_OF_OWNER),
    "provider_bookings.no_show": Route(STAFF_OF_OWNER),
    # --- district administration
    "admin_services.pending": Route(DISTRICT_ADMIN_ONLY),
    "admin_services.approve_service": Route(DISTRICT_ADMIN_ONLY),
    "admin_services.send_back_service": Route(DISTRICT_ADMIN_ONLY),
    # --- municipality: eligibility, organisations, news, reports, audit
    "eligibility.beneficiary": Route(LOGGED_IN),
    "admin.home": Route(DISTRICT_ADMIN_ONLY),
    "admin.declarations": Route(DISTRICT_ADMIN_ONLY),
    "admin.declaration": Route(DISTRICT_ADMIN_ONLY),
    "admin.decide_declaration": Route(DISTRICT_ADMIN_ONLY, literals={"verdict": "reject"}),
    "admin.organisations": Route(DISTRICT_ADMIN_ONLY),
    "admin.new_organisation": Route(DISTRICT_ADMIN_ONLY),
    "admin.organisation": Route(DISTRICT_ADMIN_ONLY),
    "admin.alliance": Route(DISTRICT_ADMIN_ONLY, literals={"change": "add"}),
    "admin.verify_email_domain": Route(DISTRICT_ADMIN_ONLY),
    "admin.suspend_organisation": Route(DISTRICT_ADMIN_ONLY),
    "admin.reinstate_organisation": Route(DISTRICT_ADMIN_ONLY),
    "admin.invite_staff": Route(DISTRICT_ADMIN_ONLY),
    "admin.accept_invitation": Route(
        SECRET_LINK,
        write_access=INVITEE,
        values={"token": "invitation_token"},
        note="anyone with the link sees it; only the invited address (no account yet) accepts",
    ),
    "admin.news": Route(DISTRICT_ADMIN_ONLY),
    "admin.edit_news": Route(DISTRICT_ADMIN_ONLY),
    "admin.remove_news": Route(DISTRICT_ADMIN_ONLY),
    "admin.reports": Route(DISTRICT_ADMIN_ONLY),
    "admin.report_csv": Route(DISTRICT_ADMIN_ONLY, literals={"key": "bookings"}),
    "admin.open_data_export": Route(PUBLIC, literals={"fmt": "json"}),
    "audit.audit_log": Route(PLATFORM_ADMIN_ONLY),
    # --- JSON API (session requests send the X-CSRFToken header)
    "api.openapi_json": Route(PUBLIC),
    "api.districts": Route(PUBLIC),
    "api.categories": Route(PUBLIC),
    "api.services": Route(PUBLIC),
    "api.service": Route(PUBLIC),
    "api.slots": Route(PUBLIC),
    "api.create_booking": Route(LOGGED_IN),
    "api.my_bookings": Route(LOGGED_IN),
    "api.get_booking": Route(OWNER_OR_MANAGERS),
    "api.cancel_booking": Route(OWNER_OR_MANAGERS),
    "api.approve_booking": Route(STAFF_OF_OWNER),
    "api.reject_booking": Route(STAFF_OF_OWNER),
    "api.attended_booking": Route(STAFF_OF_OWNER),
    "api.no_show_booking": Route(STAFF_OF_OWNER),
    "api.provider_bookings": Route(STAFF_IN_DISTRICT, note="lists own orgs only"),
    "api.report": Route(DISTRICT_ADMIN_ONLY),
    "api_tokens.index": Route(LOGGED_IN),
    "api_tokens.create": Route(LOGGED_IN),
    "api_tokens.revoke": Route(OWNER),
    # --- integrations
    "service_feed.calendar": Route(PUBLIC, values={"service_id": "feed_service_id"}),
    "webhooks.index": Route(STAFF_OR_ADMIN),
    "webhooks.create": Route(STAFF_OR_ADMIN),
    "webhooks.delete": Route(DISTRICT_ADMIN_ONLY, note="a district-wide hook"),
    # --- plugins
    "isola_garibaldi.static": Route(PUBLIC, literals={"filename": "logo.svg"}),
}


def missing_rows_message(missing: dict[str, str]) -> str:
    """The failure text for endpoints without a row: the exact lines to paste into ROUTES."""
    lines = [
        f"{len(missing)} endpoint(s) have no row in tests/security/route_table.py ROUTES.",
        "Add one line per endpoint (choose PUBLIC, LOGGED_IN, OWNER, STAFF_OF_OWNER,",
        "STAFF_IN_DISTRICT, DISTRICT_ADMIN_ONLY, PLATFORM_ADMIN_ONLY or SECRET_LINK):",
        "",
    ]
    for endpoint, rule in sorted(missing.items()):
        lines.append(f'    "{endpoint}": Route(LOGGED_IN),  # {rule}')
    return "\n".join(lines)
