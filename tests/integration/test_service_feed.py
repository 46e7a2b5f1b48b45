"""The public iCal feed of a service's available times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from icalendar import Calendar

from tests.support import catalogue_factories as cf
from tests.support.booking_factories import booking_in


def feed(client: FlaskClient, service_id: int, district: str = "borgo-test") -> object:
    return client.get(f"/{district}/services/{service_id}/calendar.ics")


def test_feed_lists_available_times_only(client: FlaskClient) -> None:
    svc = cf.published(
        cf.provider(name="Palestra Uno"),
        title_en="Yoga",
        title_it="Yoga",
        ical_public=True,
        place_name="Gym",
    )
    open_slot = cf.free_slot(svc, capacity=3)
    full = cf.free_slot(svc, starts_in=timedelta(days=3), capacity=1)
    cf.free_slot(svc, starts_in=timedelta(days=4), cancelled=True)
    cf.free_slot(svc, starts_in=-timedelta(days=1))
    cf.commit()
    booking_in(full, "confirmed")
    booking_in(open_slot, "confirmed")
    response = feed(client, svc.id)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["uid"]).split("@")[0] for e in events] == [f"slot-{open_slot.id}"]
    event = events[0]
    assert event.decoded("dtstart").astimezone(UTC) == open_slot.starts_at
    assert str(event["dtstart"].params["TZID"]) == "Europe/Rome"
    assert "Palestra Uno" in str(event["description"])
    assert "2" in str(event["description"])  # places available
    assert str(event["url"]).endswith(f"/borgo-test/services/{svc.id}/book")
    assert calendar.walk("VTIMEZONE")
    body = response.get_data(as_text=True)
    assert "@example.org" not in body  # no personal data


def test_feed_is_404_unless_public_and_published(client: FlaskClient) -> None:
    org = cf.provider()
    private = cf.published(org, ical_public=False)
    draft = cf.published(org, ical_public=True, status="draft")
    public = cf.published(org, ical_public=True)
    suspended = cf.published(cf.provider(status="suspended"), ical_public=True)
    cf.commit()
    for svc in (private, draft, suspended):
        assert feed(client, svc.id).status_code == 404
    assert feed(client, public.id).status_code == 200
    assert feed(client, public.id, "altra-citta").status_code == 404
    assert feed(client, 99999999999).status_code == 404


def test_empty_feed_is_a_valid_calendar(client: FlaskClient) -> None:
    svc = cf.published(cf.provider(), ical_public=True)
    cf.free_slot(svc, starts_at=datetime.now(UTC) + timedelta(days=400))  # beyond the window
    cf.commit()
    response = feed(client, svc.id)
    assert response.status_code == 200
    assert Calendar.from_ical(response.data).walk("VEVENT") == []
