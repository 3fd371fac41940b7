"""The shared fixtures' shortcuts (tests/conftest.py) leave each test what the long way would.

Every test makes an app, and every PostgreSQL test empties its worker's database after it, so
these shortcuts are taken thousands of times a run: an app routing differently from one made
the long way, or a table or id left over for the next test, would show up as some other test's
puzzling failure. These tests check them directly.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from werkzeug.routing import BaseConverter, Map, Rule

from app import create_app
from app.extensions import db
from app.models import User
from tests.conftest import (
    PASSWORD,
    create_user,
    factory_course_spec,
    import_course,
    login,
    make_test_config,
    postgres_emptied,
)


def routing(app) -> list[tuple]:
    """Everything ``Rule.compile`` works out for each of the app's rules, converters by type and settings."""
    return sorted(
        (
            rule.rule,
            rule.endpoint,
            repr(rule._parts),
            rule._trace,
            sorted(rule.arguments),
            sorted(
                (name, type(converter).__name__, repr({k: v for k, v in vars(converter).items() if k != "map"}))
                for name, converter in rule._converters.items()
            ),
        )
        for rule in app.url_map.iter_rules()
    )


def test_an_app_made_with_the_rules_parsed_once_routes_as_one_made_the_long_way(monkeypatch):
    shared = create_app(make_test_config("sqlite://"))
    monkeypatch.setattr(Rule, "_parse_rule", Rule._parse_rule.__wrapped__)  # parsed afresh, as outside the tests
    long_way = create_app(make_test_config("sqlite://"))

    assert routing(shared) == routing(long_way)
    for rule in shared.url_map.iter_rules():  # each app's converters are its own, bound to its own map
        assert all(converter.map is shared.url_map for converter in rule._converters.values())
    with shared.test_request_context():
        assert shared.url_for("learn.course", course_slug="c") == "/courses/c/"
    urls = shared.url_map.bind("localhost")
    assert urls.match("/me/tokens/12/revoke", method="POST")[1] == {"token_id": 12}  # the app's own <id:...>


def test_a_rule_is_parsed_again_for_a_map_whose_converters_differ():
    class Letters(BaseConverter):
        regex = "[a-z]+"

    plain, lettered = (
        Map([Rule("/items/<id:item>", endpoint="item")], converters={"id": BaseConverter}),
        Map([Rule("/items/<id:item>", endpoint="item")], converters={"id": Letters}),
    )

    assert plain.bind("localhost").match("/items/7") == ("item", {"item": "7"})
    assert lettered.bind("localhost").match("/items/abc") == ("item", {"item": "abc"})
    with pytest.raises(Exception, match="Not Found"):
        lettered.bind("localhost").match("/items/7")


def every_table_and_sequence(session) -> tuple[dict[str, int], list[str]]:
    """Each table's row count, and the id sequences that have given an id since they were (re)set."""
    counts = {
        table.name: session.scalar(select(db.func.count()).select_from(table)) for table in db.metadata.sorted_tables
    }
    used = session.scalars(text("SELECT sequencename FROM pg_sequences WHERE last_value IS NOT NULL")).all()
    return counts, list(used)


def test_a_postgresql_database_is_emptied_to_a_new_ones_state(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("only a worker's PostgreSQL database is emptied after each test; SQLite gets a new file")
    import_course(app, factory_course_spec())
    create_user(app, "learner@example.org")
    assert login(app.test_client(), "learner@example.org", PASSWORD).status_code == 302  # a login session too
    with app.app_context():
        counts, used = every_table_and_sequence(db.session)
        assert sum(1 for count in counts.values() if count) >= 8 and len(used) >= 8, (counts, used)
        db.session.remove()

        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            own = connection.connection.dbapi_connection.info.backend_pid
            alive = postgres_emptied(connection)

        counts, used = every_table_and_sequence(db.session)
        assert set(counts.values()) == {0} and used == []
        assert own in alive  # the server processes still up, this connection's among them
        db.session.remove()
    assert create_user(app, "next@example.org") == 1  # ids start again from 1, as in a new database
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == ["next@example.org"]
