"""Every route against every role: allowed or refused exactly as ``route_table.ROUTES`` says."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from tests.security.route_table import ROUTES, Route, missing_rows_message
from tests.security.scenario import ROLES, Scenario
from tests.security.web import csrf_for
from tests.support.auth import login_as

REFUSED_STATUSES = {401, 403, 404}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def app_rules(app: Flask) -> list[Rule]:
    """Every URL rule of the app (all built-in plugins and the test plugins are loaded)."""
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))


def test_every_endpoint_has_a_row(app: Flask) -> None:
    endpoints = {rule.endpoint: rule.rule for rule in app_rules(app)}
    missing = {name: rule for name, rule in endpoints.items() if name not in ROUTES}
    assert not missing, missing_rows_message(missing)
    stale = sorted(set(ROUTES) - set(endpoints))
    assert not stale, f"rows in ROUTES for endpoints that no longer exist: {stale}"


def build_url(app: Flask, rule: Rule, row: Route, scenario: Scenario) -> str:
    """The rule's URL with values from the scenario (and the row's own)."""
    values: dict[str, Any] = {}
    known = scenario.url_values()
    for argument in rule.arguments:
        if argument in row.literals:
            values[argument] = row.literals[argument]
        elif argument in row.values:
            values[argument] = getattr(scenario, row.values[argument])
        elif argument in known:
            values[argument] = known[argument]
        else:
            pytest.fail(
                f"{rule.endpoint} ({rule.rule}) needs a value for <{argument}>: add it to "
                "Scenario.url_values or to the row's values/literals in route_table.py"
            )
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=sorted(rule.methods or {"GET"})[0])


def refused(response: TestResponse) -> bool:
    """Whether the answer keeps the role out (401/403/404, or off to the login page)."""
    if response.status_code in REFUSED_STATUSES:
        return True
    if response.status_code in (301, 302, 303, 307, 308):
        target = urlsplit(response.headers.get("Location", ""))
        return target.path == "/login" and "next=" in target.query  # Flask-Login's bounce
    return False


def request_as(app: Flask, scenario: Scenario, role: str, method: str, url: str) -> TestResponse:
    """One request by ``role`` with a fresh client (forms sent empty, with a valid CSRF token)."""
    client = app.test_client()
    user = scenario.users[role]
    if user is not None:
        login_as(client, user)
    if method == "GET":
        return client.get(url)
    token = csrf_for(client)
    return client.open(
        url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token}
    )


@pytest.mark.parametrize("role", ROLES)
def test_role_against_every_route(app: Flask, scenario: Scenario, role: str) -> None:
    wrong: list[str] = []
    for rule in app_rules(app):
        row = ROUTES.get(rule.endpoint)
        if row is None:
            continue  # reported by test_every_endpoint_has_a_row
        url = build_url(app, rule, row, scenario)
        for method in (m for m in METHODS if m in (rule.methods or ())):
            response = request_as(app, scenario, role, method, url)
            access = row.write_access if method != "GET" and row.write_access else row.access
            expected_in = role in access.roles
            if response.status_code >= 500:
                wrong.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
            elif refused(response) == expected_in:
                verdict = "refused" if expected_in else "let in"
                wrong.append(
                    f"{method} {url} ({rule.endpoint}, {access.name}): {role} was {verdict}"
                    f" (status {response.status_code} {response.headers.get('Location', '')})"
                )
    assert not wrong, "\n".join(wrong)
