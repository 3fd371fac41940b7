"""Migration a15000000003 on SQLite and PostgreSQL: publications made before it stay, without a copy."""

from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, select

from app import create_app
from app.extensions import db
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url, insert_one_lesson_course, learner_row  # noqa: F401 - a fixture

BEFORE, REVISION = "a15000000002", "a15000000003"


def reflected():
    tables = MetaData()
    tables.reflect(db.engine)
    return tables.tables


def test_publications_from_before_keep_their_record_and_have_no_copy(empty_database_url):  # noqa: F811
    app = create_app(make_test_config(empty_database_url))
    now = datetime(2026, 11, 19, 14, 2, tzinfo=UTC)
    record = {
        "id": 1,
        "course_id": 1,
        "published_at": now,
        "published_by_id": 1,
        "summary": "c: updated 1 lessons.\n- Lesson “L”: text changed\n",
    }
    with app.app_context():
        upgrade(revision=BEFORE)
        t = reflected()
        with db.engine.begin() as connection:
            connection.execute(t["users"].insert(), learner_row(1, "a@example.org", "A", now))
            insert_one_lesson_course(connection, t, now)
            connection.execute(t["course_publications"].insert(), record)

        upgrade(revision=REVISION)

        t = reflected()
        with db.engine.connect() as connection:
            row = connection.execute(select(t["course_publications"])).mappings().one()
        assert {key: row[key] for key in record if key != "published_at"} == {
            k: v for k, v in record.items() if k != "published_at"
        }
        assert (row["data"], row["changes"], row["restored_from_id"]) == (None, None, None)
        foreign_keys = inspect(db.engine).get_foreign_keys("course_publications")
        assert any(fk["constrained_columns"] == ["restored_from_id"] for fk in foreign_keys)

        downgrade(revision=BEFORE)

        columns = {c["name"] for c in inspect(db.engine).get_columns("course_publications")}
        assert columns == {"id", "course_id", "published_at", "published_by_id", "summary"}
        with db.engine.connect() as connection:
            assert (
                connection.execute(select(reflected()["course_publications"].c.summary)).scalar_one()
                == (record["summary"])
            )
        db.engine.dispose()
