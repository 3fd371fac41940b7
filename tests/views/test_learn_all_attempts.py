"""A long history: the lesson and quiz pages list the latest attempts and link to all of them,
a page at a time (/courses/<c>/lessons/<l>/quiz/attempts), over HTTP with CSRF on."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Lesson
from app.services.attempt_history import ATTEMPTS_PER_PAGE, ATTEMPTS_SHOWN
from tests.attempt_factories import quiz_attempts
from tests.conftest import lesson_slugs, login, visible_text
from tests.views.test_learn_attempt_history import history_rows, log_in_as_fred, result_links

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def add_attempts(app, user_id: int, lesson_slug: str, n: int) -> list[int]:
    """``n`` failed attempts at the lesson, a minute apart from T0; their ids, oldest first."""
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.slug == lesson_slug))
        rows = quiz_attempts(user_id, lesson_id, n, start=T0, correct=1, of=4)
        db.session.add_all(rows)
        db.session.commit()
        ids = [row.id for row in rows]
        db.session.remove()
        return ids


def numbers(page: str) -> list[int]:
    """The attempt numbers the history table's links name ("See result of attempt 12"), in its order."""
    return [int(n) for n in re.findall(r"> of attempt (\d+)</span>", page)]


def more_note(page: str) -> str:
    found = re.search(r'<p class="attempts-more">(.*?)</p>', page, re.S)
    return visible_text(found.group(1)) if found else ""


@pytest.mark.parametrize("suffix", ["", "/quiz"])
def test_a_long_history_shows_the_latest_attempts_and_links_to_them_all(learner_client, app, course, learner, suffix):
    first = lesson_slugs(app)[0]
    made = add_attempts(app, learner, first, ATTEMPTS_SHOWN + 2)

    page = learner_client.get(f"/courses/{course}/lessons/{first}{suffix}").get_data(as_text=True)

    assert len(history_rows(page)) == ATTEMPTS_SHOWN
    expected = [f"/courses/{course}/lessons/{first}/quiz/attempts/{id_}" for id_ in made[::-1][:ATTEMPTS_SHOWN]]
    assert result_links(page, course, first) == expected
    # Numbered from the earliest: the newest is the learner's twelfth attempt, not their tenth.
    assert numbers(page) == list(range(ATTEMPTS_SHOWN + 2, 2, -1))
    assert more_note(page) == (
        f"Your {ATTEMPTS_SHOWN} latest attempts of {ATTEMPTS_SHOWN + 2} are listed here. "
        "See all your attempts at this quiz"
    )
    assert f'<a href="/courses/{course}/lessons/{first}/quiz/attempts">See all your attempts' in page


def test_a_history_that_fits_has_no_link_to_more(learner_client, app, course, learner, other_learner):
    first = lesson_slugs(app)[0]
    add_attempts(app, other_learner, first, ATTEMPTS_SHOWN + 5)  # someone else's long history
    add_attempts(app, learner, first, ATTEMPTS_SHOWN)
    for suffix in ("", "/quiz"):
        page = learner_client.get(f"/courses/{course}/lessons/{first}{suffix}").get_data(as_text=True)
        assert len(history_rows(page)) == ATTEMPTS_SHOWN and more_note(page) == "", suffix
        assert numbers(page) == list(range(ATTEMPTS_SHOWN, 0, -1))
    # The same kept page, filled for the learner with more: the note is theirs alone.
    log_in_as_fred(learner_client)
    page = learner_client.get(f"/courses/{course}/lessons/{first}").get_data(as_text=True)
    assert f"of {ATTEMPTS_SHOWN + 5} are listed here" in more_note(page)


def test_the_attempts_page_lists_every_attempt_newest_first_a_page_at_a_time(learner_client, app, course, learner):
    first = lesson_slugs(app)[0]
    made = add_attempts(app, learner, first, ATTEMPTS_PER_PAGE + 3)
    url = f"/courses/{course}/lessons/{first}/quiz/attempts"
    results = [f"{url}/{id_}" for id_ in made[::-1]]

    page_one = learner_client.get(url)
    text = page_one.get_data(as_text=True)
    assert page_one.status_code == 200
    assert f"You have taken this quiz {ATTEMPTS_PER_PAGE + 3} times." in text
    assert result_links(text, course, first) == results[:ATTEMPTS_PER_PAGE]
    assert numbers(text) == list(range(ATTEMPTS_PER_PAGE + 3, 3, -1))
    assert "Page 1 of 2" in text and f'href="{url}?page=2">Older' in text and "Newer" not in text

    page_two = learner_client.get(f"{url}?page=2").get_data(as_text=True)
    assert result_links(page_two, course, first) == results[ATTEMPTS_PER_PAGE:]
    assert numbers(page_two) == [3, 2, 1]
    assert "Page 2 of 2" in page_two and f'href="{url}">← Newer' in page_two and "Older" not in page_two
    for link in (results[0], results[-1]):  # each row opens that attempt's result
        assert learner_client.get(link).status_code == 200

    assert learner_client.get(f"{url}?page=3").status_code == 404
    # Not a page number: the first page, as elsewhere on the site.
    assert (
        result_links(learner_client.get(f"{url}?page=first").get_data(as_text=True), course, first)
        == results[:ATTEMPTS_PER_PAGE]
    )


def test_the_attempts_page_before_any_attempt_and_for_unknown_lessons(learner_client, app, course):
    first = lesson_slugs(app)[0]
    page = learner_client.get(f"/courses/{course}/lessons/{first}/quiz/attempts")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "You have not taken this quiz yet." in text and "<table" not in text
    assert f'href="/courses/{course}/lessons/{first}/quiz">Take the quiz</a>' in text
    assert learner_client.get(f"/courses/{course}/lessons/no-such-lesson/quiz/attempts").status_code == 404
    assert learner_client.get(f"/courses/no-such-course/lessons/{first}/quiz/attempts").status_code == 404


def test_the_attempts_page_lists_only_the_signed_in_learners_own(client, app, course, learner, other_learner):
    first = lesson_slugs(app)[0]
    mine = add_attempts(app, learner, first, 3)
    theirs = add_attempts(app, other_learner, first, 2)
    url = f"/courses/{course}/lessons/{first}/quiz/attempts"
    assert login(client, email="fred@example.org").status_code == 302
    text = client.get(url).get_data(as_text=True)
    assert result_links(text, course, first) == [f"{url}/{id_}" for id_ in theirs[::-1]]
    assert all(f"{url}/{id_}" not in text for id_ in mine)
    assert client.get(f"{url}/{mine[0]}").status_code == 404  # and another's result is none of theirs
