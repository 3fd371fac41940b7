"""The migration a19000000036: each live link takes the label of the latest invitation its client
accepted from its counsellor, while that invitation is still kept; ended links and other people's
invitations give nothing; the client-name triggers survive. On SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, text

from app import create_app
from app.extensions import db
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url, learner_row  # noqa: F401  # the fixture, re-used

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_live_links_keep_the_label_of_the_latest_invitation_their_client_accepted(empty_database_url):  # noqa: F811
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a19000000035")
        tables = MetaData()
        tables.reflect(db.engine)
        t = tables.tables
        with db.engine.begin() as connection:
            connection.execute(
                t["users"].insert(),
                [
                    learner_row(1, "c@example.org", "Casey", WHEN) | {"role": "counsellor"},
                    learner_row(2, "r@example.org", "Robin", WHEN) | {"role": "counsellor"},
                    learner_row(3, "s1@example.org", "Sam", WHEN),
                    learner_row(4, "s2@example.org", "Sam", WHEN),
                    learner_row(5, "a@example.org", "Alex", WHEN),
                ],
            )
            invitation = {"expires_at": WHEN + timedelta(days=14), "created_at": WHEN, "accepted": True}

            def used(number: int, counsellor: int, learner: int, label: str | None, days: int, **extra) -> dict:
                at = WHEN + timedelta(days=days)
                return (
                    invitation
                    | {
                        "id": number,
                        "counsellor_id": counsellor,
                        "code_hash": f"{number:064}",
                        "used_by_id": learner,
                        "used_at": at,
                        "label": label,
                    }
                    | extra
                )

            connection.execute(
                t["invitations"].insert(),
                [
                    used(1, 1, 3, "Tuesday group", 1),
                    used(2, 1, 3, "Thursday group", 2),  # accepted later: this one
                    used(3, 1, 3, "Declined one", 3, accepted=False),
                    used(4, 1, 3, None, 4),  # later still, but no label
                    used(5, 2, 4, "Robin's Sam", 1),  # another counsellor's
                    used(6, 1, 5, "Alex, referred", 1),  # his link has ended since
                ],
            )
            link = {"counsellor_id": 1, "created_at": WHEN, "revoked_at": None}
            connection.execute(
                t["counsellor_links"].insert(),
                [
                    link | {"id": 1, "learner_id": 3},
                    link | {"id": 2, "learner_id": 4},
                    link | {"id": 3, "learner_id": 5, "revoked_at": WHEN + timedelta(days=5)},
                ],
            )

        upgrade()

        with db.engine.begin() as connection:
            labels = dict(connection.execute(text("SELECT id, label FROM counsellor_links ORDER BY id")).all())
            assert labels == {1: "Thursday group", 2: None, 3: None}
            # The client-name triggers are still there: a rename reaches the links' name keys.
            connection.execute(text("UPDATE users SET display_name = 'Jo' WHERE id = 4"))
            keys = dict(connection.execute(text("SELECT id, client_name_key FROM counsellor_links")).all())
            assert keys[2] == "jo"

        downgrade(revision="a19000000035")
        columns = {column["name"] for column in inspect(db.engine).get_columns("counsellor_links")}
        assert "label" not in columns
        db.engine.dispose()
