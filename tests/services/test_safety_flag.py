"""The dashboard's "safety" flag: a client holds a safety-critical misconception still present, by
the client page's own rule, in every shape of the dashboard, its download and a client's row.

Small factory data: the factory course's first lesson asks three questions. Its steam question's
wrong choice ("False") reveals the safety-critical ``steam-is-harmless``; its kettle question's
"Always fill it right up ..." reveals ``full-kettle-is-quicker``, which is not safety-critical;
its last question's wrong choices reveal nothing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.models import AttemptAnswer, Choice, Misconception, Question, ReviewAnswer, Role, User
from app.models.types import utcnow
from app.services.client_report import client_report
from app.services.dashboard import DashboardQuery, client_row, dashboard_export_rows, filter_labels, flag_labels
from app.services.progress import course_by_slug
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.services.review import review_submit
from tests.conftest import create_user
from tests.services.test_dashboard import add_clients, counsellor, counted_page, lessons, page_for

__all__ = ["counsellor", "lessons"]  # fixtures

SAFETY = "safety"
STEAM = "True or false: steam"  # the safety-critical question's prompt begins so
KETTLE = "How much water"  # a question whose wrong choice reveals a misconception not safety-critical
SCALD = "What should you do first"  # a question whose wrong choices reveal nothing
STEAM_WRONG, KETTLE_WRONG, SCALD_WRONG = "False", "Always fill it right up", "Put butter on it"
# Within the last two days: nobody here is inactive, so the flags tested are the only ones.
START = utcnow() - timedelta(days=2)


def answer(session, learner_id: int, lesson, wrong: dict[str, str], *, hour: int) -> None:
    """Submit the lesson's quiz at START + ``hour``: right everywhere but the questions in ``wrong``
    (a prompt's start -> the start of the choice picked)."""
    questions = quiz_questions(session, lesson)
    answers = {}
    for question in questions:
        pick = next((text for start, text in wrong.items() if question.prompt.startswith(start)), None)
        right = [c.id for c in question.choices if c.is_correct]
        answers[question.id] = [next(c.id for c in question.choices if c.text.startswith(pick))] if pick else right
    result = quiz_submit_attempt(
        session,
        learner=session.get(User, learner_id),
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    result.attempt.submitted_at = START + timedelta(hours=hour)
    session.commit()


def review(session, learner_id: int, course: str, prompt: str, pick: str | None, *, hour: int) -> None:
    """Answer one question in the review of mistakes at START + ``hour``: the choice starting with
    ``pick``, or the right one."""
    question = session.scalar(select(Question).where(Question.prompt.startswith(prompt)))
    choice = next(c for c in question.live_choices if (c.text.startswith(pick) if pick else c.is_correct))
    key = uuid.uuid4().hex
    review_submit(
        session,
        learner=session.get(User, learner_id),
        course=course_by_slug(session, course),
        shown_question_ids=[question.id],
        answers={question.id: [choice.id]},
        submission_key=key,
    )
    when = START + timedelta(hours=hour)
    session.execute(update(ReviewAnswer).where(ReviewAnswer.submission_key == key).values(answered_at=when))
    session.commit()


def flagged(session, counsellor_id: int, course: str, learner_id: int, lesson_count: int) -> bool:
    """Whether the client's row carries the flag, checked against the client page: the row
    (``client_row``, the dashboard's own read) and the page's misconceptions must agree."""
    course_row = course_by_slug(session, course)
    row = client_row(
        session,
        viewer=session.get(User, counsellor_id),
        course=course_row,
        learner_id=learner_id,
        lesson_count=lesson_count,
    )
    assert row is not None
    report = client_report(session, learner=session.get(User, learner_id), course=course_row)
    on_the_page = any(i.safety_critical and i.still_present for i in report.misconceptions)
    assert (SAFETY in row.flags) is on_the_page, (row.flags, report.misconceptions)
    return SAFETY in row.flags


@pytest.fixture
def lee(session, counsellor) -> int:
    return add_clients(session, counsellor, ["Lee"])[0]


def test_the_latest_answer_to_a_safety_critical_question_wrong_is_flagged(session, course, counsellor, lessons, lee):
    assert not flagged(session, counsellor, course, lee, len(lessons))
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    assert flagged(session, counsellor, course, lee, len(lessons))
    [row] = page_for(session, counsellor, course).rows
    assert row.flags == {SAFETY}


def test_a_later_right_answer_in_a_quiz_corrects_it(session, course, counsellor, lessons, lee):
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    answer(session, lee, lessons[0], {}, hour=2)
    assert not flagged(session, counsellor, course, lee, len(lessons))
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=3)  # wrong again: a concern again
    assert flagged(session, counsellor, course, lee, len(lessons))


def test_a_right_answer_before_the_wrong_one_corrects_nothing(session, course, counsellor, lessons, lee):
    answer(session, lee, lessons[0], {}, hour=1)
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=2)
    assert flagged(session, counsellor, course, lee, len(lessons))


def test_the_review_of_mistakes_counts_both_ways(session, course, counsellor, lessons, lee):
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    review(session, lee, course, STEAM, None, hour=2)  # right in review: corrected
    assert not flagged(session, counsellor, course, lee, len(lessons))
    review(session, lee, course, STEAM, STEAM_WRONG, hour=3)  # wrong in review: present again
    assert flagged(session, counsellor, course, lee, len(lessons))


def test_misconceptions_not_safety_critical_and_wrong_choices_without_one_are_not_flagged(
    session, course, counsellor, lessons, lee
):
    answer(session, lee, lessons[0], {KETTLE: KETTLE_WRONG, SCALD: SCALD_WRONG}, hour=1)
    assert not flagged(session, counsellor, course, lee, len(lessons))
    report = client_report(session, learner=session.get(User, lee), course=course_by_slug(session, course))
    assert [(i.code, i.still_present) for i in report.misconceptions] == [("full-kettle-is-quicker", True)]


def test_the_course_marking_a_misconception_safety_critical_is_read_now(session, course, counsellor, lessons, lee):
    """As on the client page: the course's marking today, not the one when the answer was given."""
    answer(session, lee, lessons[0], {KETTLE: KETTLE_WRONG}, hour=1)
    marked = update(Misconception).where(Misconception.code == "full-kettle-is-quicker")
    session.execute(marked.values(safety_critical=True))
    session.commit()
    assert flagged(session, counsellor, course, lee, len(lessons))
    session.execute(update(Misconception).values(safety_critical=False))
    session.commit()
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=2)
    assert not flagged(session, counsellor, course, lee, len(lessons))


def test_an_answer_to_a_question_since_deleted_cannot_be_corrected(session, course, counsellor, lessons, lee):
    """Its answers keep the question as shown, with no question: no later answer is to the same one."""
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    answer(session, lee, lessons[0], {}, hour=2)
    assert not flagged(session, counsellor, course, lee, len(lessons))
    wrong_ones = select(AttemptAnswer.id).where(AttemptAnswer.is_correct.is_(False))
    session.execute(update(AttemptAnswer).where(AttemptAnswer.id.in_(wrong_ones)).values(question_id=None))
    session.commit()
    assert flagged(session, counsellor, course, lee, len(lessons))


def test_a_wrong_review_answer_is_corrected_by_a_later_right_one_in_a_quiz(session, course, counsellor, lessons, lee):
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    review(session, lee, course, STEAM, STEAM_WRONG, hour=2)  # wrong in review: the latest wrong one
    assert flagged(session, counsellor, course, lee, len(lessons))
    answer(session, lee, lessons[0], {}, hour=3)
    assert not flagged(session, counsellor, course, lee, len(lessons))


def test_a_wrong_answer_as_late_as_the_last_right_one_is_still_present(session, course, counsellor, lessons, lee):
    """The page's rule: present while the latest wrong answer is at least as late as the last right one."""
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    answer(session, lee, lessons[0], {}, hour=2)
    assert not flagged(session, counsellor, course, lee, len(lessons))
    review(session, lee, course, STEAM, STEAM_WRONG, hour=2)
    assert flagged(session, counsellor, course, lee, len(lessons))


def test_a_wrong_answer_to_an_old_version_stays_until_a_right_answer(session, course, counsellor, lessons, lee):
    """Only the question's first version offered the safety-critical choice: its wrong answer stays
    present through a later wrong answer to the new version (which reveals nothing), until a right one."""
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    wrong_choice = select(Choice.id).join(Question).where(Question.prompt.startswith(STEAM), Choice.text == "False")
    session.execute(update(Choice).where(Choice.id.in_(wrong_choice)).values(misconception_id=None))
    session.commit()
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=2)
    assert session.scalar(select(func.count(func.distinct(AttemptAnswer.shown_question_id)))) == 4  # two versions
    assert flagged(session, counsellor, course, lee, len(lessons))
    answer(session, lee, lessons[0], {}, hour=3)
    assert not flagged(session, counsellor, course, lee, len(lessons))


def test_a_new_version_offering_the_safety_critical_choice_flags_only_a_pick_of_it(
    session, course, counsellor, lessons, lee
):
    """A question asking for several choices, whose wrong one was marked with the safety-critical
    misconception after a first answer: the flag follows the picks of each answer, not the version."""
    serving = lessons[2]
    pour = "Which of these help you pour"
    hold, slowly, quickly = "Hold the lid", "Pour slowly", "Pour quickly"
    answer_picks(session, lee, serving, {pour: [hold, quickly]}, hour=1)  # before the mark: reveals nothing
    steam = select(Misconception.id).where(Misconception.code == "steam-is-harmless").scalar_subquery()
    session.execute(update(Choice).where(Choice.text.startswith(quickly)).values(misconception_id=steam))
    session.commit()
    assert not flagged(session, counsellor, course, lee, len(lessons))
    answer_picks(session, lee, serving, {pour: [hold]}, hour=2)  # wrong, but not the marked choice
    assert not flagged(session, counsellor, course, lee, len(lessons))
    answer_picks(session, lee, serving, {pour: [hold, quickly]}, hour=3)  # the marked choice, picked second
    assert flagged(session, counsellor, course, lee, len(lessons))
    answer_picks(session, lee, serving, {pour: [hold, slowly]}, hour=4)
    assert not flagged(session, counsellor, course, lee, len(lessons))


def answer_picks(session, learner_id: int, lesson, picks: dict[str, list[str]], *, hour: int) -> None:
    """Submit the lesson's quiz at START + ``hour``: right everywhere but the questions in ``picks``
    (a prompt's start -> the starts of the choices picked)."""
    questions = quiz_questions(session, lesson)
    answers = {}
    for question in questions:
        chosen = next((starts for start, starts in picks.items() if question.prompt.startswith(start)), None)
        if chosen is None:
            answers[question.id] = [c.id for c in question.choices if c.is_correct]
        else:
            answers[question.id] = [c.id for c in question.choices if any(c.text.startswith(x) for x in chosen)]
    result = quiz_submit_attempt(
        session,
        learner=session.get(User, learner_id),
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    result.attempt.submitted_at = START + timedelta(hours=hour)
    session.commit()


def test_another_learners_right_answer_corrects_nothing(session, course, counsellor, lessons, lee):
    [kim] = add_clients(session, counsellor, ["Kim"])
    answer(session, kim, lessons[0], {STEAM: STEAM_WRONG}, hour=0)
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    answer(session, kim, lessons[0], {}, hour=2)
    review(session, kim, course, STEAM, None, hour=3)  # hers is due for review: she got it wrong
    assert flagged(session, counsellor, course, lee, len(lessons))
    assert not flagged(session, counsellor, course, kim, len(lessons))
    assert {row.name: row.flags for row in page_for(session, counsellor, course, sort="flags").rows} == {
        "Kim": set(),
        "Lee": {SAFETY},
    }


def test_another_counsellors_client_is_never_shown(app, session, course, counsellor, lessons, lee):
    other = create_user(app, "robin@example.org", role=Role.COUNSELLOR, name="Robin Counsellor")
    [theirs] = add_clients(session, other, ["Their client"])
    answer(session, theirs, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    answer(session, lee, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    for query in ({"flag": SAFETY}, {"sort": "flags", "descending": True}):
        page = page_for(session, counsellor, course, **query)
        assert ([row.name for row in page.rows], page.total) == (["Lee"], 1)
    course_row, viewer = course_by_slug(session, course), session.get(User, counsellor)
    exported = dashboard_export_rows(session, viewer=viewer, course=course_row, query=DashboardQuery(flag=SAFETY))
    assert [row.name for row in exported] == ["Lee"]


@pytest.fixture
def four(session, course, counsellor, lessons) -> dict[str, int]:
    """Ann holds the safety-critical misconception; Bo failed the first quiz three times without it
    (struggling); Cy finished the course; Di has done nothing yet."""
    ann, bo, cy, di = add_clients(session, counsellor, ["Ann", "Bo", "Cy", "Di"])
    answer(session, ann, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    for hour in (1, 2, 3):
        answer(session, bo, lessons[0], {KETTLE: KETTLE_WRONG, SCALD: SCALD_WRONG}, hour=hour)
    for hour, lesson in enumerate(lessons):
        answer(session, cy, lesson, {}, hour=hour)
    return {"Ann": ann, "Bo": bo, "Cy": cy, "Di": di}


EXPECTED = {"Ann": {SAFETY}, "Bo": {"struggling"}, "Cy": {"finished"}, "Di": set()}


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({}, ["Ann", "Bo", "Cy", "Di"]),
        ({"flag": SAFETY}, ["Ann"]),
        ({"flag": SAFETY, "sort": "progress", "descending": True}, ["Ann"]),
        ({"flag": SAFETY, "search": "bo"}, []),
        ({"flag": "struggling"}, ["Bo"]),
        # Most in need of attention first: a safety concern before struggling, then finished.
        ({"sort": "flags", "descending": True}, ["Ann", "Bo", "Cy", "Di"]),
        ({"sort": "flags"}, ["Di", "Cy", "Bo", "Ann"]),
        ({"sort": "last_active", "descending": True}, ["Cy", "Bo", "Ann", "Di"]),
        ({"sort": "progress", "descending": True}, ["Cy", "Ann", "Bo", "Di"]),
    ],
)
def test_every_shape_of_the_dashboard_flags_filters_and_sorts_by_it(session, course, counsellor, four, query, names):
    page = page_for(session, counsellor, course, **query)
    assert [row.name for row in page.rows] == names
    assert page.total == len(names)
    assert all(row.flags == EXPECTED[row.name] for row in page.rows)
    viewer, course_row = session.get(User, counsellor), course_by_slug(session, course)
    exported = dashboard_export_rows(session, viewer=viewer, course=course_row, query=DashboardQuery(**query))
    assert [(row.name, row.flags) for row in exported] == [(row.name, row.flags) for row in page.rows]


def test_its_words_come_first_among_the_flags(app):
    assert list(filter_labels()) == [SAFETY, "struggling", "inactive", "finished"]
    assert list(flag_labels()) == ["deactivated", SAFETY, "struggling", "inactive", "finished"]
    assert flag_labels()[SAFETY] == "Safety concern"


@pytest.mark.parametrize("query", [{}, {"sort": "flags"}, {"flag": SAFETY}])
def test_the_flag_costs_the_dashboard_no_query(app, session, course, counsellor, lessons, query):
    """A column of the read that lists the clients, not a read of its own."""
    ann, bo, _cy = add_clients(session, counsellor, ["Ann", "Bo", "Cy"])
    answer(session, bo, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    before, _ = counted_page(app, counsellor, course, **query)
    answer(session, ann, lessons[0], {STEAM: STEAM_WRONG}, hour=1)
    after, page = counted_page(app, counsellor, course, **query)
    assert [row.name for row in page.rows if SAFETY in row.flags] == ["Ann", "Bo"]
    assert after == before, (before, after)
