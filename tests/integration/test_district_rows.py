"""District rows: read once per app, then put in each request's session without a query.

Each block below is its own app context, as each request is (``g`` and the session are per
app context).
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import inspect
from werkzeug.exceptions import NotFound

from core.extensions import db
from core.models import District
from core.tenancy import forget_district_rows, get_district_or_404
from tests.support import factories as f
from tests.support.sql import count_statements


def _district_reads(log: object) -> list[str]:
    return [s for s in log.statements if "FROM district" in s]  # type: ignore[attr-defined]


def test_the_second_request_reads_no_district_row(app: Flask) -> None:
    f.district("borgo-test")
    db.session.commit()
    db.session.remove()
    with app.app_context(), app.test_request_context("/borgo-test/"):
        with count_statements(db.engine) as first:
            _config, row = get_district_or_404("borgo-test")
        first_id = row.id
    assert len(_district_reads(first)) == 1
    db.session.remove()

    with (
        app.app_context(),
        app.test_request_context("/borgo-test/"),
        count_statements(db.engine) as second,
    ):
        config, row = get_district_or_404("borgo-test")
        # a row of this session: usable in queries, relationships and comparisons
        assert inspect(row).persistent and row in db.session
        assert (row.id, row.slug, row.timezone) == (first_id, "borgo-test", config.timezone)
    assert second.count == 0, second


def test_the_session_keeps_a_row_it_already_has(app: Flask) -> None:
    with app.app_context(), app.test_request_context("/"):
        get_district_or_404("borgo-test")
    db.session.remove()
    with app.app_context(), app.test_request_context("/"):
        loaded = db.session.query(District).filter_by(slug="borgo-test").one()
        _config, row = get_district_or_404("borgo-test")
        assert row is loaded  # merged into the identity map, not a second copy


def test_forgetting_the_rows_reads_them_again(app: Flask) -> None:
    f.district("borgo-test")
    db.session.commit()
    with app.app_context(), app.test_request_context("/"):
        get_district_or_404("borgo-test")
    db.session.remove()
    forget_district_rows()
    with app.app_context(), app.test_request_context("/"), count_statements(db.engine) as log:
        get_district_or_404("borgo-test")
    assert len(_district_reads(log)) == 1


def test_an_unknown_district_is_404_and_not_remembered(app: Flask) -> None:
    with app.app_context(), app.test_request_context("/"), pytest.raises(NotFound):
        get_district_or_404("no-such-district")
    assert "no-such-district" not in app.extensions["concilia.district_rows"]
