"""The provider's bookings page: staff only, by day and service, actions, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.extensions import db
from core.models import Booking, Organisation, Service, Slot
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.booking_factories import booking_in
from tests.support.web import csrf_token

ROME = ZoneInfo("Europe/Rome")
DAY = date(2031, 5, 14)
URL = "/borgo-test/provider/bookings"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local Rome time on ``day``, as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=ROME).astimezone(UTC)


def staff_client(app: Flask, org: Organisation) -> FlaskClient:
    """A client logged in as a new (English-speaking) staff member of ``org``."""
    client = app.test_client()
    person = f.staff(org, locale="en")
    db.session.commit()
    login_as(client, person)
    return client


def fresh(booking: Booking) -> Booking:
    """The booking re-read from the database."""
    db.session.expire_all()
    row = db.session.scalar(select(Booking).where(Booking.id == booking.id))
    assert row is not None
    return row


@pytest.fixture
def provider(app: Flask) -> dict[str, Any]:
    """An organisation of borgo-test with two services and bookings on DAY and the next day."""
    org = f.organisation(f.district("borgo-test"))
    yoga = f.service(org, category="test-wellness", title_en="Yoga", title_it="Yoga")
    care = f.service(org, category="test-care", title_en="Babysitting", title_it="Baby sitter")
    morning = f.slot(yoga, starts_at=at(DAY, 9), capacity=5)
    evening = f.slot(care, starts_at=at(DAY, 23, 30), capacity=5)  # 21:30 or 22:30 UTC
    tomorrow = f.slot(yoga, starts_at=at(DAY + timedelta(days=1), 0, 30), capacity=5)
    people = [f.user(full_name=n) for n in ("Anna Rossi", '=HYPERLINK("http://x")', "Luca Bianchi")]
    b1 = booking_in(morning, "pending", people[0], applicant_phone="+39 02 1")
    b2 = booking_in(evening, "confirmed", people[1], answers={"child_age": 7})
    b3 = booking_in(tomorrow, "confirmed", people[2])
    db.session.commit()
    return {"org": org, "yoga": yoga, "care": care, "bookings": (b1, b2, b3)}


def test_staff_see_the_days_bookings_with_applicants(app: Flask, provider: dict[str, Any]) -> None:
    client = staff_client(app, provider["org"])
    b1, b2, b3 = provider["bookings"]
    response = client.get(f"{URL}?day={DAY.isoformat()}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert b1.public_id in html and b2.public_id in html
    assert b3.public_id not in html  # 00:30 the next local day, though the same UTC day
    assert "Anna Rossi" in html and "+39 02 1" in html
    assert "child_age: 7" in html
    assert "Pending" in html and "Confirmed" in html

    filtered = client.get(f"{URL}?day={DAY.isoformat()}&service={provider['care'].id}")
    text = filtered.get_data(as_text=True)
    assert b2.public_id in text and b1.public_id not in text


def test_the_default_day_is_today_in_the_district(app: Flask, provider: dict[str, Any]) -> None:
    client = staff_client(app, provider["org"])
    today = datetime.now(ROME).date()
    booking = booking_in(f.slot(provider["yoga"], starts_at=at(today, 12)), "confirmed")
    html = client.get(URL).get_data(as_text=True)
    assert booking.public_id in html
    assert f'value="{today.isoformat()}"' in html


@pytest.mark.parametrize("query", ["day=2031-13-01", "day=yesterday", "service=abc", "service=999"])
def test_bad_filters_are_400(app: Flask, provider: dict[str, Any], query: str) -> None:
    client = staff_client(app, provider["org"])
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    assert client.get(f"{URL}.csv?{query}").status_code == 400


def test_access_is_for_staff_of_the_district_only(app: Flask, provider: dict[str, Any]) -> None:
    anonymous = app.test_client()
    response = anonymous.get(URL)
    assert response.status_code == 302 and "/login" in response.location

    resident = app.test_client()
    person = f.user()
    db.session.commit()
    login_as(resident, person)
    assert resident.get(URL).status_code == 403
    assert resident.get(f"{URL}.csv").status_code == 403

    staff = staff_client(app, provider["org"])
    assert staff.get("/altra-citta/provider/bookings").status_code == 403
    assert staff.get("/nowhere/provider/bookings").status_code == 404


def post_action(client: FlaskClient, district: str, booking: Booking, action: str, **data: str):
    """POST a provider action with a valid CSRF token."""
    token = csrf_token(client, "/")
    return client.post(
        f"/{district}/provider/bookings/{booking.public_id}/{action}",
        data={"csrf_token": token, **data},
    )


def test_approve_and_reject(app: Flask, provider: dict[str, Any]) -> None:
    client = staff_client(app, provider["org"])
    pending = provider["bookings"][0]
    response = post_action(client, "borgo-test", pending, "approve")
    assert response.status_code == 302
    assert f"day={DAY.isoformat()}" in response.location
    assert fresh(pending).status == "confirmed"
    # approving again is refused with the engine's message
    again = post_action(client, "borgo-test", pending, "approve")
    assert again.status_code == 409
    assert "cannot change to that state" in again.get_data(as_text=True)

    other = booking_in(db.session.get(Slot, pending.slot_id), "pending")
    missing = post_action(client, "borgo-test", other, "reject", reason="")
    assert missing.status_code == 422
    assert "Say why you reject the booking." in missing.get_data(as_text=True)
    assert fresh(other).status == "pending"
    done = post_action(client, "borgo-test", other, "reject", reason="Closed for works")
    assert done.status_code == 302
    row = fresh(other)
    assert (row.status, row.cancel_reason) == ("rejected", "Closed for works")


def test_attendance_only_once_the_slot_has_started(app: Flask, provider: dict[str, Any]) -> None:
    client = staff_client(app, provider["org"])
    future = booking_in(f.slot(provider["yoga"], starts_in=timedelta(days=2)), "confirmed")
    early = post_action(client, "borgo-test", future, "attended")
    assert early.status_code == 409
    assert "has not started yet" in early.get_data(as_text=True)
    assert fresh(future).status == "confirmed"

    started = f.slot(provider["yoga"], starts_in=timedelta(hours=-1))
    came = booking_in(started, "confirmed")
    missed = booking_in(started, "confirmed")
    assert post_action(client, "borgo-test", came, "attended").status_code == 302
    assert post_action(client, "borgo-test", missed, "no-show").status_code == 302
    assert (fresh(came).status, fresh(missed).status) == ("attended", "no_show")


def test_actions_are_refused_outside_the_staffs_organisation(
    app: Flask, provider: dict[str, Any]
) -> None:
    pending = provider["bookings"][0]
    other_org = f.organisation(f.district("borgo-test"))
    outsider = staff_client(app, other_org)
    assert post_action(outsider, "borgo-test", pending, "approve").status_code == 403

    resident = app.test_client()
    person = f.user()
    db.session.commit()
    login_as(resident, person)
    assert post_action(resident, "borgo-test", pending, "approve").status_code == 403

    staff = staff_client(app, provider["org"])
    foreign_org = f.organisation(f.district("altra-citta"))
    foreign = booking_in(f.slot(f.service(foreign_org)), "pending")
    assert post_action(staff, "borgo-test", foreign, "approve").status_code == 404
    assert post_action(staff, "altra-citta", foreign, "approve").status_code == 403
    assert fresh(foreign).status == "pending"
    assert fresh(pending).status == "pending"

    no_csrf = staff.post(f"{URL}/{pending.public_id}/approve")
    assert no_csrf.status_code == 400
    assert fresh(pending).status == "pending"


def test_the_csv_export_is_filtered_and_safe(app: Flask, provider: dict[str, Any]) -> None:
    client = staff_client(app, provider["org"])
    b1, b2, _b3 = provider["bookings"]
    response = client.get(f"{URL}.csv?day={DAY.isoformat()}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, *body = rows
    assert header[:4] == ["Date", "Time", "Service", "Name"]
    assert [r[-1] for r in body] == [b1.public_id, b2.public_id]
    assert body[0][:4] == [DAY.isoformat(), "09:00", "Yoga", "Anna Rossi"]
    assert body[1][1] == "23:30"
    assert body[1][3] == '\'=HYPERLINK("http://x")'
    assert body[1][8] == "child_age: 7"
    assert (body[0][7], body[1][7]) == ("Pending", "Confirmed")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)

    only_care = client.get(f"{URL}.csv?day={DAY.isoformat()}&service={provider['care'].id}")
    rows = list(csv.reader(io.StringIO(only_care.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[-1] for r in rows[1:]] == [b2.public_id]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+39 02", "'+39 02"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Anna", "Anna"),
        ("", ""),
        (3, "3"),
    ],
)
def test_csv_cells_are_neutralised(value: object, expected: str) -> None:
    from core.web.provider_bookings import csv_cell

    assert csv_cell(value) == expected


def test_services_of_other_organisations_are_not_listed(
    app: Flask, provider: dict[str, Any]
) -> None:
    other_org = f.organisation(f.district("borgo-test"))
    theirs = f.service(other_org, title_en="Someone else's")
    booking = booking_in(f.slot(theirs, starts_at=at(DAY, 10)), "confirmed")
    client = staff_client(app, provider["org"])
    html = client.get(f"{URL}?day={DAY.isoformat()}").get_data(as_text=True)
    assert booking.public_id not in html
    assert "Someone else" not in html
    assert client.get(f"{URL}?service={theirs.id}").status_code == 400
    assert db.session.scalar(select(Service.id).where(Service.id == theirs.id)) is not None


def test_the_list_reads_in_a_constant_number_of_statements(
    app: Flask, provider: dict[str, Any]
) -> None:
    from sqlalchemy import event

    client = staff_client(app, provider["org"])

    def count_selects() -> int:
        statements: list[str] = []

        def record(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get(f"{URL}?day={DAY.isoformat()}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))

    count_selects()  # the first request also reads the district's row, once per app
    few = count_selects()
    for hour in range(10, 18):
        booking_in(f.slot(provider["yoga"], starts_at=at(DAY, hour)), "confirmed")
    assert count_selects() == few
