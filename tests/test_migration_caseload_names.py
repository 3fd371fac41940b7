"""The migration a19000000010: existing counsellor links get their client's name key, and the
triggers keep it true afterwards, on SQLite and PostgreSQL."""

from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, select, text

from app import create_app
from app.extensions import db
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url, learner_row  # noqa: F401  # the fixture, re-used

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def keys(connection) -> dict[int, str | None]:
    return dict(connection.execute(text("SELECT id, client_name_key FROM counsellor_links ORDER BY id")).all())


def test_existing_links_get_their_clients_name_and_later_changes_follow(empty_database_url):  # noqa: F811
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a19000000003")
        tables = MetaData()
        tables.reflect(db.engine)
        t = tables.tables
        with db.engine.begin() as connection:
            connection.execute(
                t["users"].insert(), learner_row(1, "c@example.org", "Casey", WHEN) | {"role": "counsellor"}
            )
            connection.execute(t["users"].insert(), learner_row(2, "a@example.org", "Ann SMITH", WHEN))
            connection.execute(t["users"].insert(), learner_row(3, "b@example.org", "Bo", WHEN) | {"role": "admin"})
            link = {"counsellor_id": 1, "created_at": WHEN}
            connection.execute(
                t["counsellor_links"].insert(), [link | {"id": 1, "learner_id": 2}, link | {"id": 2, "learner_id": 3}]
            )

        upgrade()

        with db.engine.begin() as connection:
            assert keys(connection) == {1: "ann smith", 2: None}  # an admin is nobody's client
            connection.execute(text("UPDATE users SET display_name = 'Ann Jones' WHERE id = 2"))
            connection.execute(text("UPDATE users SET role = 'learner' WHERE id = 3"))
            connection.execute(t["users"].insert(), learner_row(4, "d@example.org", "Dee", WHEN))
            connection.execute(t["counsellor_links"].insert(), link | {"id": 3, "learner_id": 4})
            assert keys(connection) == {1: "ann jones", 2: "bo", 3: "dee"}
        index = {i["name"]: i["column_names"] for i in inspect(db.engine).get_indexes("counsellor_links")}
        assert index["ix_counsellor_links_caseload_by_name"] == ["counsellor_id", "client_name_key", "learner_id"]

        downgrade(revision="a19000000003")

        with db.engine.begin() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns("counsellor_links")}
            assert "client_name_key" not in columns
            connection.execute(text("UPDATE users SET display_name = 'Ann' WHERE id = 2"))  # no trigger left to fail
            assert connection.execute(select(t["users"].c.display_name).where(t["users"].c.id == 2)).scalar() == "Ann"
        db.engine.dispose()
