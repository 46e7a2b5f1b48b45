"""Districts are tenants: nothing of borgo-test shows in altra-citta, and vice versa."""

from __future__ import annotations

from flask.testing import FlaskClient

from core.extensions import db
from core.models import Membership
from tests.support import catalogue_factories as cf
from tests.support import factories
from tests.support.auth import login_as
from tests.support.web import submit

EN = {"Accept-Language": "en"}


def _two_districts() -> dict[str, dict[str, object]]:
    """The same provider slug and similar services in both districts."""
    made: dict[str, dict[str, object]] = {}
    for district, name in ((cf.BORGO, "Borgo"), (cf.ALTRA, "Altra")):
        org = cf.provider(district, slug="same-slug", name=f"{name} provider")
        service = cf.published(org, title_en=f"{name} yoga", category="test-care")
        pending = cf.published(org, title_en=f"{name} pending", status="pending_approval")
        made[district] = {"org": org, "service": service, "pending": pending}
    cf.commit()
    return made


def test_catalogues_home_and_search_show_only_their_district(client: FlaskClient) -> None:
    _two_districts()
    for mine, theirs in (("Borgo", "Altra"), ("Altra", "Borgo")):
        slug = cf.BORGO if mine == "Borgo" else cf.ALTRA
        html = client.get(f"/{slug}/services", headers=EN).get_data(as_text=True)
        assert f"{mine} yoga" in html and f"{theirs} yoga" not in html
        assert f"{theirs} provider" not in html
        html = client.get(f"/{slug}/services?q={theirs}", headers=EN).get_data(as_text=True)
        assert 'data-total="0"' in html
        html = client.get(f"/{slug}/", headers=EN).get_data(as_text=True)
        assert "1 service<" in html  # its own single published test-care service


def test_service_pages_are_404_across_districts(client: FlaskClient) -> None:
    made = _two_districts()
    borgo_id = made[cf.BORGO]["service"].id  # type: ignore[attr-defined]
    altra_id = made[cf.ALTRA]["service"].id  # type: ignore[attr-defined]
    assert client.get(f"/borgo-test/services/{borgo_id}").status_code == 200
    assert client.get(f"/altra-citta/services/{borgo_id}").status_code == 404
    assert client.get(f"/altra-citta/services/{altra_id}").status_code == 200
    assert client.get(f"/borgo-test/services/{altra_id}").status_code == 404


def test_provider_pages_resolve_the_slug_within_the_district(client: FlaskClient) -> None:
    _two_districts()
    borgo = client.get("/borgo-test/providers/same-slug", headers=EN).get_data(as_text=True)
    altra = client.get("/altra-citta/providers/same-slug", headers=EN).get_data(as_text=True)
    assert "Borgo provider" in borgo and "Altra" not in borgo.split("<main")[1]
    assert "Altra provider" in altra and "Borgo yoga" not in altra
    cf.provider(cf.BORGO, slug="only-borgo")
    cf.commit()
    assert client.get("/altra-citta/providers/only-borgo").status_code == 404


def test_provider_area_is_scoped_to_the_district(client: FlaskClient) -> None:
    made = _two_districts()
    borgo_org = made[cf.BORGO]["org"]
    altra_org = made[cf.ALTRA]["org"]
    person = factories.staff(borgo_org)  # type: ignore[arg-type]
    db.session.add(Membership(user_id=person.id, organisation_id=altra_org.id))  # type: ignore[attr-defined]
    borgo_service = made[cf.BORGO]["service"]
    cf.commit()
    login_as(client, person)
    html = client.get("/altra-citta/provider/", headers=EN).get_data(as_text=True)
    assert "Altra provider" in html and "Borgo provider" not in html
    assert "Borgo yoga" not in html
    # a borgo service addressed through the altra-citta URL: 404, even for its own staff
    sid = borgo_service.id  # type: ignore[attr-defined]
    assert client.get(f"/altra-citta/provider/services/{sid}/edit").status_code == 404
    assert client.get(f"/altra-citta/provider/services/{sid}/schedule").status_code == 404
    page = "/altra-citta/provider/"
    assert (
        submit(client, f"/altra-citta/provider/services/{sid}/withdraw", {}, page=page).status_code
        == 404
    )
    assert client.get(f"/borgo-test/provider/services/{sid}/edit").status_code == 200
    # staff only of borgo: 404 for the altra object, 403 for the altra dashboard
    only_borgo = factories.staff(borgo_org)  # type: ignore[arg-type]
    cf.commit()
    login_as(client, only_borgo)
    assert client.get("/altra-citta/provider/").status_code == 403
    altra_sid = made[cf.ALTRA]["service"].id  # type: ignore[attr-defined]
    assert client.get(f"/borgo-test/provider/services/{altra_sid}/edit").status_code == 404
    assert client.get("/altra-citta/provider/same-slug/services/new").status_code == 403


def test_admin_queues_are_scoped_to_the_district(client: FlaskClient) -> None:
    made = _two_districts()
    borgo_admin = factories.district_admin(cf.district_row(cf.BORGO))
    altra_admin = factories.district_admin(cf.district_row(cf.ALTRA))
    platform = factories.user(is_platform_admin=True)
    cf.commit()
    borgo_pending = made[cf.BORGO]["pending"].id  # type: ignore[attr-defined]
    altra_pending = made[cf.ALTRA]["pending"].id  # type: ignore[attr-defined]
    login_as(client, borgo_admin)
    assert client.get("/altra-citta/admin/services/pending").status_code == 403
    html = client.get("/borgo-test/admin/services/pending", headers=EN).get_data(as_text=True)
    assert "Borgo pending" in html and "Altra pending" not in html
    login_as(client, altra_admin)
    assert client.get("/borgo-test/admin/services/pending").status_code == 403
    page = "/altra-citta/admin/services/pending"
    response = submit(client, f"/altra-citta/admin/services/{borgo_pending}/approve", {}, page=page)
    assert response.status_code == 404
    response = submit(
        client,
        f"/altra-citta/admin/services/{borgo_pending}/send-back",
        {f"s{borgo_pending}-reason": "no"},
        page=page,
    )
    assert response.status_code == 404
    assert made[cf.BORGO]["pending"].status == "pending_approval"  # type: ignore[attr-defined]
    login_as(client, platform)
    html = client.get(page, headers=EN).get_data(as_text=True)
    assert "Altra pending" in html and "Borgo pending" not in html
    response = submit(client, f"/altra-citta/admin/services/{altra_pending}/approve", {}, page=page)
    assert response.status_code == 302
