"""A client at a glance (app/services/counselling.py, client_status): the dashboard's own figures
and flags for them, and where they are stuck, from small factory data."""

import pytest

from app.models import Role, User
from app.models.types import utcnow
from app.services.client_report import StuckLesson
from app.services.counselling import client_view
from app.services.dashboard import DashboardQuery, dashboard_page
from app.services.progress import course_by_slug, lesson_record_completion
from tests.conftest import create_user
from tests.services.test_dashboard import add_clients, lessons, set_last_active, take_quiz

__all__ = ["lessons"]  # a fixture


@pytest.fixture
def counsellor(app, course) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


def status_of(session, counsellor_id: int, learner_id: int):
    view = client_view(
        session,
        viewer=session.get(User, counsellor_id),
        learner_id=learner_id,
        course_slug=None,
        draw=lambda view: view,
        with_status=True,
    )
    assert view is not None
    return view.status


def dashboard_row(session, counsellor_id: int, course: str, learner_id: int):
    page = dashboard_page(
        session, viewer=session.get(User, counsellor_id), course=course_by_slug(session, course), query=DashboardQuery()
    )
    return next(row for row in page.rows if row.learner_id == learner_id)


def test_three_failed_tries_at_lesson_3_flag_struggling_and_say_where(session, course, counsellor, lessons):
    [client] = add_clients(session, counsellor, ["Sam Stuck"])
    take_quiz(session, client, lessons[0], right=True)
    take_quiz(session, client, lessons[1], right=True)
    take_quiz(session, client, lessons[2], right=False, times=3)
    session.commit()

    status = status_of(session, counsellor, client)

    assert status.figures.flags == {"struggling"}
    assert (status.figures.completed, status.figures.total) == (2, 3)
    assert status.stuck == [StuckLesson(number=3, title=lessons[2].title, tries=3)]
    assert status.current.number == 3
    assert status.figures.quiz_average == pytest.approx(2 / 5)  # 100%, 100%, then 0% three times
    assert status.days_since_active == 0
    # The same figures as the dashboard's row: one rule, read twice.
    row = dashboard_row(session, counsellor, course, client)
    assert (row.flags, row.completed, row.quiz_average, row.last_active) == (
        status.figures.flags,
        status.figures.completed,
        status.figures.quiz_average,
        status.figures.last_active,
    )


def test_two_failed_tries_are_stuck_but_not_yet_struggling(session, course, counsellor, lessons):
    [client] = add_clients(session, counsellor, ["Pat Trying"])
    take_quiz(session, client, lessons[0], right=False, times=2)
    session.commit()

    status = status_of(session, counsellor, client)

    assert status.figures.flags == {"safety"}  # the first quiz's wrong answers include a safety-critical one
    assert status.stuck == [StuckLesson(number=1, title=lessons[0].title, tries=2)]


def test_a_client_who_never_started_has_no_activity_and_is_inactive_after_a_week(session, course, counsellor):
    [client] = add_clients(session, counsellor, ["Nell New"], days_old=10)

    status = status_of(session, counsellor, client)

    assert status.figures.flags == {"inactive"}  # counted from joining
    assert status.figures.last_active is None and status.days_since_active is None
    assert status.figures.quiz_average is None
    assert (status.figures.completed, status.figures.total) == (0, 3)
    assert status.stuck == []
    assert status.current.number == 1 and status.current.opened_at is None


def test_a_client_away_for_8_days_is_inactive_and_still_stuck(session, course, counsellor, lessons):
    [client] = add_clients(session, counsellor, ["Ida Away"])
    take_quiz(session, client, lessons[0], right=False)
    session.commit()
    set_last_active(session, client, days_ago=8.5)

    status = status_of(session, counsellor, client)

    # The first quiz's wrong answers include a safety-critical one.
    assert status.figures.flags == {"inactive", "safety"}
    assert status.days_since_active == 8
    assert status.stuck == [StuckLesson(number=1, title=lessons[0].title, tries=1)]


def test_a_client_who_passed_after_failing_is_not_stuck_there(session, course, counsellor, lessons):
    [client] = add_clients(session, counsellor, ["Ola Onward"])
    take_quiz(session, client, lessons[0], right=False, times=3)
    take_quiz(session, client, lessons[0], right=True)
    session.commit()

    status = status_of(session, counsellor, client)

    assert status.figures.flags == set()  # failures at a lesson since passed do not count
    assert status.stuck == []
    assert status.current.number == 2


def test_a_client_who_finished_is_flagged_finished_and_at_no_lesson(session, course, counsellor, lessons):
    [client] = add_clients(session, counsellor, ["Fay Finished"])
    for lesson in lessons:
        lesson_record_completion(session, learner=session.get(User, client), lesson=lesson)
    session.commit()

    status = status_of(session, counsellor, client)

    assert status.figures.flags == {"finished"}
    assert status.current is None and status.stuck == []


def test_the_status_is_read_only_when_asked_for(session, course, counsellor):
    [client] = add_clients(session, counsellor, ["Api Reader"])
    viewer = session.get(User, counsellor)
    view = client_view(session, viewer=viewer, learner_id=client, course_slug=None, draw=lambda view: view)
    assert view is not None and view.status is None  # the API's report has no use for it


def test_the_status_is_worked_out_when_the_page_is_drawn(session, course, counsellor):
    [client] = add_clients(session, counsellor, ["Tim Stamp"])
    before = utcnow()
    status = status_of(session, counsellor, client)
    assert before <= status.as_of <= utcnow()  # the printed summary says "as of" this
