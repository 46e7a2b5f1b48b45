"""My bookings: which booking goes in which list, their order, their pages, bad page numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from core.booking import book, generate_slots, regenerate_slots
from core.booking.my_bookings import PAGE_SIZE
from core.extensions import db
from core.models import Booking, Service, Slot, User
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.booking_factories import booking_in
from tests.support.booking_web import borgo_service, logged_in

LINK_RE = re.compile(r'href="/me/bookings/([A-Za-z0-9_-]+)"')
NOW = datetime.now(UTC).replace(microsecond=0)


def lists(client: FlaskClient, query: str = "") -> tuple[list[str], list[str], str]:
    """The public ids of the upcoming list and of the history, in page order, and the page."""
    response = client.get(f"/me/bookings{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    head, tail = html.split('id="past-title"')
    return LINK_RE.findall(head), LINK_RE.findall(tail), html


def many(person: User, svc: Service, days: list[int], status: str) -> list[str]:
    """One booking of ``person`` per slot starting ``days`` from now (one commit); their ids."""
    rows = []
    for n in days:
        slot = f.slot(svc, starts_at=NOW + timedelta(days=n, minutes=7))
        rows.append(
            Booking(
                slot_id=slot.id,
                service_id=svc.id,
                user_id=person.id,
                status=status,
                applicant_email=person.email,
            )
        )
    db.session.add_all(rows)
    db.session.commit()
    return [row.public_id for row in rows]


def test_upcoming_is_live_bookings_not_ended_and_history_the_rest(
    app: Flask, client: FlaskClient
) -> None:
    person = logged_in(client)
    svc = borgo_service()

    def at(starts_in: timedelta, status: str, **fields: object) -> str:
        return booking_in(f.slot(svc, starts_in=starts_in), status, person, **fields).public_id

    upcoming = {
        at(timedelta(days=2), "confirmed"),
        at(timedelta(days=3), "pending"),
        at(timedelta(days=4), "waitlisted"),
        at(timedelta(days=5), "offered", offer_expires_at=NOW + timedelta(hours=1)),
        at(timedelta(minutes=-30), "confirmed"),  # under way: ends in half an hour
    }
    history = {
        at(timedelta(days=6), "cancelled"),  # a cancelled future booking is history
        at(timedelta(days=7), "rejected"),
        at(timedelta(days=-2), "confirmed"),  # ended, never marked by the provider
        at(timedelta(days=-3), "attended"),
        at(timedelta(days=-4), "no_show"),
        at(timedelta(days=-5), "waitlisted"),  # the slot went by while waiting
    }
    shown_upcoming, shown_history, html = lists(client)
    assert set(shown_upcoming) == upcoming
    assert set(shown_history) == history
    for label in ("Place offered", "Rejected", "Did not attend", "Cancelled"):
        assert label in html


def test_upcoming_soonest_first_history_most_recent_first(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client)
    svc = borgo_service()
    [in_5, in_1, in_3] = many(person, svc, [5, 1, 3], "confirmed")
    [ago_10, ago_1] = many(person, svc, [-10, -1], "attended")
    [cancelled_in_20] = many(person, svc, [20], "cancelled")
    upcoming, history, _html = lists(client)
    assert upcoming == [in_1, in_3, in_5]
    assert history == [cancelled_in_20, ago_1, ago_10]  # by the end of the slot, latest first


def test_each_list_is_paged_by_twenty(app: Flask, client: FlaskClient) -> None:
    assert PAGE_SIZE == 20
    person = logged_in(client)
    svc = borgo_service()
    ahead = many(person, svc, list(range(1, 46)), "confirmed")  # soonest first
    past = many(person, svc, list(range(-1, -26, -1)), "attended")  # most recent first

    upcoming, history, html = lists(client)
    assert (upcoming, history) == (ahead[:20], past[:20])
    assert "Bookings 1–20 of 45" in html and "Bookings 1–20 of 25" in html
    assert 'href="/me/bookings?upcoming_page=3#upcoming-title"' in html
    assert "upcoming_page=4" not in html
    assert 'href="/me/bookings?page=2#past-title"' in html
    assert 'aria-current="page"' in html and 'rel="next"' in html

    seen = []
    for number in (1, 2, 3):
        upcoming, history, html = lists(client, f"?upcoming_page={number}&page=2")
        seen += upcoming
        assert history == past[20:]  # the history page stays put
    assert seen == ahead
    assert "Bookings 41–45 of 45" in html and "Bookings 21–25 of 25" in html
    # Each pager keeps the other list's page.
    assert 'href="/me/bookings?upcoming_page=2&amp;page=2#upcoming-title"' in html
    assert 'href="/me/bookings?upcoming_page=3#past-title"' in html


@pytest.mark.parametrize(
    "value", ["0", "-1", "abc", "2.5", "1e3", "", "99999999999999999999", "²", "١", "3", "10001"]
)
def test_a_bad_or_out_of_range_page_shows_the_first_page(
    app: Flask, client: FlaskClient, value: str
) -> None:
    person = logged_in(client)
    svc = borgo_service()
    ahead = many(person, svc, list(range(1, 23)), "pending")  # 2 pages
    past = many(person, svc, list(range(-1, -23, -1)), "cancelled")  # 2 pages
    raw = quote(value)
    for query in (f"?page={raw}", f"?upcoming_page={raw}", f"?upcoming_page={raw}&page={raw}"):
        upcoming, history, _html = lists(client, query)
        assert (upcoming, history) == (ahead[:20], past[:20]), query


def test_a_nul_in_the_page_is_a_clean_answer(app: Flask, client: FlaskClient) -> None:
    logged_in(client)
    assert client.get("/me/bookings?page=%00").status_code in (200, 400)
    assert client.get("/me/bookings?upcoming_page=1%002").status_code in (200, 400)


def test_a_person_sees_only_their_own_bookings_on_every_page(
    app: Flask, client: FlaskClient
) -> None:
    person = logged_in(client)
    other = f.user()
    db.session.commit()
    svc = borgo_service()
    mine = many(person, svc, list(range(1, 23)), "confirmed")
    theirs = many(other, svc, list(range(30, 60)), "confirmed")
    theirs += many(other, svc, list(range(-1, -30, -1)), "attended")
    first, empty_history, html = lists(client)
    second, _history, _html = lists(client, "?upcoming_page=2")
    assert first + second == mine
    assert empty_history == [] and "Your booking history is empty." in html
    assert "Bookings 1–20 of 22" in html
    assert not set(theirs) & set(first + second)

    login_as(client, other)
    upcoming, history, _html = lists(client, "?upcoming_page=2&page=2")
    assert not set(mine) & set(upcoming + history)


def test_the_lists_in_italian(app: Flask, client: FlaskClient) -> None:
    person = logged_in(client, locale="it")
    svc = borgo_service()
    many(person, svc, list(range(-1, -22, -1)), "attended")
    _upcoming, _history, html = lists(client)
    for text in (
        "Prossime",
        "Non hai prenotazioni in programma.",
        "Storico",
        "Prenotazioni 1–20 di 21",
        'aria-label="Pagine dello storico delle prenotazioni"',
        "Pagina successiva",
    ):
        assert text in html, text


def test_the_page_reads_in_the_same_statements_whatever_the_bookings(
    app: Flask, client: FlaskClient
) -> None:
    person = logged_in(client)
    svc = borgo_service()

    def statements(query: str = "") -> int:
        seen: list[str] = []

        def record(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            lists(client, query)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(seen)

    many(person, svc, [1], "confirmed")
    many(person, svc, [-1], "attended")
    few = statements()
    assert few <= 6  # the person, the counts, two pages, the districts
    other_district = f.service(f.organisation(f.district("altrove")))
    db.session.commit()
    many(person, svc, list(range(2, 60)), "confirmed")
    many(person, other_district, list(range(-2, -60, -1)), "attended")
    assert statements() == few
    assert statements("?upcoming_page=3&page=3") == few


def test_the_booking_keeps_a_copy_of_its_slots_times(app: Flask) -> None:
    """The list sorts on the booking's copy of the slot's times: written and kept in step."""
    svc = f.service()
    rule = f.opening_rule(svc, weekday=0, start=time(9), end=time(10), seats=3)
    person, other = f.user(), f.user()
    db.session.commit()
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    generate_slots(svc, start=monday, horizon_days=1)
    slot = db.session.scalar(select(Slot).where(Slot.service_id == svc.id))
    assert slot is not None
    booked = book(user=person, slot_id=slot.id)  # the engine writes the copy
    written = booking_in(slot, "confirmed", other)  # any other insert: filled from the slot
    for row in (booked, written):
        assert (row.slot_starts_at, row.slot_ends_at) == (slot.starts_at, slot.ends_at)

    rule.slot_minutes = 45  # same start, earlier end: the slot is resized
    db.session.commit()
    db.session.refresh(svc)
    assert regenerate_slots(svc, start=monday, horizon_days=1).resized == 1
    db.session.expire_all()
    slot = db.session.get(Slot, slot.id)
    assert slot is not None and slot.ends_at - slot.starts_at == timedelta(minutes=45)
    ends = set(db.session.scalars(select(Booking.slot_ends_at).where(Booking.slot_id == slot.id)))
    assert ends == {slot.ends_at}
