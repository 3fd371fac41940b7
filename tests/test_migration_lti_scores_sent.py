"""The migration a19000000017: line items made before scores were remembered are marked as sent
to, so the first hourly run does not send every old score again (undoing grades an instructor
changed by hand), on SQLite and PostgreSQL."""

from datetime import UTC, datetime

from flask_migrate import upgrade
from sqlalchemy import MetaData, text

from app import create_app
from app.extensions import db
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url, learner_row  # noqa: F401  # the fixture, re-used

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_existing_line_items_count_as_sent_to_and_new_ones_do_not(empty_database_url):  # noqa: F811
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a19000000016")
        tables = MetaData()
        tables.reflect(db.engine)
        t = tables.tables
        with db.engine.begin() as connection:
            connection.execute(t["users"].insert(), learner_row(1, None, "Pat", WHEN))
            connection.execute(
                t["courses"].insert(),
                {"id": 1, "slug": "c", "title": "C", "summary": "S", "pass_mark": 0.8, "updated_at": WHEN},
            )
            base = "https://lms.example.org"
            connection.execute(
                t["lti_platforms"].insert(),
                {
                    "id": 1,
                    "name": "LMS",
                    "issuer": base,
                    "client_id": "c",
                    "auth_login_url": base,
                    "auth_token_url": base,
                    "key_set_url": base,
                    "deployment_ids": "1",
                    "created_at": WHEN,
                },
            )
            connection.execute(
                t["lti_identities"].insert(),
                {"id": 1, "platform_id": 1, "subject": "s", "user_id": 1, "created_at": WHEN, "last_launch_at": WHEN},
            )
            connection.execute(
                t["lti_grade_targets"].insert(),
                {"id": 1, "identity_id": 1, "course_id": 1, "lineitem_url": f"{base}/li/1", "updated_at": WHEN},
            )

        upgrade()

        with db.engine.begin() as connection:
            [(score, sent_at)] = connection.execute(text("SELECT sent_score, sent_at FROM lti_grade_targets")).all()
            assert score is None and sent_at is not None
        db.engine.dispose()
