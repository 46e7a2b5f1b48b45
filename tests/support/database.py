"""Test databases: a SQLite file per worker, and a PostgreSQL schema per worker."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

POSTGRES_ENV = "CONCILIA_TEST_DATABASE_URL"


def backends() -> list[str]:
    """The backends this run covers: SQLite always, PostgreSQL when its URL is given."""
    names = ["sqlite"]
    if os.environ.get(POSTGRES_ENV):
        names.append("postgresql")
    elif os.environ.get("CONCILIA_REQUIRE_POSTGRES"):
        raise RuntimeError(f"{POSTGRES_ENV} must be set when CONCILIA_REQUIRE_POSTGRES is set")
    return names


def sqlite_url(folder: Path) -> str:
    """A fresh SQLite file database in ``folder``."""
    return f"sqlite:///{folder / 'concilia-test.sqlite'}"


def postgres_schema_url(schema: str) -> str:
    """Create (anew) ``schema`` in the test PostgreSQL database and return a URL bound to it."""
    base = os.environ[POSTGRES_ENV]
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        raise RuntimeError(
            f"PostgreSQL at {base} is unreachable: start it or unset {POSTGRES_ENV}"
        ) from exc
    finally:
        engine.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


def drop_postgres_schema(schema: str) -> None:
    """Remove a worker's schema at the end of the run."""
    engine = sa.create_engine(os.environ[POSTGRES_ENV], isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def empty_all_tables(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """Delete every row of every table (keeping the schema and alembic_version)."""
    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                conn.execute(sa.text(f'DELETE FROM "{name}"'))
