"""Webhooks reach public servers only: the address is checked when connecting (SSRF, DNS
rebinding), not only when the URL is registered."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from core.extensions import db
from core.models import Webhook, WebhookDelivery
from plugins.webhooks.delivery import post
from plugins.webhooks.egress import NotPublic, public_address
from tests.support import factories as f


@contextmanager
def listener() -> Iterator[dict[str, Any]]:
    """A TCP port on 127.0.0.1 that counts the connections it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    state: dict[str, Any] = {"port": server.getsockname()[1], "accepted": 0, "stop": False}

    def serve() -> None:
        while not state["stop"]:
            try:
                conn, _addr = server.accept()
            except OSError:
                continue
            state["accepted"] += 1
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state["stop"] = True
        thread.join(timeout=2)
        server.close()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1", "10.0.0.5", "169.254.169.254"])
def test_names_and_addresses_that_are_not_public_are_refused(host: str) -> None:
    with pytest.raises(NotPublic):
        public_address(host, 443)


def test_a_public_address_is_the_one_connected_to() -> None:
    assert public_address("93.184.215.14", 443) == "93.184.215.14"


def test_a_name_that_resolves_to_this_machine_is_never_connected_to() -> None:
    """The name passed the form's check (it is not an address); at delivery it resolves to
    loopback, as after a DNS change: no connection is made."""
    with listener() as state:
        status, error = post(f"https://localhost:{state['port']}/hook", b"{}", {})
        plain, plain_error = post(f"http://localhost:{state['port']}/hook", b"{}", {})
    assert state["accepted"] == 0
    assert status is None and "not a public address" in error
    assert plain is None and "not an https:// address" in plain_error


def test_production_deliveries_are_checked_and_logged(make_app: Any) -> None:
    app = make_app(CONCILIA_ENV="production")
    with app.app_context(), listener() as state:
        district = f.district("borgo-test")
        db.session.commit()
        hook = Webhook(
            district_id=district.id,
            url=f"https://localhost:{state['port']}/in",
            secret="s",
            events="*",
        )
        db.session.add(hook)
        db.session.flush()
        now = datetime.now(UTC)
        db.session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                event="booking.created",
                payload={},
                next_attempt_at=now,
                created_at=now,
            )
        )
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
        assert result.exit_code == 0, result.output
        delivery = db.session.scalars(db.select(WebhookDelivery)).one()
        assert state["accepted"] == 0
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, None)
    assert "not a public address" in delivery.error
