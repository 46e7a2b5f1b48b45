"""The audit log page: platform admins only, and its filters."""

from __future__ import annotations

from datetime import UTC, datetime

from core.audit import record
from core.extensions import db
from tests.support import catalogue_factories as cf
from tests.support import factories as f
from tests.support.auth import login_as


def _rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-action="([^"]+)">', html)


def test_only_platform_admins_see_the_audit_log(app, client) -> None:
    district_admin = f.district_admin(cf.district_row(cf.BORGO))
    db.session.commit()
    assert client.get("/admin/audit").status_code == 302  # to the login page
    login_as(client, district_admin)
    assert client.get("/admin/audit").status_code == 404


def test_filters_by_actor_action_district_subject_and_date(app, client) -> None:
    borgo, altra = cf.district_row(cf.BORGO), cf.district_row(cf.ALTRA)
    root = f.user("root@platform.example", is_platform_admin=True)
    anna = f.user("anna@admins.example")
    resident = f.user("resident@people.example")
    old = record(
        "organisation.create",
        actor=anna,
        target_type="organisation",
        target_id=1,
        district_id=borgo.id,
    )
    old.at = datetime(2026, 1, 5, 12, tzinfo=UTC)
    record(
        "eligibility.approve",
        actor=anna,
        target_type="declaration",
        target_id=7,
        subject_user_id=resident.id,
        district_id=borgo.id,
    )
    record("news.create", actor=root, target_type="news", target_id=3, district_id=altra.id)
    db.session.commit()
    login_as(client, root)
    assert _rows(client.get("/admin/audit").get_data(as_text=True)) == [
        "news.create",
        "eligibility.approve",
        "organisation.create",
    ]
    assert _rows(client.get("/admin/audit?actor=ANNA@").get_data(as_text=True)) == [
        "eligibility.approve",
        "organisation.create",
    ]
    assert _rows(client.get("/admin/audit?action=eligibility").get_data(as_text=True)) == [
        "eligibility.approve"
    ]
    assert _rows(client.get(f"/admin/audit?district={cf.ALTRA}").get_data(as_text=True)) == [
        "news.create"
    ]
    html = client.get("/admin/audit?subject=resident@").get_data(as_text=True)
    assert _rows(html) == ["eligibility.approve"] and "resident@people.example" in html
    assert _rows(client.get("/admin/audit?until=2026-01-31").get_data(as_text=True)) == [
        "organisation.create"
    ]
    assert "organisation.create" not in _rows(
        client.get("/admin/audit?since=2026-02-01&action=organisation").get_data(as_text=True)
    )
    assert client.get("/admin/audit?since=garbage").status_code == 200  # ignored, not a 500
    # looking at the log is itself recorded
    assert "audit.view" in _rows(client.get("/admin/audit?action=audit").get_data(as_text=True))
