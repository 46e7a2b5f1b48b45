"""What is kept per language (layout, menu links, area cards and options) never mixes languages,
districts or people: pages served with the kept parts are the pages rendered from scratch."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from core.extensions import db
from core.models import DistrictAdmin
from core.web.reader_memo import EXTENSION
from tests.support import catalogue_factories as cf
from tests.support import factories

CSRF = re.compile(r'(name="csrf_token" value=")[^"]+(")')
PATHS = [
    "/borgo-test/",
    "/borgo-test/services?category=test-care",
    "/altra-citta/services",
    "/privacy",
]


def _people() -> list[str | None]:
    """The session ids of: nobody (not logged in), a resident, staff of a Borgo provider, an
    admin of Borgo who works for a provider there too.

    Taken before the commit, so that this test's own session reads nothing afterwards: on
    PostgreSQL an open transaction here would block the second app's TRUNCATE at teardown.
    """
    borgo = cf.district_row(cf.BORGO)
    org = cf.provider(cf.BORGO)
    cf.published(org, category="test-care")
    cf.published(cf.provider(cf.ALTRA), category="test-care")
    both = factories.staff(org)
    db.session.add(DistrictAdmin(user_id=both.id, district_id=borgo.id))
    people = [None, *(p.get_id() for p in (factories.user(), factories.staff(org), both))]
    cf.commit()
    return people


def _pages(client: FlaskClient, people: list[str | None]) -> list[str]:
    """Every path, for every person, alternating the languages, with the CSRF tokens blanked."""
    pages = []
    for n, person in enumerate(people * 2):
        with client.session_transaction() as session:
            session.clear()
            if person is not None:  # logged in, as Flask-Login would have it
                session["_user_id"] = person
                session["_fresh"] = True
        for k, path in enumerate(PATHS):
            language = ("it", "en")[(n + k) % 2]
            response = client.get(path, headers={"Accept-Language": language})
            assert response.status_code == 200, path
            pages.append(CSRF.sub(r"\1\2", response.get_data(as_text=True)))
    return pages


def test_pages_with_kept_parts_are_the_pages_rendered_from_scratch(
    app: Flask, client: FlaskClient, make_app: Callable[..., Flask]
) -> None:
    people = _people()
    kept = _pages(client, people)
    assert app.extensions[EXTENSION], "the kept parts were used"
    fresh_app = make_app(TEMPLATES_AUTO_RELOAD=True)  # nothing kept: every part rendered
    fresh = _pages(fresh_app.test_client(), people)
    assert not fresh_app.extensions[EXTENSION]
    assert len(kept) == len(fresh)
    for ours, theirs in zip(kept, fresh, strict=True):
        assert ours == theirs


def test_each_language_gets_its_own_layout_and_menu(client: FlaskClient) -> None:
    cf.district_row(cf.BORGO)
    cf.commit()
    italian = client.get("/borgo-test/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    english = client.get("/borgo-test/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    again = client.get("/borgo-test/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert 'lang="it"' in italian and 'lang="en"' in english
    assert "Vai al contenuto" in italian and "Skip to content" in english
    assert 'aria-label="Menu del distretto"' in italian
    assert 'aria-label="District menu"' in english
    assert CSRF.sub("", again) == CSRF.sub("", italian)


def test_an_app_mounted_under_a_prefix_gets_its_own_links(client: FlaskClient) -> None:
    cf.district_row(cf.BORGO)
    cf.commit()
    mounted = client.get(
        "/borgo-test/services", environ_overrides={"SCRIPT_NAME": "/welfare"}
    ).get_data(as_text=True)
    plain = client.get("/borgo-test/services").get_data(as_text=True)
    assert 'href="/welfare/static/css/concilia.css"' in mounted
    assert 'href="/welfare/borgo-test/services?category=test-care"' in mounted
    assert "/welfare/" not in plain
