"""Migrations take an empty database to head on SQLite and PostgreSQL, matching the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import CheckConstraint, MetaData, inspect, text

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


def learner_row(user_id: int, email: str, name: str, created_at) -> dict:
    """A learner's users row as the early revisions shape it."""
    return {
        "id": user_id,
        "email": email,
        "display_name": name,
        "password_hash": "x",
        "role": "learner",
        "is_active": True,
        "created_at": created_at,
        "session_version": 1,
    }


def insert_one_lesson_course(connection, t, now) -> None:
    """Course 1 with module 1 and lesson 1, written straight into reflected tables."""
    connection.execute(
        t["courses"].insert(),
        {"id": 1, "slug": "c", "title": "C", "summary": "S", "pass_mark": 0.8, "updated_at": now},
    )
    connection.execute(t["modules"].insert(), {"id": 1, "course_id": 1, "slug": "m", "title": "M", "position": 1})
    connection.execute(
        t["lessons"].insert(),
        {
            "id": 1,
            "course_id": 1,
            "module_id": 1,
            "slug": "l",
            "title": "L",
            "minutes": 3,
            "position": 1,
            "body_markdown": "B",
            "body_html": "<p>B</p>",
        },
    )


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
        assert _autoincrement_tables(db.engine) == _autoincrement_tables_in_models(db.engine.dialect.name)
        assert _check_constraints(db.engine) == _check_constraints_in_models()
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


def _check_constraints(engine) -> dict[str, set[str]]:
    """Each table's CHECK constraints in the database, by name (autogenerate does not compare
    them, and SQLite's batch migrations rebuild tables, which could drop one unseen)."""
    inspector = inspect(engine)
    return {table: {check["name"] for check in inspector.get_check_constraints(table)} for table in db.metadata.tables}


def _check_constraints_in_models() -> dict[str, set[str]]:
    return {
        name: {str(constraint.name) for constraint in table.constraints if isinstance(constraint, CheckConstraint)}
        for name, table in db.metadata.tables.items()
    }


def _autoincrement_tables(engine) -> set[str]:
    """SQLite's tables that never reuse a row id (autogenerate does not compare it)."""
    if engine.dialect.name != "sqlite":
        return set()
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all()
    return {name for name, sql in rows if "AUTOINCREMENT" in (sql or "").upper()}


def _autoincrement_tables_in_models(dialect: str) -> set[str]:
    if dialect != "sqlite":
        return set()
    return {name for name, table in db.metadata.tables.items() if table.dialect_options["sqlite"]["autoincrement"]}


def test_downgrade_to_base_removes_every_table(empty_database_url):
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_review_and_safety_revision_keeps_every_past_attempt_as_it_was(empty_database_url):
    """Upgrading a database with history fills the new columns with defaults and rewrites no attempt."""
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, select

    app = create_app(make_test_config(empty_database_url))
    now = datetime(2026, 11, 1, tzinfo=UTC)
    shown = [
        {"choice_id": 1, "text": "Right", "correct": True, "chosen": False, "feedback": "Yes."},
        {"choice_id": 2, "text": "Wrong", "correct": False, "chosen": True, "feedback": "No."},
    ]
    with app.app_context():
        upgrade(revision="3b7e5d2a9c41")
        tables = MetaData()
        tables.reflect(db.engine)
        t = tables.tables
        with db.engine.begin() as connection:
            connection.execute(t["users"].insert(), learner_row(1, "a@example.org", "A", now))
            insert_one_lesson_course(connection, t, now)
            connection.execute(
                t["misconceptions"].insert(),
                {"id": 1, "course_id": 1, "code": "x", "learner_text": "L", "counsellor_text": "C"},
            )
            connection.execute(
                t["questions"].insert(),
                {"id": 1, "lesson_id": 1, "position": 1, "kind": "single", "prompt": "P?", "explanation": "E"},
            )
            connection.execute(
                t["choices"].insert(),
                [
                    {"id": 1, "question_id": 1, "position": 1, "text": "Right", "is_correct": True, "feedback": "Yes."},
                    {"id": 2, "question_id": 1, "position": 2, "text": "Wrong", "is_correct": False, "feedback": "No."},
                ],
            )
            connection.execute(
                t["quiz_attempts"].insert(),
                {
                    "id": 1,
                    "user_id": 1,
                    "lesson_id": 1,
                    "submission_key": "k" * 32,
                    "submitted_at": now,
                    "question_count": 1,
                    "correct_count": 0,
                    "score": 0.0,
                    "pass_mark": 0.8,
                    "passed": False,
                },
            )
            connection.execute(
                t["attempt_answers"].insert(),
                {
                    "id": 1,
                    "attempt_id": 1,
                    "question_id": 1,
                    "position": 1,
                    "kind": "single",
                    "prompt": "P?",
                    "explanation": "E",
                    "is_correct": False,
                    "choices_shown": shown,
                },
            )
            before = connection.execute(select(t["attempt_answers"])).mappings().one()

        upgrade(revision="a18000000002")  # a19000000002 converts the snapshot (its own test)

        tables = MetaData()
        tables.reflect(db.engine)
        t = tables.tables
        with db.engine.connect() as connection:
            assert connection.execute(select(t["attempt_answers"])).mappings().one() == before
            assert connection.execute(select(t["questions"].c.shuffle)).scalar_one() is True
            assert set(connection.execute(select(t["choices"].c.safety_critical)).scalars()) == {False}
            misconception = connection.execute(select(t["misconceptions"])).mappings().one()
            assert (misconception["title"], misconception["safety_critical"]) == ("", False)
            lesson = connection.execute(select(t["lessons"].c.sources)).scalar_one()
            assert lesson is None  # read as "no sources"
            course = connection.execute(select(t["courses"])).mappings().one()
            assert (course["help_markdown"], course["reviewed_on"]) == ("", None)
        db.engine.dispose()


def test_lessons_with_attempts_but_no_progress_row_are_opened_at_the_first_attempt(empty_database_url):
    """The data migration a14000000003: a quiz attempted straight away counts as its lesson opened."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import MetaData, select

    app = create_app(make_test_config(empty_database_url))
    first = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with app.app_context():
        upgrade(revision="a14000000002")
        tables = MetaData()
        tables.reflect(db.engine)
        t = tables.tables
        with db.engine.begin() as connection:
            for user_id in (1, 2):
                connection.execute(t["users"].insert(), learner_row(user_id, f"u{user_id}@example.org", "U", first))
            insert_one_lesson_course(connection, t, first)
            attempt = {
                "lesson_id": 1,
                "question_count": 1,
                "correct_count": 0,
                "score": 0.0,
                "pass_mark": 0.8,
                "passed": False,
            }
            connection.execute(
                t["quiz_attempts"].insert(),
                [
                    attempt
                    | {"id": 1, "user_id": 1, "submission_key": "a" * 32, "submitted_at": first + timedelta(hours=1)},
                    attempt | {"id": 2, "user_id": 1, "submission_key": "b" * 32, "submitted_at": first},
                    attempt | {"id": 3, "user_id": 2, "submission_key": "c" * 32, "submitted_at": first},
                ],
            )
            # Learner 2 opened the lesson properly: their row stays as it is.
            connection.execute(
                t["lesson_progress"].insert(),
                {"user_id": 2, "lesson_id": 1, "opened_at": first - timedelta(days=1), "completed_at": None},
            )

        upgrade()

        with db.engine.connect() as connection:
            progress = t["lesson_progress"]
            rows = connection.execute(
                select(progress.c.user_id, progress.c.opened_at, progress.c.completed_at).order_by(progress.c.user_id)
            ).all()
        opened = {
            user_id: (opened_at.replace(tzinfo=UTC) if opened_at.tzinfo is None else opened_at)
            for user_id, opened_at, _ in rows
        }
        assert opened == {1: first, 2: first - timedelta(days=1)}
        assert [completed for _, _, completed in rows] == [None, None]
        db.engine.dispose()


def test_content_rows_keep_their_ids_and_never_give_a_deleted_one_again(empty_database_url):
    """a19000000011 rebuilds lessons, questions and choices on SQLite as AUTOINCREMENT tables,
    keeping every row, its id and what points at it; PostgreSQL's sequences already never reuse."""
    from datetime import UTC, datetime

    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a19000000010")
        now = datetime(2026, 12, 1, tzinfo=UTC)
        reflected = MetaData()
        reflected.reflect(db.engine)
        t = reflected.tables
        with db.engine.begin() as connection:
            insert_one_lesson_course(connection, t, now)
            question_ids = []
            for number in (1, 2):
                question_ids.append(
                    connection.execute(
                        t["questions"].insert().returning(t["questions"].c.id),
                        {"lesson_id": 1, "position": number, "kind": "single"}
                        | {"prompt": f"Q{number}?", "explanation": "E", "shuffle": True},
                    ).scalar_one()
                )
                for position in (1, 2):
                    connection.execute(
                        t["choices"].insert(),
                        {"question_id": question_ids[-1], "position": position}
                        | {"text": "C", "is_correct": position == 1, "feedback": "F", "safety_critical": False},
                    )
        before = {name: _rows(name) for name in ("lessons", "questions", "choices")}

        upgrade()

        assert {name: _rows(name) for name in before} == before
        with db.engine.begin() as connection:
            # The newest question goes (its choices with it: the app's connections keep SQLite's
            # foreign keys on, app/security.py), and a new one is added.
            newest = question_ids[-1]
            connection.execute(text("DELETE FROM questions WHERE id = :id"), {"id": newest})
            assert connection.scalar(text("SELECT count(*) FROM choices WHERE question_id = :id"), {"id": newest}) == 0
            connection.execute(
                text(
                    "INSERT INTO questions (lesson_id, position, kind, prompt, explanation, shuffle) "
                    "VALUES (1, 2, 'single', 'New?', 'E', true)"
                )
            )
            new_id = connection.scalar(text("SELECT id FROM questions WHERE prompt = 'New?'"))
        assert new_id > newest
        db.engine.dispose()


def _rows(table: str) -> list[tuple]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]  # noqa: S608


def test_accounts_certificates_and_platforms_keep_their_ids_and_never_give_a_deleted_one_again(empty_database_url):
    """a19000000020 rebuilds users, certificates and lti_platforms on SQLite as AUTOINCREMENT tables,
    keeping every row, its id, what points at it and the triggers that keep each counsellor link's
    client name. Before, an erased account's id went to the next one, so an audit record naming a
    counsellor by id named the newcomer, and an erased holder's credential read as valid again."""
    from datetime import UTC, datetime

    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a19000000019")
        now = datetime(2026, 12, 1, tzinfo=UTC)
        reflected = MetaData()
        reflected.reflect(db.engine)
        t = reflected.tables
        with db.engine.begin() as connection:
            insert_one_lesson_course(connection, t, now)
            connection.execute(t["users"].insert(), learner_row(1, "ann@example.org", "Ann", now))
            connection.execute(
                t["users"].insert(), {**learner_row(2, "cas@example.org", "Cas", now), "role": "counsellor"}
            )
            connection.execute(t["counsellor_links"].insert(), {"counsellor_id": 2, "learner_id": 1, "created_at": now})
            connection.execute(
                t["certificates"].insert(),
                {"id": 1, "user_id": 1, "course_id": 1, "code": "A1", "issued_at": now, "name_at_issue": "Ann"},
            )
            connection.execute(
                t["lti_platforms"].insert(),
                {
                    "id": 1,
                    "name": "LMS",
                    "issuer": "https://lms.example.org",
                    "client_id": "c",
                    "auth_login_url": "https://lms.example.org/a",
                    "auth_token_url": "https://lms.example.org/t",
                    "key_set_url": "https://lms.example.org/k",
                    "deployment_ids": "1",
                    "created_at": now,
                },
            )
        tables = ("users", "certificates", "lti_platforms", "counsellor_links")
        before = {name: _rows(name) for name in tables}

        upgrade()

        # Every row and value kept; a column a later migration adds comes after them (ADD COLUMN).
        assert {name: [row[: len(before[name][0])] for row in _rows(name)] for name in tables} == before
        with db.engine.begin() as connection:
            # The client-name triggers are still there: a rename reaches the counsellor's link.
            connection.execute(text("UPDATE users SET display_name = 'Annie' WHERE id = 1"))
            assert connection.scalar(text("SELECT client_name_key FROM counsellor_links")) == "annie"
        if db.engine.dialect.name != "sqlite":
            db.engine.dispose()
            return  # PostgreSQL's sequences never reuse an id (and the rows above were given theirs)
        with db.engine.begin() as connection:
            # The newest account, certificate and platform go; new ones never take their ids.
            connection.execute(text("DELETE FROM certificates WHERE id = 1"))
            connection.execute(text("DELETE FROM counsellor_links"))
            connection.execute(text("DELETE FROM users WHERE id = 2"))
            connection.execute(text("DELETE FROM lti_platforms WHERE id = 1"))
            connection.execute(t["users"].insert(), {**learner_row(None, "new@example.org", "New", now)})
            connection.execute(
                t["certificates"].insert(),
                {"user_id": 1, "course_id": 1, "code": "B2", "issued_at": now, "name_at_issue": "Annie"},
            )
            new_user = connection.scalar(text("SELECT id FROM users WHERE email = 'new@example.org'"))
            new_certificate = connection.scalar(text("SELECT id FROM certificates WHERE code = 'B2'"))
        assert new_user > 2 and new_certificate > 1
        db.engine.dispose()
