"""The shared fixtures' shortcuts (tests/conftest.py) leave each test what the long way would.

Every test makes an app, and every PostgreSQL test empties its worker's database after it, so
these shortcuts are taken thousands of times a run: an app routing differently from one made
the long way, or a table or id left over for the next test, would show up as some other test's
puzzling failure. These tests check them directly.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import BaseConverter, Map, Rule

from app import create_app
from tests.conftest import make_test_config


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
