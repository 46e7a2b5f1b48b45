"""Fixtures: one migrated database per backend and worker, a fresh app state per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings

from core import create_app
from core.extensions import db
from core.tenancy import forget_district_rows
from tests.support.database import (
    backends,
    drop_postgres_schema,
    empty_all_tables,
    postgres_schema_url,
    sqlite_url,
)
from tests.support.test_plugins import TEST_PLUGINS

# Property tests draw fixed examples by default, so a red build is reproducible and never a
# matter of luck; CONCILIA_HYPOTHESIS_PROFILE=explore draws new random ones (run it locally,
# or nightly, to look further).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("CONCILIA_HYPOTHESIS_PROFILE", "ci"))


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without it, a request would reuse the test's app context and see its ``g`` and session.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def base_config(url: str, instance: Path) -> dict[str, Any]:
    """The configuration every test app starts from."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "CONCILIA_ENV": "testing",
        "CONCILIA_MAIL_MODE": "outbox",
        "RATELIMIT_ENABLED": False,
        # Tests change data and read the pages at once; the cache has its own tests.
        "CONCILIA_PUBLIC_CACHE_SECONDS": 0,
        "INSTANCE_PATH": str(instance),
        "CONCILIA_EXTRA_PLUGINS": list(TEST_PLUGINS),
    }


@pytest.fixture(scope="session", params=backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[str]:
    """A migrated database (``concilia db upgrade`` path) for this backend and xdist worker."""
    from flask_migrate import upgrade

    backend = request.param
    schema = f"t_{worker_id}_{secrets.token_hex(4)}"  # unique: several runs may share the server
    url = (
        sqlite_url(tmp_path_factory.mktemp(f"sqlite-{worker_id}"))
        if backend == "sqlite"
        else postgres_schema_url(schema)
    )
    app = create_app(base_config(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    if backend == "postgresql":
        drop_postgres_schema(schema)


@pytest.fixture(scope="session")
def session_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app per backend and worker; tests get it through ``app`` with clean tables."""
    app = create_app(base_config(database_url, tmp_path_factory.mktemp("instance")))
    app.test_client_class = FreshContextClient
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(session_app: Flask) -> Iterator[Flask]:
    """The app, inside an app context, with every table emptied after the test."""
    with session_app.app_context():
        forget_district_rows()  # a test with its own app may have emptied the tables
        yield session_app
        db.session.remove()
        empty_all_tables(db.engine, db.metadata)
        forget_district_rows()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build an app with extra config (e.g. rate limits on); tables are emptied afterwards."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config = base_config(database_url, tmp_path / "instance")
        config.update(overrides)
        app = create_app(config)
        app.test_client_class = FreshContextClient
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            empty_all_tables(db.engine, db.metadata)
            db.engine.dispose()
