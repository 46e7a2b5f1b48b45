"""The Isola-Garibaldi district plugin: its config, branding, demo data and footer credit."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, render_template_string
from sqlalchemy import func, select

from core.auth.passwords import verify_password
from core.extensions import db
from core.models import (
    BeneficiaryDeclaration,
    Closure,
    DistrictAdmin,
    Membership,
    OpeningRule,
    Organisation,
    Service,
    Slot,
    User,
)
from core.plugins import hookimpl
from districts.isola_garibaldi.config import LOGO_URL
from tests.support.test_plugins import TEST_PLUGINS

TABLES = [
    Organisation,
    Service,
    OpeningRule,
    Closure,
    User,
    Membership,
    DistrictAdmin,
    BeneficiaryDeclaration,
    Slot,
]


def test_isola_config(app: Flask) -> None:
    isola = app.extensions["concilia"].districts["isola-garibaldi"]
    assert isola.name == "Isola-Garibaldi"
    assert isola.municipality == "Comune di Milano"
    assert isola.area == "Municipio 9 · NIL Isola, Garibaldi Repubblica"
    assert isola.timezone == "Europe/Rome"
    assert isola.locales == ("it", "en")
    assert isola.postcodes == ("20159", "20124")
    assert isola.categories == ("health", "family", "leisure", "work")
    assert [c.slug for c in isola.beneficiary_classes] == [
        "vat-holder",
        "district-sme-employee",
        "alliance-employee",
    ]
    assert len(isola.demo_logins) == 4
    assert all(len(login.password) >= 10 for login in isola.demo_logins)


def test_isola_and_the_test_districts_coexist(app: Flask) -> None:
    host = app.extensions["concilia"]
    districts = host.districts
    assert {"isola-garibaldi", "borgo-test", "altra-citta"} <= set(districts)
    isola, borgo, altra = (districts[s] for s in ("isola-garibaldi", "borgo-test", "altra-citta"))
    assert set(isola.categories).isdisjoint(borgo.categories)
    assert set(isola.categories).isdisjoint(altra.categories)
    assert set(isola.postcodes).isdisjoint(set(borgo.postcodes) | set(altra.postcodes))
    for config in (isola, borgo, altra):
        assert set(config.categories) <= set(host.categories), config.slug
    assert not host.failures


def test_the_logo_is_served_by_the_district_blueprint(client: Any) -> None:
    response = client.get(LOGO_URL)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data


class _DistrictPage:
    """A page under ``/<district>/`` rendering the base layout, so the footer can be checked."""

    PLUGIN_NAME = "test-district-page"

    @hookimpl
    def register_blueprints(self, app: Flask) -> list[Blueprint]:
        bp = Blueprint("test_district_page", __name__)

        @bp.get("/<district>/test-page")
        def page(district: str) -> str:
            return render_template_string('{% extends "base.html" %}')

        return [bp]


def test_district_pages_credit_the_open_data_and_show_the_logo(make_app: Any) -> None:
    app = make_app(CONCILIA_EXTRA_PLUGINS=[*TEST_PLUGINS, _DistrictPage()])
    client = app.test_client()
    isola = client.get("/isola-garibaldi/test-page", headers={"Accept-Language": "it"})
    text = isola.get_data(as_text=True)
    assert "Dati sugli impianti sportivi: Comune di Milano" in text
    assert f'src="{LOGO_URL}"' in text
    borgo = client.get("/borgo-test/test-page").get_data(as_text=True)
    assert "Comune di Milano, open data" not in borgo and "impianti sportivi" not in borgo


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in TABLES
    }


def test_demo_load_is_idempotent_and_complete(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "  organisations 40/40" in first.output
    db.session.expire_all()
    before = _counts()
    stamps = db.session.execute(select(Service.id, Service.updated_at).order_by(Service.id)).all()

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert _counts() == before
    assert db.session.execute(
        select(Service.id, Service.updated_at).order_by(Service.id)
    ).all() == (stamps)

    assert before["Organisation"] >= 38
    # the booking engine generates regular slots from the opening rules; the demo adds only
    # its history (past slots) and a few evening events (districts/isola_garibaldi/demo_history)
    assert not db.session.scalar(
        select(Slot.id).where(Slot.kind == "regular", Slot.starts_at > datetime.now(UTC)).limit(1)
    )
    services = db.session.scalars(select(Service)).all()
    assert len(services) >= 40
    per_area = Counter(s.category for s in services)
    assert set(per_area) == {"health", "family", "leisure", "work"}
    assert min(per_area.values()) >= 10
    assert all(s.status == "published" and s.title_it and s.title_en for s in services)
    assert all(s.description_it and s.description_en and s.address for s in services)
    assert any(s.price_cents == 0 for s in services)
    assert any(s.beneficiary_price_cents is not None for s in services)
    assert any(s.beneficiaries_only for s in services)
    assert any(s.requires_approval for s in services)
    assert any(s.quota_per_month for s in services)
    assert all(s.max_seats_per_booking > 1 for s in services if s.service_type == "meeting-room")
    assert all(s.opening_rules for s in services)
    places = {s.place_name for s in services}
    assert {"Centro Sportivo Murat", "Piscina Cozzi", "Stecca3"} <= places
    murat = next(s for s in services if s.place_name == "Centro Sportivo Murat")
    assert murat.address == "Via Dino Villani 2, Milano" and murat.postcode == "20159"
    assert murat.latitude and murat.longitude
    host = app.extensions["concilia"]
    for s in services:
        assert host.categories[s.category].service_type(s.service_type), s.slug

    orgs = db.session.scalars(select(Organisation)).all()
    names = {o.name for o in orgs}
    assert {"Comune di Milano", "Municipio 9", "ATS Città Metropolitana di Milano"} <= names
    assert sum(o.alliance_member for o in orgs) >= 20
    assert {o.kind for o in orgs} >= {"public_body", "cooperative", "association", "company"}


def test_demo_logins_authenticate_with_their_roles(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    config = app.extensions["concilia"].districts["isola-garibaldi"]
    users = {}
    for login in config.demo_logins:
        user = db.session.scalar(select(User).where(User.email == login.email))
        assert user is not None and user.is_verified
        assert verify_password(user.password_hash, login.password)
        assert not verify_password(user.password_hash, login.password + "x")
        users[login.email] = user
    resident, beneficiary, staff, admin = (users[login.email] for login in config.demo_logins)
    assert resident.roles == ["resident"]
    assert "provider" in staff.roles and len(staff.memberships) == 2
    assert "district-admin" in admin.roles
    declaration = db.session.scalar(
        select(BeneficiaryDeclaration).where(BeneficiaryDeclaration.user_id == beneficiary.id)
    )
    assert declaration is not None and declaration.status == "approved"
    # The approved status is what the district's own policy decides for this person.
    decision = app.extensions["concilia"].hook.eligibility(
        user=beneficiary, district=config, declaration=declaration
    )
    assert decision.status == "approved"
