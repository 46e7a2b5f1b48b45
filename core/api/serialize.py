"""Models as the JSON the API returns (the shapes the OpenAPI document describes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm

from core.i18n import locale_code
from core.models import Booking, Organisation, Service, Slot
from core.plugins.types import Category, DistrictConfig


def iso(moment: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC (``2026-11-23T09:00:00+00:00``)."""
    return moment.isoformat() if moment is not None else None


def district_json(config: DistrictConfig) -> dict[str, Any]:
    """A district."""
    return {
        "slug": config.slug,
        "name": str(config.name),
        "municipality": str(config.municipality),
        "timezone": config.timezone,
        "locales": list(config.locales),
        "default_locale": config.default_locale,
    }


def category_json(category: Category) -> dict[str, Any]:
    """A category (area) with its service types."""
    return {
        "slug": category.slug,
        "name": str(category.name),
        "description": str(category.description),
        "service_types": [{"slug": t.slug, "name": str(t.name)} for t in category.service_types],
    }


def organisation_json(organisation: Organisation) -> dict[str, Any]:
    """A provider, as a service shows it."""
    return {"slug": organisation.slug, "name": organisation.name}


def service_json(service: Service, district_slug: str) -> dict[str, Any]:
    """A published service in the reader's language, with its booking rules."""
    locale = locale_code()
    return {
        "id": service.id,
        "district": district_slug,
        "category": service.category,
        "service_type": service.service_type or None,
        "title": service.title(locale),
        "description": service.description(locale),
        "organisation": organisation_json(service.organisation),
        "place_name": service.place_name,
        "address": service.address,
        "postcode": service.postcode,
        "latitude": service.latitude,
        "longitude": service.longitude,
        "price_cents": service.price_cents,
        "beneficiary_price_cents": service.beneficiary_price_cents,
        "beneficiaries_only": service.beneficiaries_only,
        "requires_approval": service.requires_approval,
        "max_seats_per_booking": service.max_seats_per_booking,
        "waitlist_enabled": service.waitlist_enabled,
        "min_notice_minutes": service.min_notice_minutes,
        "max_advance_days": service.max_advance_days,
        "cancel_deadline_minutes": service.cancel_deadline_minutes,
        "ical_public": service.ical_public,
    }


def booking_fields_json(form: FlaskForm, names: list[str]) -> list[dict[str, Any]]:
    """The plugins' extra booking fields of a service: what ``POST /bookings`` must send."""
    fields = []
    for name in names:
        field = form[name]
        entry: dict[str, Any] = {
            "name": name,
            "label": str(field.label.text),
            "type": field.type,
            "required": bool(field.flags.required),
        }
        choices = getattr(field, "choices", None)
        if choices:
            entry["choices"] = [_choice_value(c) for c in choices]
        fields.append(entry)
    return fields


def _choice_value(choice: Any) -> str:
    """The value of a select choice (a WTForms ``SelectChoice``, a pair or a plain value)."""
    if hasattr(choice, "value"):
        return str(choice.value)
    if isinstance(choice, tuple | list):
        return str(choice[0])
    return str(choice)


def slot_json(slot: Slot) -> dict[str, Any]:
    """A slot: when, how many seats and how many are still free."""
    return {
        "id": slot.id,
        "starts_at": iso(slot.starts_at),
        "ends_at": iso(slot.ends_at),
        "capacity": slot.capacity,
        "available": slot.available,
        "kind": slot.kind,
        "title": slot.title,
    }


def booking_json(booking: Booking) -> dict[str, Any]:
    """A booking, addressed by its unguessable public id."""
    return {
        "id": booking.public_id,
        "slot_id": booking.slot_id,
        "service_id": booking.service_id,
        "status": booking.status,
        "seats": booking.seats,
        "starts_at": iso(booking.slot.starts_at),
        "ends_at": iso(booking.slot.ends_at),
        "price_cents": booking.price_cents,
        "answers": dict(booking.answers or {}),
        "applicant": {
            "name": booking.applicant_name,
            "email": booking.applicant_email,
            "phone": booking.applicant_phone,
        },
        "created_at": iso(booking.created_at),
        "updated_at": iso(booking.updated_at),
        "cancelled_by": booking.cancelled_by or None,
        "cancel_reason": booking.cancel_reason or None,
        "offer_expires_at": iso(booking.offer_expires_at),
    }


def base_url() -> str:
    """The public address of the site (no trailing slash)."""
    return str(current_app.config["CONCILIA_BASE_URL"]).rstrip("/")
