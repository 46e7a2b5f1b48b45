"""Read-along questions: plugins ask yes/no questions in the confirmation's first read and
find the answers later in the same transaction, never in another one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import exists, select

from core.booking import book, read_along
from core.booking.events import BookingEvent
from core.extensions import db
from core.models import Booking, Service, Webhook, WebhookDelivery
from core.plugins import hookimpl
from plugins.webhooks.delivery import LISTENING
from tests.integration.test_booking_confirm_cost import database_calls
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.booking_web import borgo_service, confirm, key_of, walk_to_summary
from tests.support.test_plugins import TEST_PLUGINS

QUESTION = "test.popular"


class Popularity:
    """Asks whether the service already has a booking; notes the answer each event finds."""

    PLUGIN_NAME = "test-popularity"

    def __init__(self) -> None:
        self.answers: list[bool | None] = []

    @hookimpl
    def booking_read_along(self) -> dict[str, Any]:
        return {QUESTION: exists().where(Booking.service_id == Service.id)}

    @hookimpl
    def booking_events(self, events: list[BookingEvent]) -> None:
        self.answers += [read_along.answer(QUESTION, e.booking.service_id) for e in events]


def test_hook_booking_read_along(make_app: Any) -> None:
    """The web confirmation asks the question with the service and the plugin gets the
    answer in the booking's transaction; the engine called directly asks nothing (None),
    and no answer outlives its transaction."""
    plugin = Popularity()
    app: Flask = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, plugin])
    with app.app_context():
        svc = borgo_service()
        first, second, third = (f.slot(svc, starts_in=timedelta(days=d)) for d in (2, 3, 4))
        person = f.user(locale="en")
        db.session.commit()
        client = app.test_client()
        login_as(client, person)
        for slot in (first, second):
            assert (
                confirm(client, svc, key_of(walk_to_summary(client, svc, slot))).status_code == 302
            )
        assert plugin.answers == [False, True]  # no booking before the first, one before the second
        assert read_along.answer(QUESTION, svc.id) is None

        book(user=f.user(), slot_id=third.id)  # the API's and the CLI's way: nothing asked
        assert plugin.answers[-1] is None

        read_along.remember(svc.id, {QUESTION: True})  # no transaction: nothing to hold for
        assert read_along.answer(QUESTION, svc.id) is None
        db.session.execute(select(Service.id))  # a transaction begins with a read
        read_along.remember(svc.id, {QUESTION: True})
        assert read_along.answer(QUESTION, svc.id) is True
        db.session.rollback()
        assert read_along.answer(QUESTION, svc.id) is None


def test_a_question_asked_twice_disables_the_second_plugin(make_app: Any) -> None:
    class Copy(Popularity):
        PLUGIN_NAME = "test-popularity-copy"

    app: Flask = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, Popularity(), Copy()])
    host = app.extensions["concilia"]
    assert sorted(host.read_along) == [QUESTION, LISTENING]
    assert len(host.failures) == 1  # one of the two, and the app goes on without it
    assert "'test.popular' is already asked" in next(iter(host.failures.values()))


def test_webhooks_are_looked_up_only_when_one_listens(app: Flask, client: Any) -> None:
    """No webhook sees the service: the confirmation skips the webhooks' lookup. One
    registered while the person was on the summary page still gets the booking's event."""
    person = f.user(locale="en")
    svc = borgo_service()
    quiet, heard = f.slot(svc), f.slot(svc, starts_in=timedelta(days=3))
    db.session.commit()
    login_as(client, person)
    with database_calls() as calls:
        key = key_of(walk_to_summary(client, svc, quiet))
        assert confirm(client, svc, key).status_code == 302
    assert not any("JOIN webhook" in c for c in calls), calls

    summary = walk_to_summary(client, svc, heard)
    hook = Webhook(district_id=svc.district_id, url="http://127.0.0.1:9/hook", secret="s3cret")
    db.session.add(hook)
    db.session.commit()
    with database_calls() as calls:
        assert confirm(client, svc, key_of(summary)).status_code == 302
    assert sum("JOIN webhook" in c for c in calls) == 1, calls
    db.session.expire_all()
    events = db.session.scalars(
        select(WebhookDelivery.event).where(WebhookDelivery.webhook_id == hook.id)
    ).all()
    assert events == ["booking.created"]
    assert LISTENING in app.extensions["concilia"].read_along
