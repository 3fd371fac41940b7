"""The client page over HTTP: "Since you last looked", its print stylesheet, and a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import LessonProgress, ProgressView, QuizAttempt, ReviewAnswer
from app.services.attempt_history import ATTEMPTS_SHOWN
from app.services.counselling import VISIT_GAP
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


def visit_ends(app) -> None:
    """Let more than ``VISIT_GAP`` pass: every view, and everything the learner did, moves that
    far back, so the next look is a later visit and what the learner does next comes after it."""
    back = VISIT_GAP + timedelta(minutes=1)
    with app.app_context():
        for view in db.session.scalars(select(ProgressView)):
            view.viewed_at -= back
        for attempt in db.session.scalars(select(QuizAttempt)):
            attempt.submitted_at -= back
        for progress in db.session.scalars(select(LessonProgress)):
            progress.opened_at -= back
            progress.completed_at = progress.completed_at and progress.completed_at - back
        for answer in db.session.scalars(select(ReviewAnswer)):
            answer.answered_at -= back
        db.session.commit()
        db.session.remove()


def looked_after_a_failed_quiz(linked, app) -> tuple[str, str]:
    """The learner fails the first quiz, then the counsellor looks at their page, and that visit
    ends: the lesson and the page's URL."""
    first = lesson_slugs(app)[0]
    submit_quiz(linked, first, quiz_form(app, first, right=False))
    log_in_as(linked, "casey@example.org")
    url = client_url(linked)
    linked.get(url)
    visit_ends(app)
    return first, url


def test_the_client_page_says_what_changed_since_this_counsellors_last_look(linked, app):
    log_in_as(linked, "casey@example.org")
    url = client_url(linked)
    first_look = since_section(linked.get(url).get_data(as_text=True))
    assert "This is your first look" in first_look
    # A reload in the same visit is still the first look.
    assert since_section(linked.get(url).get_data(as_text=True)) == first_look

    first = lesson_slugs(app)[0]
    form, revealed = wrong_answers_revealing(app, first)
    log_in_as(linked, "learner@example.org")
    submit_quiz(linked, first, form)
    log_in_as(linked, "casey@example.org")
    visit_ends(app)

    second_look = since_section(linked.get(url).get_data(as_text=True))
    assert "first look" not in second_look and "You last looked" in second_look
    assert "1 new quiz attempt:" in second_look and "not passed" in second_look
    assert "Misconceptions newly shown:" in second_look
    for _, title, _ in revealed:
        assert title in second_look, title
    assert "Lesson finished" not in second_look and "since corrected" not in second_look
    assert "Nothing new" not in second_look
    assert "before this visit (looks less than 60 minutes apart are one visit" in second_look


def test_the_same_visit_shows_the_same_list_and_a_later_one_only_what_is_newer(linked, app):
    first = lesson_slugs(app)[0]
    form, revealed = wrong_answers_revealing(app, first)
    submit_quiz(linked, first, form)
    log_in_as(linked, "casey@example.org")
    url = client_url(linked)
    linked.get(url)
    visit_ends(app)
    log_in_as(linked, "learner@example.org")
    submit_quiz(linked, first, form)
    log_in_as(linked, "casey@example.org")

    page = linked.get(url).get_data(as_text=True)
    listed = since_section(page)
    assert "1 new quiz attempt:" in listed and "Misconceptions" not in listed
    # The lesson's attempts page (a view recorded too), then back, then a reload: the same visit.
    assert linked.get(f"{url}/lessons/{first}/attempts").status_code == 200
    assert since_section(linked.get(url).get_data(as_text=True)) == listed
    assert since_section(linked.get(url).get_data(as_text=True)) == listed

    # The next visit: only what the learner did after the last view of this one.
    log_in_as(linked, "learner@example.org")
    submit_quiz(linked, first, quiz_form(app, first, right=True))
    log_in_as(linked, "casey@example.org")
    visit_ends(app)
    later = since_section(linked.get(url).get_data(as_text=True))
    assert "1 new quiz attempt:" in later and "(100%, passed)" in later
    assert "Misconceptions since corrected:" in later and "newly shown" not in later
    for _, title, _ in revealed:
        assert title in later, title

    visit_ends(app)
    assert "Nothing new since then" in since_section(linked.get(url).get_data(as_text=True))


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
    # The lesson is named once, with the scores of its listed tries, not once a try.
    assert f"({ATTEMPTS_SHOWN} tries: " in new and new.count("%") == ATTEMPTS_SHOWN
    assert new.count("none passed") == 1 and "not passed" not in new
    assert ", none passed); and 3 earlier, not listed" in new


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
    # out by the dashboard's own query (dashboard.client_row), so the two never disagree. And one
    # for the header's count of contact requests waiting (app/staff_nav.py).
    assert after == 13, after
