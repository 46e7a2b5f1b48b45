"""The public catalogue: district home, branding, search and filters, service and provider."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from core.extensions import db
from core.models import Closure
from tests.support import catalogue_factories as cf
from tests.support import factories
from tests.support.pages import card_titles as _titles
from tests.support.pages import html as _html
from tests.support.pages import result_total as _total

EN = {"Accept-Language": "en"}
IT = {"Accept-Language": "it"}


def test_district_home_lists_enabled_areas_with_counts(client: FlaskClient) -> None:
    org = cf.provider()
    for _ in range(3):
        cf.published(org, category="test-wellness")
    cf.published(org, category="test-care")
    cf.published(org, category="test-care", status="draft")
    cf.published(cf.provider(status="suspended"), category="test-care")
    cf.commit()
    html = _html(client, "/borgo-test/", headers=EN)
    assert "<h1" in html and html.count("<h1") == 1
    assert "Borgo Test" in html and "Comune di Prova" in html
    assert html.index("Test wellness") < html.index("Test care")  # registry order
    assert "3 services" in html and "1 service<" in html
    assert 'class="card card-bg h-100 category-card category-test-wellness"' in html
    assert "#it-star-outline" in html  # the area's icon
    assert 'name="q"' in html and "/borgo-test/services?category=test-care" in html
    assert 'data-element="breadcrumb"' in html
    assert "style=" not in html


def test_a_district_shows_only_its_enabled_areas(client: FlaskClient) -> None:
    html = _html(client, "/altra-citta/", headers=EN)
    assert "Test care" in html and "Test wellness" not in html


def test_unknown_district_is_404(client: FlaskClient) -> None:
    assert client.get("/nowhere").status_code == 404
    assert client.get("/borgo-test").status_code == 200  # the slash is optional
    assert client.get("/nowhere/").status_code == 404
    assert client.get("/nowhere/services").status_code == 404
    assert client.get("/nowhere/branding.css").status_code == 404


def test_branding_css_is_cacheable_css_with_colours(client: FlaskClient) -> None:
    response = client.get("/borgo-test/branding.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "public" in response.headers["Cache-Control"]
    css = response.get_data(as_text=True)
    assert "--district-primary: #00573d;" in css
    assert ".category-test-wellness { --category-colour: #00805f; }" in css
    assert ".category-test-care { --category-colour: #a8326b; }" in css
    etag = response.headers["ETag"]
    again = client.get("/borgo-test/branding.css", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert "#7a1f1f" in client.get("/altra-citta/branding.css").get_data(as_text=True)
    link = '<link rel="stylesheet" href="/borgo-test/branding.css">'
    assert link in _html(client, "/borgo-test/")


def test_catalogue_shows_only_published_services_of_active_providers(client: FlaskClient) -> None:
    org = cf.provider()
    cf.published(org, title_en="Visible")
    for status in ("draft", "pending_approval", "withdrawn"):
        cf.published(org, title_en=f"Hidden {status}", status=status)
    cf.published(cf.provider(status="suspended"), title_en="Hidden suspended")
    cf.published(cf.provider(cf.ALTRA), title_en="Hidden elsewhere")
    cf.commit()
    html = _html(client, "/borgo-test/services", headers=EN)
    assert _titles(html) == ["Visible"]
    assert _total(html) == 1
    assert "1 service found" in html


def test_filter_by_area_and_service_type(client: FlaskClient) -> None:
    org = cf.provider()
    cf.published(org, title_en="Yoga A", category="test-wellness", service_type="yoga")
    cf.published(org, title_en="Massage B", category="test-wellness", service_type="massage")
    cf.published(org, title_en="Nanny C", category="test-care", service_type="babysitting")
    cf.commit()
    base = "/borgo-test/services"
    assert _titles(_html(client, f"{base}?category=test-care", headers=EN)) == ["Nanny C"]
    html = _html(client, f"{base}?category=test-wellness", headers=EN)
    assert _titles(html) == ["Massage B", "Yoga A"]
    assert '<option value="test-wellness" selected>' in html
    assert _titles(_html(client, f"{base}?service_type=yoga", headers=EN)) == ["Yoga A"]
    html = _html(client, f"{base}?category=test-care&service_type=yoga", headers=EN)
    assert "does not exist" in html  # a type of another area: ignored, with a message
    assert _titles(html) == ["Nanny C"]
    html = _html(client, f"{base}?category=nope", headers=EN)
    assert "The area you chose does not exist here" in html
    assert _total(html) == 3


def test_filter_by_provider(client: FlaskClient) -> None:
    a = cf.provider(name="Alpha", slug="alpha")
    b = cf.provider(name="Beta", slug="beta")
    cf.published(a, title_en="From Alpha")
    cf.published(b, title_en="From Beta")
    other = cf.provider(cf.ALTRA, name="Gamma", slug="gamma")
    cf.published(other, title_en="From Gamma")
    cf.commit()
    html = _html(client, "/borgo-test/services?provider=beta", headers=EN)
    assert _titles(html) == ["From Beta"]
    assert '<option value="beta" selected>Beta</option>' in html
    assert "Gamma" not in html
    html = _html(client, "/borgo-test/services?provider=gamma", headers=EN)
    assert "The provider you chose does not exist here" in html
    assert _total(html) == 2


def test_filter_by_day_with_free_places(app: Flask, client: FlaskClient) -> None:
    org = cf.provider()
    rome = ZoneInfo("Europe/Rome")
    day = (datetime.now(rome) + timedelta(days=5)).date()
    late_evening = datetime.combine(day, time(23, 30), tzinfo=rome)  # next UTC day in summer
    free = cf.published(org, title_en="Has room")
    full = cf.published(org, title_en="Full")
    cancelled = cf.published(org, title_en="Cancelled")
    other_day = cf.published(org, title_en="Other day")
    cf.free_slot(free, starts_at=late_evening.astimezone(UTC))
    cf.free_slot(full, starts_at=late_evening.astimezone(UTC), capacity=2, taken=2)
    cf.free_slot(cancelled, starts_at=late_evening.astimezone(UTC), cancelled=True)
    cf.free_slot(other_day, starts_at=(late_evening + timedelta(days=1)).astimezone(UTC))
    cf.commit()
    html = _html(client, f"/borgo-test/services?day={day.isoformat()}", headers=EN)
    assert _titles(html) == ["Has room"]
    assert f'value="{day.isoformat()}"' in html
    html = _html(client, "/borgo-test/services?day=31-12-2026", headers=EN)
    assert "The date is not valid" in html and _total(html) == 4
    html = _html(client, "/borgo-test/services?day=2000-01-01", headers=EN)
    assert "The date has passed" in html and _total(html) == 4
    for far in ("9999-12-31", "2999-01-01"):
        html = _html(client, f"/borgo-test/services?day={far}", headers=EN)
        assert "The date is too far ahead" in html and _total(html) == 4


def test_filter_by_price(client: FlaskClient) -> None:
    org = cf.provider()
    cf.published(org, title_en="Free one", price_cents=0)
    cf.published(org, title_en="Discounted", price_cents=1000, beneficiary_price_cents=400)
    cf.published(org, title_en="Same price", price_cents=1000, beneficiary_price_cents=1000)
    cf.published(org, title_en="Full price", price_cents=1000)
    cf.commit()
    base = "/borgo-test/services"
    assert _titles(_html(client, f"{base}?price=free", headers=EN)) == ["Free one"]
    assert _titles(_html(client, f"{base}?price=discounted", headers=EN)) == ["Discounted"]
    html = _html(client, f"{base}?price=cheap", headers=EN)
    assert "The price filter is not valid" in html and _total(html) == 4


def test_free_text_search_in_both_languages_and_provider_names(client: FlaskClient) -> None:
    org = cf.provider(name="Cooperativa Aurora")
    cf.published(org, title_it="Ginnastica per la città", title_en="Gym")
    cf.published(
        cf.provider(name="Other"), title_it="Nuoto", title_en="Swimming", description_en="Pool"
    )
    cf.published(cf.provider(name="Third"), title_it="Caffè 50%_off", title_en="")
    cf.commit()
    base = "/borgo-test/services?q="
    assert _titles(_html(client, base + "CITTA", headers=EN)) == ["Gym"]  # accents, case
    assert _titles(_html(client, base + "città", headers=EN)) == ["Gym"]
    assert _titles(_html(client, base + "pool", headers=EN)) == ["Swimming"]
    assert _titles(_html(client, base + "aurora", headers=EN)) == ["Gym"]
    assert _titles(_html(client, base + "swimming+pool", headers=EN)) == ["Swimming"]
    assert _titles(_html(client, base + "swimming+aurora", headers=EN)) == []
    assert _titles(_html(client, base + "50%25_", headers=EN)) == ["Caffè 50%_off"]
    assert _titles(_html(client, base + "%25", headers=EN)) == ["Caffè 50%_off"]
    html = _html(client, base + "nothing-matches", headers=EN)
    assert "No results" in html and _total(html) == 0


def test_filters_combine_and_stay_in_pagination_links(client: FlaskClient) -> None:
    org = cf.provider()
    for i in range(14):
        cf.published(org, title_en=f"Yoga {i:02d}", price_cents=0, service_type="yoga")
    cf.published(org, title_en="Yoga paid", price_cents=500, service_type="yoga")
    cf.commit()
    path = "/borgo-test/services?q=yoga&price=free&category=test-wellness"
    html = _html(client, path, headers=EN)
    assert _total(html) == 14 and len(_titles(html)) == 12
    assert "page=2" in html and "q=yoga" in html and "price=free" in html
    assert 'aria-label="Pages of results"' in html


def test_pagination_is_stable_and_bounded(client: FlaskClient) -> None:
    org = cf.provider()
    for i in range(27):
        cf.published(org, title_en=f"Service {i:02d}")
    cf.commit()
    base = "/borgo-test/services"
    pages = [_titles(_html(client, f"{base}?page={n}", headers=EN)) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [12, 12, 3]
    flat = [t for p in pages for t in p]
    assert flat == sorted(flat) and len(set(flat)) == 27
    assert _titles(_html(client, f"{base}?page=99", headers=EN)) == pages[2]  # past the end
    for bad in ("0", "-1", "abc", "1e9", "99999999999999999999"):
        assert _titles(_html(client, f"{base}?page={bad}", headers=EN)) == pages[0]
    html = _html(client, f"{base}?page=2", headers=EN)
    assert 'aria-current="page"' in html and 'rel="prev"' in html and 'rel="next"' in html


def test_titles_follow_the_readers_language_with_fallback(client: FlaskClient) -> None:
    org = cf.provider(description_it="Chi siamo", description_en="")
    both = cf.published(org, title_it="Corso di yoga", title_en="Yoga class")
    only_it = cf.published(org, title_it="Solo italiano", title_en="", description_it="Testo")
    only_en = cf.published(org, title_it="", title_en="English only")
    cf.commit()
    en = _html(client, "/borgo-test/services", headers=EN)
    it = _html(client, "/borgo-test/services", headers=IT)
    assert set(_titles(en)) == {"Yoga class", "Solo italiano", "English only"}
    assert set(_titles(it)) == {"Corso di yoga", "Solo italiano", "English only"}
    assert "Yoga class" in _html(client, f"/borgo-test/services/{both.id}", headers=EN)
    assert "Corso di yoga" in _html(client, f"/borgo-test/services/{both.id}", headers=IT)
    html = _html(client, f"/borgo-test/services/{only_it.id}", headers=EN)
    assert "Solo italiano" in html and "Testo" in html
    assert "English only" in _html(client, f"/borgo-test/services/{only_en.id}", headers=IT)
    assert "Chi siamo" in _html(client, f"/borgo-test/providers/{org.slug}", headers=EN)


def test_service_page_shows_everything_a_resident_needs(client: FlaskClient) -> None:
    org = cf.provider(name="Aurora", slug="aurora", alliance_member=True)
    service = cf.published(
        org,
        title_en="Pilates",
        service_type="yoga",
        place_name="Palestra Comunale",
        address="Via Roma 1",
        postcode="10125",
        price_cents=1250,
        beneficiary_price_cents=500,
        min_notice_minutes=24 * 60,
        max_advance_days=30,
        cancel_deadline_minutes=120,
        requires_approval=True,
        max_seats_per_booking=3,
        quota_per_month=4,
        quota_scope="category",
        beneficiaries_only=True,
    )
    factories.opening_rule(service, weekday=2, start=time(9), end=time(12), seats=4)
    factories.opening_rule(service, weekday=0, start=time(15), end=time(17), slot_minutes=30)
    soon = datetime.now(UTC).date() + timedelta(days=3)
    db.session.add(Closure(service_id=service.id, day=soon, reason="Holiday"))
    cf.commit()
    html = _html(client, f"/borgo-test/services/{service.id}", headers=EN)
    assert html.count("<h1") == 1 and "Pilates" in html
    assert 'href="/borgo-test/providers/aurora"' in html and "Alliance member" in html
    assert "Palestra Comunale" in html and "Via Roma 1" in html
    assert "€12.50" in html and "For beneficiaries: €5.00" in html
    for sentence in (
        "Book at least 1 day in advance.",
        "Bookings open 30 days ahead.",
        "You can cancel up to 2 hours before the start.",
        "The provider confirms each booking",
        "You can book up to 3 places at a time.",
        "At most 4 bookings a month in this area, per person.",
        "Reserved to the district",
    ):
        assert sentence in html, sentence
    assert html.index("Monday") < html.index("Wednesday")
    assert "15:00–17:00" in html and "09:00–12:00" in html
    assert "slots of 30 minutes, 2 places each" in html
    assert "Holiday" in html
    assert 'data-element="breadcrumb"' in html
    it_html = _html(client, f"/borgo-test/services/{service.id}", headers=IT)
    assert "Prenota con almeno 1 giorno di anticipo." in it_html
    assert "Lunedì" in it_html


def test_free_service_says_free(client: FlaskClient) -> None:
    service = cf.published(cf.provider(), price_cents=0)
    cf.commit()
    assert "Free" in _html(client, f"/borgo-test/services/{service.id}", headers=EN)
    assert "Gratuito" in _html(client, f"/borgo-test/services/{service.id}", headers=IT)


def test_service_page_lists_the_next_five_free_times(client: FlaskClient) -> None:
    service = cf.published(cf.provider(), min_notice_minutes=60)
    cf.free_slot(service, starts_in=timedelta(minutes=30))  # inside the notice
    cf.free_slot(service, starts_in=-timedelta(hours=2))  # past
    cf.free_slot(service, starts_in=timedelta(days=1), taken=2)  # full
    cf.free_slot(service, starts_in=timedelta(days=1, hours=1), cancelled=True)
    cf.free_slot(service, starts_in=timedelta(days=400))  # beyond the advance window
    expected = [cf.free_slot(service, starts_in=timedelta(days=2 + i)) for i in range(7)]
    cf.commit()
    html = _html(client, f"/borgo-test/services/{service.id}", headers=EN)
    shown = re.findall(r'<time datetime="([^"]+)"', html)
    assert shown == [s.starts_at.isoformat() for s in expected[:5]]
    assert "2 places left" in html


def test_service_without_free_times_says_so(client: FlaskClient) -> None:
    service = cf.published(cf.provider())
    cf.commit()
    assert "No free time at the moment." in _html(
        client, f"/borgo-test/services/{service.id}", headers=EN
    )


def test_book_button_points_at_the_booking_flow_when_it_exists(make_app: object) -> None:
    app = make_app()  # type: ignore[operator]
    if "booking.start" not in app.view_functions:  # until the booking engine is merged
        app.add_url_rule(
            "/<district>/services/<int:service_id>/book",
            endpoint="booking.start",
            view_func=lambda district, service_id: "",
        )
    with app.app_context():
        service = cf.published(cf.provider())
        cf.commit()
        service_id = service.id
    html = app.test_client().get(f"/borgo-test/services/{service_id}").get_data(as_text=True)
    with app.test_request_context():
        from flask import url_for

        target = url_for("booking.start", district="borgo-test", service_id=service_id)
    assert f'href="{target}" data-element="service-booking-access"' in html


def test_without_the_booking_flow_the_page_says_how_to_book(
    app: Flask, client: FlaskClient
) -> None:
    service = cf.published(cf.provider(email="info@aurora.example"))
    cf.commit()
    html = _html(client, f"/borgo-test/services/{service.id}", headers=EN)
    if "booking.start" in app.view_functions:
        assert 'data-element="service-booking-access"' in html
    else:
        assert "To book, contact the provider." in html and "info@aurora.example" in html


def test_unpublished_or_missing_services_are_404(client: FlaskClient) -> None:
    org = cf.provider()
    drafts = [cf.published(org, status=s) for s in ("draft", "pending_approval", "withdrawn")]
    suspended = cf.published(cf.provider(status="suspended"))
    cf.commit()
    for service in [*drafts, suspended]:
        assert client.get(f"/borgo-test/services/{service.id}").status_code == 404
    assert client.get("/borgo-test/services/999999").status_code == 404
    assert client.get("/borgo-test/services/99999999999999999999").status_code == 404


def test_provider_page_shows_details_and_published_services(client: FlaskClient) -> None:
    org = cf.provider(
        name="Aurora",
        slug="aurora",
        kind="cooperative",
        alliance_member=True,
        address="Via Po 2",
        website="https://aurora.example",
        description_en="We care",
    )
    cf.published(org, title_en="Open one")
    cf.published(org, title_en="Draft one", status="draft")
    cf.commit()
    html = _html(client, "/borgo-test/providers/aurora", headers=EN)
    assert html.count("<h1") == 1 and "Aurora" in html and "Co-operative" in html
    assert "Alliance member" in html and "Via Po 2" in html and "We care" in html
    assert 'href="https://aurora.example"' in html
    assert _titles(html) == ["Open one"]
    assert client.get("/borgo-test/providers/nobody").status_code == 404


def test_provider_website_must_be_http(client: FlaskClient) -> None:
    cf.provider(slug="sneaky", website="javascript:alert(1)")
    cf.commit()
    assert "javascript:" not in _html(client, "/borgo-test/providers/sneaky")


def test_suspended_provider_page_is_404(client: FlaskClient) -> None:
    cf.provider(slug="gone", status="suspended")
    cf.commit()
    assert client.get("/borgo-test/providers/gone").status_code == 404


def test_texts_from_providers_are_escaped(client: FlaskClient) -> None:
    payload = "<script>alert(1)</script>"
    org = cf.provider(name=payload, slug="xss", description_en=payload)
    service = cf.published(org, title_en=payload, description_en=payload, place_name=payload)
    cf.commit()
    for path in (
        "/borgo-test/services",
        f"/borgo-test/services/{service.id}",
        "/borgo-test/providers/xss",
        f"/borgo-test/services?q={payload}",
    ):
        html = _html(client, path, headers=EN)
        assert payload not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def test_control_characters_in_the_url_never_reach_the_database(client: FlaskClient) -> None:
    cf.published(cf.provider(slug="aurora"), title_en="Yoga")
    cf.commit()
    for path in (
        "/borgo-test/services?q=yo%00ga",
        "/borgo-test/services?q=%00",
        "/borgo-test/services?provider=a%00b&category=%00&service_type=%00&price=%00&day=%00",
        "/borgo-test/services?page=%00",
    ):
        assert client.get(path).status_code == 200, path
    assert _titles(_html(client, "/borgo-test/services?q=yo%00ga", headers=EN)) == ["Yoga"]
    assert client.get("/borgo-test/providers/a%00b").status_code == 404
    assert client.get("/borgo-test/providers/" + "x" * 81).status_code == 404


def test_each_result_shows_its_next_free_time(client: FlaskClient) -> None:
    org = cf.provider()
    with_slots = cf.published(org, title_en="With slots")
    cf.published(org, title_en="Without slots")
    cf.free_slot(with_slots, starts_in=timedelta(days=1), taken=2)  # full
    cf.free_slot(with_slots, starts_in=-timedelta(days=1))  # past
    soonest = cf.free_slot(with_slots, starts_in=timedelta(days=3))
    cf.free_slot(with_slots, starts_in=timedelta(days=4))
    cf.commit()
    html = _html(client, "/borgo-test/services", headers=EN)
    assert html.count("Next free time:") == 1
    assert f'<time datetime="{soonest.starts_at.isoformat()}">' in html
