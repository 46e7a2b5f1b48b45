"""GDPR: district notices, consent records, data export, account deletion, retention purge."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core.auth.service import register_user
from core.extensions import db
from core.models import (
    AuditEntry,
    BeneficiaryDeclaration,
    Booking,
    CalendarFeed,
    Consent,
    Membership,
    OutboxMessage,
    Slot,
    User,
)
from core.privacy import (
    HEALTH_DATA_MARKER,
    asks_for_health_data,
    export_user_data,
    is_free_text,
    purge,
)
from tests.security.scenario import RESIDENT, STAFF, Scenario
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.booking_web import borgo_service, confirm, key_of, logged_in, walk_to_summary
from tests.support.web import submit

EN = {"Accept-Language": "en"}


def count(model: Any, *where: Any) -> int:
    """Rows of ``model`` matching ``where``, read fresh."""
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- notices and consent ----------------------------------------------------------------------


def test_each_district_has_its_own_privacy_notice(app: Flask, client: FlaskClient) -> None:
    borgo = client.get("/borgo-test/privacy", headers=EN).get_data(as_text=True)
    altra = client.get("/altra-citta/privacy", headers=EN).get_data(as_text=True)
    assert "Privacy notice of Borgo Test" in borgo and "Comune di Prova" in borgo
    assert "Privacy notice of Altra Città" in altra and "Comune di Altrove" in altra
    assert "Version 1" in borgo and "730 days" in borgo
    assert client.get("/nowhere/privacy").status_code == 404
    italian = client.get("/borgo-test/privacy", headers={"Accept-Language": "it"})
    assert "Informativa privacy di Borgo Test" in italian.get_data(as_text=True)


def test_consent_is_recorded_at_sign_up_and_at_booking(app: Flask, client: FlaskClient) -> None:
    user = register_user(
        "new@example.org", "Nina New", "a long Passphrase 42", "en", privacy_consent=True
    )
    assert user is not None
    consent = db.session.scalar(select(Consent).where(Consent.user_id == user.id))
    assert consent is not None and consent.district_slug is None
    assert consent.notice_version == "1" and consent.purpose == "account"
    assert consent.accepted_at.tzinfo is not None
    svc = borgo_service()
    slot = f.slot(svc)
    db.session.commit()
    person = logged_in(client)
    summary = walk_to_summary(client, svc, slot)
    assert 'href="/borgo-test/privacy"' in summary.get_data(as_text=True)
    assert confirm(client, svc, key_of(summary)).status_code == 302
    rows = db.session.scalars(select(Consent).where(Consent.user_id == person.id)).all()
    assert [(c.district_slug, c.purpose, c.notice_version) for c in rows] == [
        ("borgo-test", "booking", "1")
    ]
    assert rows[0].ip == "127.0.0.1"


# --- export -----------------------------------------------------------------------------------


def test_a_resident_downloads_everything_about_them(app: Flask, scenario: Scenario) -> None:
    resident = scenario.users[RESIDENT]
    assert resident is not None
    db.session.add(
        BeneficiaryDeclaration(
            user_id=resident.id,
            district_id=scenario.service.district_id,
            beneficiary_class="resident-worker",
            vat_number="IT123",
        )
    )
    db.session.add(Consent(user_id=resident.id, notice_version="1", ip="10.0.0.1"))
    db.session.add(AuditEntry(action="declaration.approved", subject_user_id=resident.id))
    db.session.commit()
    client = scenario_client(app, scenario, RESIDENT)
    response = client.get("/me/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["email"] == "resident@example.org"
    assert data["bookings"][0]["reference"] == scenario.booking.public_id
    assert data["bookings"][0]["district"] == "borgo-test"
    assert data["beneficiary_declarations"][0]["vat_number"] == "IT123"
    assert data["consents"][0]["ip"] == "10.0.0.1"
    assert data["calendar_feeds"][0]["active"] is True
    assert {"declaration.approved"} <= {a["action"] for a in data["audit"]}
    text = response.get_data(as_text=True)
    assert "password" not in text and scenario.feed_token not in text
    # the download itself is audited; another person's data never appears
    assert count(AuditEntry, AuditEntry.action == "privacy.export") == 1
    other = export_user_data(scenario.users[STAFF])  # type: ignore[arg-type]
    assert other["bookings"] == [] and "resident@example.org" not in json.dumps(other)


def scenario_client(app: Flask, scenario: Scenario, role: str) -> FlaskClient:
    """A client logged in as ``role``."""
    client = app.test_client()
    user = scenario.users[role]
    assert user is not None
    login_as(client, user)
    return client


# --- deletion ---------------------------------------------------------------------------------


def test_deleting_an_account_needs_the_password_and_anonymises_bookings(
    app: Flask, scenario: Scenario
) -> None:
    resident = scenario.users[RESIDENT]
    assert resident is not None
    resident_id, booking_id, slot_id = resident.id, scenario.booking.id, scenario.slot.id
    # a past, attended booking the provider keeps for its records
    past_slot = f.slot(scenario.service, starts_in=timedelta(days=-3))
    past = Booking(
        slot_id=past_slot.id,
        service_id=scenario.service.id,
        user_id=resident_id,
        status="attended",
        applicant_name="Rita Resident",
        applicant_email="resident@example.org",
        applicant_phone="+39 333",
        answers={"child_age": 5},
        rating=5,
        rating_comment="Rita was happy",
    )
    db.session.add(past)
    db.session.add(Membership(user_id=resident_id, organisation_id=scenario.other_org.id))
    db.session.commit()
    past_id = past.id
    client = scenario_client(app, scenario, RESIDENT)
    assert client.get("/me/delete", headers=EN).status_code == 200
    wrong = submit(client, "/me/delete", {"password": "nope", "confirm": "y"}, headers=EN)
    assert wrong.status_code == 403 and "not correct" in wrong.get_data(as_text=True)
    unticked = submit(client, "/me/delete", {"password": f.PASSWORD}, headers=EN)
    assert unticked.status_code == 422
    assert count(User, User.id == resident_id) == 1
    done = submit(client, "/me/delete", {"password": f.PASSWORD, "confirm": "y"}, headers=EN)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert count(User, User.id == resident_id) == 0
    for model in (BeneficiaryDeclaration, Membership, CalendarFeed, Consent):
        assert count(model, model.user_id == resident_id) == 0
    kept = db.session.get(Booking, past_id)
    assert kept is not None and kept.status == "attended" and kept.rating == 5
    assert (kept.user_id, kept.applicant_name, kept.applicant_email, kept.applicant_phone) == (
        None,
        "",
        "",
        "",
    )
    assert kept.answers == {} and kept.rating_comment == ""
    future = db.session.get(Booking, booking_id)
    assert future is not None and future.status == "cancelled" and future.user_id is None
    assert db.session.get(Slot, slot_id).taken == 0  # type: ignore[union-attr]
    assert count(AuditEntry, AuditEntry.action == "account.deleted") == 1
    # the session is over; the feed no longer answers
    assert client.get("/me/bookings").status_code == 302
    assert app.test_client().get(f"/calendar/{scenario.feed_token}.ics").status_code == 404


# --- retention --------------------------------------------------------------------------------


def test_purge_applies_retention_periods(app: Flask, scenario: Scenario) -> None:
    now = datetime.now(UTC)
    old_slot = f.slot(scenario.service, starts_in=timedelta(days=-800))
    recent_slot = f.slot(scenario.service, starts_in=timedelta(days=-10))
    resident = scenario.users[RESIDENT]
    assert resident is not None
    for slot in (old_slot, recent_slot):
        db.session.add(
            Booking(
                slot_id=slot.id,
                service_id=scenario.service.id,
                user_id=resident.id,
                status="attended",
                applicant_name="Rita",
                applicant_email="resident@example.org",
            )
        )
    stale = f.user("stale@example.org", verified=False, created_at=now - timedelta(days=31))
    fresh = f.user("fresh@example.org", verified=False, created_at=now - timedelta(days=2))
    for days, sent in ((100, True), (100, False), (5, True)):
        db.session.add(
            OutboxMessage(
                recipient="x@example.org",
                subject="s",
                body_text="b",
                created_at=now - timedelta(days=days),
                sent_at=now if sent else None,
            )
        )
    db.session.commit()
    stale_id, fresh_id = stale.id, fresh.id
    outbox_before = count(OutboxMessage)
    dry = purge(dry_run=True)
    assert (dry.bookings_anonymised, dry.unverified_accounts_deleted) == (1, 1)
    assert dry.outbox_messages_deleted == 1
    assert count(User, User.id == stale_id) == 1 and count(OutboxMessage) == outbox_before
    report = purge()
    assert (report.bookings_anonymised, report.unverified_accounts_deleted) == (1, 1)
    assert count(Booking, Booking.slot_id == old_slot.id, Booking.user_id.is_(None)) == 1
    assert count(Booking, Booking.slot_id == recent_slot.id, Booking.user_id == resident.id) == 1
    assert count(User, User.id == stale_id) == 0 and count(User, User.id == fresh_id) == 1
    assert count(OutboxMessage) == outbox_before - 1
    again = purge()
    assert (again.bookings_anonymised, again.unverified_accounts_deleted) == (0, 0)


def test_purge_command(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would purge: 0 bookings anonymised" in result.output
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert result.exit_code == 0 and "Purged:" in result.output


# --- health data ------------------------------------------------------------------------------


def test_health_booking_forms_ask_no_free_text_unless_marked(app: Flask) -> None:
    """The health plugin's fields, for every health service type, are closed choices."""
    from wtforms import StringField, TextAreaField

    host = app.extensions["concilia"]
    category = host.categories["health"]
    assert category.service_types
    for service_type in category.service_types:
        service = f.service(category="health", service_type=service_type.slug)
        for answer in host.hook.booking_form_fields(service=service):
            for name, field in answer or ():
                if is_free_text(field):
                    assert asks_for_health_data(field), (service_type.slug, name)
    assert is_free_text(StringField("x")) and is_free_text(TextAreaField("x"))
    assert asks_for_health_data(TextAreaField("x", render_kw=dict(HEALTH_DATA_MARKER)))
    assert not asks_for_health_data(StringField("x"))


def test_a_marked_health_field_is_shown_with_a_warning(make_app: Any) -> None:
    from wtforms import TextAreaField

    from core.plugins import hookimpl
    from tests.support.test_plugins import TEST_PLUGINS

    class AsksSymptoms:
        """A plugin that asks for health details on purpose, marked as such."""

        PLUGIN_NAME = "test-asks-symptoms"

        @hookimpl
        def booking_form_fields(self, service: Any) -> list[tuple[str, Any]]:
            """A marked free-text question."""
            return [("symptoms", TextAreaField("Symptoms", render_kw=dict(HEALTH_DATA_MARKER)))]

    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, AsksSymptoms()])
    with app.app_context():
        client = app.test_client()
        svc = borgo_service()
        slot = f.slot(svc)
        db.session.commit()
        logged_in(client)
        response = submit(client, f"/borgo-test/services/{svc.id}/book", {"slot": str(slot.id)})
        assert response.headers["Location"].endswith("/details")
        page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
        assert 'data-element="health-data-warning"' in page
        assert 'data-sensitive="health"' in page
