"""The catalogue pages issue a constant number of SQL statements, whatever the data size."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from core.extensions import db
from core.models import Organisation, Service
from tests.support import catalogue_factories as cf
from tests.support import factories
from tests.support.sql import count_statements


def _grow(organisations: list[Organisation], services: list[Service], up_to: int) -> None:
    """Add services (each with an opening rule and 3 slots) until there are ``up_to``."""
    while len(services) < up_to:
        n = len(services)
        org = organisations[n % len(organisations)]
        service = cf.published(
            org,
            category="test-wellness" if n % 2 else "test-care",
            title_en=f"Service {n:03d}",
            price_cents=0 if n % 3 else 500,
        )
        factories.opening_rule(service, weekday=n % 7)
        for day in range(3):
            cf.free_slot(service, starts_in=timedelta(days=day + 1, hours=n % 5))
        services.append(service)
    cf.commit()


def _statements(client: FlaskClient, path: str) -> int:
    client.get(path)  # warm up: first-request work is not what we measure
    with count_statements(db.engine) as log:
        response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 200, path
    return log.count


def test_pages_issue_a_constant_number_of_statements(client: FlaskClient) -> None:
    organisations = [cf.provider(slug=f"org-{i}", name=f"Org {i}") for i in range(3)]
    services: list[Service] = []
    _grow(organisations, services, 3)
    first = services[0]
    first_id, org_slug = first.id, organisations[0].slug
    paths = [
        "/borgo-test/",
        "/borgo-test/services",
        "/borgo-test/services?q=service&price=free&category=test-care",
        f"/borgo-test/services/{first_id}",
        f"/borgo-test/providers/{org_slug}",
    ]
    small = {path: _statements(client, path) for path in paths}
    for extra in range(27):  # the first service also gets many more slots
        cf.free_slot(first, starts_in=timedelta(days=5, hours=extra))
    _grow(organisations, services, 30)
    large = {path: _statements(client, path) for path in paths}
    assert small == large, (small, large)
    # district row, providers, bounded count, page ids, the 12 services with their providers,
    # their next free times
    assert large["/borgo-test/services"] <= 6, large
    assert large[f"/borgo-test/services/{first_id}"] <= 6, large


def test_count_statements_counts(client: FlaskClient) -> None:
    with count_statements(db.engine) as log:
        db.session.execute(db.select(Service)).all()
        db.session.execute(db.select(Organisation)).all()
    assert log.count == 2
    assert "FROM service" in log.statements[0]
