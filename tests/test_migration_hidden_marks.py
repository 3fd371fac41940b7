"""The migration a19000000021: names stored before hidden marks were refused have them taken
out, on SQLite and PostgreSQL; every other name, and everything else, is as it was."""

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import MetaData, text

from app import create_app
from app.extensions import db
from app.services.accounts import name_has_hidden_marks, name_without_hidden_marks
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url, insert_one_lesson_course, learner_row  # noqa: F401  # the fixture, re-used

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

# Stored name -> what it must become (None: a contact request left without a name).
ACCOUNTS = {
    1: ("Ann\u202eHtims", "Ann Htims"),  # a right-to-left override: the reason for the rule
    2: ("Bo\x07 \u2066Brown\u2069", "Bo Brown"),  # (PostgreSQL stores no NUL: requests with one are refused)
    3: ("\u202e\u2028", "Learner"),  # nothing left: as an LMS launch without a name
    4: ("Cy Plain", "Cy Plain"),
    5: ("Dee\tTab\nLine", "Dee Tab Line"),
}
REQUESTS = {1: ("Eve\u202d", "Eve"), 2: ("\u2029", None), 3: (None, None), 4: ("Fay", "Fay")}
CERTIFICATES = {1: ("Ann\u202eHtims", "Ann Htims"), 2: ("\u202e", "Learner"), 3: ("Cy Plain", "Cy Plain")}
# Accounts past the migration's first batch of 1,000, one of them with a mark to take out.
LATER = 1_000


def test_stored_names_lose_their_hidden_marks_and_nothing_else_changes(empty_database_url):  # noqa: F811
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a19000000020")
        tables = MetaData()
        tables.reflect(db.engine)
        t = tables.tables
        with db.engine.begin() as connection:
            for user_id, (name, _) in ACCOUNTS.items():
                connection.execute(t["users"].insert(), learner_row(user_id, f"u{user_id}@example.org", name, WHEN))
            connection.execute(
                t["users"].insert(), learner_row(9, "c@example.org", "Casey", WHEN) | {"role": "counsellor"}
            )
            connection.execute(
                t["users"].insert(),
                [learner_row(10 + n, f"later{n}@example.org", f"Later {n}", WHEN) for n in range(LATER)]
                + [learner_row(10 + LATER, "last@example.org", "Last\u202eOne", WHEN)],
            )
            insert_one_lesson_course(connection, t, WHEN)
            for certificate_id, (name, _) in CERTIFICATES.items():
                connection.execute(
                    t["certificates"].insert(),
                    {"id": certificate_id, "user_id": certificate_id, "course_id": 1, "code": f"code-{certificate_id}"}
                    | {"issued_at": WHEN, "name_at_issue": name, "name_display": "full", "public": True},
                )
            connection.execute(
                t["counsellor_links"].insert(), {"id": 1, "counsellor_id": 9, "learner_id": 1, "created_at": WHEN}
            )
            for request_id, (name, _) in REQUESTS.items():
                connection.execute(
                    t["contact_requests"].insert(),
                    {"id": request_id, "contact_by": "phone", "phone": "07700 900123", "name": name}
                    | {"status": "new", "created_at": WHEN, "status_changed_at": WHEN, "version": 1},
                )

        upgrade()

        with db.engine.begin() as connection:
            names = dict(connection.execute(text("SELECT id, display_name FROM users WHERE id < 9")).all())
            assert names == {user_id: after for user_id, (_, after) in ACCOUNTS.items()}
            asked = dict(connection.execute(text("SELECT id, name FROM contact_requests")).all())
            assert asked == {request_id: after for request_id, (_, after) in REQUESTS.items()}
            issued = dict(connection.execute(text("SELECT id, name_at_issue FROM certificates")).all())
            assert issued == {certificate_id: after for certificate_id, (_, after) in CERTIFICATES.items()}
            later = (
                connection.execute(text("SELECT display_name FROM users WHERE id >= 10 ORDER BY id")).scalars().all()
            )
            assert later == [f"Later {n}" for n in range(LATER)] + ["Last One"]  # the second batch too
            # The counsellor's list sorts by the cleaned name (the triggers follow the change).
            key = connection.execute(text("SELECT client_name_key FROM counsellor_links WHERE id = 1")).scalar()
            assert key == "ann htims"
            assert connection.execute(text("SELECT email FROM users WHERE id = 1")).scalar() == "u1@example.org"
        db.engine.dispose()


def test_the_migration_takes_out_what_the_rule_refuses_today():
    """Its own copy of the characters (so a later change cannot change what it did) agrees with the
    rule at the time it was written. If the rule changes on purpose, leave the migration as it is:
    write a new one for names the new rule refuses, and compare that one here instead."""
    path = (
        Path(__file__).parents[1] / "migrations" / "versions" / "a19000000021_take_hidden_marks_out_of_stored_names.py"
    )
    spec = importlib.util.spec_from_file_location("hidden_marks_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for code in range(0x3000):
        character = chr(code)
        name = f"A{character}B"
        assert bool(migration.HIDDEN_MARKS.search(name)) == name_has_hidden_marks(name), hex(code)
        assert migration.without_hidden_marks(name) == name_without_hidden_marks(name), hex(code)
