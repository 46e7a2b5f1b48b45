"""Queueing booking events for webhooks, signing them, and delivering them with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Exists, Select, bindparam, exists, or_, select, update

from core.booking import read_along
from core.booking.events import BookingEvent
from core.extensions import db
from core.models import District, Service, Webhook, WebhookDelivery
from core.models.types import utcnow
from core.models.webhooks import wants
from plugins.webhooks.egress import build_opener

log = logging.getLogger(__name__)

EVENTS = (
    "booking.created",
    "booking.confirmed",
    "booking.pending",
    "booking.waitlisted",
    "booking.offered",
    "booking.cancelled",
    "booking.rejected",
    "booking.attended",
    "booking.no_show",
)
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
LEASE = timedelta(minutes=5)
TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-Concilia-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is the right signature of ``body`` (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, body), header or "")


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` failures: 1, 2, 4 … minutes, ≤ 6 h."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def payload(event: BookingEvent, now: datetime) -> dict[str, Any]:
    """The JSON sent for an event: identifiers and times, no personal data."""
    booking = event.booking
    district = db.session.get(District, booking.service.district_id)
    return {
        "event": event.name,
        "occurred_at": now.isoformat(),
        "booking": {
            "id": booking.public_id,
            "slot_id": booking.slot_id,
            "service_id": booking.service_id,
            "organisation": booking.service.organisation.slug,
            "district": district.slug if district else None,
            "status": event.status,
            "previous_status": event.old,
            "seats": booking.seats,
            "starts_at": booking.slot.starts_at.isoformat(),
            "ends_at": booking.slot.ends_at.isoformat(),
        },
    }


#: The read-along question (:mod:`core.booking.read_along`): does any webhook see the service?
LISTENING = "webhooks.listening"


def _sees_service() -> tuple[ColumnElement[bool], ...]:
    """An active webhook of the service's district, for the whole district or for the
    service's own organisation."""
    return (
        Webhook.district_id == Service.district_id,
        Webhook.active.is_(True),
        or_(Webhook.organisation_id.is_(None), Webhook.organisation_id == Service.organisation_id),
    )


def listening() -> Exists:
    """``EXISTS`` an active webhook that sees the service (correlated to ``Service``)."""
    return exists().where(*_sees_service())


@cache
def _webhooks_of_services() -> Select[tuple[int, int, list[str]]]:
    """(service id, webhook id, its events) of the active webhooks that see each service's
    bookings, built once (parameter ``service_ids``, a list)."""
    return (
        select(Service.id, Webhook.id, Webhook.events)
        .join(Webhook, Webhook.district_id == Service.district_id)
        .where(Service.id.in_(bindparam("service_ids", expanding=True)), *_sees_service())
        .order_by(Webhook.id)
    )


def queue_events(events: Sequence[BookingEvent]) -> int:
    """Add one delivery per active webhook that wants each event; in the caller's transaction.

    A webhook of the whole district (no organisation) gets every booking of the district;
    an organisation's webhook gets its own services' bookings. One statement finds the
    webhooks of every service involved (usually none), unless the booking's first read
    already found that none listens (the read-along question). Returns how many were queued.
    """
    service_ids = sorted({e.booking.service_id for e in events})
    if all(read_along.answer(LISTENING, sid) is False for sid in service_ids):
        return 0  # this transaction's first read found nobody listening
    rows = db.session.execute(_webhooks_of_services(), {"service_ids": service_ids}).all()
    if not rows:
        return 0
    now = utcnow()
    queued = 0
    for e in events:
        wanted = [
            hook_id
            for sid, hook_id, names in rows
            if sid == e.booking.service_id and wants(names, e.name)
        ]
        if not wanted:
            continue
        body = payload(e, now)
        for hook_id in wanted:
            db.session.add(
                WebhookDelivery(
                    webhook_id=hook_id,
                    event=e.name,
                    payload=body,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            queued += 1
    return queued


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Treat redirects as failures: the registered URL must answer itself."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        """Refuse to follow."""
        return None


_OPENERS = {
    public_only: build_opener(_NoRedirect(), public_only=public_only)
    for public_only in (False, True)
}


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (the same at every retry, so the signature is stable)."""
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def post(
    url: str, body: bytes, headers: dict[str, str], *, public_only: bool = True
) -> tuple[int | None, str]:
    """POST ``body``; returns the HTTP status (None if no answer) and an error text.

    ``public_only`` (production): HTTPS to public addresses only, checked when connecting
    (:mod:`plugins.webhooks.egress`).
    """
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENERS[public_only].open(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as error:
        return int(error.code), f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, f"{type(error).__name__}: {reason}"[:500]


@dataclass
class DeliveryReport:
    """What one run did."""

    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take a due delivery for this run (a conditional UPDATE: one runner wins)."""
    result = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def deliver_one(delivery: WebhookDelivery, now: datetime) -> str:
    """Send one delivery and record the outcome; returns the new status."""
    hook = delivery.webhook
    body = body_of(delivery)
    status, error = post(
        hook.url,
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": "Concilia-Webhooks/1.0",
            "X-Concilia-Event": delivery.event,
            "X-Concilia-Delivery": str(delivery.id),
            SIGNATURE_HEADER: sign(hook.secret, body),
        },
        public_only=current_app.config.get("CONCILIA_ENV") == "production",
    )
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = status
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.error = "delivered", ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.error = "failed", error
    else:
        delivery.error = error
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    db.session.commit()
    return delivery.status


def deliver_due(limit: int | None = None, now: datetime | None = None) -> DeliveryReport:
    """Send the deliveries that are due, oldest first; safe to run in parallel."""
    now = now or utcnow()
    query = (
        select(WebhookDelivery.id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            Webhook.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
    )
    if limit:
        query = query.limit(limit)
    report = DeliveryReport()
    for delivery_id in list(db.session.scalars(query)):
        if not _claim(delivery_id, now):
            continue
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            continue
        outcome = deliver_one(delivery, now)
        {"delivered": report.delivered, "failed": report.failed}.get(
            outcome, report.retrying
        ).append(delivery_id)
    return report
