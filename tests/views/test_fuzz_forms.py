"""Property-based: random and malformed data posted to every form never gets a 500."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models import Role
from tests.conftest import create_user, csrf_token, lesson_slugs, login

ODD_VALUES = [
    "",
    "0",
    "-1",
    "1e309",
    "99999999999999999999",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u202e\u0000",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "a" * 5000,
    "../../etc/passwd",
    "%00",
    "null",
    "[]",
    "{}",
]
values = st.one_of(st.text(max_size=300), st.sampled_from(ODD_VALUES))


def form_data(field_names):
    keys = st.one_of(st.sampled_from(field_names or ["field"]), st.text(max_size=30))
    return st.dictionaries(keys, st.one_of(values, st.lists(values, max_size=4)), max_size=8)


def forms(app, admin_id):
    first = lesson_slugs(app)[0]
    return {
        "/auth/register": (False, ["email", "display_name", "password"]),
        "/auth/login": (False, ["email", "password", "remember"]),
        "/auth/reset": (False, ["email"]),
        "/auth/reset/not-a-token": (False, ["password", "confirm"]),
        f"/courses/naltrexone/lessons/{first}/quiz": (True, ["submission_key", "question-1", "question-2"]),
        f"/courses/naltrexone/lessons/{first}/done": (True, []),
        "/join/ABCD-EFGH": (True, ["decision"]),
        "/me/delete": (True, ["password", "understood"]),
        "/me/sharing/1/stop": (True, []),
        "/counsel/invitations": (True, []),
        f"/counsel/clients/{admin_id}": (True, []),
    }


@pytest.fixture
def clients(app, course):
    admin_id = create_user(app, "admin@example.org", role=Role.ADMIN)
    admin = app.test_client()
    login(admin, "admin@example.org")
    return {False: app.test_client(), True: admin}, forms(app, admin_id)


@pytest.mark.parametrize("index", range(11))
@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_posts_never_get_a_server_error(clients, index, data):
    by_role, all_forms = clients
    url, (needs_login, fields) = list(all_forms.items())[index]
    client = by_role[needs_login]
    body = data.draw(form_data(fields))
    body["csrf_token"] = csrf_token(client, "/me/" if needs_login else "/auth/login")
    response = client.post(url, data=body)
    assert response.status_code < 500, f"{url} -> {response.status_code} for {body!r}"
    if needs_login:
        assert "Log out" in client.get("/").get_data(as_text=True), "the admin session was lost"


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_random_paths_never_get_a_server_error(clients, path):
    client = clients[0][True]
    url = "/" + re.sub(r"[?#]", "", path)
    assert client.get(url).status_code < 500
