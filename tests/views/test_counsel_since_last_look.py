"""The client page over HTTP: "Since you last looked", its print stylesheet, and a fixed number of queries."""

from __future__ import annotations

import re

from app.services.attempt_history import ATTEMPTS_SHOWN
from tests.conftest import lesson_slugs, quiz_form, submit_quiz, visible_text
from tests.views.test_counsel import counsellor, linked, log_in_as  # noqa: F401 - fixtures
from tests.views.test_counsel_talking_points import wrong_answers_revealing
from tests.views.test_query_counts import add_failed_attempts, queries_for

__all__ = ["counsellor", "linked"]


def client_url(client) -> str:
    return re.search(r'href="(/counsel/clients/\d+)"', client.get("/counsel/").get_data(as_text=True)).group(1)


def since_section(page: str) -> str:
    """The text of the "Since you last looked" section, tags stripped and spaces collapsed."""
    section = re.search(r'<section class="since-last-look".*?</section>', page, re.S).group(0)
    return visible_text(section)


def looked_after_a_failed_quiz(linked, app) -> tuple[str, str]:
    """The learner fails the first quiz, then the counsellor looks at their page: the lesson and the page's URL."""
    first = lesson_slugs(app)[0]
    submit_quiz(linked, first, quiz_form(app, first, right=False))
    log_in_as(linked, "casey@example.org")
    url = client_url(linked)
    linked.get(url)
    return first, url


def test_the_client_page_says_what_changed_since_this_counsellors_last_look(linked, app):
    log_in_as(linked, "casey@example.org")
    url = client_url(linked)
    first_look = since_section(linked.get(url).get_data(as_text=True))
    assert "This is your first look" in first_look

    first = lesson_slugs(app)[0]
    form, revealed = wrong_answers_revealing(app, first)
    log_in_as(linked, "learner@example.org")
    submit_quiz(linked, first, form)
    log_in_as(linked, "casey@example.org")

    second_look = since_section(linked.get(url).get_data(as_text=True))
    assert "first look" not in second_look and "You last looked" in second_look
    assert "1 new quiz attempt:" in second_look and "not passed" in second_look
    assert "Misconceptions newly shown:" in second_look
    for _, title, _ in revealed:
        assert title in second_look, title
    assert "Lesson finished" not in second_look and "since corrected" not in second_look

    third_look = since_section(linked.get(url).get_data(as_text=True))
    assert "Nothing new since then" in third_look


def test_a_long_history_lists_each_lessons_latest_attempts_and_counts_the_new_ones(linked, app, learner):
    first, url = looked_after_a_failed_quiz(linked, app)
    add_failed_attempts(app, learner, first, ATTEMPTS_SHOWN + 3)

    page = linked.get(url).get_data(as_text=True)
    in_all = ATTEMPTS_SHOWN + 4
    assert f"{in_all} quiz attempts<span" in page
    assert f"The {ATTEMPTS_SHOWN} latest are shown here; “What to talk about” above counts all {in_all}." in page
    numbers = [int(n) for n in re.findall(r"<strong>Attempt (\d+)</strong>", page)]
    assert numbers == list(range(in_all - ATTEMPTS_SHOWN + 1, in_all + 1))
    new = since_section(page)
    assert f"{ATTEMPTS_SHOWN + 3} new quiz attempts:" in new
    assert new.count("not passed") == ATTEMPTS_SHOWN and "; and 3 earlier, not listed" in new


def test_the_print_stylesheet_is_linked_from_the_client_page_only(linked, app):
    log_in_as(linked, "casey@example.org")
    client_page = linked.get(client_url(linked)).get_data(as_text=True)
    stylesheet = re.search(r'href="(/assets/css/client-summary\.[0-9a-f]{10}\.css)"', client_page).group(1)
    css = linked.get(stylesheet).get_data(as_text=True)
    assert "@media print" in css and ".client-history" in css
    assert "client-summary" not in linked.get("/counsel/").get_data(as_text=True)


def test_the_client_page_runs_a_fixed_number_of_queries_whatever_the_history(linked, app, learner):
    first, url = looked_after_a_failed_quiz(linked, app)
    before = queries_for(app, lambda: linked.get(url))
    add_failed_attempts(app, learner, first, 20)
    after = queries_for(app, lambda: linked.get(url))
    assert before == after
    # The signed-in user, the check that the learner is theirs, the course, the previous look and
    # this one's record, and the report's own few (outline, the latest attempts with their answers,
    # all answers summed up, misconceptions, reviews): never one per attempt. The page is drawn
    # before the record is committed, so nothing the commit expires is read again. One more for the
    # status at the top ("At a glance"): the client's dashboard row, its figures and flags worked
    # out by the dashboard's own query (dashboard.client_row), so the two never disagree.
    assert after == 12, after
