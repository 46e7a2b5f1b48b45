"""The district admin's area: organisations, Alliance, domains, suspension, invitations, and
tenancy (an admin of one district sees and changes nothing of another)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from core.admin.invitations import make_token
from core.extensions import db
from core.models import Booking, Membership, News, Organisation, User
from tests.support import admin_factories as af
from tests.support import catalogue_factories as cf
from tests.support import factories as f
from tests.support.auth import login_as
from tests.support.web import csrf_token, submit

BORGO, ALTRA = cf.BORGO, cf.ALTRA
EN = {"Accept-Language": "en"}


def _admin_of(slug: str) -> User:
    user = f.district_admin(cf.district_row(slug))
    db.session.commit()
    return user


def test_admin_registers_edits_and_verifies_an_organisation(app, client: FlaskClient) -> None:
    admin = _admin_of(BORGO)
    login_as(client, admin)
    base = f"/{BORGO}/admin/organisations"
    response = submit(
        client,
        f"{base}/new",
        {
            "name": "Coop Sole",
            "kind": "cooperative",
            "size_class": "small",
            "email_domain": "Sole.Example",
        },
    )
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Coop Sole"))
    assert org is not None and (org.slug, org.email_domain, org.alliance_member) == (
        "coop-sole",
        "sole.example",
        False,
    )
    assert submit(client, f"{base}/new", {"name": "", "kind": "company"}).status_code == 422
    assert (
        submit(
            client, f"{base}/new", {"name": "X", "kind": "company", "email_domain": "no"}
        ).status_code
        == 422
    )

    page = f"{base}/{org.id}"
    submit(client, f"{page}/alliance/add", {}, page=page)
    submit(client, f"{page}/verify-domain", {}, page=page)
    db.session.expire_all()
    assert org.alliance_member and org.email_domain_verified
    # changing the domain needs a new verification
    submit(
        client,
        page,
        {
            "name": "Coop Sole",
            "kind": "cooperative",
            "size_class": "small",
            "email_domain": "new.example",
            "alliance_member": "y",
        },
    )
    db.session.expire_all()
    assert (org.email_domain, org.email_domain_verified, org.alliance_member) == (
        "new.example",
        False,
        True,
    )
    listing = client.get(base, headers=EN).get_data(as_text=True)
    assert "Coop Sole" in listing and "not verified" in listing
    assert af.audit_actions(actor_id=admin.id) == [
        "organisation.create",
        "organisation.alliance",
        "organisation.verify_domain",
        "organisation.update",
    ]


def test_suspension_cancels_only_future_live_bookings_and_mails_residents(app, client) -> None:
    admin = _admin_of(BORGO)
    org = cf.provider(BORGO, name="Palestra Nord")
    other = cf.provider(BORGO, name="Other provider")
    svc = cf.published(org, title_en="Pilates")
    svc_other = cf.published(other, title_en="Yoga")
    future = cf.free_slot(svc, capacity=4)
    past = af.slot_at(svc, datetime.now(UTC) - timedelta(days=3))
    alice = f.user("alice@example.org")
    bob = f.user("bob@example.org")
    carol = f.user("carol@example.org")
    live = af.booking(future, "confirmed", alice)
    waiting = af.booking(future, "waitlisted", bob)
    done = af.booking(past, "attended", carol)
    old_confirmed = af.booking(past, "confirmed", bob)
    elsewhere = af.booking(cf.free_slot(svc_other), "confirmed", carol)
    db.session.commit()
    login_as(client, admin)
    assert "Pilates" in client.get(f"/{BORGO}/services", headers=EN).get_data(as_text=True)

    page = f"/{BORGO}/admin/organisations/{org.id}"
    assert submit(client, f"{page}/suspend", {"reason": ""}, page=page).status_code == 422
    response = submit(client, f"{page}/suspend", {"reason": "Licence expired"}, page=page)
    assert response.status_code == 302
    db.session.expire_all()
    states = {b.id: b.status for b in db.session.scalars(select(Booking))}
    assert states[live.id] == "cancelled" and states[waiting.id] == "cancelled"
    assert states[done.id] == "attended" and states[old_confirmed.id] == "confirmed"
    assert states[elsewhere.id] == "confirmed"
    assert db.session.get(Booking, live.id).cancelled_by == "admin"
    assert len(af.outbox_to("alice@example.org")) == 1 and len(af.outbox_to("bob@example.org")) == 1
    assert af.outbox_to("carol@example.org") == []
    catalogue = client.get(f"/{BORGO}/services", headers=EN).get_data(as_text=True)
    assert "Pilates" not in catalogue and "Yoga" in catalogue
    assert "organisation.suspend" in af.audit_actions(actor_id=admin.id)
    assert submit(client, f"{page}/suspend", {"reason": "again"}, page=page).status_code == 409

    submit(client, f"{page}/reinstate", {}, page=page)
    assert "Pilates" in client.get(f"/{BORGO}/services", headers=EN).get_data(as_text=True)


def _invitation_link(address: str) -> str:
    [mail] = af.outbox_to(address)
    match = re.search(r"https?://\S+/invitations/\S+", mail.body_text)
    assert match
    return "/" + match.group(0).split("/", 3)[3]


def test_invitation_creates_the_account_and_the_membership(app, client) -> None:
    admin = _admin_of(BORGO)
    org = cf.provider(BORGO, name="Coop Luna")
    db.session.commit()
    login_as(client, admin)
    page = f"/{BORGO}/admin/organisations/{org.id}"
    assert (
        submit(client, f"{page}/invite", {"email": "not-an-address"}, page=page).status_code == 422
    )
    assert (
        submit(client, f"{page}/invite", {"email": "New.Staff@Example.org"}, page=page).status_code
        == 302
    )
    path = _invitation_link("new.staff@example.org")

    fresh = app.test_client()
    assert "Create your account" in fresh.get(path, headers=EN).get_data(as_text=True)
    weak = submit(fresh, path, {"full_name": "Nina", "password": "short"})
    assert weak.status_code == 422
    response = submit(
        fresh, path, {"full_name": "Nina Staff", "password": "a long enough passphrase 42"}
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.staff@example.org"))
    assert user is not None and user.is_verified and user.works_for(org.id)
    assert "organisation.invite" in af.audit_actions(actor_id=admin.id)
    assert "organisation.join" in af.audit_actions(actor_id=user.id)


def test_invitation_for_an_existing_account_and_bad_tokens(app, client) -> None:
    org = cf.provider(BORGO)
    other_org = cf.provider(ALTRA)
    person = f.user("staff@example.org")
    stranger = f.user("stranger@example.org")
    db.session.commit()
    token = make_token(org, "staff@example.org")
    anonymous = app.test_client()
    assert "log in to accept" in anonymous.get(
        f"/{BORGO}/invitations/{token}", headers=EN
    ).get_data(as_text=True)

    login_as(client, stranger)
    assert submit(client, f"/{BORGO}/invitations/{token}", {}).status_code == 403
    login_as(client, person)
    assert submit(client, f"/{BORGO}/invitations/{token}", {}).status_code == 302
    assert db.session.scalar(
        select(Membership).filter_by(user_id=person.id, organisation_id=org.id)
    )

    assert client.get(f"/{BORGO}/invitations/{token[:-2]}xx").status_code == 400  # tampered
    assert client.get(f"/{BORGO}/invitations/garbage").status_code == 400
    foreign = make_token(other_org, "staff@example.org")
    assert client.get(f"/{BORGO}/invitations/{foreign}").status_code == 400  # other district


def test_expired_invitation_is_400(app, client) -> None:
    org = cf.provider(BORGO)
    db.session.commit()
    token = make_token(org, "late@example.org", issued_at=datetime.now(UTC) - timedelta(days=8))
    response = client.get(f"/{BORGO}/invitations/{token}", headers=EN)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    fresh = make_token(org, "late@example.org", issued_at=datetime.now(UTC) - timedelta(days=6))
    assert client.get(f"/{BORGO}/invitations/{fresh}").status_code == 200


def test_news_crud_and_district_home(app, client) -> None:
    admin = _admin_of(BORGO)
    _admin_of(ALTRA)
    login_as(client, admin)
    base = f"/{BORGO}/admin/news"
    assert submit(client, f"{base}/new", {"kind": "event", "title": "Open day"}).status_code == 422
    submit(
        client,
        f"{base}/new",
        {
            "kind": "event",
            "title": "Open day",
            "body": "Come!",
            "event_day": "2030-05-04",
            "event_time": "18:30",
            "place": "Piazza",
            "published": "y",
        },
    )
    submit(client, f"{base}/new", {"kind": "news", "title": "Hidden draft"})
    home = client.get(f"/{BORGO}/", headers=EN).get_data(as_text=True)
    assert "Open day" in home and "Piazza" in home and "Hidden draft" not in home
    assert "Open day" not in client.get(f"/{ALTRA}/", headers=EN).get_data(as_text=True)
    item = db.session.scalar(select(News).where(News.title == "Open day"))
    assert item is not None and item.event_at == datetime(2030, 5, 4, 16, 30, tzinfo=UTC)
    submit(
        client, f"{base}/{item.id}", {"kind": "news", "title": "Open day moved", "published": "y"}
    )
    assert "Open day moved" in client.get(f"/{BORGO}/", headers=EN).get_data(as_text=True)
    item_id = item.id
    assert submit(client, f"{base}/{item_id}/delete", {}, page=base).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(News.id).where(News.id == item_id)) is None
    assert af.audit_actions(actor_id=admin.id)[-2:] == ["news.update", "news.delete"]


def test_an_admin_of_one_district_sees_and_changes_nothing_of_another(app, client) -> None:
    borgo_admin = _admin_of(BORGO)
    altra = cf.district_row(ALTRA)
    org = cf.provider(ALTRA)
    resident = f.user()
    declaration = af.declaration(resident, altra.id, beneficiary_class="x")
    item = News(district_id=altra.id, title="Altra news")
    db.session.add(item)
    db.session.commit()
    login_as(client, borgo_admin)
    pages = [
        "/admin/",
        "/admin/beneficiaries",
        f"/admin/beneficiaries/{declaration.id}",
        "/admin/organisations",
        "/admin/organisations/new",
        f"/admin/organisations/{org.id}",
        "/admin/news",
        "/admin/news/new",
        f"/admin/news/{item.id}",
        "/admin/reports",
        "/admin/reports/bookings.csv",
    ]
    for path in pages:
        assert client.get(f"/{ALTRA}{path}").status_code == 403, path
    token = csrf_token(client, f"/{BORGO}/admin/organisations")
    actions = [
        f"/admin/beneficiaries/{declaration.id}/approve",
        f"/admin/beneficiaries/{declaration.id}/reject",
        f"/admin/organisations/{org.id}/alliance/add",
        f"/admin/organisations/{org.id}/verify-domain",
        f"/admin/organisations/{org.id}/suspend",
        f"/admin/organisations/{org.id}/reinstate",
        f"/admin/organisations/{org.id}/invite",
        f"/admin/organisations/{org.id}",
        "/admin/organisations/new",
        f"/admin/news/{item.id}",
        f"/admin/news/{item.id}/delete",
        "/admin/news/new",
    ]
    for path in actions:
        data = {
            "csrf_token": token,
            "reason": "x",
            "email": "a@example.org",
            "name": "X",
            "title": "X",
        }
        assert client.post(f"/{ALTRA}{path}", data=data).status_code == 403, path
    # through its own district's URLs, the other district's objects are not found
    for path in (
        f"/admin/beneficiaries/{declaration.id}",
        f"/admin/organisations/{org.id}",
        f"/admin/news/{item.id}",
    ):
        assert client.get(f"/{BORGO}{path}").status_code == 404, path
    for path in (
        f"/admin/beneficiaries/{declaration.id}/approve",
        f"/admin/organisations/{org.id}/suspend",
    ):
        assert (
            client.post(f"/{BORGO}{path}", data={"csrf_token": token, "reason": "x"}).status_code
            == 404
        )
    db.session.expire_all()
    assert (
        declaration.status == "pending" and org.status == "active" and db.session.get(News, item.id)
    )
    assert client.get(f"/{BORGO}/admin/").status_code == 200
    anonymous = app.test_client()
    assert anonymous.get(f"/{BORGO}/admin/").status_code == 302


def test_personal_area_links_to_the_admin_areas_and_home_to_the_declaration(app, client) -> None:
    admin = _admin_of(BORGO)
    root = f.user(is_platform_admin=True)
    resident = f.user()
    db.session.commit()
    login_as(client, admin)
    profile = client.get("/profile", headers=EN).get_data(as_text=True)
    assert f'href="/{BORGO}/admin/"' in profile and f'href="/{ALTRA}/admin/"' not in profile
    assert 'href="/admin/audit"' not in profile
    login_as(client, root)
    profile = client.get("/profile", headers=EN).get_data(as_text=True)
    assert f'href="/{ALTRA}/admin/"' in profile and 'href="/admin/audit"' in profile
    login_as(client, resident)
    assert 'data-element="admin-area"' not in client.get("/profile").get_data(as_text=True)
    home = client.get(f"/{BORGO}/", headers=EN).get_data(as_text=True)
    assert f'href="/{BORGO}/beneficiary"' in home
    assert f'href="/{ALTRA}/beneficiary"' not in client.get(f"/{ALTRA}/").get_data(as_text=True)
