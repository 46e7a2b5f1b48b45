"""Factories for catalogue tests, in the test districts ``borgo-test`` and ``altra-citta``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.extensions import db
from core.models import District, Organisation, Service, Slot
from tests.support import factories

BORGO = "borgo-test"
ALTRA = "altra-citta"
NAMES = {BORGO: ("Borgo Test", "Comune di Prova"), ALTRA: ("Altra Città", "Comune di Altrove")}


def district_row(slug: str = BORGO) -> District:
    """The row of a test district, named as its plugin names it."""
    name, municipality = NAMES.get(slug, (slug.title(), "Comune"))
    return factories.district(slug, name=name, municipality=municipality)


def provider(district: str = BORGO, **fields: Any) -> Organisation:
    """An active provider organisation of test district ``district``."""
    return factories.organisation(district_row(district), **fields)


def published(org: Organisation, **fields: Any) -> Service:
    """A published service of ``org`` in the ``test-wellness`` area (of the org's district)."""
    district = db.session.get(District, org.district_id)
    default = "test-wellness" if district is not None and district.slug == BORGO else "test-care"
    fields.setdefault("category", default)
    fields.setdefault("published_at", datetime.now(UTC))
    return factories.service(org, **fields)


def free_slot(service: Service, starts_in: timedelta = timedelta(days=2), **fields: Any) -> Slot:
    """A future slot of ``service`` with free places."""
    return factories.slot(service, starts_in=starts_in, **fields)


def commit() -> None:
    """Commit the factories' rows so requests (other sessions) see them."""
    db.session.commit()
