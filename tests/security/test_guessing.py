"""Nothing is reachable by guessing: bookings, exports, feeds, links, unpublished services."""

from __future__ import annotations

import secrets

from flask import Flask

from core.booking import BookingRefused, book
from core.extensions import db
from tests.security.scenario import (
    OTHER_RESIDENT,
    RESIDENT,
    UNAPPROVED_BENEFICIARY,
    Scenario,
)
from tests.support import catalogue_factories as cf
from tests.support.auth import login_as


def test_guessed_booking_ids_feeds_and_links_are_refused(app: Flask, scenario: Scenario) -> None:
    client = app.test_client()
    other = scenario.users[OTHER_RESIDENT]
    assert other is not None
    login_as(client, other)
    real = scenario.booking.public_id
    guesses = [
        str(scenario.booking.id),
        "1",
        real[:-1],
        real.upper() if real.upper() != real else real.lower(),
        secrets.token_urlsafe(12),
        "../" + real,
    ]
    for guess in [real, *guesses]:
        for suffix in ("", ".ics"):
            assert client.get(f"/me/bookings/{guess}{suffix}").status_code == 404, guess
    anonymous = app.test_client()
    for token in (scenario.feed_token[:-1], secrets.token_urlsafe(32), "a" * 43, "1"):
        assert anonymous.get(f"/calendar/{token}.ics").status_code == 404
    assert anonymous.get(f"/calendar/{scenario.feed_token}.ics").status_code == 200
    for path in ("/verify/", "/password/reset/"):
        assert anonymous.get(path + secrets.token_urlsafe(40)).status_code == 400
    # the export is always the caller's own, whatever is in the query
    data = client.get(f"/me/data.json?user_id={scenario.booking.user_id}").get_json()
    assert data["profile"]["email"] == other.email and data["bookings"] == []


def test_unpublished_services_are_invisible_by_id(app: Flask, scenario: Scenario) -> None:
    draft = cf.published(scenario.org, status="draft", title_en="Secret draft")
    other_district = cf.published(cf.provider(cf.ALTRA))
    db.session.commit()
    client = app.test_client()
    for service_id in (draft.id, other_district.id, 10**6):
        assert client.get(f"/borgo-test/services/{service_id}").status_code == 404
    assert "Secret draft" not in client.get("/borgo-test/services?q=Secret").get_data(as_text=True)


def test_an_unapproved_beneficiary_cannot_book_a_beneficiaries_only_service(
    app: Flask, scenario: Scenario
) -> None:
    service = cf.published(scenario.org, beneficiaries_only=True)
    slot = cf.free_slot(service)
    db.session.commit()
    pending = scenario.users[UNAPPROVED_BENEFICIARY]
    resident = scenario.users[RESIDENT]
    assert pending is not None and resident is not None
    for person in (pending, resident):
        try:
            book(user=person, slot_id=slot.id)
        except BookingRefused as refused:
            db.session.rollback()
            assert refused.codes
        else:
            raise AssertionError(f"{person.email} booked a beneficiaries-only service")
