"""Lost score passbacks are found and sent again: each line item remembers the score its platform
last accepted, and a score the person has now that differs is one the platform still lacks.

Small factory data: people linked to a platform on a closed port (nothing listens), with lessons
completed and attempts made straight in the database. tests/test_lti_platform.py sends them
to a real platform.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.lti import lti_post_scores, resend_scores_not_accepted, scores_not_accepted
from app.models import Lesson, LessonProgress, LtiGradeTarget, LtiPlatform
from tests.attempt_factories import quiz_attempts
from tests.conftest import count_queries
from tests.lti_factories import down_platform, linked_person

START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def lessons(ctx, course) -> list[Lesson]:
    """The factory course's lessons, in course order."""
    return list(db.session.scalars(select(Lesson).order_by(Lesson.position, Lesson.id)))


@pytest.fixture
def platform(ctx) -> LtiPlatform:
    return down_platform()


def complete(user_id: int, lesson: Lesson, *, scores: tuple[int, ...] = ()) -> None:
    """Mark the lesson complete for the person, after quiz attempts scoring each of ``scores`` of 5."""
    for correct in scores:
        db.session.add_all(quiz_attempts(user_id, lesson.id, 1, start=START, correct=correct))
    db.session.add(LessonProgress(user_id=user_id, lesson_id=lesson.id, completed_at=START))
    db.session.commit()


def accepted(target_id: int, score: float) -> None:
    """As if the platform had accepted ``score`` for the line item."""
    db.session.get(LtiGradeTarget, target_id).sent_score = score
    db.session.commit()


def due_scores() -> dict[int, tuple[float, bool]]:
    return {due.target_id: (due.score, due.complete) for due in scores_not_accepted()}


def test_a_lesson_not_completed_owes_its_line_item_nothing(platform, lessons):
    linked_person(platform, lessons[0].course_id, lesson_id=lessons[0].id)
    assert due_scores() == {}


def test_a_completed_lessons_best_passing_score_is_owed_until_accepted(platform, lessons):
    lesson = lessons[0]
    user_id, target = linked_person(platform, lesson.course_id, lesson_id=lesson.id)
    complete(user_id, lesson, scores=(3, 4, 5, 4))  # passes at 4 of 5: the best pass is 5/5
    assert due_scores() == {target: (1.0, True)}
    accepted(target, 0.8)  # an earlier pass was accepted, the best one lost
    assert due_scores() == {target: (1.0, True)}
    accepted(target, 1.0)
    assert due_scores() == {}


def test_a_lesson_without_a_quiz_done_is_owed_full_marks(platform, lessons):
    lesson = lessons[0]
    user_id, target = linked_person(platform, lesson.course_id, lesson_id=lesson.id)
    complete(user_id, lesson)
    assert due_scores() == {target: (1.0, True)}


def test_a_course_line_item_is_owed_the_share_done_once_something_is_done(platform, lessons):
    course_id = lessons[0].course_id
    user_id, target = linked_person(platform, course_id)
    assert due_scores() == {}  # nothing done: nothing was ever sent, nothing lost
    complete(user_id, lessons[0])
    assert due_scores() == {target: (round(1 / len(lessons), 4), False)}
    accepted(target, round(1 / len(lessons), 4))
    assert due_scores() == {}
    for lesson in lessons[1:]:
        complete(user_id, lesson)
    assert due_scores() == {target: (1.0, True)}


def test_finding_them_takes_the_same_queries_for_one_person_or_many(platform, lessons):
    def queries() -> int:
        with count_queries(db.engine) as counted:
            scores_not_accepted()
        return counted()

    user_id, _ = linked_person(platform, lessons[0].course_id)
    complete(user_id, lessons[0])
    one = queries()
    for _ in range(6):
        user_id, _ = linked_person(platform, lessons[0].course_id)
        complete(user_id, lessons[0], scores=(5,))
        other, _ = linked_person(platform, lessons[0].course_id, lesson_id=lessons[1].id)
        complete(other, lessons[1], scores=(4,))
    assert queries() == one


def test_a_passback_that_failed_is_still_owed_and_the_resend_says_which_platform(platform, lessons):
    lesson = lessons[0]
    user_id, target = linked_person(platform, lesson.course_id, lesson_id=lesson.id)
    course_user, course_target = linked_person(platform, lesson.course_id)
    complete(user_id, lesson, scores=(5,))
    complete(course_user, lesson)
    with pytest.raises(OSError):  # the job raises, so the queue retries it
        lti_post_scores.call_local(user_id, lesson.id)
    assert db.session.get(LtiGradeTarget, target).sent_score is None
    sent, failures = resend_scores_not_accepted()
    # One try for the platform's token, not one a score: both scores wait for the next run.
    assert sent == 0 and len(failures) == 1
    assert failures[0].startswith("Clinic LMS: its token endpoint: URLError")
    assert set(due_scores()) == {target, course_target}


def test_the_command_lists_and_sends_what_is_owed(app, runner, platform, lessons):
    lesson = lessons[0]
    user_id, target = linked_person(platform, lesson.course_id, lesson_id=lesson.id)
    complete(user_id, lesson, scores=(4,))
    url = db.session.get(LtiGradeTarget, target).lineitem_url
    listed = runner.invoke(args=["lti", "scores"])
    assert listed.exit_code == 0
    assert "Scores not accepted yet: 1." in listed.output and f"Clinic LMS  {url}  0.8" in listed.output
    sent = runner.invoke(args=["lti", "scores", "--send"])
    assert sent.exit_code == 1 and "Scores accepted: 0." in sent.output
    assert "not accepted: Clinic LMS: its token endpoint" in sent.output
    accepted(target, 0.8)
    assert "Scores not accepted yet: 0." in runner.invoke(args=["lti", "scores"]).output


def test_a_line_item_sent_to_before_scores_were_remembered_is_not_sent_again_until_its_next_passback(platform, lessons):
    """The migration marks old line items as sent to (no score): the first hourly run must not
    resend every old score, undoing grades an instructor changed in the LMS. Their next passback
    makes them owed again, so a lost one is still found."""
    lesson = lessons[0]
    user_id, target = linked_person(platform, lesson.course_id, lesson_id=lesson.id)
    complete(user_id, lesson, scores=(5,))
    db.session.get(LtiGradeTarget, target).sent_at = START  # as the migration leaves it
    db.session.commit()
    assert due_scores() == {}
    with pytest.raises(OSError):  # the next passback, lost: the platform is down
        lti_post_scores.call_local(user_id, lesson.id)
    assert due_scores() == {target: (1.0, True)}


def test_no_score_goes_to_an_address_in_the_clear(platform, lessons, monkeypatch):
    """A platform registered before https was required, or a line item a launch named over plain
    http, gets no bearer token and no grade: the score is reported and stays owed, and the job
    does not raise (a retry would not mend it)."""
    sent_to: list[str] = []
    monkeypatch.setattr("app.jobs.lti._post", lambda url, *args: sent_to.append(url))
    lesson = lessons[0]
    old = LtiPlatform(
        name="Old LMS",
        issuer="http://lms.example.org",
        client_id="c",
        auth_login_url="http://lms.example.org/auth",
        auth_token_url="http://lms.example.org/token",
        key_set_url="http://lms.example.org/jwks",
        deployment_ids="1",
    )
    db.session.add(old)
    db.session.commit()
    user_id, target = linked_person(old, lesson.course_id, lesson_id=lesson.id)
    complete(user_id, lesson, scores=(5,))
    assert lti_post_scores.call_local(user_id, lesson.id) == 0
    # A secure token endpoint does not make a line item in the clear acceptable.
    old.auth_token_url = "https://lms.example.org/token"
    db.session.commit()
    sent, failures = resend_scores_not_accepted()
    assert sent_to == [] and sent == 0
    assert len(failures) == 1
    assert failures[0].startswith("Old LMS: http://lms.example.org/lineitems/")
    assert failures[0].endswith("not https://, so no score was sent there")
    assert target in due_scores()
