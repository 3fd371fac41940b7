"""A retired lesson leaves the course: every page counts only the live lessons.

The learner completes lessons one and two of the three-lesson factory course; a re-import
without lesson two retires it (kept for their history). The course page, the dashboard, its
CSV and the client page must all say 1 of 2, 50%, not finished, on lesson three.
"""

import copy
import csv
import io
import re
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CounsellorLink, Lesson, Role, User
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.dashboard import DashboardQuery, dashboard_export_rows, dashboard_page
from app.services.progress import course_by_slug, lesson_record_completion
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.conftest import create_user, login
from tests.factories import COURSE, default_lessons, write_course


@pytest.fixture
def counsellor(app) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


def fail_quiz(session, learner: User, lesson: Lesson, times: int) -> None:
    questions = quiz_questions(session, lesson)
    answers = {q.id: [next(c.id for c in q.choices if not c.is_correct)] for q in questions}
    for _ in range(times):
        quiz_submit_attempt(
            session,
            learner=learner,
            lesson=lesson,
            questions=questions,
            answers=answers,
            submission_key=uuid.uuid4().hex,
            pass_mark=0.8,
        )


def without_lesson_two(folder):
    """The factory course written without lesson two, so importing it retires a used lesson two."""
    course, lessons = copy.deepcopy(COURSE), default_lessons()
    course["modules"][0]["lessons"] = ["one"]
    del lessons["two"]
    return write_course(folder, course, lessons)


@pytest.fixture
def retired(app, tmp_path, counsellor, learner) -> int:
    """Lessons one and two completed, then two retired by a re-import without it; returns the learner."""
    with app.app_context():
        session = db.session
        course_import(session, load_course(write_course(tmp_path / "v1")))
        session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner))
        for slug in ("one", "two"):
            lesson = session.scalar(select(Lesson).where(Lesson.slug == slug))
            lesson_record_completion(session, learner=session.get(User, learner), lesson=lesson)
        session.commit()
        report = course_import(session, load_course(without_lesson_two(tmp_path / "v2")))
        assert report.retired["lessons"] == 1
        session.remove()
    return learner


def logged_in(app, email: str):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def test_course_page_dashboard_csv_and_client_page_agree_on_1_of_2(app, retired):
    learner_page = logged_in(app, "learner@example.org").get("/courses/tiny/").get_data(as_text=True)
    counsellor = logged_in(app, "casey@example.org")
    dashboard = counsellor.get("/counsel/?course=tiny").get_data(as_text=True)
    exported = counsellor.get("/counsel/clients.csv?course=tiny").get_data(as_text=True)
    client_page = counsellor.get(f"/counsel/clients/{retired}?course=tiny").get_data(as_text=True)

    assert "1 of 2 lessons complete (50%)" in learner_page and "See your certificate" not in learner_page
    assert re.search(r"<dt[^>]*>Lessons passed</dt>\s*<dd><span[^>]*>1 of 2 \(50%\)", client_page)
    assert "Lee Learner: 50% complete" in dashboard and "flag-finished" not in dashboard
    [_, row] = list(csv.reader(io.StringIO(exported)))
    assert (row[0], row[1], row[2], row[3], row[6]) == ("Lee Learner", "1 of 2", "50", "Lesson three", "")


def test_the_dashboard_figures_count_live_lessons_only(session, retired, counsellor):
    viewer, course = session.get(User, counsellor), course_by_slug(session, "tiny")
    [row] = dashboard_page(session, viewer=viewer, course=course, query=DashboardQuery()).rows
    [exported] = dashboard_export_rows(session, viewer=viewer, course=course, query=DashboardQuery())

    for shown in (row, exported):
        assert (shown.completed, shown.total, shown.percent, shown.current_lesson) == (1, 2, 50, "Lesson three")
        assert "finished" not in shown.flags
    assert dashboard_page(session, viewer=viewer, course=course, query=DashboardQuery(flag="finished")).total == 0


def test_failing_a_lesson_since_retired_is_not_struggling(session, tmp_path, counsellor, learner):
    """Three fails on a lesson the learner can no longer take do not flag them as stuck on it."""
    course_import(session, load_course(write_course(tmp_path / "v1")))
    session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner))
    user = session.get(User, learner)
    lesson_record_completion(session, learner=user, lesson=session.scalar(select(Lesson).where(Lesson.slug == "one")))
    fail_quiz(session, user, session.scalar(select(Lesson).where(Lesson.slug == "two")), times=3)
    session.commit()
    viewer, course = session.get(User, counsellor), course_by_slug(session, "tiny")
    assert dashboard_page(session, viewer=viewer, course=course, query=DashboardQuery()).rows[0].flags == {"struggling"}

    course_import(session, load_course(without_lesson_two(tmp_path / "v2")))

    [row] = dashboard_page(session, viewer=viewer, course=course, query=DashboardQuery()).rows
    assert (row.completed, row.total, row.current_lesson, row.flags) == (1, 2, "Lesson three", set())
