"""A client holding a safety-critical misconception, over HTTP with CSRF on: "Safety concern" in words
on the dashboard's row (first among the flags), in its key, its "Show" menu and its flags sort, on
the client page's "At a glance" with what it means, in the CSV's Flags column and the API's flags."""

from __future__ import annotations

import re

import pytest

from tests.api_support import bearer, make_token
from tests.conftest import lesson_slugs, quiz_form, submit_quiz, visible_text
from tests.views.test_counsel import counsellor, linked, log_in_as  # noqa: F401 - fixtures
from tests.views.test_counsel_client_status import at_a_glance, at_a_glance_html, flag_words
from tests.views.test_counsel_deactivated_clients import row_of
from tests.views.test_csv_export import add_client, fail_quiz, rows_of

__all__ = ["counsellor", "linked"]

TAG = '<span class="flag flag-safety">Safety concern</span>'
MEANING = (
    "Safety concern: a wrong answer showed a misconception the course marks safety-critical, and no later "
    "answer to that question was right, so it is still present"
)


@pytest.fixture
def lee_unsafe(linked, app, counsellor):
    """Lee answers the first quiz all wrong, once: among the wrong choices, the one revealing the
    course's safety-critical misconception (not struggling: one try). Ann, Casey's other client, has
    done nothing. The browser ends logged in as Casey."""
    first = lesson_slugs(app)[0]
    assert submit_quiz(linked, first, quiz_form(app, first, right=False)).status_code == 302
    add_client(app, counsellor, "Ann Smith")
    log_in_as(linked, "casey@example.org")
    return linked


def test_the_dashboard_row_says_it_in_words_and_the_key_says_what_it_means(lee_unsafe):
    dashboard = lee_unsafe.get("/counsel/").get_data(as_text=True)

    assert flag_words(row_of(dashboard, "Lee Learner")) == ["Safety concern"]
    assert TAG not in row_of(dashboard, "Ann Smith")
    assert MEANING in visible_text(dashboard)


def test_the_show_menu_offers_it_first_and_filters_by_it(lee_unsafe):
    dashboard = lee_unsafe.get("/counsel/").get_data(as_text=True)
    menu = re.search(r'<select class="input" id="flag" name="flag">.*?</select>', dashboard, re.S).group(0)
    assert re.findall(r'value="(\w*)"', menu) == ["", "safety", "struggling", "inactive", "finished"]
    assert 'value="safety">Safety concern</option>' in menu

    filtered = lee_unsafe.get("/counsel/?flag=safety").get_data(as_text=True)
    assert re.findall(r"<th scope=\"row\"><a [^>]+>([^<]+)</a></th>", filtered) == ["Lee Learner"]
    assert "1 client matches your filters." in visible_text(filtered)
    assert 'selected value="safety"' in filtered


def test_the_flags_sort_puts_it_first(lee_unsafe, app, counsellor):
    bob = add_client(app, counsellor, "Bob Jones")
    fail_quiz(app, bob, lesson_slugs(app)[2], 3)  # struggling at lesson 3, whose wrong choices reveal nothing
    sorted_page = lee_unsafe.get("/counsel/?sort=flags&dir=desc").get_data(as_text=True)
    names = re.findall(r"<th scope=\"row\"><a [^>]+>([^<]+)</a></th>", sorted_page)
    assert names == ["Lee Learner", "Bob Jones", "Ann Smith"]
    assert flag_words(row_of(sorted_page, "Bob Jones")) == ["Struggling"]


def test_the_client_page_says_it_at_a_glance_with_its_meaning(lee_unsafe, learner):
    page = lee_unsafe.get(f"/counsel/clients/{learner}").get_data(as_text=True)

    assert flag_words(at_a_glance_html(page)) == ["Safety concern"]
    glance = at_a_glance(page)
    assert "Flags Safety concern Last active" in glance
    assert MEANING in glance
    # The misconception the flag stands for leads the page's list, still present.
    talk = visible_text(re.search(r'<section aria-labelledby="misconceptions">.*?</section>', page, re.S).group(0))
    assert talk.startswith("What to talk about Safety-critical") and "Still present" in talk


def test_a_later_right_answer_takes_it_away(lee_unsafe, app, learner):
    log_in_as(lee_unsafe, "learner@example.org")
    first = lesson_slugs(app)[0]
    assert submit_quiz(lee_unsafe, first, quiz_form(app, first, right=True)).status_code == 302
    log_in_as(lee_unsafe, "casey@example.org")

    assert TAG not in lee_unsafe.get("/counsel/").get_data(as_text=True)
    glance = at_a_glance(lee_unsafe.get(f"/counsel/clients/{learner}").get_data(as_text=True))
    assert "Flags None" in glance and "Safety concern" not in glance


def test_the_csv_says_it_in_the_flags_column_and_filters_by_it(lee_unsafe):
    rows = rows_of(lee_unsafe.get("/counsel/clients.csv"))
    flags = {row[0]: row[rows[0].index("Flags")] for row in rows[1:]}
    assert flags == {"Ann Smith": "", "Lee Learner": "Safety concern"}
    assert [row[0] for row in rows_of(lee_unsafe.get("/counsel/clients.csv?flag=safety"))[1:]] == ["Lee Learner"]


def test_the_api_lists_it_filters_by_it_and_documents_it(lee_unsafe, app, counsellor):
    token = bearer(make_token(app, counsellor, "read:clients"))
    body = lee_unsafe.get("/api/v1/clients", headers=token).get_json()
    assert {row["name"]: row["flags"] for row in body["items"]} == {"Ann Smith": [], "Lee Learner": ["safety"]}
    only = lee_unsafe.get("/api/v1/clients?flag=safety", headers=token).get_json()
    assert (only["total"], [row["name"] for row in only["items"]]) == (1, ["Lee Learner"])

    spec = lee_unsafe.get("/api/v1/openapi.json").get_json()
    flags = spec["components"]["schemas"]["ClientRow"]["properties"]["flags"]
    assert "safety" in flags["items"]["enum"] and "safety-critical" in flags["description"]
    [flag] = [p for p in spec["paths"]["/api/v1/clients"]["get"]["parameters"] if p.get("name") == "flag"]
    assert "safety" in flag["schema"]["enum"]
