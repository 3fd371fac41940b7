"""A client an admin deactivated, over HTTP with CSRF on: still listed, and said to be deactivated in
words on the dashboard's row, the client page's "At a glance", the CSV's Flags and the API's flags."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Role, User
from tests.api_support import bearer, make_token
from tests.conftest import create_user, csrf_token, lesson_slugs, login, visible_text
from tests.views.test_counsel import counsellor, linked, log_in_as  # noqa: F401 - fixtures
from tests.views.test_counsel_client_status import at_a_glance, at_a_glance_html, flag_words
from tests.views.test_csv_export import add_client, rows_of
from tests.views.test_query_counts import add_failed_attempts

__all__ = ["counsellor", "linked"]

TAG = '<span class="flag flag-deactivated">Account deactivated</span>'
MEANING = "Account deactivated: an administrator has closed this account for now, so they cannot log in"


def deactivate_by_admin(app, user_id: int) -> None:
    """An admin deactivates the account from its page, confirming (a browser of their own)."""
    create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    admin = app.test_client()
    assert login(admin, "ada@example.org").status_code == 302
    token = csrf_token(admin, f"/author/users/{user_id}")
    response = admin.post(f"/author/users/{user_id}/deactivate", data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 302
    with app.app_context():
        assert not db.session.get(User, user_id).is_active
        db.session.remove()


def row_of(dashboard: str, name: str) -> str:
    """The dashboard's table row of the client called ``name``."""
    return next(row for row in re.findall(r"<tr>.*?</tr>", dashboard, re.S) if f">{name}</a></th>" in row)


@pytest.fixture
def lee_deactivated(linked, app, counsellor, learner):
    """Lee (who failed the first quiz three times, its safety-critical question among the wrong answers)
    and Ann share with Casey; an admin deactivates Lee's account. The browser ends logged in as Casey."""
    add_failed_attempts(app, learner, lesson_slugs(app)[0], 3)
    add_client(app, counsellor, "Ann Smith")
    deactivate_by_admin(app, learner)  # which logs Lee out of this browser too
    assert login(linked, "casey@example.org").status_code == 302
    return linked


def test_the_dashboard_row_says_the_account_is_deactivated_and_the_key_says_what_that_means(lee_deactivated):
    dashboard = lee_deactivated.get("/counsel/").get_data(as_text=True)

    lee, ann = row_of(dashboard, "Lee Learner"), row_of(dashboard, "Ann Smith")
    assert flag_words(lee) == ["Account deactivated", "Safety concern", "Struggling"]  # in words, before the flags
    assert TAG not in ann
    assert MEANING in visible_text(dashboard)
    # Not a filter: the "Show" menu offers the flags alone.
    assert 'value="deactivated"' not in dashboard


def test_the_key_says_nothing_of_deactivation_when_no_client_on_the_page_is(linked, app, counsellor):
    add_client(app, counsellor, "Ann Smith")
    log_in_as(linked, "casey@example.org")
    dashboard = linked.get("/counsel/").get_data(as_text=True)
    assert "flag-deactivated" not in dashboard and "Account deactivated" not in dashboard


def test_the_client_page_says_it_at_a_glance(lee_deactivated, learner):
    page = lee_deactivated.get(f"/counsel/clients/{learner}").get_data(as_text=True)

    assert flag_words(at_a_glance_html(page)) == ["Account deactivated", "Safety concern", "Struggling"]
    glance = at_a_glance(page)
    assert "Flags Account deactivated Safety concern Struggling Last active" in glance
    assert MEANING in glance and "their progress, and whom they share it with, are kept." in glance
    assert "Lessons passed 0 of" in glance  # the history is still there to read


def test_the_csv_says_it_in_the_flags_column(lee_deactivated):
    rows = rows_of(lee_deactivated.get("/counsel/clients.csv"))
    flags = {row[0]: row[rows[0].index("Flags")] for row in rows[1:]}
    assert flags == {"Ann Smith": "", "Lee Learner": "Account deactivated; Safety concern; Struggling"}


def test_the_api_lists_it_among_the_flags_and_documents_it(lee_deactivated, app, counsellor):
    token = bearer(make_token(app, counsellor, "read:clients"))
    body = lee_deactivated.get("/api/v1/clients", headers=token).get_json()

    assert {row["name"]: row["flags"] for row in body["items"]} == {
        "Ann Smith": [],
        "Lee Learner": ["deactivated", "safety", "struggling"],
    }
    schema = lee_deactivated.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["ClientRow"]
    assert "deactivated" in schema["properties"]["flags"]["items"]["enum"]
    assert "deactivated" in schema["properties"]["flags"]["description"]
