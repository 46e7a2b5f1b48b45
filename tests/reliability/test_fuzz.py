"""Every form and endpoint fed malformed input answers 4xx (or a normal page), never a 5xx.

Each POST route is sent, by a role it lets in and with a valid CSRF token, its own form fields
(read from its page when it has one) plus the usual names, filled with: huge strings, NUL
bytes, wrong types, invalid dates, unknown ids, negative numbers, and raw non-UTF-8 bytes.
Each GET route gets the same values as query parameters, and integer URL arguments get
out-of-range and unknown values.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.security.route_table import ROUTES
from tests.security.scenario import ROLES, Scenario, seed
from tests.security.test_access_matrix import app_rules, build_url
from tests.security.web import csrf_for
from tests.support.auth import login_as

COMMON_FIELDS = (
    "slot", "seats", "consent", "idempotency_key", "name", "email", "phone", "password",
    "confirm", "current_password", "full_name", "locale", "privacy", "next", "lang", "day",
    "service", "reason", "rating", "comment", "weekday", "start", "end", "slot_minutes",
    "valid_from", "valid_until", "title_it", "title_en", "price", "category", "q", "page",
)  # fmt: skip
MALFORMED: dict[str, Any] = {
    "huge": "A" * 100_000,
    "nul": "abc\x00def",
    "wrong_types": ["1", "two", "[]", "{}"],
    "numbers": "-1",
    "overflow": "99999999999999999999999",
    "float": "1e309",
    "dates": "2024-02-30",
    "date_words": "31/12/2024 25:61",
    "unknown_id": "999999999",
    "markup": "<script>alert(1)</script>",
}
NAME_RE = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


@pytest.fixture
def scenario(app: Flask) -> Scenario:
    """The security tests' seeded world."""
    return seed()


def client_for(app: Flask, scenario: Scenario, rule: Rule) -> tuple[FlaskClient, str]:
    """A client logged in as the first role the route lets in."""
    row = ROUTES[rule.endpoint]
    role = next(r for r in ROLES if r in row.access.roles)
    client = app.test_client()
    user = scenario.users[role]
    if user is not None:
        login_as(client, user)
    return client, role


def form_fields(client: FlaskClient, url: str) -> set[str]:
    """The names of the fields on the page at ``url`` (if it has a page), and the usual ones."""
    names = set(COMMON_FIELDS)
    page = client.get(url)
    if page.status_code == 200 and page.mimetype == "text/html":
        names |= set(NAME_RE.findall(page.get_data(as_text=True)))
    names.discard("csrf_token")
    return names


def post_routes(app: Flask) -> list[Rule]:
    """Every rule that takes a POST and has a row in the route table."""
    return [r for r in app_rules(app) if "POST" in (r.methods or ()) and r.endpoint in ROUTES]


VALUES = [
    v for value in MALFORMED.values() for v in (value if isinstance(value, list) else [value])
]
VARIANTS = 3


def malformed_data(names: set[str], variant: int) -> dict[str, str]:
    """Each field gets a different malformed value; each variant shifts the assignment."""
    return {
        name: VALUES[(index * 3 + variant) % len(VALUES)]
        for index, name in enumerate(sorted(names))
    }


def test_malformed_form_values_never_cause_a_server_error(app: Flask, scenario: Scenario) -> None:
    failures, sent = [], 0
    for rule in post_routes(app):
        client, role = client_for(app, scenario, rule)
        url = build_url(app, rule, ROUTES[rule.endpoint], scenario)
        names = form_fields(client, url)
        for variant in range(VARIANTS):
            data = malformed_data(names, variant)
            data["csrf_token"] = csrf_for(client)
            response = client.post(url, data=data)
            sent += 1
            if response.status_code >= 500:
                failures.append(f"POST {url} as {role}, variant {variant}: {response.status_code}")
            elif response.status_code == 413:
                failures.append(f"POST {url}: body too large, the fuzz did not reach the view")
    assert sent >= VARIANTS * 25
    assert not failures, "\n".join(failures)


def test_non_utf8_bodies_never_cause_a_server_error(app: Flask, scenario: Scenario) -> None:
    failures = []
    for rule in post_routes(app):
        client, role = client_for(app, scenario, rule)
        url = build_url(app, rule, ROUTES[rule.endpoint], scenario)
        names = sorted(form_fields(client, url))
        token = csrf_for(client).encode()
        body = b"&".join(n.encode() + b"=\xff\xfe\xc3\x28%ZZ" for n in names)
        body += b"&csrf_token=" + token
        for content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            response = client.post(url, data=body, content_type=content_type)
            if response.status_code >= 500:
                failures.append(f"POST {url} as {role} ({content_type}): {response.status_code}")
        response = client.post(url, data=b"\x00" * 3000, content_type="application/json")
        if response.status_code >= 500:
            failures.append(f"POST {url} as {role} (json garbage): {response.status_code}")
    assert not failures, "\n".join(failures)


def test_malformed_query_strings_and_path_ids_never_cause_a_server_error(
    app: Flask, scenario: Scenario
) -> None:
    failures = []
    for rule in app_rules(app):
        if "GET" not in (rule.methods or ()) or rule.endpoint not in ROUTES:
            continue
        client, role = client_for(app, scenario, rule)
        url = build_url(app, rule, ROUTES[rule.endpoint], scenario)
        for variant in range(2):
            data = malformed_data(set(COMMON_FIELDS), variant)
            query = "&".join(f"{n}={quote(v[:5000])}" for n, v in data.items())
            response = client.get(f"{url}?{query}")
            if response.status_code >= 500:
                failures.append(f"GET {url}?<variant {variant}> as {role}: {response.status_code}")
        response = client.get(url + "?day=%ff%fe&q=%c3%28&page=%00")
        if response.status_code >= 500:
            failures.append(f"GET {url}?<bad utf-8> as {role}: {response.status_code}")
        for argument in rule.arguments:
            converter = rule._converters.get(argument)
            if type(converter).__name__ != "IntegerConverter":
                continue
            for bad in (2**63, 999_999_999):
                path_url = build_url(app, rule, ROUTES[rule.endpoint], scenario)
                good = str(scenario.url_values()[argument])
                response = client.get(path_url.replace(f"/{good}", f"/{bad}", 1))
                if response.status_code >= 500:
                    failures.append(f"GET {rule.rule} <{argument}>={bad}: {response.status_code}")
    assert not failures, "\n".join(failures)
