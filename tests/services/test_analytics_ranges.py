"""Analytics by date range, snapshots from before ranges, the CSV's rows and links to the editor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AnalyticsSnapshot, Lesson, QuizAttempt, User
from app.models.types import utcnow
from app.services import authoring
from app.services.analytics import question_statistics, snapshots
from app.services.analytics.course_report import course_analytics_by_range, whole_percent
from app.services.analytics.csv_table import report_table
from app.services.analytics.date_ranges import RANGES, RANGES_BY_KEY, date_range_for
from app.services.analytics.drop_out import LessonFunnel
from app.services.analytics.editor_places import REMOVED_IN_DRAFT, RETIRED, EditorPlace, question_editor_places
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug
from tests.analytics_factories import add_learners_with_attempts
from tests.conftest import count_queries
from tests.factories import write_course

NOW = utcnow().replace(microsecond=0)
DAYS = timedelta(days=1)


@pytest.fixture
def course(session, tmp_path):
    course_import(session, load_course(write_course(tmp_path / "tiny")))
    return course_by_slug(session, "tiny")


def lesson(session, slug: str) -> Lesson:
    return session.scalar(select(Lesson).where(Lesson.slug == slug))


@pytest.fixture
def spread(session, course):
    """Lesson one's quiz first tried by learners at fixed ages: 4 this week, 3 at 60 days, 2 at
    200 days, 1 at 400 days. The recent ones get question 1 right, the older ones wrong."""
    one = lesson(session, "one")
    for count, age, right in [(4, 5, True), (3, 60, False), (2, 200, False), (1, 400, False)]:
        add_learners_with_attempts(session, one, count, right=lambda n, q, r=right: r or q != 0, when=NOW - age * DAYS)
    return course


def test_the_ranges_nest_narrowest_first_and_all_time_is_the_default():
    assert [r.key for r in RANGES] == ["30d", "90d", "12m", "all"]
    assert [r.days for r in RANGES] == [30, 90, 365, None]
    assert date_range_for(None) is date_range_for("") is RANGES_BY_KEY["all"]
    assert date_range_for("90d") is RANGES_BY_KEY["90d"]
    assert date_range_for("7d") is None and date_range_for("ALL") is None
    assert RANGES_BY_KEY["30d"].since(NOW) == NOW - 30 * DAYS and RANGES_BY_KEY["all"].since(NOW) is None


def test_each_range_counts_the_first_tries_made_in_it(session, spread):
    reports = course_analytics_by_range(session, course=spread, now=NOW)
    q1 = {key: report.lessons[0].questions[0] for key, report in reports.items()}
    assert {key: (q.first_attempts, q.first_right, q.answers) for key, q in q1.items()} == {
        "30d": (4, 4, 4),
        "90d": (7, 4, 7),
        "12m": (9, 4, 9),
        "all": (10, 4, 10),
    }
    assert q1["90d"].facility == pytest.approx(4 / 7)
    # Choice picks follow the range too: the right answer (A) 4 times, the first wrong one (B) the rest.
    assert [c.picks for c in q1["30d"].choices] == [4, 0, 0]
    assert [c.picks for c in q1["all"].choices] == [4, 6, 0]
    assert [c.share for c in q1["12m"].choices] == [4 / 9, 5 / 9, 0]
    assert all(report.computed_at == NOW for report in reports.values())
    assert [report.date_range.key for report in reports.values()] == ["30d", "90d", "12m", "all"]


def test_discrimination_is_worked_out_from_each_ranges_own_sums(session, spread):
    reports = course_analytics_by_range(session, course=spread, now=NOW)
    # In the last 30 days everyone got everything right: nothing to separate.
    recent = reports["30d"].lessons[0].questions[0]
    assert recent.discrimination is None
    assert recent.discrimination_note == "Every first try got it right, so it cannot separate learners."
    # Over all time, question 1 alone splits the learners and the rest of the quiz was all right.
    everyone = reports["all"].lessons[0].questions[0]
    assert everyone.discrimination is None
    assert everyone.discrimination_note == "Every first try scored the same on the rest of the quiz."


def test_a_lessons_funnel_counts_the_learners_who_started_it_in_the_range(session, spread):
    reports = course_analytics_by_range(session, course=spread, now=NOW)
    funnels = {key: report.lessons[0].funnel for key, report in reports.items()}
    # The recent learners passed (all right); the older ones failed and, idle for weeks, gave up.
    assert funnels == {
        "30d": LessonFunnel(started=4, passed=4, gave_up=0),
        "90d": LessonFunnel(started=7, passed=4, gave_up=3),
        "12m": LessonFunnel(started=9, passed=4, gave_up=5),
        "all": LessonFunnel(started=10, passed=4, gave_up=6),
    }


def test_a_range_starts_exactly_its_days_before_the_computation(session, course):
    one = lesson(session, "one")
    add_learners_with_attempts(session, one, 1, when=NOW - 30 * DAYS)
    add_learners_with_attempts(session, one, 1, when=NOW - 30 * DAYS - timedelta(seconds=1))
    reports = course_analytics_by_range(session, course=course, now=NOW)
    assert reports["30d"].lessons[0].questions[0].first_attempts == 1
    assert reports["90d"].lessons[0].questions[0].first_attempts == 2
    assert reports["30d"].lessons[0].funnel.started == 1


def test_a_retry_in_the_range_is_an_answer_but_not_a_first_try(session, course):
    """A first try long ago and a retry yesterday: the last 30 days have one answer, no first try."""
    one = lesson(session, "one")
    add_learners_with_attempts(session, one, 1, right=lambda n, q: False, when=NOW - 100 * DAYS)
    learner_id = session.scalar(select(User.id).order_by(User.id.desc()))
    add_learners_with_attempts(session, one, 1, when=NOW - DAYS)
    # Make the second attempt the first learner's retry.
    newest = session.scalar(select(QuizAttempt).order_by(QuizAttempt.id.desc()))
    newest.user_id = learner_id
    session.commit()
    recent = course_analytics_by_range(session, course=course, now=NOW)["30d"].lessons[0].questions[0]
    assert (recent.answers, recent.first_attempts) == (1, 0)
    assert recent.facility is None and recent.discrimination_note == "No first tries yet."


def test_all_ranges_take_the_same_queries_as_one_did(session, course, app):
    target = lesson(session, "one")
    add_learners_with_attempts(session, target, 5, when=NOW - 3 * DAYS)
    with count_queries(db.engine) as few:
        course_analytics_by_range(session, course=course, now=NOW)
    session.expire_all()
    for age in (40, 200, 500):
        add_learners_with_attempts(session, target, 50, when=NOW - age * DAYS)
    with count_queries(db.engine) as many:
        reports = course_analytics_by_range(session, course=course, now=NOW)
    assert few() == many() <= (9 if db.engine.dialect.name == "postgresql" else 8)
    assert reports["all"].lessons[0].funnel.started == 155


# --- the snapshot: every range kept, and snapshots from before ranges ------------------------------


def test_a_refresh_keeps_every_range(session, spread):
    assert snapshots.snapshot_refresh(session, course_id=spread.id, now=NOW)
    snapshot = snapshots.snapshot_get(session, course=spread)
    for date_range in RANGES:
        report = snapshots.snapshot_report(snapshot, course=spread, date_range=date_range)
        assert report.date_range == date_range and report.computed_at == NOW
    recent = snapshots.snapshot_report(snapshot, course=spread, date_range=RANGES_BY_KEY["30d"])
    assert recent.lessons[0].funnel.started == 4 and recent.since == NOW - 30 * DAYS


FORMAT_1 = {
    "format": 1,
    "lessons": [
        {
            "lesson": {"id": 1, "slug": "one", "title": "Lesson one", "module_title": "First part"},
            "number": 1,
            "funnel": {"started": 7, "passed": 2, "gave_up": 3},
            "questions": [
                {
                    "question_id": 11,
                    "number": 1,
                    "prompt": "Single question 1?",
                    "kind": "single",
                    "answered": 5,
                    "answers": 6,
                    "first_attempts": 5,
                    "first_right": 3,
                    "discrimination": 0.33,
                    "discrimination_note": None,
                    "choices": [
                        {
                            "choice_id": 21,
                            "letter": "A",
                            "text": "Right answer",
                            "is_correct": True,
                            "picks": 4,
                            "misconception_code": None,
                            "misconception_text": None,
                        },
                        {
                            "choice_id": 22,
                            "letter": "B",
                            "text": "Wrong answer",
                            "is_correct": False,
                            "picks": 2,
                            "misconception_code": "blocks-are-boosts",
                            "misconception_text": "Client may think blockers boost.",
                        },
                    ],
                }
            ],
        }
    ],
}


def test_a_snapshot_from_before_ranges_still_shows_all_time(session, course):
    """Figures kept by the previous version (format 1) are all time; other ranges wait for a refresh."""
    snapshot = AnalyticsSnapshot(course_id=course.id, computed_at=NOW, data=FORMAT_1)
    report = snapshots.snapshot_report(snapshot, course=course)
    question = report.lessons[0].questions[0]
    assert report.lessons[0].funnel == LessonFunnel(started=7, passed=2, gave_up=3)
    assert (question.answers, question.first_attempts, question.first_right) == (6, 5, 3)
    assert [(c.picks, c.share) for c in question.choices] == [(4, 4 / 6), (2, 2 / 6)]
    assert question.choices[1].misconception_code == "blocks-are-boosts"
    for key in ("30d", "90d", "12m"):
        assert snapshots.snapshot_report(snapshot, course=course, date_range=RANGES_BY_KEY[key]) is None


# --- the CSV's rows ---------------------------------------------------------------------------------


def test_the_csv_rows_are_the_reports_figures(session, spread, monkeypatch):
    monkeypatch.setattr(question_statistics, "MIN_ANSWERS_TO_JUDGE", 5)
    report = course_analytics_by_range(session, course=spread, now=NOW)["all"]
    header, rows = report_table(report)
    assert header == [
        "Lesson",
        "Lesson title",
        "Question",
        "Prompt",
        "Kind",
        "Answers",
        "First tries",
        "Right first time",
        "% right",
        "Discrimination (%)",
        "Correct choices",
        "A picked (% of answers)",
        "B picked (% of answers)",
        "C picked (% of answers)",
        "Review flags",
        "Caution",
    ]
    assert len(rows) == sum(len(item.questions) for item in report.lessons) == 9
    for row, (item, question) in zip(rows, report.questions, strict=True):
        cells = dict(zip(header, row, strict=True))
        assert (cells["Lesson"], cells["Lesson title"], cells["Question"]) == (
            item.number,
            item.lesson.title,
            question.number,
        )
        assert (cells["Prompt"], cells["Kind"], cells["Answers"]) == (question.prompt, question.kind, question.answers)
        assert cells["% right"] == whole_percent(question.facility)
        assert cells["Discrimination (%)"] == whole_percent(question.discrimination)
        shares = [cells[f"{c.letter} picked (% of answers)"] for c in question.choices]
        assert shares == [whole_percent(c.share) for c in question.choices]
        assert cells["Review flags"] == "; ".join(flag.label for flag in question.flags)
    first = dict(zip(header, rows[0], strict=True))
    assert (first["Answers"], first["First tries"], first["Right first time"], first["% right"]) == (10, 10, 4, 40)
    assert (first["Correct choices"], first["A picked (% of answers)"], first["B picked (% of answers)"]) == (
        "A",
        40,
        60,
    )
    assert first["Caution"] is None
    untouched = dict(zip(header, rows[-1], strict=True))  # lesson three: nobody tried it
    assert (untouched["Answers"], untouched["% right"], untouched["A picked (% of answers)"]) == (0, None, None)
    assert untouched["Caution"] == "Too few to judge: 0 first tries, fewer than 5"
    true_false = dict(zip(header, rows[2], strict=True))
    assert true_false["C picked (% of answers)"] is None  # two choices: the third column is empty


@pytest.mark.parametrize(("share", "percent"), [(None, None), (0.625, 63), (0.5 / 100, 1), (0.004, 0), (-0.125, -13)])
def test_whole_percent_rounds_half_away_from_zero(share, percent):
    assert whole_percent(share) == percent


# --- links to the editor -----------------------------------------------------------------------------


def question_ids(session, slug: str) -> list[int]:
    return [q.id for q in lesson(session, slug).live_questions]


def test_without_a_draft_each_question_is_at_its_published_place(session, course):
    ids = question_ids(session, "one") + question_ids(session, "three")
    places = question_editor_places(session, course=course, question_ids=ids)
    assert [places[i] for i in ids] == [
        EditorPlace("one", 1),
        EditorPlace("one", 2),
        EditorPlace("one", 3),
        EditorPlace("three", 1),
        EditorPlace("three", 2),
        EditorPlace("three", 3),
    ]


def test_in_a_draft_a_moved_question_links_to_its_new_place_and_a_removed_one_says_so(session, course):
    first, second, third = question_ids(session, "one")
    authoring.question_move(session, course=course, lesson_slug="one", position=1, direction="down")
    authoring.question_remove(session, course=course, lesson_slug="one", position=3)

    places = question_editor_places(session, course=course, question_ids=[first, second, third])

    assert places == {
        first: EditorPlace("one", 2),
        second: EditorPlace("one", 1),
        third: REMOVED_IN_DRAFT,
    }


def test_a_retired_question_says_so(session, course):
    one = lesson(session, "one")
    add_learners_with_attempts(session, one, 1)  # its questions have answers: removing retires them
    first, second, third = question_ids(session, "one")
    authoring.question_remove(session, course=course, lesson_slug="one", position=1)
    authoring.publish(session, course=course)

    places = question_editor_places(session, course=course, question_ids=[first, second, third])

    assert places == {first: RETIRED, second: EditorPlace("one", 1), third: EditorPlace("one", 2)}
