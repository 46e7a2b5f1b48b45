"""Calendars: a booking's .ics and the private feed, parsed back with icalendar."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from core.booking import calendar_feed
from core.extensions import db
from core.models import Booking, CalendarFeed
from tests.support import factories as f
from tests.support.booking_factories import booking_in
from tests.support.booking_web import borgo_service, logged_in
from tests.support.web import csrf_token

ROME = ZoneInfo("Europe/Rome")
FEED_RE = re.compile(r'id="feed-url"[^>]*value="([^"]+)"')


def events(body: bytes) -> dict[str, object]:
    """The VEVENTs of an iCalendar document, by UID."""
    calendar = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_a_booking_ics_has_the_right_event(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    svc = borgo_service(
        title_en="Pilates", title_it="Pilates base", place_name="Palestra", address="Via Roma 1"
    )
    start = datetime(2031, 6, 10, 7, 30, tzinfo=UTC)  # 09:30 in Rome (summer time)
    booking = booking_in(
        f.slot(svc, starts_at=start, ends_at=start + timedelta(hours=1)), "confirmed", person
    )
    response = client.get(f"/me/bookings/{booking.public_id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = Calendar.from_ical(response.data)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Rome"]
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{booking.public_id}@127.0.0.1"
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTSTART").astimezone(ROME).hour == 9
    assert event["DTSTART"].params["TZID"] == "Europe/Rome"
    assert event.decoded("DTEND") == start + timedelta(hours=1)
    assert str(event["SUMMARY"]) == "Pilates"
    assert str(event["LOCATION"]) == "Palestra – Via Roma 1"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert f"/me/bookings/{booking.public_id}" in str(event["DESCRIPTION"])


def test_the_summary_follows_the_users_language(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client, locale="it")
    svc = borgo_service(title_en="Pilates", title_it="Pilates base")
    booking = booking_in(f.slot(svc), "pending", person)
    [event] = events(client.get(f"/me/bookings/{booking.public_id}.ics").data).values()
    assert str(event["SUMMARY"]) == "Pilates base"
    token = calendar_feed.issue_feed(db.session, person)
    db.session.commit()
    feed = app.test_client().get(f"/calendar/{token}.ics", headers={"Accept-Language": "en"})
    calendar = Calendar.from_ical(feed.data)
    assert str(calendar["X-WR-CALNAME"]) == "Le mie prenotazioni"  # the owner's language
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Pilates base"
    assert str(event["STATUS"]) == "TENTATIVE"
    assert "Dettagli della prenotazione" in str(event["DESCRIPTION"])


def test_times_stay_on_the_wall_clock_across_the_dst_switch(
    app: Flask, client: FlaskClient
) -> None:
    """Rome moves to summer time on Sunday 30 March 2031: 09:00 stays 09:00 either side."""
    person = logged_in(client)
    svc = borgo_service()
    before = datetime(2031, 3, 28, 9, 0, tzinfo=ROME)  # Friday, UTC+1
    after = datetime(2031, 3, 31, 9, 0, tzinfo=ROME)  # Monday, UTC+2
    b1 = booking_in(f.slot(svc, starts_at=before.astimezone(UTC)), "confirmed", person)
    b2 = booking_in(f.slot(svc, starts_at=after.astimezone(UTC)), "confirmed", person)
    for booking, local, utc_hour in ((b1, before, 8), (b2, after, 7)):
        [event] = events(client.get(f"/me/bookings/{booking.public_id}.ics").data).values()
        start = event.decoded("DTSTART")
        assert start.astimezone(UTC).hour == utc_hour
        assert start.astimezone(ROME).replace(tzinfo=None) == local.replace(tzinfo=None)
        assert start == local


def test_cancelled_bookings_download_as_cancelled(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    booking = booking_in(f.slot(borgo_service()), "cancelled", person)
    [event] = events(client.get(f"/me/bookings/{booking.public_id}.ics").data).values()
    assert str(event["STATUS"]) == "CANCELLED"


def feed_url_after(response_html: str) -> str:
    """The one-time feed address on the calendar page."""
    match = FEED_RE.search(response_html)
    assert match, "no feed address on the page"
    return match.group(1)


def test_the_private_feed_lists_live_and_attended_bookings(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    svc = borgo_service()
    live = booking_in(f.slot(svc, starts_in=timedelta(days=2)), "confirmed", person)
    waiting = booking_in(f.slot(svc, starts_in=timedelta(days=3)), "waitlisted", person)
    attended = booking_in(f.slot(svc, starts_in=timedelta(days=-2)), "attended", person)
    cancelled = booking_in(f.slot(svc, starts_in=timedelta(days=4)), "cancelled", person)
    other = booking_in(f.slot(svc, starts_in=timedelta(days=5)), "confirmed")

    assert "Create my calendar address" in client.get("/me/calendar").get_data(as_text=True)
    token = csrf_token(client, "/me/calendar")
    page = client.post("/me/calendar", data={"csrf_token": token}, follow_redirects=True)
    url = feed_url_after(page.get_data(as_text=True))
    path = url.split("localhost", 1)[1]
    assert re.fullmatch(r"/calendar/[A-Za-z0-9_-]{40,}\.ics", path)
    # shown once only
    assert "feed-url" not in client.get("/me/calendar").get_data(as_text=True)

    anonymous = app.test_client()
    response = anonymous.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert str(Calendar.from_ical(response.data)["X-WR-CALNAME"]) == "My bookings"
    uids = set(events(response.data))
    host = "127.0.0.1"
    assert uids == {f"{b.public_id}@{host}" for b in (live, waiting, attended)}
    assert f"{cancelled.public_id}@{host}" not in uids and f"{other.public_id}@{host}" not in uids

    # only the hash is stored
    token_part = path.removeprefix("/calendar/").removesuffix(".ics")
    stored = db.session.scalars(select(CalendarFeed.token_hash)).all()
    assert stored == [calendar_feed.hash_token(token_part)]
    assert token_part not in stored


def test_rotating_and_revoking_the_feed(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    booking_in(f.slot(borgo_service()), "confirmed", person)
    anonymous = app.test_client()

    def new_feed() -> str:
        token = csrf_token(client, "/me/calendar")
        page = client.post("/me/calendar", data={"csrf_token": token}, follow_redirects=True)
        return feed_url_after(page.get_data(as_text=True)).split("localhost", 1)[1]

    first = new_feed()
    assert anonymous.get(first).status_code == 200
    second = new_feed()
    assert second != first
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200

    token = csrf_token(client, "/me/calendar")
    response = client.post("/me/calendar/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert anonymous.get(second).status_code == 404
    assert "You have no calendar address." in client.get("/me/calendar").get_data(as_text=True)


def test_unknown_or_malformed_feed_tokens_are_404(app: Flask, client: FlaskClient) -> None:
    for token in ("x" * 43, "short", "a" * 200, "../etc"):
        assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_feed_actions_need_login_and_csrf(app: Flask, client: FlaskClient) -> None:
    assert client.get("/me/calendar").status_code == 302
    logged_in(client)
    assert client.post("/me/calendar").status_code == 400
    assert db.session.scalars(select(CalendarFeed)).all() == []


def test_the_feed_reads_its_bookings_in_a_constant_number_of_statements(
    app: Flask, client: FlaskClient
) -> None:
    from sqlalchemy import event

    person = logged_in(client)
    for n in range(6):
        svc = borgo_service()
        booking_in(f.slot(svc, starts_in=timedelta(days=n + 1)), "confirmed", person)
    token = calendar_feed.issue_feed(db.session, person)
    db.session.commit()
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(f"/calendar/{token}.ics")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    assert len(events(response.data)) == 6
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 8, selects
    assert db.session.scalar(select(Booking.id).limit(1)) is not None
