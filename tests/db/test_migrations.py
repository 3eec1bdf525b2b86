"""The app database's migrations on SQLite and PostgreSQL: up from nothing, down to nothing,
up again, and the schema they build equals the models'."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from chainatlas.db.migrate import current_revision, downgrade, upgrade
from chainatlas.db.models import metadata
from chainatlas.db.session import make_engine


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as con:
            return set(inspect(con).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(app_database_url: str) -> None:
    assert current_revision(app_database_url) is None
    upgrade(app_database_url)
    head = current_revision(app_database_url)
    assert head is not None
    assert _tables(app_database_url) == set(metadata.tables)
    downgrade(app_database_url, "base")
    assert _tables(app_database_url) == set()
    upgrade(app_database_url)
    assert current_revision(app_database_url) == head


def test_migrations_match_the_models(app_database_url: str) -> None:
    """A model changed without a migration shows up here as a difference."""
    upgrade(app_database_url)
    engine = make_engine(app_database_url)
    try:
        with engine.connect() as con:
            diff = compare_metadata(MigrationContext.configure(con), metadata)
    finally:
        engine.dispose()
    assert diff == []
