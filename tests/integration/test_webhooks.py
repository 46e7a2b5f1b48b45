"""Webhooks: events queued after booking changes, signed deliveries to a real receiver,
retries with backoff, the delivery log, and the management pages."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.extensions import db
from core.models import Webhook, WebhookDelivery
from plugins.webhooks.delivery import MAX_ATTEMPTS, backoff, deliver_due, verify
from tests.support import factories as f
from tests.support.api import Api, token_for
from tests.support.auth import login_as
from tests.support.booking_web import borgo_service
from tests.support.web import csrf_token
from tests.support.webhooks import receiver


def hook(district: str = "borgo-test", **fields: Any) -> Webhook:
    row = Webhook(
        district_id=f.district(district).id,
        url=fields.pop("url", "http://127.0.0.1:9/hook"),
        secret=fields.pop("secret", "s3cret"),
        **fields,
    )
    db.session.add(row)
    db.session.commit()
    return row


def deliveries(webhook: Webhook) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.id)
        )
    )


def test_booking_events_are_queued_for_the_right_webhooks(client: FlaskClient) -> None:
    svc = borgo_service()
    slot = f.slot(svc)
    person = f.user()
    db.session.commit()
    everything = hook()
    own_org = hook(organisation_id=svc.organisation_id)
    other_org = hook(organisation_id=f.organisation(f.district("borgo-test")).id)
    cancellations = hook(events="booking.cancelled")
    inactive = hook(active=False)
    elsewhere = hook("altra-citta")
    api = Api(client, token_for(person))

    status, booking = api.post("/api/v1/bookings", json={"slot_id": slot.id})
    assert status == 201
    assert [d.event for d in deliveries(everything)] == ["booking.created"]
    assert [d.event for d in deliveries(own_org)] == ["booking.created"]
    for quiet in (other_org, cancellations, inactive, elsewhere):
        assert deliveries(quiet) == []
    sent = deliveries(everything)[0].payload
    assert sent["event"] == "booking.created"
    assert sent["booking"]["id"] == booking["id"]
    assert sent["booking"]["status"] == "confirmed" and sent["booking"]["district"] == "borgo-test"
    assert person.email not in json.dumps(sent)  # no personal data

    assert api.delete(f"/api/v1/bookings/{booking['id']}")[0] == 200
    assert [d.event for d in deliveries(everything)] == ["booking.created", "booking.cancelled"]
    cancelled = deliveries(cancellations)
    assert [d.event for d in cancelled] == ["booking.cancelled"]
    assert cancelled[0].payload["booking"]["previous_status"] == "confirmed"


def test_delivery_is_signed_and_logged(app: Flask) -> None:
    svc = borgo_service()
    slot = f.slot(svc)
    person = f.user()
    db.session.commit()
    with receiver() as rx:
        webhook = hook(url=rx.url, secret="top-secret")
        from core.booking import book

        book(user=person, slot_id=slot.id)
        result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
        assert result.exit_code == 0, result.output
        assert "Delivered 1" in result.output
        assert len(rx.received) == 1
        got = rx.received[0]
    signature = got.headers["X-Concilia-Signature"]
    expected = hmac.new(b"top-secret", got.body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    assert verify("top-secret", got.body, signature) and not verify("other", got.body, signature)
    assert got.headers["X-Concilia-Event"] == "booking.created"
    assert got.headers["Content-Type"] == "application/json"
    assert json.loads(got.body)["booking"]["slot_id"] == slot.id
    [row] = deliveries(webhook)
    assert (row.status, row.attempts, row.response_code, row.error) == ("delivered", 1, 200, "")
    assert got.headers["X-Concilia-Delivery"] == str(row.id)


def _queued(webhook: Webhook, now: datetime) -> WebhookDelivery:
    row = WebhookDelivery(
        webhook_id=webhook.id,
        event="booking.created",
        payload={"event": "booking.created", "booking": {"id": "abc"}},
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_failures_are_retried_with_exponential_backoff(app: Flask) -> None:
    t0 = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
    with receiver(status=500) as rx:
        webhook = hook(url=rx.url)
        row = _queued(webhook, t0)
        report = deliver_due(now=t0)
        assert report.retrying == [row.id]
        db.session.refresh(row)
        assert (row.status, row.attempts, row.response_code) == ("pending", 1, 500)
        assert row.error == "HTTP 500"
        assert row.next_attempt_at == t0 + timedelta(minutes=1)

        assert deliver_due(now=t0 + timedelta(seconds=59)).retrying == []
        assert len(rx.received) == 1
        deliver_due(now=t0 + timedelta(minutes=1))
        db.session.refresh(row)
        assert row.attempts == 2 and row.next_attempt_at == t0 + timedelta(minutes=3)
        assert len(rx.received) == 2
        assert rx.received[0].body == rx.received[1].body  # same bytes, same signature

        rx.status = 204
        assert deliver_due(now=t0 + timedelta(minutes=3)).delivered == [row.id]
        db.session.refresh(row)
        assert (row.status, row.attempts, row.response_code) == ("delivered", 3, 204)
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert backoff(30) == timedelta(hours=6)


def test_unreachable_receiver_gives_up_after_the_last_attempt(app: Flask) -> None:
    t0 = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
    with receiver() as rx:
        closed_url = rx.url
    webhook = hook(url=closed_url)
    row = _queued(webhook, t0)
    row.attempts = MAX_ATTEMPTS - 2
    db.session.commit()
    deliver_due(now=t0)
    db.session.refresh(row)
    assert row.status == "pending" and row.response_code is None
    assert "URLError" in row.error or "Connection" in row.error
    report = deliver_due(now=row.next_attempt_at)
    assert report.failed == [row.id]
    db.session.refresh(row)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert deliver_due(now=t0 + timedelta(days=30)).failed == []


def test_management_pages(client: FlaskClient) -> None:
    district = f.district("borgo-test")
    admin = f.district_admin(district, locale="en")
    org = f.organisation(district, name="Cooperativa Sole")
    staff = f.staff(org, locale="en")
    resident = f.user()
    db.session.commit()
    page = "/borgo-test/webhooks"

    assert client.get(page).status_code == 302  # login first
    login_as(client, resident)
    assert client.get(page).status_code == 403

    login_as(client, admin)
    assert client.get(page).status_code == 200
    token = csrf_token(client, page)
    bad = client.post(page, data={"url": "ftp://x", "owner": "district", "csrf_token": token})
    assert bad.status_code == 422 and "https://" in bad.get_data(as_text=True)
    ok = client.post(
        page,
        data={"url": "https://example.org/in", "owner": "district", "csrf_token": token},
    )
    assert ok.status_code == 302
    district_hook = db.session.scalar(select(Webhook).where(Webhook.organisation_id.is_(None)))
    assert district_hook.events == "*" and len(district_hook.secret) == 64

    login_as(client, staff)
    token = csrf_token(client, page)
    listing = client.get(page).get_data(as_text=True)
    assert "https://example.org/in" not in listing  # the district's hook is not theirs
    forged = client.post(
        page, data={"url": "https://x.org/", "owner": "district", "csrf_token": token}
    )
    assert forged.status_code == 422
    ok = client.post(
        page,
        data={
            "url": "https://provider.example/hook",
            "owner": str(org.id),
            "events": ["booking.created", "booking.cancelled"],
            "csrf_token": token,
        },
    )
    assert ok.status_code == 302
    own = db.session.scalar(select(Webhook).where(Webhook.organisation_id == org.id))
    assert own.events == "booking.created,booking.cancelled"
    _queued(own, datetime.now(UTC))
    listing = client.get(page).get_data(as_text=True)
    assert "https://provider.example/hook" in listing and "Cooperativa Sole" in listing
    assert "data-delivery=" in listing
    delete = f"/borgo-test/webhooks/{district_hook.id}/delete"
    assert client.post(delete, data={"csrf_token": token}).status_code == 404
    own_id = own.id
    own_delete = f"/borgo-test/webhooks/{own_id}/delete"
    assert client.post(own_delete).status_code == 400
    assert client.post(own_delete, data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Webhook, own_id) is None
    assert db.session.scalars(select(WebhookDelivery)).all() == []


def test_personal_area_links_the_webhooks_pages(client: FlaskClient) -> None:
    district = f.district("borgo-test", name="Borgo Test")
    staff = f.staff(f.organisation(district), locale="en")
    resident = f.user(locale="en")
    db.session.commit()
    login_as(client, staff)
    page = client.get("/profile").get_data(as_text=True)
    assert 'href="/borgo-test/webhooks"' in page and "Webhooks of Borgo Test" in page
    login_as(client, resident)
    assert "/webhooks" not in client.get("/profile").get_data(as_text=True)


def test_production_accepts_only_public_https_addresses(app: Flask) -> None:
    from plugins.webhooks.views import url_problem

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert url_problem("http://127.0.0.1:8000/hook", production=False) == ""
        assert url_problem("ftp://example.org/", production=False)
        assert url_problem("https://hooks.example.org/in", production=True) == ""
        for url in (
            "http://hooks.example.org/in",
            "https://127.0.0.1/hook",
            "https://10.0.0.5/hook",
            "https://169.254.169.254/latest",
            "https://[::1]/hook",
            "https://localhost/hook",
            "https://db.internal/hook",
        ):
            assert url_problem(url, production=True), url
