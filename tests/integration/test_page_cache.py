"""The public page cache: what anonymous visitors get from memory, and what is always live."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask, flash
from flask.testing import FlaskClient

from core.extensions import db
from core.web.page_cache import CSRF_HOLE, PageCache, page_cache
from tests.support import catalogue_factories as cf
from tests.support import factories
from tests.support.auth import login_as
from tests.support.web import CSRF_RE

EN = {"Accept-Language": "en"}


def _cached_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(CONCILIA_PUBLIC_CACHE_SECONDS=60)


def _service(app: Flask, title: str = "Yoga nel parco") -> int:
    with app.app_context():
        svc = cf.published(cf.provider(), title_it=title, title_en=title)
        cf.commit()
        return svc.id


def _retitle(app: Flask, service_id: int, title: str) -> None:
    with app.app_context():
        from core.models import Service

        svc = db.session.get(Service, service_id)
        assert svc is not None
        svc.title_it = svc.title_en = title
        db.session.commit()


def _page(client: FlaskClient, path: str, **kwargs: Any) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_anonymous_visitors_get_the_stored_page_until_it_expires(
    make_app: Callable[..., Flask],
) -> None:
    app = _cached_app(make_app)
    service_id = _service(app)
    client = app.test_client()
    path = f"/borgo-test/services/{service_id}"
    assert "Yoga nel parco" in _page(client, path)
    _retitle(app, service_id, "Pilates al mattino")
    assert "Yoga nel parco" in _page(client, path)  # from memory
    assert "Yoga nel parco" in _page(app.test_client(), path)  # for every anonymous visitor
    with app.app_context():
        cache = page_cache()
        assert cache is not None
        cache.clear()  # what expiry does (tested on PageCache below)
    assert "Pilates al mattino" in _page(client, path)


def test_logged_in_people_always_get_a_live_page(make_app: Callable[..., Flask]) -> None:
    app = _cached_app(make_app)
    service_id = _service(app)
    path = f"/borgo-test/services/{service_id}"
    assert "Yoga nel parco" in _page(app.test_client(), path)
    _retitle(app, service_id, "Pilates al mattino")
    resident = app.test_client()
    with app.app_context():
        person = factories.user()
        db.session.commit()
        login_as(resident, person)
    assert "Pilates al mattino" in _page(resident, path)


def test_query_strings_and_languages_are_kept_apart(make_app: Callable[..., Flask]) -> None:
    app = _cached_app(make_app)
    with app.app_context():
        org = cf.provider()
        for n in range(14):
            cf.published(org, title_it=f"Servizio {n:02d}", title_en=f"Service {n:02d}")
        cf.commit()
    client = app.test_client()
    first = _page(client, "/borgo-test/services", headers=EN)
    second = _page(client, "/borgo-test/services?page=2", headers=EN)
    assert "Service 00" in first and "Service 00" not in second
    assert "Service 13" in second
    italian = _page(client, "/borgo-test/services", headers={"Accept-Language": "it"})
    assert 'lang="it"' in italian and "Servizio 00" in italian
    assert 'lang="en"' in _page(client, "/borgo-test/services", headers=EN)


def test_each_visitor_gets_their_own_csrf_token_and_the_language_switch_works(
    make_app: Callable[..., Flask],
) -> None:
    app = _cached_app(make_app)
    first, second = app.test_client(), app.test_client()
    tokens = []
    for client in (first, second):
        html = _page(client, "/borgo-test/")
        assert CSRF_HOLE not in html
        match = CSRF_RE.search(html)
        assert match
        tokens.append(match.group(1))
    assert tokens[0] != tokens[1]
    with app.app_context():
        cache = page_cache()
        assert cache is not None and len(cache) == 1  # the second page came from memory
    answer = second.post(
        "/language", data={"lang": "en", "next": "/borgo-test/", "csrf_token": tokens[1]}
    )
    assert answer.status_code == 302
    assert 'lang="en"' in _page(second, "/borgo-test/")


def test_a_visitor_with_a_message_waiting_gets_it_on_a_live_page(
    make_app: Callable[..., Flask],
) -> None:
    app = _cached_app(make_app)
    client = app.test_client()
    _page(client, "/borgo-test/", headers=EN)  # stored
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "You have logged out.")]
    assert "You have logged out." in _page(client, "/borgo-test/", headers=EN)
    assert "You have logged out." not in _page(client, "/borgo-test/", headers=EN)
    with app.test_request_context():
        flash("unused")  # flash() itself still works with the cache installed


def test_missing_pages_are_not_stored(make_app: Callable[..., Flask]) -> None:
    app = _cached_app(make_app)
    client = app.test_client()
    assert client.get("/borgo-test/services/999999").status_code == 404
    with app.app_context():
        cache = page_cache()
        assert cache is not None and len(cache) == 0


def test_zero_seconds_turns_the_cache_off(make_app: Callable[..., Flask]) -> None:
    app = make_app(CONCILIA_PUBLIC_CACHE_SECONDS=0)
    service_id = _service(app)
    path = f"/borgo-test/services/{service_id}"
    client = app.test_client()
    assert "Yoga nel parco" in _page(client, path)
    _retitle(app, service_id, "Pilates al mattino")
    assert "Pilates al mattino" in _page(client, path)
    with app.app_context():
        assert page_cache() is None


def test_stored_pages_expire_and_the_oldest_leave_when_full() -> None:
    cache = PageCache(ttl=10, max_entries=2)
    cache.put(("a",), "A", "text/html")
    page = cache.get(("a",))
    assert page is not None and page.body == "A"
    assert cache.get(("a",), now=page.expires + 0.001) is None  # stale: dropped
    assert len(cache) == 0
    cache.put(("a",), "A", "text/html")
    cache.put(("b",), "B", "text/html")
    assert cache.get(("a",)) is not None  # "a" is now the most recently used
    cache.put(("c",), "C", "text/html")
    assert cache.get(("b",)) is None and cache.get(("a",)) is not None
    assert re.fullmatch("C", cache.get(("c",)).body)  # type: ignore[union-attr]


def test_the_stored_pages_never_exceed_their_size_budget() -> None:
    cache = PageCache(ttl=10, max_entries=100, max_chars=10)
    cache.put(("a",), "aaaa", "text/html")
    cache.put(("b",), "bbbb", "text/html")
    cache.put(("a",), "AAAA", "text/html")  # replaced, not counted twice
    assert cache.chars == 8 and len(cache) == 2
    cache.put(("c",), "cccc", "text/html")  # over 10 characters: the oldest ("b") leaves
    assert cache.get(("b",)) is None and cache.chars == 8
    cache.put(("huge",), "x" * 11, "text/html")  # larger than the whole budget: not stored
    assert cache.get(("huge",)) is None and cache.chars == 8
    cache.clear()
    assert cache.chars == 0 and len(cache) == 0
