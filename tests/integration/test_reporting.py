"""Report figures against a hand-built data set, CSV and open-data exports, charts, and the
dashboard's constant number of SQL statements."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from flask.testing import FlaskClient

from core.extensions import db
from core.models import User
from core.reporting import queries
from core.reporting.queries import Period
from tests.support import admin_factories as af
from tests.support import catalogue_factories as cf
from tests.support import factories as f
from tests.support.api import Api, token_for
from tests.support.auth import login_as
from tests.support.sql import count_statements

BORGO, ALTRA = cf.BORGO, cf.ALTRA
EN = {"Accept-Language": "en"}
PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))
QUERY = "start=2026-01-01&end=2026-03-31"


@pytest.fixture
def dataset(app) -> dict[str, object]:
    """Bookings in known months, areas and states; ratings; waiting list; declarations."""
    borgo = cf.district_row(BORGO)
    alpha = cf.provider(BORGO, name="Alpha")
    beta = cf.provider(BORGO, name="Beta")
    yoga = cf.published(alpha, title_en="Yoga", title_it="Yoga", category="test-wellness")
    care = cf.published(beta, title_en="Babysitting", title_it="Baby", category="test-care")
    s1 = af.slot_at(yoga, af.utc(2026, 1, 15), capacity=4)
    s2 = af.slot_at(yoga, af.utc(2026, 2, 15), capacity=2)
    s3 = af.slot_at(care, af.utc(2026, 2, 20), capacity=3)
    af.slot_at(care, af.utc(2026, 3, 10), capacity=2, cancelled=True)
    outside = af.slot_at(yoga, af.utc(2026, 5, 10), capacity=10)
    people = [f.user(f"person{i}@residents.example", full_name=f"Resident {i}") for i in range(6)]
    af.booking(s1, "attended", people[0], rating=5)
    af.booking(s1, "attended", people[1], rating=4)
    af.booking(s1, "no_show", people[2])
    af.booking(s1, "cancelled", people[3], cancelled_by="resident")
    af.booking(s2, "confirmed", people[0])
    af.booking(s2, "confirmed", people[1])
    af.booking(s2, "waitlisted", people[2])
    af.booking(s3, "attended", people[4], seats=2, rating=3)
    af.booking(s3, "cancelled", people[5], cancelled_by="provider")
    af.booking(s3, "pending", people[3])
    af.booking(outside, "confirmed", people[4])
    for person, status, klass in (
        (people[0], "approved", "resident-worker"),
        (people[1], "approved", "resident-worker"),
        (people[2], "pending", "resident-worker"),
        (people[3], "rejected", "other"),
    ):
        af.declaration(
            person, borgo.id, status, beneficiary_class=klass, created_at=af.utc(2026, 1, 10)
        )
    # another district in the same months: never counted
    altra_service = cf.published(cf.provider(ALTRA, name="Gamma"), title_en="Elsewhere")
    af.booking(af.slot_at(altra_service, af.utc(2026, 2, 1)), "attended", people[5], rating=1)
    af.declaration(people[5], cf.district_row(ALTRA).id, "approved")
    db.session.commit()
    return {"district": borgo, "people": people}


def _tables(dataset: dict[str, object]) -> dict[str, queries.Table]:
    return queries.dashboard(db.session, dataset["district"], PERIOD, "en")  # type: ignore[arg-type]


def test_each_figure_against_the_data_set(app, dataset) -> None:
    from flask_babel import force_locale

    with app.test_request_context(headers=EN), force_locale("en"):
        t = _tables(dataset)
    assert t["beneficiaries"].rows == [("other", 0, 0, 1, 1), ("resident-worker", 2, 1, 0, 3)]
    assert t["bookings"].rows == [
        ("2026-01", "Test wellness", 3, 3),
        ("2026-02", "Test care", 2, 3),
        ("2026-02", "Test wellness", 2, 2),
    ]
    assert t["utilisation"].rows == [("Test care", 3, 3, 100.0), ("Test wellness", 6, 5, 83.3)]
    assert t["cancellations"].rows == [("2026-01", 2, 1, 33.3, 1, 0), ("2026-02", 1, 0, 0.0, 0, 1)]
    assert t["waitlist"].rows == [("Test wellness", 1, 1)]
    assert t["top_services"].rows == [
        ("Yoga", "Alpha", "Test wellness", 5),
        ("Babysitting", "Beta", "Test care", 2),
    ]
    assert t["providers"].rows == [("Alpha", "active", 1, 5, 2, 0), ("Beta", "active", 1, 2, 1, 1)]
    assert t["ratings"].rows == [
        ("Test care", 1, 3.0, 0, 0, 1, 0, 0),
        ("Test wellness", 2, 4.5, 0, 0, 0, 1, 1),
    ]


def test_a_shorter_period_counts_only_its_bookings(app, dataset) -> None:
    with app.test_request_context():
        february = queries.bookings_by_area_month(
            db.session, dataset["district"], Period(date(2026, 2, 1), date(2026, 2, 28))
        )
    assert [(row[0], row[2]) for row in february.rows] == [("2026-02", 2), ("2026-02", 2)]


def _admin(client: FlaskClient) -> User:
    admin = f.district_admin(cf.district_row(BORGO))
    db.session.commit()
    login_as(client, admin)
    return admin


def test_dashboard_page_has_charts_tables_and_csv_links(app, client, dataset) -> None:
    _admin(client)
    html = client.get(f"/{BORGO}/admin/reports?{QUERY}", headers=EN).get_data(as_text=True)
    assert html.count('role="img"') == 7
    assert '<title id="chart-bookings-title">Bookings by area and month</title>' in html
    assert '<desc id="chart-utilisation-desc">Test care: 100.0; Test wellness: 83.3</desc>' in html
    assert "<caption>Ratings</caption>" in html and "style=" not in html
    assert '<th scope="row">Resident worker</th>' in html  # the policy's name, not the slug
    for key in (
        "beneficiaries",
        "bookings",
        "utilisation",
        "cancellations",
        "waitlist",
        "top_services",
        "providers",
        "ratings",
    ):
        assert f"/{BORGO}/admin/reports/{key}.csv?start=2026-01-01" in html.replace("&amp;", "&")
    assert client.get(f"/{BORGO}/admin/reports?start=2026-04-01&end=2026-01-01").status_code == 400
    assert client.get(f"/{BORGO}/admin/reports?start=yesterday").status_code == 400
    assert client.get(f"/{BORGO}/admin/reports/nothing.csv").status_code == 404


def test_csv_export_has_headers_rows_and_escapes_formulas(app, client, dataset) -> None:
    _admin(client)
    alpha = db.session.query(User).first()
    assert alpha is not None
    from core.models import Service

    service = db.session.query(Service).filter_by(title_en="Yoga").one()
    service.title_en = '=HYPERLINK("http://evil")'
    db.session.commit()
    response = client.get(f"/{BORGO}/admin/reports/top_services.csv?{QUERY}", headers=EN)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Service", "Provider", "Area", "Bookings"]
    assert rows[1] == ['\'=HYPERLINK("http://evil")', "Alpha", "Test wellness", "5"]
    utilisation = client.get(f"/{BORGO}/admin/reports/utilisation.csv?{QUERY}", headers=EN)
    lines = utilisation.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines == [
        "Area,Seats offered,Seats taken,Utilisation (%)",
        "Test care,3,3,100.0",
        "Test wellness,6,5,83.3",
    ]


def test_open_data_has_aggregates_and_no_personal_data(app, client, dataset) -> None:
    body = client.get(f"/{BORGO}/open-data.json?{QUERY}").get_data(as_text=True)
    payload = json.loads(body)
    assert payload["district"] == BORGO
    assert set(payload["figures"]) == set(queries.OPEN_DATA_KEYS)
    assert {"month": "2026-01", "area": "Test wellness", "bookings": 3, "seats": 3} in payload[
        "figures"
    ]["bookings"]
    text = client.get(f"/{BORGO}/open-data.csv?{QUERY}").get_data(as_text=True)
    assert text.lstrip("\ufeff").startswith("figure,month,area,class,measure,value")
    assert "bookings,2026-01,Test wellness,,bookings,3" in text
    for person in db.session.query(User):
        for output in (body, text):
            assert person.email not in output and person.full_name not in output
    for output in (body, text):
        assert "user_id" not in output and "@" not in output and "Alpha" not in output
    assert client.get(f"/{BORGO}/open-data.json?start=bad").status_code == 400


def test_open_data_withholds_small_counts_and_what_would_reveal_them(app, client, dataset) -> None:
    payload = client.get(f"/{BORGO}/open-data.json?{QUERY}").get_json()
    figures = payload["figures"]
    assert payload["withheld"].startswith("counts from 1 to 2")
    assert {"month": "2026-02", "area": "Test care", "bookings": None, "seats": 3} in figures[
        "bookings"
    ]
    assert {
        "class": "resident-worker",
        "approved": None,
        "pending": None,
        "rejected": 0,
        "total": None,
    } in figures["beneficiaries"]
    care = next(r for r in figures["ratings"] if r["area"] == "Test care")
    assert (care["ratings"], care["average"], care["stars_3"], care["stars_1"]) == (
        None,
        None,
        None,
        0,
    )
    lines = client.get(f"/{BORGO}/open-data.csv?{QUERY}").get_data(as_text=True).splitlines()
    assert "bookings,2026-02,Test care,,bookings," in lines  # an empty cell
    assert "bookings,2026-02,Test care,,seats,3" in lines


def test_open_data_can_publish_every_count(make_app) -> None:
    app = make_app(CONCILIA_OPEN_DATA_MIN_COUNT=1)
    with app.app_context():
        borgo = cf.district_row(BORGO)
        service = cf.published(cf.provider(BORGO, name="Alpha"), category="test-care")
        af.booking(af.slot_at(service, af.utc(2026, 2, 20)), "confirmed", f.user())
        db.session.commit()
        assert borgo.slug == BORGO
    payload = app.test_client().get(f"/{BORGO}/open-data.json?{QUERY}").get_json()
    assert payload["withheld"] == "nothing"
    assert [r["bookings"] for r in payload["figures"]["bookings"]] == [1]


def _csv(client: FlaskClient, key: str, query: str = QUERY) -> list[list[str]]:
    response = client.get(f"/{BORGO}/admin/reports/{key}.csv?{query}", headers=EN)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))[1:]


def test_api_report_and_dashboard_give_the_same_numbers(app, client, dataset) -> None:
    admin = _admin(client)
    status, body = Api(client, token_for(admin)).get(
        f"/api/v1/districts/{BORGO}/report?from=2026-01-01&to=2026-03-31"
    )
    assert status == 200
    names = {"test-care": "Test care", "test-wellness": "Test wellness"}
    assert [
        [names[u["area"]], str(u["capacity"]), str(u["taken"])] for u in body["utilisation"]
    ] == [row[:3] for row in _csv(client, "utilisation")]
    assert [u["rate"] for u in body["utilisation"]] == [1.0, round(5 / 6, 4)]
    cancellations = _csv(client, "cancellations")
    totals = body["totals"]
    assert totals["attended"] == sum(int(row[1]) for row in cancellations) == 3
    assert totals["no_shows"] == sum(int(row[2]) for row in cancellations) == 1
    assert totals["cancellations"] == sum(int(r[4]) + int(r[5]) for r in cancellations) == 2
    served = sum(totals["by_status"].get(s, 0) for s in queries.TAKEN_STATES)
    assert served == sum(int(row[2]) for row in _csv(client, "bookings")) == 7
    assert totals["bookings"] == 10 and totals["by_status"]["waitlisted"] == 1
    assert {(c["area"], c["month"]) for c in body["by_area_month"]} == {
        ("test-wellness", "2026-01"),
        ("test-wellness", "2026-02"),
        ("test-care", "2026-02"),
    }
    assert sum(c["bookings"] for c in body["by_area_month"]) == totals["bookings"]


def test_months_are_the_districts_local_months(app, client) -> None:
    """00:30 on 1 February in Rome is still January in UTC: it counts in February, on the page
    and in the API alike; and a period of February alone leaves January's last evening out."""
    admin = _admin(client)
    yoga = cf.published(cf.provider(BORGO, name="Alpha"), title_en="Yoga", category="test-care")
    first_hour = af.slot_at(yoga, af.utc(2026, 1, 31, 23).replace(minute=30))
    last_evening = af.slot_at(yoga, af.utc(2026, 1, 31, 22).replace(minute=30))  # 23:30 local
    af.booking(first_hour, "confirmed")
    af.booking(last_evening, "confirmed")
    db.session.commit()
    assert _csv(client, "bookings") == [
        ["2026-01", "Test care", "1", "1"],
        ["2026-02", "Test care", "1", "1"],
    ]
    api = Api(client, token_for(admin))
    _status, body = api.get(f"/api/v1/districts/{BORGO}/report?from=2026-01-01&to=2026-03-31")
    assert [(c["month"], c["bookings"]) for c in body["by_area_month"]] == [
        ("2026-01", 1),
        ("2026-02", 1),
    ]
    february = "start=2026-02-01&end=2026-02-28"
    assert _csv(client, "bookings", february) == [["2026-02", "Test care", "1", "1"]]
    _status, body = api.get(f"/api/v1/districts/{BORGO}/report?from=2026-02-01&to=2026-02-28")
    assert body["totals"]["bookings"] == 1


def _grow(n: int) -> None:
    org = cf.provider(BORGO, name=f"Grown {n}")
    for i in range(n):
        svc = cf.published(
            org, title_en=f"Grown service {n}-{i}", category=("test-care", "test-wellness")[i % 2]
        )
        slot = af.slot_at(svc, af.utc(2026, 1 + i % 3, 5 + i), capacity=3)
        for status in ("attended", "no_show", "cancelled", "waitlisted", "confirmed"):
            af.booking(slot, status, rating=(i % 5) + 1 if status == "attended" else None)
        af.declaration(
            f.user(),
            cf.district_row(BORGO).id,
            beneficiary_class=f"class-{i}",
            created_at=af.utc(2026, 1, 1),
        )
    db.session.commit()


def test_dashboard_runs_a_constant_number_of_statements(app, client) -> None:
    _admin(client)
    _grow(1)
    client.get(f"/{BORGO}/admin/reports?{QUERY}")  # reads the district's row, once per app
    with count_statements(db.engine) as small:
        assert client.get(f"/{BORGO}/admin/reports?{QUERY}").status_code == 200
    _grow(12)
    with count_statements(db.engine) as large:
        html = client.get(f"/{BORGO}/admin/reports?{QUERY}", headers=EN).get_data(as_text=True)
    assert "Grown service 12-0" in html or "Grown service 12-1" in html
    assert large.count == small.count, large
    with app.test_request_context():
        district = cf.district_row(BORGO)
        with count_statements(db.engine) as figures:
            queries.dashboard(db.session, district, PERIOD)
    assert figures.count == 6  # cells, seats offered, beneficiaries, waitlist, top, providers
