"""The course fixtures' replayed import (tests/course_replay.py) leaves the database as a real one does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from app.extensions import db
from tests import course_replay
from tests.conftest import factory_course_spec, postgres_emptied


def snapshot(session) -> dict[str, Any]:
    """Every table's rows in id order, and where each id sequence stands."""
    tables = {
        table.name: [tuple(row) for row in session.execute(select(table).order_by(*table.primary_key.columns))]
        for table in db.metadata.sorted_tables
    }
    if session.get_bind().dialect.name == "postgresql":
        sequences = session.execute(text("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")).all()
    else:
        sequences = session.execute(text("SELECT name, seq FROM sqlite_sequence ORDER BY 1")).all()
    return {"tables": tables, "sequences": [tuple(row) for row in sequences]}


def empty_the_database(session) -> None:
    """Back to a new database's state: no rows, every id numbering from 1 again."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        postgres_emptied(connection)
    else:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        connection.execute(text("DELETE FROM sqlite_sequence"))
    session.commit()


def times_apart(real: dict, replayed: dict) -> set[float]:
    """How far each timestamp of the replayed rows is from the real import's; other values must be equal."""
    apart: set[float] = set()
    for name, rows in real["tables"].items():
        assert len(replayed["tables"][name]) == len(rows), name
        for real_row, replayed_row in zip(rows, replayed["tables"][name], strict=True):
            for before, after in zip(real_row, replayed_row, strict=True):
                if isinstance(before, datetime):
                    apart.add((after - before).total_seconds())
                else:
                    assert after == before, (name, real_row, replayed_row)
    return apart


@pytest.fixture
def kept_imports(monkeypatch):
    """No import kept from the tests before: the first import in the test is a real one."""
    monkeypatch.setattr(course_replay, "_KEPT", {})


@pytest.fixture
def imports_made(monkeypatch) -> list[str]:
    """The slugs of the real imports made from here on (a replay adds none)."""
    made: list[str] = []
    real_import = course_replay.course_import

    def counted(session, spec):
        made.append(spec.slug)
        return real_import(session, spec)

    monkeypatch.setattr(course_replay, "course_import", counted)
    return made


def test_a_replayed_import_leaves_every_table_and_id_as_the_real_import_did(session, kept_imports, imports_made):
    spec = factory_course_spec()
    assert course_replay.course_imported(session, spec) == spec.slug
    real = snapshot(session)
    assert imports_made == [spec.slug]
    assert real["tables"]["lessons"], "the real import wrote the course"
    empty_the_database(session)

    assert course_replay.course_imported(session, spec) == spec.slug
    replayed = snapshot(session)

    assert imports_made == [spec.slug]  # replayed: no second real import
    assert replayed["sequences"] == real["sequences"]  # the next rows get the ids they would have
    apart = times_apart(real, replayed)
    assert len(apart) == 1 and apart.pop() > 0  # every time moved on alike, to now: their order and spacing kept


def test_an_import_into_tables_with_rows_is_a_real_one(session, kept_imports, imports_made):
    spec = factory_course_spec()
    course_replay.course_imported(session, spec)
    with_course = snapshot(session)

    course_replay.course_imported(session, spec)  # the course is there: imported again, for real

    assert imports_made == [spec.slug, spec.slug]
    assert times_apart(with_course, snapshot(session)) <= {0.0}  # importing the same files changes nothing


def test_no_replay_once_an_id_has_been_given_in_the_tables_it_writes(session, kept_imports, imports_made):
    spec = factory_course_spec()
    course_replay.course_imported(session, spec)
    empty_the_database(session)
    course_replay.course_imported(session, spec)  # replayed
    for table in reversed(db.metadata.sorted_tables):  # emptied, but the ids go on
        session.execute(table.delete())
    session.commit()

    course_replay.course_imported(session, spec)

    assert imports_made == [spec.slug, spec.slug]  # the first and this one: real
    lesson_ids = session.scalars(text("SELECT id FROM lessons ORDER BY id")).all()
    assert lesson_ids[0] > len(lesson_ids)  # numbered after the rows deleted, as a real import does
