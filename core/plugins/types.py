"""Dataclasses that hooks return or receive: the contract between the core and its plugins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

TextLike = Any  # a str or a flask_babel LazyString: rendered in the reader's language


@dataclass(frozen=True)
class ServiceType:
    """A kind of service inside a category, e.g. ``babysitting`` in family care."""

    slug: str
    name: TextLike
    description: TextLike = ""


@dataclass(frozen=True)
class Category:
    """A service area contributed by a category plugin.

    ``icon`` is a Bootstrap Italia icon name (``it-…``); ``colour`` a CSS hex colour;
    categories are listed by ``order``, then ``slug``.
    """

    slug: str
    name: TextLike
    description: TextLike
    icon: str = "it-star-outline"
    colour: str = "#0066cc"
    order: int = 100
    service_types: tuple[ServiceType, ...] = ()

    def service_type(self, slug: str) -> ServiceType | None:
        """Return the service type with this slug, or ``None``."""
        return next((t for t in self.service_types if t.slug == slug), None)


@dataclass(frozen=True)
class Branding:
    """How a district looks: its display name, colours and logo (a URL or static path)."""

    name: TextLike
    primary_colour: str = "#0066cc"
    secondary_colour: str = "#5c6f82"
    logo_url: str = ""
    tagline: TextLike = ""


@dataclass(frozen=True)
class BeneficiaryClass:
    """A class of beneficiary a district admits (e.g. VAT-number holders working there)."""

    slug: str
    name: TextLike
    description: TextLike = ""


@dataclass(frozen=True)
class DemoLogin:
    """A demo account that ``make run`` prints so a newcomer can try each role."""

    role: TextLike
    email: str
    password: str


@dataclass(frozen=True)
class DistrictConfig:
    """A district as its config plugin declares it; the database holds its rows."""

    slug: str
    name: TextLike
    municipality: TextLike
    timezone: str = "Europe/Rome"
    locales: tuple[str, ...] = ("it", "en")
    default_locale: str = "it"
    postcodes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    branding: Branding | None = None
    description: TextLike = ""
    area: TextLike = ""
    requires_service_approval: bool = False
    beneficiary_classes: tuple[BeneficiaryClass, ...] = ()
    privacy_notice_version: str = "1"
    #: Retention (GDPR art. 5(1)(e)), applied by ``concilia privacy purge``: bookings are
    #: anonymised this many days after their slot; unconfirmed accounts are deleted, and sent
    #: mails removed from the outbox, this many days after creation (the shortest of all
    #: districts applies to these two, as accounts and mails are not tied to one district).
    retention_booking_days: int = 730
    retention_unverified_account_days: int = 30
    retention_outbox_days: int = 90
    contact_email: str = ""
    demo_logins: tuple[DemoLogin, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


DecisionStatus = Literal["approved", "pending", "rejected"]


@dataclass(frozen=True)
class EligibilityDecision:
    """An eligibility answer: approved, pending (a person decides) or rejected."""

    status: DecisionStatus
    reason: TextLike = ""
    beneficiary_class: str = ""


@dataclass
class BookingRequest:
    """What a resident asks for, handed to ``validate_booking`` before the seat claim."""

    user: Any
    service: Any
    slot: Any
    seats: int
    answers: dict[str, Any] = field(default_factory=dict)
    district: DistrictConfig | None = None
