"""Text written by providers (and by residents, shown to providers) is escaped on every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from core.booking import add_event
from core.extensions import db
from core.models import Closure, OutboxMessage
from tests.security.scenario import DISTRICT_ADMIN, RESIDENT, STAFF, Scenario
from tests.support.auth import login_as
from tests.support.mail import composed

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"{SCRIPT}{IMG}"
RAW_MARKERS = ("<script>alert", "<img src=x", "onerror=alert(1)>")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def poison(scenario: Scenario) -> None:
    """Put the payload in every text field a provider (or a resident) can write."""
    for org in (scenario.org, scenario.other_org):
        org.name = f"Org {PAYLOAD}"
        org.description_it = org.description_en = f"Descrizione {PAYLOAD}"
        org.address = f"Via {PAYLOAD}"
        org.website = f"https://example.org/{IMG}"
    service = scenario.service
    service.title_it = service.title_en = f"Titolo {PAYLOAD}"
    service.description_it = service.description_en = f"Testo {PAYLOAD}\n\nsecondo {PAYLOAD}"
    service.place_name = f"Luogo {PAYLOAD}"
    service.address = f"Indirizzo {PAYLOAD}"
    db.session.add(
        Closure(
            service_id=service.id,
            day=datetime.now(UTC).date() + timedelta(days=5),
            reason=f"Chiuso {PAYLOAD}",
        )
    )
    booking = scenario.booking
    booking.applicant_name = f"Nome {PAYLOAD}"
    booking.applicant_phone = "+39 02 1234"
    booking.answers = {"note": PAYLOAD}
    db.session.commit()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    add_event(service, start, start + timedelta(hours=1), 5, title=f"Evento {PAYLOAD}")
    db.session.commit()


def assert_inert(html: str, where: str) -> None:
    """No raw payload in the page."""
    for marker in RAW_MARKERS:
        assert marker not in html, f"raw {marker!r} on {where}"


@pytest.mark.parametrize("lang", ["it", "en"])
def test_payloads_in_every_provider_text_field_are_rendered_inert(
    app: Flask, scenario: Scenario, lang: str
) -> None:
    poison(scenario)
    service, booking = scenario.service, scenario.booking
    day = booking.slot.starts_at.astimezone(ZoneInfo("Europe/Rome")).date().isoformat()
    pages = {
        None: [
            "/borgo-test/",
            "/borgo-test/services",
            f"/borgo-test/services?q={SCRIPT}",
            f"/borgo-test/services/{service.id}",
            f"/borgo-test/providers/{scenario.org.slug}",
        ],
        RESIDENT: [
            f"/borgo-test/services/{service.id}/book",
            "/me/bookings",
            f"/me/bookings/{booking.public_id}",
        ],
        STAFF: [
            "/borgo-test/provider/",
            f"/borgo-test/provider/services/{service.id}/edit",
            f"/borgo-test/provider/services/{service.id}/schedule",
            f"/borgo-test/provider/bookings?day={day}",
            f"/borgo-test/provider/bookings?day={day}&service={service.id}",
        ],
        DISTRICT_ADMIN: ["/borgo-test/admin/services/pending"],
    }
    escaped_seen = 0
    for role, paths in pages.items():
        client = app.test_client()
        if role is not None:
            user = scenario.users[role]
            assert user is not None
            login_as(client, user)
        for path in paths:
            response = client.get(path, headers={"Accept-Language": lang})
            assert response.status_code == 200, (role, path, response.status_code)
            html = response.get_data(as_text=True)
            assert_inert(html, f"{path} as {role}")
            escaped_seen += ESCAPED in html
    assert escaped_seen >= 10  # the payload really was on the pages, escaped


def test_payloads_are_inert_in_sent_mails_and_csv(app: Flask, scenario: Scenario) -> None:
    poison(scenario)
    from core.booking import approve

    approve(scenario.booking, scenario.users[STAFF])
    mails = [composed(m) for m in db.session.scalars(select(OutboxMessage))]
    assert mails
    for mail in mails:
        assert_inert(mail.body_html, f"mail {mail.kind}")
    client = app.test_client()
    staff = scenario.users[STAFF]
    assert staff is not None
    login_as(client, staff)
    day = scenario.booking.slot.starts_at.astimezone(ZoneInfo("Europe/Rome")).date()
    scenario.booking.applicant_name = '=HYPERLINK("https://evil.example")'
    db.session.commit()
    csv = client.get(f"/borgo-test/provider/bookings.csv?day={day.isoformat()}")
    assert csv.status_code == 200
    text = csv.get_data(as_text=True)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
