"""The migration a19000000030: on SQLite, the client name keys stored by SQLite's ASCII-only
lower() are rewritten as every letter folded; on PostgreSQL, whose lower() folds every letter
already, nothing changes."""

from datetime import UTC, datetime

from flask_migrate import upgrade
from sqlalchemy import MetaData, text

from app import create_app
from app.extensions import db
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url, learner_row  # noqa: F401  # the fixture, re-used

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
NAMES = {1: "Zoë Ångström", 2: "Plain Name", 3: "ŞULE", 4: "ÉMILE Ü"}
LATER = 1_000  # past the migration's first batch, the last of them with a letter to fold


def ascii_folded(name: str) -> str:
    """What SQLite's own lower() made of a name."""
    return "".join(letter.lower() if letter.isascii() else letter for letter in name)


def test_stored_name_keys_fold_every_letter(empty_database_url):  # noqa: F811
    app = create_app(make_test_config(empty_database_url))
    later = {10 + n: f"Later {n}" for n in range(LATER)} | {10 + LATER: "Last ÖNE"}
    everyone = NAMES | later
    with app.app_context():
        upgrade(revision="a19000000022")
        tables = MetaData()
        tables.reflect(db.engine)
        t = tables.tables
        sqlite = db.engine.dialect.name == "sqlite"
        with db.engine.begin() as connection:
            connection.execute(
                t["users"].insert(),
                [learner_row(user_id, f"u{user_id}@example.org", name, WHEN) for user_id, name in everyone.items()],
            )
            connection.execute(
                t["users"].insert(), learner_row(9, "c@example.org", "Casey", WHEN) | {"role": "counsellor"}
            )
            connection.execute(
                t["counsellor_links"].insert(),
                [{"counsellor_id": 9, "learner_id": user_id, "created_at": WHEN} for user_id in everyone],
            )
            if sqlite:  # as SQLite's own lower() wrote them before the app gave it Python's
                for user_id, name in everyone.items():
                    connection.execute(
                        text("UPDATE counsellor_links SET client_name_key = :key WHERE learner_id = :id"),
                        {"key": ascii_folded(name), "id": user_id},
                    )

        upgrade()

        with db.engine.begin() as connection:
            keys = dict(connection.execute(text("SELECT learner_id, client_name_key FROM counsellor_links")).all())
    assert keys == {user_id: name.lower() for user_id, name in everyone.items()}
    assert keys[1] == "zoë ångström" and keys[10 + LATER] == "last öne"  # the second batch too
