"""Migrations take an empty database to head on SQLite and PostgreSQL, matching the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from config import TestConfig
from tests.conftest import BACKENDS, make_test_config, scratch_postgres_database


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        with scratch_postgres_database(TestConfig.TEST_DATABASE_URL) as url:
            yield url


def test_upgrade_from_empty_to_head_matches_the_models(empty_database_url):
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        assert "alembic_version" in tables
        check()  # what `flask db check` runs: it exits non-zero if models and migrations disagree
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, db.metadata) == []
        assert _included_columns(db.engine) == _included_columns_in_models(db.engine.dialect.name)
        db.engine.dispose()


def _included_columns(engine) -> dict[str, list[str]]:
    """Each index's INCLUDE columns in the database (autogenerate does not compare them)."""
    inspector = inspect(engine)
    found = {}
    for table in db.metadata.tables:
        for index in inspector.get_indexes(table):
            include = index.get("include_columns") or index.get("dialect_options", {}).get("postgresql_include")
            if include:
                found[index["name"]] = list(include)
    return found


def _included_columns_in_models(dialect: str) -> dict[str, list[str]]:
    if dialect != "postgresql":
        return {}  # SQLite has no INCLUDE
    return {
        index.name: list(index.dialect_options["postgresql"]["include"])
        for table in db.metadata.tables.values()
        for index in table.indexes
        if index.dialect_options["postgresql"]["include"]
    }


def test_downgrade_to_base_removes_every_table(empty_database_url):
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
