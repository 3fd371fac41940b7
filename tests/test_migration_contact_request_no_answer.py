"""The migration a19000000037: a request may be "tried, no answer", and nothing else new; back
again, those requests read "new" (the trail still has each try). On SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, text
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.extensions import db
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url, learner_row  # noqa: F401  # the fixture, re-used

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def request_row(request_id: int, status: str) -> dict:
    return {
        "id": request_id,
        "contact_by": "phone",
        "phone": "07700 900123",
        "topic": "alcohol",
        "status": status,
        "picked_up_by_id": 1,
        "created_at": WHEN,
        "status_changed_at": WHEN,
        "version": 1,
    }


def test_no_answer_is_a_status_and_reads_new_once_downgraded(empty_database_url):  # noqa: F811
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a19000000036")
        tables = MetaData()
        tables.reflect(db.engine)
        requests, users = tables.tables["contact_requests"], tables.tables["users"]
        with db.engine.begin() as connection:
            connection.execute(
                users.insert(), learner_row(1, "casey@example.org", "Casey", WHEN) | {"role": "counsellor"}
            )
            connection.execute(requests.insert(), request_row(1, "contacted"))
            connection.execute(
                tables.tables["contact_request_events"].insert(),
                {"request_id": 1, "actor_id": 1, "action": "picked_up", "created_at": WHEN},
            )
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(requests.insert(), request_row(2, "no_answer"))  # not yet a status

        upgrade()

        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO contact_requests (id, contact_by, phone, topic, status, picked_up_by_id, "
                    "created_at, status_changed_at, version) VALUES "
                    "(2, 'phone', '07700 900123', 'alcohol', 'no_answer', 1, :at, :at, 1)"
                ),
                {"at": WHEN},
            )
            # The table was rebuilt on SQLite: the request and its trail's link are still there.
            assert (
                connection.execute(text("SELECT count(*) FROM contact_request_events WHERE request_id = 1")).scalar()
                == 1
            )
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(text("UPDATE contact_requests SET status = 'left_message' WHERE id = 2"))

        downgrade(revision="a19000000036")

        with db.engine.begin() as connection:
            statuses = dict(connection.execute(text("SELECT id, status FROM contact_requests")).all())
            assert statuses == {1: "contacted", 2: "new"}
            held = connection.execute(text("SELECT picked_up_by_id FROM contact_requests WHERE id = 2")).scalar()
            assert held == 1
        db.engine.dispose()
