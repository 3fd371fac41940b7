"""The migration a19000000034: each contact request's one notes text becomes its first note, by
nobody (anyone may have edited it), dated when the trail last saw the notes change or else when
the request was made; the old column goes. On SQLite and PostgreSQL; and back again."""

from datetime import UTC, datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, select, text

from app import create_app
from app.extensions import db
from app.models import ContactRequestNote
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url, learner_row  # noqa: F401  # the fixture, re-used

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
CALLED = "Called 6:15pm, no answer.\nTry again tomorrow."


def request_row(request_id: int, staff_note: str | None, status: str = "contacted") -> dict:
    return {
        "id": request_id,
        "contact_by": "phone",
        "phone": "07700 900123",
        "topic": "alcohol",
        "status": status,
        "staff_note": staff_note,
        "created_at": WHEN + timedelta(minutes=request_id),
        "status_changed_at": WHEN,
        "version": 1,
    }


def test_each_request_s_notes_become_its_first_note_and_the_column_goes(empty_database_url):  # noqa: F811
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a19000000033")
        tables = MetaData()
        tables.reflect(db.engine)
        t = tables.tables
        with db.engine.begin() as connection:
            connection.execute(
                t["users"].insert(), learner_row(1, "casey@example.org", "Casey", WHEN) | {"role": "counsellor"}
            )
            connection.execute(
                t["contact_requests"].insert(),
                [
                    request_row(1, CALLED),  # noted twice: dated by the later change
                    request_row(2, "Booked in"),  # no change recorded: dated when asked
                    request_row(3, None),
                    request_row(4, "   "),  # nothing written (the old form stripped, so never more): no note
                    request_row(5, None, status="withdrawn"),
                ],
            )
            connection.execute(
                t["contact_request_events"].insert(),
                [
                    {"request_id": 1, "actor_id": 1, "action": "noted", "created_at": WHEN + timedelta(hours=1)},
                    {"request_id": 1, "actor_id": 1, "action": "noted", "created_at": WHEN + timedelta(hours=3)},
                    {"request_id": 1, "actor_id": 1, "action": "picked_up", "created_at": WHEN + timedelta(hours=5)},
                    {"request_id": 2, "actor_id": 1, "action": "picked_up", "created_at": WHEN + timedelta(hours=2)},
                ],
            )

        upgrade()

        notes = db.session.scalars(select(ContactRequestNote).order_by(ContactRequestNote.request_id)).all()
        assert [(n.request_id, n.author_id, n.text, n.carried_over) for n in notes] == [
            (1, None, CALLED, True),
            (2, None, "Booked in", True),
        ]
        assert [n.created_at for n in notes] == [WHEN + timedelta(hours=3), WHEN + timedelta(minutes=2)]
        db.session.remove()
        columns = {c["name"] for c in db.inspect(db.engine).get_columns("contact_requests")}
        assert "staff_note" not in columns
        with db.engine.begin() as connection:
            # The table was rebuilt on SQLite: every request, and its trail's links, are still there.
            assert connection.execute(text("SELECT count(*) FROM contact_requests")).scalar() == 5
            linked = connection.execute(text("SELECT count(*) FROM contact_request_events WHERE request_id = 1"))
            assert linked.scalar() == 3
            # Notes added since join the carried-over one on the way back.
            connection.execute(
                text(
                    "INSERT INTO contact_request_notes (request_id, author_id, text, created_at, carried_over) "
                    "VALUES (1, 1, 'Rang again', :at, :no)"
                ),
                {"at": WHEN + timedelta(days=1), "no": False},
            )

        downgrade(revision="a19000000033")

        with db.engine.begin() as connection:
            notes_back = dict(connection.execute(text("SELECT id, staff_note FROM contact_requests")).all())
            assert notes_back == {1: f"{CALLED}\n\nRang again", 2: "Booked in", 3: None, 4: None, 5: None}
        db.engine.dispose()
