"""All models, imported here so Alembic and the app see every table."""

from core.models.audit import AuditEntry
from core.models.bookings import BOOKING_STATES, LIVE_STATES, Booking
from core.models.calendar import CalendarFeed
from core.models.catalogue import Closure, OpeningRule, Organisation, Service, Slot
from core.models.districts import District
from core.models.news import NEWS_KINDS, News
from core.models.outbox import OutboxMessage
from core.models.tokens import ApiToken
from core.models.types import UTCDateTime, utcnow
from core.models.users import ROLES, BeneficiaryDeclaration, DistrictAdmin, Membership, User
from core.models.webhooks import Webhook, WebhookDelivery

__all__ = [
    "BOOKING_STATES",
    "LIVE_STATES",
    "NEWS_KINDS",
    "ROLES",
    "ApiToken",
    "AuditEntry",
    "BeneficiaryDeclaration",
    "Booking",
    "CalendarFeed",
    "Closure",
    "District",
    "DistrictAdmin",
    "Membership",
    "News",
    "OpeningRule",
    "Organisation",
    "OutboxMessage",
    "Service",
    "Slot",
    "UTCDateTime",
    "User",
    "Webhook",
    "WebhookDelivery",
    "utcnow",
]
