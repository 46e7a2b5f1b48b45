"""The migrations build exactly the schema the models declare (on each backend)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from core.extensions import db


def test_migrated_database_matches_the_models(app: Flask) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, db.metadata)
    assert differences == [], (
        f"models and migrations differ: run `make migration-reset`: {differences}"
    )
