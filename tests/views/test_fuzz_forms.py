"""Property-based: random and malformed input never gets a 500 or a 503.

Every route of the app is fuzzed three ways, on each database under test: its path
parameters, its query string, and (for every route that takes a POST, the authoring forms
included) its form. The routes are read from the app, so a new route is fuzzed from day one.
Bad input is the client's mistake (400 or 404); a 503 would blame the database for it.
"""

import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from tests.conftest import csrf_token, login, make_test_config
from tests.views.test_access_matrix import EMAILS, world  # noqa: F401 - world is a fixture

ODD_VALUES = [
    "",
    "0",
    "-1",
    "1e309",
    "NaN",
    "sNaN",
    "Infinity",
    "²",
    "١٢",
    "2147483647",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u202e\u0000",
    "a\x00b",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "a" * 5000,
    "../../etc/passwd",
    "%00",
    "null",
    "[]",
    "{}",
]
values = st.one_of(st.text(max_size=300), st.sampled_from(ODD_VALUES))
path_values = st.one_of(st.text(min_size=1, max_size=40), st.sampled_from([v for v in ODD_VALUES if v]))
QUERY_KEYS = ["page", "q", "flag", "sort", "dir", "role", "module", "code", "next", "lesson", "course", "range"]
# Ending the admin's session would leave the rest of the run signed out.
SIGNS_OUT = re.compile(r"logout")
# POST-only routes: the fields of the button that posts them.
POST_ONLY_FIELDS = {
    "move": ["direction"],
    "role": ["role"],
    "link": ["counsellor_id"],
    "preview": ["body", "title", "minutes", "sources"],  # the lesson editor's live preview
}


# Examples per route and database. Derandomised, so every run sends the same inputs: a fixed
# sample per route, not a search that grows run by run. Every route keeps examples of its own on
# both databases. Forms, page paths and query strings had 15, 10 and 8, an eighth of the suite's
# time; the values likeliest to break a route (past a column's range, a NUL byte, markup, a huge
# string) are in ODD_VALUES, which each drawn value may come from, so fewer examples still reach them.
FORM_EXAMPLES = 10
PATH_EXAMPLES = 6
ACTION_PATH_EXAMPLES = 10
QUERY_EXAMPLES = 5
RANDOM_PATH_EXAMPLES = 30


def fuzz_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


def _rules():
    app = create_app(make_test_config("sqlite://"))
    return [
        (rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"}))
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ("static", "assets")
    ]


RULES = _rules()
PATH_RULES = [rule for rule, _ in RULES if "<" in rule and not SIGNS_OUT.search(rule)]
GET_RULES = [rule for rule, methods in RULES if "GET" in methods]
POST_RULES = [rule for rule, methods in RULES if "POST" in methods and not SIGNS_OUT.search(rule)]
PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>")


def valid_arguments(w) -> dict[str, str]:
    """A real value for every path parameter, from the access matrix's world."""
    return {
        "course_slug": w["course"],
        "lesson_slug": w["first"],
        "attempt_id": str(w["attempt"]),
        "submission_key": w["review"],
        "learner_id": str(w["ids"]["learner"]),
        "link_id": str(w["link"]),
        "code": w["code"],
        "certificate_code": w["certificate"],
        "token": "not-a-token",
        "user_id": str(w["ids"]["other_learner"]),
        "module_slug": w["module"],
        "position": "1",
        "misconception_code": w["misconception"],
        "list_number": "0",
        "invitation_id": str(w["invitation"]),
        "request_id": str(w["contact_request"]),
        "handover_id": str(w["handover"]),
        "counsellor_id": str(w["ids"]["counsellor"]),
        "media_name": w["media"],
        "version": w["media_version"],
        "token_id": str(w["api_token"]),
        "publication_id": str(w["publication"]),
        "platform_id": str(w["lti_platform"]),
    }


def build(rule: str, arguments: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: quote(arguments[m.group(1)], safe=""), rule)


@pytest.fixture
def fuzzing(app, world):  # noqa: F811
    """Signed-in admin and anonymous clients, each with a CSRF token, and the world's values."""
    admin, anonymous = app.test_client(), app.test_client()
    assert login(admin, EMAILS["admin"]).status_code == 302
    tokens = {True: csrf_token(admin, "/me/"), False: csrf_token(anonymous, "/auth/login")}
    return {True: admin, False: anonymous}, tokens, valid_arguments(world)


def _send(fuzzing, rule: str, url: str, data: dict | None = None):
    by_role, tokens, _ = fuzzing
    signed_in = not rule.startswith("/auth/")
    client = by_role[signed_in]
    methods = dict(RULES)[rule]
    if "GET" in methods and data is None:
        return client.get(url)
    return client.post(url, data={**(data or {}), "csrf_token": tokens[signed_in]})


def _no_server_error(response, what) -> None:
    assert response.status_code not in (500, 503), f"{what} -> {response.status_code}"
    assert response.status_code < 500, f"{what} -> {response.status_code}"


@pytest.mark.parametrize("rule", POST_RULES)
@fuzz_settings(FORM_EXAMPLES)
@given(data=st.data())
def test_random_posts_never_get_a_server_error(fuzzing, rule, data):
    by_role, _, arguments = fuzzing
    url = build(rule, arguments)
    signed_in = not rule.startswith("/auth/")
    fields = _form_fields(by_role[signed_in], url, rule)
    keys = st.one_of(st.sampled_from(fields or ["field"]), st.text(max_size=30))
    body = data.draw(st.dictionaries(keys, st.one_of(values, st.lists(values, max_size=4)), max_size=10))
    _no_server_error(_send(fuzzing, rule, url, body), f"POST {url} {body!r}")
    if signed_in:
        assert "Log out" in by_role[True].get("/").get_data(as_text=True), "the admin session was lost"


_FIELDS: dict[str, list[str]] = {}


def _form_fields(client, url: str, rule: str) -> list[str]:
    """The names of the fields on the route's own page (or of the button that posts it)."""
    if url not in _FIELDS:
        names = POST_ONLY_FIELDS.get(rule.rsplit("/", 1)[-1], [])
        if "GET" in dict(RULES)[rule]:
            page = client.get(url).get_data(as_text=True)
            names = sorted(set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', page)) - {"csrf_token"})
        _FIELDS[url] = names
    return _FIELDS[url]


def _fuzz_path(fuzzing, rule: str, data) -> None:
    _, _, arguments = fuzzing
    names = PLACEHOLDER.findall(rule)
    fuzzed = data.draw(st.sets(st.sampled_from(names), min_size=1))
    url = build(rule, {**arguments, **{name: data.draw(path_values, label=name) for name in fuzzed}})
    response = _send(fuzzing, rule, url)
    _no_server_error(response, url)
    if "%00" in url:
        assert response.status_code == 400, url


# Routes a GET can reach change nothing, so they share one world (set up once, not once a
# route: that set-up is most of the fuzzing's time); POST-only routes get a fresh one each.
PATH_GET_RULES = [rule for rule in PATH_RULES if "GET" in dict(RULES)[rule]]
PATH_POST_ONLY_RULES = [rule for rule in PATH_RULES if "GET" not in dict(RULES)[rule]]


def _fuzzer(examples: int, check, fuzzing, rule: str):
    """A Hypothesis run of ``check(fuzzing, rule, data)`` for one route, inside a shared world."""

    @fuzz_settings(examples)
    @given(data=st.data())
    def run(data):
        check(fuzzing, rule, data)

    return run


def test_random_path_parameters_of_pages_never_get_a_server_error(fuzzing):
    for rule in PATH_GET_RULES:
        _fuzzer(PATH_EXAMPLES, _fuzz_path, fuzzing, rule)()


@pytest.mark.parametrize("rule", PATH_POST_ONLY_RULES)
@fuzz_settings(ACTION_PATH_EXAMPLES)
@given(data=st.data())
def test_random_path_parameters_of_actions_never_get_a_server_error(fuzzing, rule, data):
    _fuzz_path(fuzzing, rule, data)


def _fuzz_query(fuzzing, rule: str, data) -> None:
    _, _, arguments = fuzzing
    keys = st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=20))
    query = data.draw(st.lists(st.tuples(keys, values), max_size=6))
    url = build(rule, arguments) + "?" + urlencode(query)
    response = _send(fuzzing, rule, url)
    _no_server_error(response, url)
    if any("\x00" in key + value for key, value in query):
        assert response.status_code == 400, url


def test_random_query_strings_never_get_a_server_error(fuzzing):
    for rule in GET_RULES:
        _fuzzer(QUERY_EXAMPLES, _fuzz_query, fuzzing, rule)()


@fuzz_settings(RANDOM_PATH_EXAMPLES)
@given(path=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_random_paths_never_get_a_server_error(fuzzing, path):
    url = "/" + re.sub(r"[?#]", "", path).lstrip("/")  # "//x" would be a host to the test client
    response = fuzzing[0][True].get(url)
    _no_server_error(response, url)
    if "\x00" in path:
        assert response.status_code == 400, repr(url)
