"""The district admin's approval queue: approve, send back with a reason, refusals."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from core.extensions import db
from core.models import AuditEntry
from tests.support import catalogue_factories as cf
from tests.support import factories
from tests.support.auth import login_as
from tests.support.web import submit

EN = {"Accept-Language": "en"}
QUEUE = "/altra-citta/admin/services/pending"


def test_the_queue_lists_pending_services_of_the_district(client: FlaskClient) -> None:
    admin = factories.district_admin(cf.district_row(cf.ALTRA))
    org = cf.provider(cf.ALTRA, name="Coop Uno")
    cf.published(org, title_en="Waiting one", status="pending_approval")
    cf.published(org, title_en="Already out", status="published")
    cf.published(org, title_en="Just a draft", status="draft")
    cf.commit()
    login_as(client, admin)
    html = client.get(QUEUE, headers=EN).get_data(as_text=True)
    assert "Waiting one" in html and "Coop Uno" in html
    assert "Already out" not in html and "Just a draft" not in html
    assert html.count("<h1") == 1 and 'for="s' in html  # the reason field is labelled


def test_empty_queue_says_so(client: FlaskClient) -> None:
    login_as(client, factories.district_admin(cf.district_row(cf.ALTRA)))
    cf.commit()
    assert "No service is waiting for approval." in client.get(QUEUE, headers=EN).get_data(
        as_text=True
    )


def test_approve_publishes(client: FlaskClient) -> None:
    admin = factories.district_admin(cf.district_row(cf.ALTRA))
    service = cf.published(cf.provider(cf.ALTRA), status="pending_approval", published_at=None)
    cf.commit()
    login_as(client, admin)
    path = f"/altra-citta/admin/services/{service.id}/approve"
    response = submit(client, path, {}, page=QUEUE)
    assert response.status_code == 302 and response.headers["Location"] == QUEUE
    db.session.refresh(service)
    assert service.status == "published" and service.published_at is not None
    assert client.get(f"/altra-citta/services/{service.id}").status_code == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "service.approved"))
    assert entry is not None and entry.actor_id == admin.id
    assert submit(client, path, {}, page=QUEUE).status_code == 409  # already published


def test_send_back_needs_a_reason_and_returns_the_service_to_draft(client: FlaskClient) -> None:
    admin = factories.district_admin(cf.district_row(cf.ALTRA))
    org = cf.provider(cf.ALTRA)
    provider_staff = factories.staff(org)
    service = cf.published(org, title_en="To fix", status="pending_approval")
    cf.commit()
    login_as(client, admin)
    path = f"/altra-citta/admin/services/{service.id}/send-back"
    field = f"s{service.id}-reason"
    response = submit(client, path, {field: "  "}, page=QUEUE, headers=EN)
    assert response.status_code == 422
    assert "Tell the provider what to change." in response.get_data(as_text=True)
    response = submit(client, path, {field: "x" * 501}, page=QUEUE, headers=EN)
    assert response.status_code == 422
    db.session.refresh(service)
    assert service.status == "pending_approval"
    response = submit(client, path, {field: "Add <b>prices</b>"}, page=QUEUE)
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.status == "draft"
    assert submit(client, path, {field: "again"}, page=QUEUE).status_code == 409
    login_as(client, provider_staff)
    html = client.get("/altra-citta/provider/", headers=EN).get_data(as_text=True)
    assert "Add &lt;b&gt;prices&lt;/b&gt;" in html


def test_only_admins_of_the_district_may_use_the_queue(client: FlaskClient) -> None:
    service = cf.published(cf.provider(cf.ALTRA), status="pending_approval")
    resident = factories.user()
    staff = factories.staff(cf.provider(cf.ALTRA))
    other_admin = factories.district_admin(cf.district_row(cf.BORGO))
    platform = factories.user(is_platform_admin=True)
    cf.commit()
    approve = f"/altra-citta/admin/services/{service.id}/approve"
    anonymous = client.get(QUEUE)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    for person in (resident, staff, other_admin):
        login_as(client, person)
        assert client.get(QUEUE).status_code == 403
        assert submit(client, approve, {}, page="/").status_code == 403
    db.session.refresh(service)
    assert service.status == "pending_approval"
    login_as(client, platform)
    assert client.get(QUEUE).status_code == 200
    assert submit(client, approve, {}, page=QUEUE).status_code == 302


def test_the_district_menu_shows_each_person_their_areas(client: FlaskClient) -> None:
    borgo = cf.district_row(cf.BORGO)
    staff = factories.staff(cf.provider(cf.BORGO))
    admin = factories.district_admin(borgo)
    cf.commit()
    html = client.get("/borgo-test/services", headers=EN).get_data(as_text=True)
    menu = html.split('aria-label="District menu"')[1].split("</nav>")[0]
    assert 'href="/borgo-test/services" aria-current="page"' in menu
    assert "Provider area" not in menu and "Approvals" not in menu
    login_as(client, staff)
    html = client.get("/borgo-test/", headers=EN).get_data(as_text=True)
    assert 'href="/borgo-test/provider/"' in html and "Approvals" not in html
    assert "Provider area" not in client.get("/altra-citta/", headers=EN).get_data(as_text=True)
    login_as(client, admin)
    html = client.get("/borgo-test/", headers=EN).get_data(as_text=True)
    assert 'href="/borgo-test/admin/services/pending"' in html
    assert "/altra-citta/admin" not in client.get("/altra-citta/", headers=EN).get_data(
        as_text=True
    )
