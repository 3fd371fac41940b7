"""A client's attempts at a lesson, a page at a time, for their counsellor, over HTTP with CSRF on; and the
pagination the page shares with the dashboard (_macros/pagination.html)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import ProgressView
from app.services.attempt_history import ATTEMPTS_SHOWN
from tests.views.test_counsel import counsellor, linked  # noqa: F401 - fixtures
from tests.views.test_counsel_since_last_look import looked_after_a_failed_quiz
from tests.views.test_query_counts import add_failed_attempts, queries_for

__all__ = ["counsellor", "linked"]


def views_recorded(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProgressView))


def attempt_numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"<strong>Attempt (\d+)</strong>", page)]


def link_named(page: str, text: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)">{re.escape(text)}</a>', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_client_page_links_to_every_attempt_a_page_at_a_time_newest_first(linked, app, learner):
    first, url = looked_after_a_failed_quiz(linked, app)
    in_all = ATTEMPTS_SHOWN + 4
    add_failed_attempts(app, learner, first, in_all - 1)

    client_page = linked.get(url).get_data(as_text=True)
    all_url = link_named(client_page, f"See all {in_all} attempts at lesson 1")
    assert all_url and f"/lessons/{first}/attempts" in all_url

    recorded = views_recorded(app)
    newest = linked.get(all_url)
    assert newest.status_code == 200
    page = newest.get_data(as_text=True)
    assert f"{in_all} attempts in all, newest first" in page
    assert attempt_numbers(page) == list(range(in_all, in_all - ATTEMPTS_SHOWN, -1))
    assert "Page 1 of 2" in page and link_named(page, "← Newer") is None
    assert views_recorded(app) == recorded + 1  # every look at a client's progress is in their log

    older = linked.get(link_named(page, "Older →")).get_data(as_text=True)
    assert attempt_numbers(older) == list(range(in_all - ATTEMPTS_SHOWN, 0, -1))
    assert "Page 2 of 2" in older and link_named(older, "Older →") is None
    back = linked.get(link_named(older, "← Newer")).get_data(as_text=True)  # the way back is page 1
    assert attempt_numbers(back) == attempt_numbers(page) and "Page 1 of 2" in back


def test_no_link_when_the_client_page_lists_every_attempt(linked, app, learner):
    _, url = looked_after_a_failed_quiz(linked, app)
    page = linked.get(url).get_data(as_text=True)
    assert "1 quiz attempt<span" in page and "/attempts" not in page


def test_a_page_past_the_last_is_404_and_a_page_that_is_not_a_number_is_the_first(linked, app, learner):
    first, url = looked_after_a_failed_quiz(linked, app)
    all_url = f"{url}/lessons/{first}/attempts"
    assert linked.get(f"{all_url}?page=2").status_code == 404
    assert attempt_numbers(linked.get(f"{all_url}?page=junk").get_data(as_text=True)) == [1]


def test_an_unknown_lesson_is_404_and_not_recorded(linked, app, learner):
    _, url = looked_after_a_failed_quiz(linked, app)
    recorded = views_recorded(app)
    assert linked.get(f"{url}/lessons/no-such-lesson/attempts").status_code == 404
    assert views_recorded(app) == recorded


def test_the_attempts_page_runs_a_fixed_number_of_queries_whatever_the_history(linked, app, learner):
    first, url = looked_after_a_failed_quiz(linked, app)
    all_url = f"{url}/lessons/{first}/attempts"
    linked.get(all_url)
    before = queries_for(app, lambda: linked.get(all_url))
    add_failed_attempts(app, learner, first, 2 * ATTEMPTS_SHOWN)
    after = queries_for(app, lambda: linked.get(all_url))
    assert before == after
    # As the client page (test_counsel_since_last_look.py), less the previous look and the report:
    # the outline, this view's record, then the page's attempts with the count of all, and their
    # answers. Drawn before the commit, so the client, course, lesson and viewer are not read again.
    # And the header's count of contact requests waiting (app/staff_nav.py).
    assert after == 8, after


def test_the_dashboard_pages_its_clients_with_previous_and_next_links(client, app, course, counsellor):
    from app.models import CounsellorLink, User
    from tests.conftest import login

    with app.app_context():
        learners = [
            User(email=f"c{n}@example.org", display_name=f"Client {n:03}", password_hash="x") for n in range(55)
        ]
        db.session.add_all(learners)
        db.session.flush()
        db.session.add_all(
            CounsellorLink(counsellor_id=counsellor, learner_id=learner.id, created_by_id=learner.id)
            for learner in learners
        )
        db.session.commit()
    login(client, "casey@example.org")

    first = client.get("/counsel/?sort=name&dir=desc").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Client 054" in first and "← Previous" not in first
    second = client.get(link_named(first, "Next →")).get_data(as_text=True)
    assert "Page 2 of 2" in second and "Client 000" in second and "Client 054" not in second
    assert "Next →" not in second and "sort=name" in link_named(second, "← Previous")
