"""The catalogue: organisations (providers), their services, opening rules, closures and slots."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.types import UTCDateTime, utcnow

ORGANISATION_KINDS = ("public_body", "cooperative", "company", "association", "business")
SERVICE_STATUSES = ("draft", "pending_approval", "published", "withdrawn")


class Organisation(db.Model):
    """A provider or employer of a district: public body, co-operative, company, local business."""

    __tablename__ = "organisation"
    __table_args__ = (
        UniqueConstraint("district_id", "slug"),
        # A district's providers by status from the index alone (the catalogue's list of
        # suspended providers, the provider drop-down).
        Index("ix_organisation_district_status", "district_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="company")
    alliance_member: Mapped[bool] = mapped_column(Boolean, default=False)
    is_provider: Mapped[bool] = mapped_column(Boolean, default=True)
    size_class: Mapped[str] = mapped_column(String(16), default="")  # micro, small, medium, large
    vat_number: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    email_domain: Mapped[str] = mapped_column(String(120), default="")
    email_domain_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    website: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    description_it: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, suspended
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    services: Mapped[list[Service]] = relationship(back_populates="organisation")


class Service(db.Model):
    """A service a provider offers in a district, with the rules its bookings follow."""

    __tablename__ = "service"
    __table_args__ = (
        # The catalogue's order (title in the reader's language, then id), with and without an
        # area: a page's ids and the bounded counts are read from one of these alone, in order
        # (organisation_id last, to leave out suspended providers without reading the rows).
        Index(
            "ix_service_order_it", "district_id", "status", "sort_title_it", "id", "organisation_id"
        ),
        Index(
            "ix_service_order_en", "district_id", "status", "sort_title_en", "id", "organisation_id"
        ),
        Index(
            "ix_service_area_order_it",
            "district_id",
            "status",
            "category",
            "sort_title_it",
            "id",
            "organisation_id",
        ),
        Index(
            "ix_service_area_order_en",
            "district_id",
            "status",
            "category",
            "sort_title_en",
            "id",
            "organisation_id",
        ),
        # A provider's published services (its page, the provider drop-down's EXISTS).
        Index("ix_service_provider", "organisation_id", "status"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("max_seats_per_booking >= 1", name="seats_per_booking_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))
    service_type: Mapped[str] = mapped_column(String(64), default="")
    slug: Mapped[str] = mapped_column(String(120), default="")
    title_it: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description_it: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    place_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    beneficiary_price_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    beneficiaries_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Booking rules, set by the provider.
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=60)
    max_advance_days: Mapped[int] = mapped_column(Integer, default=60)
    cancel_deadline_minutes: Mapped[int] = mapped_column(Integer, default=120)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    max_seats_per_booking: Mapped[int] = mapped_column(Integer, default=1)
    quota_per_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quota_scope: Mapped[str] = mapped_column(String(16), default="service")  # service, category
    waitlist_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    waitlist_hold_minutes: Mapped[int] = mapped_column(Integer, default=0)  # 0: confirm at once
    ical_public: Mapped[bool] = mapped_column(Boolean, default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The title as the catalogue sorts it, per reader's language (accent-free, case-folded,
    # falling back to the other language); derived on flush by core.catalogue.search.
    sort_title_it: Mapped[str] = mapped_column(String(200), default="")
    sort_title_en: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    organisation: Mapped[Organisation] = relationship(back_populates="services")
    opening_rules: Mapped[list[OpeningRule]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="OpeningRule.weekday"
    )
    closures: Mapped[list[Closure]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="Closure.day"
    )

    def title(self, locale: str) -> str:
        """The title in ``locale``, falling back to the other language."""
        return (
            (self.title_en or self.title_it) if locale == "en" else (self.title_it or self.title_en)
        )

    def description(self, locale: str) -> str:
        """The description in ``locale``, falling back to the other language."""
        if locale == "en":
            return self.description_en or self.description_it
        return self.description_it or self.description_en

    @property
    def is_free(self) -> bool:
        """Whether the service costs nothing."""
        return self.price_cents == 0


class OpeningRule(db.Model):
    """A weekly opening: on ``weekday`` (0 = Monday) from ``start`` to ``end``, local time."""

    __tablename__ = "opening_rule"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("slot_minutes > 0", name="slot_minutes_positive"),
        CheckConstraint("seats > 0", name="seats_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=60)
    seats: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)

    service: Mapped[Service] = relationship(back_populates="opening_rules")


class Closure(db.Model):
    """A day the service is closed (holiday, one-off change), in the district's calendar."""

    __tablename__ = "closure"
    __table_args__ = (UniqueConstraint("service_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    service: Mapped[Service] = relationship(back_populates="closures")


class Slot(db.Model):
    """A bookable time with seats. ``taken`` only moves through the atomic seat claim."""

    __tablename__ = "slot"
    __table_args__ = (
        # One slot per service and start. On PostgreSQL the index also carries what the reports
        # sum (seats offered by the district's slots of a period come from the index alone).
        Index(
            "uq_slot_service_id",
            "service_id",
            "starts_at",
            unique=True,
            postgresql_include=["cancelled", "capacity"],
        ),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_slot_starts_at_service", "starts_at", "service_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16), default="regular")  # regular, event
    title: Mapped[str] = mapped_column(String(200), default="")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)

    service: Mapped[Service] = relationship()

    @property
    def available(self) -> int:
        """Seats still free."""
        return max(self.capacity - self.taken, 0)
