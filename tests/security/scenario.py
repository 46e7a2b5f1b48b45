"""A seeded world for security tests: two districts, three organisations, one user per role.

``borgo-test`` holds organisations A (the owner of the service and its booking) and B (another
provider in the same district); ``altra-citta`` has its own admin. The resident has a pending
booking of A's service, a private calendar feed, and fresh verification and reset links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from core.admin.invitations import make_token as make_invitation
from core.api.tokens import create_token
from core.auth.tokens import make_reset_token, make_verify_token
from core.booking import book
from core.booking.calendar_feed import issue_feed
from core.extensions import db
from core.models import (
    BeneficiaryDeclaration,
    Booking,
    Closure,
    OpeningRule,
    Organisation,
    Service,
    Slot,
    User,
)
from core.models.news import News
from core.models.webhooks import Webhook
from tests.support import catalogue_factories as cf
from tests.support import factories as f

ANONYMOUS = "anonymous"
RESIDENT = "resident"
OTHER_RESIDENT = "other_resident"
UNAPPROVED_BENEFICIARY = "unapproved_beneficiary"
STAFF = "staff_of_owner"
OTHER_STAFF = "staff_of_other_org"
DISTRICT_ADMIN = "district_admin"
OTHER_DISTRICT_ADMIN = "admin_of_other_district"
PLATFORM_ADMIN = "platform_admin"

ROLES = (
    ANONYMOUS,
    RESIDENT,
    OTHER_RESIDENT,
    UNAPPROVED_BENEFICIARY,
    STAFF,
    OTHER_STAFF,
    DISTRICT_ADMIN,
    OTHER_DISTRICT_ADMIN,
    PLATFORM_ADMIN,
)


@dataclass
class Scenario:
    """The seeded rows, and the users by role (``None`` for the anonymous visitor)."""

    users: dict[str, User | None]
    org: Organisation
    other_org: Organisation
    service: Service
    other_service: Service
    slot: Slot
    rule: OpeningRule
    closure: Closure
    booking: Booking
    feed_token: str
    verify_token: str
    reset_token: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        """Rows added for later areas (ids, tokens) are read from ``extra`` by name."""
        if name != "extra" and name in self.__dict__.get("extra", {}):
            return self.__dict__["extra"][name]
        raise AttributeError(name)

    def url_values(self) -> dict[str, Any]:
        """Values for URL arguments, by argument name (endpoint-specific ones in the table)."""
        return {
            "district": "borgo-test",
            "service_id": self.service.id,
            "public_id": self.booking.public_id,
            "org_slug": self.org.slug,
            "slug": self.org.slug,
            "closure_id": self.closure.id,
            "rule_id": self.rule.id,
            "token": self.feed_token,
            **self.extra,
        }


def seed() -> Scenario:
    """Create the world (committed) and return it."""
    borgo = cf.district_row(cf.BORGO)
    altra = cf.district_row(cf.ALTRA)
    org = cf.provider(cf.BORGO, slug="org-a", name="Cooperativa A", email="a@example.org")
    other_org = cf.provider(cf.BORGO, slug="org-b", name="Impresa B")
    cf.provider(cf.ALTRA, slug="org-c", name="Altrove C")
    service = cf.published(org, title_en="Yoga", title_it="Yoga", requires_approval=True)
    other_service = cf.published(other_org, title_en="Pilates", title_it="Pilates")
    rule = f.opening_rule(service, weekday=2, start=time(9), end=time(11))
    closure = Closure(service_id=service.id, day=date.today() + timedelta(days=30), reason="Festa")
    db.session.add(closure)
    slot = cf.free_slot(service, capacity=3)
    users: dict[str, User | None] = {ANONYMOUS: None}
    users[RESIDENT] = f.user("resident@example.org", full_name="Rita Resident")
    users[OTHER_RESIDENT] = f.user("other@example.org", full_name="Oscar Other")
    unapproved = f.user("pending@example.org", full_name="Paola Pending")
    db.session.add(
        BeneficiaryDeclaration(
            user_id=unapproved.id,
            district_id=borgo.id,
            beneficiary_class="resident-worker",
            status="pending",
        )
    )
    users[UNAPPROVED_BENEFICIARY] = unapproved
    users[STAFF] = f.staff(org, email="staff-a@example.org")
    users[OTHER_STAFF] = f.staff(other_org, email="staff-b@example.org")
    users[DISTRICT_ADMIN] = f.district_admin(borgo, email="admin-borgo@example.org")
    users[OTHER_DISTRICT_ADMIN] = f.district_admin(altra, email="admin-altra@example.org")
    users[PLATFORM_ADMIN] = f.user("root@example.org", is_platform_admin=True)
    db.session.commit()
    resident = users[RESIDENT]
    assert resident is not None
    booking = book(user=resident, slot_id=slot.id, now=datetime.now(UTC))
    feed_token = issue_feed(db.session, resident)
    db.session.commit()
    other_service.ical_public = True  # its public feed answers (no role's request changes it)
    declaration = db.session.query(BeneficiaryDeclaration).filter_by(user_id=unapproved.id).one()
    news = News(district_id=borgo.id, title="Festa di quartiere", body="In piazza")
    hook = Webhook(district_id=borgo.id, url="https://hooks.example.org/in", secret="s3cret")
    db.session.add_all([news, hook])
    api_token = create_token(db.session, resident, "script", scope="read-write")
    db.session.commit()
    return Scenario(
        users=users,
        org=org,
        other_org=other_org,
        service=service,
        other_service=other_service,
        slot=slot,
        rule=rule,
        closure=closure,
        booking=booking,
        feed_token=feed_token,
        verify_token=make_verify_token(resident),
        reset_token=make_reset_token(resident),
        extra={
            "organisation_id": org.id,
            "declaration_id": declaration.id,
            "news_id": news.id,
            "feed_service_id": other_service.id,
            "hook_id": hook.id,
            "token_id": api_token.token.id if hasattr(api_token, "token") else api_token.id,
            "invitation_token": make_invitation(org, "invited-newcomer@example.org"),
        },
    )
