"""Question statistics and lesson funnels, against hand-computed numbers."""

from __future__ import annotations

import json
import math
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.jobs import analytics as jobs_analytics
from app.jobs import huey
from app.jobs.analytics import refresh_all_analytics, refresh_course_analytics
from app.models import AnalyticsSnapshot, Course, Lesson, LessonProgress, QuizAttempt, Role, User
from app.models.types import utcnow
from app.services.accounts import user_create
from app.services.analytics import course_report, date_ranges, question_statistics, snapshot_data, snapshots
from app.services.analytics.course_report import course_analytics
from app.services.analytics.discrimination import pearson
from app.services.analytics.drop_out import LessonFunnel
from app.services.analytics.question_statistics import QuestionStats
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.analytics_factories import add_learners_with_attempts
from tests.conftest import count_queries, factory_course_spec, import_course, make_test_config
from tests.factories import COURSE, write_course
from tests.test_jobs_worker import REDIS_URL, immediate_again, redis_or_skip, running_worker, wait_for

NOW = utcnow()
DAYS = timedelta(days=1)

# First attempts at lesson one (questions: single A-right, multiple A+B right, true/false A-right).
# Correct:      Q1 Q2 Q3
#   learner 1:   1  1  1
#   learner 2:   1  1  0
#   learner 3:   1  0  0
#   learner 4:   0  1  0
#   learner 5:   0  0  0   (then passes on a second attempt, which facility ignores)
FIRST_PICKS = [("A", "AB", "A"), ("A", "AB", "B"), ("A", "A", "B"), ("B", "AB", "B"), ("C", "AC", "B")]
FIRST_AT = [NOW - 10 * DAYS, NOW - 9 * DAYS, NOW - 2 * DAYS, NOW - 8 * DAYS, NOW - 9 * DAYS]


@pytest.fixture
def course(session, tmp_path):
    course_import(session, load_course(write_course(tmp_path / "tiny")))
    return course_by_slug(session, "tiny")


def make_user(session, email: str, role: Role = Role.LEARNER) -> User:
    return user_create(
        session, email=email, display_name=email, password="x" * 12, role=role, hash_method="scrypt:128:8:1"
    )


def lesson(session, slug: str) -> Lesson:
    return session.scalar(select(Lesson).where(Lesson.slug == slug))


def opened(session, user: User, slug: str, when) -> None:
    session.add(LessonProgress(user_id=user.id, lesson_id=lesson(session, slug).id, opened_at=when))
    session.commit()


def attempt(session, user: User, slug: str, picks: tuple[str, ...], when) -> QuizAttempt:
    """Submit the quiz picking choices by letter per question, then date the attempt ``when``."""
    target = lesson(session, slug)
    questions = quiz_questions(session, target)
    answers = {
        q.id: [q.live_choices[ord(letter) - ord("A")].id for letter in letters]
        for q, letters in zip(questions, picks, strict=True)
    }
    result = quiz_submit_attempt(
        session,
        learner=user,
        lesson=target,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    result.attempt.submitted_at = when
    session.commit()
    return result.attempt


@pytest.fixture
def history(session, course):
    # Learners 1-5 try lesson one's quiz (FIRST_PICKS); 6 and 7 only open the lesson.
    learners = [make_user(session, f"learner{n}@example.org") for n in range(1, 8)]
    for learner in learners[:6]:
        opened(session, learner, "one", NOW - 10 * DAYS)
    opened(session, learners[6], "one", NOW - 1 * DAYS)
    for learner, picks, when in zip(learners, FIRST_PICKS, FIRST_AT, strict=False):
        attempt(session, learner, "one", picks, when)
    attempt(session, learners[4], "one", ("A", "AB", "A"), NOW - 1 * DAYS)
    # Learner 1 goes on to lesson two and passes it on the first try.
    opened(session, learners[0], "two", NOW - 9 * DAYS)
    attempt(session, learners[0], "two", ("A", "AB", "A"), NOW - 9 * DAYS)
    # Staff trying the quiz are not learners: none of this may count.
    admin = make_user(session, "admin@example.org", Role.ADMIN)
    opened(session, admin, "one", NOW - 1 * DAYS)
    attempt(session, admin, "one", ("B", "C", "B"), NOW - 1 * DAYS)
    return course


def report_for(session, course):
    return {item.lesson.slug: item for item in course_analytics(session, course=course, now=NOW).lessons}


def test_lessons_and_questions_come_in_course_order(session, history):
    report = course_analytics(session, course=history, now=NOW)
    assert [item.lesson.slug for item in report.lessons] == ["one", "two", "three"]
    assert [q.number for q in report.lessons[0].questions] == [1, 2, 3]
    assert [q.kind for q in report.lessons[0].questions] == ["single", "multiple", "true_false"]


def test_answers_count_every_learner_attempt_not_staff(session, history):
    one = report_for(session, history)["one"]
    assert [q.answers for q in one.questions] == [6, 6, 6]  # five first tries and one retry
    assert [q.first_attempts for q in one.questions] == [5, 5, 5]


def test_facility_uses_first_attempts_only(session, history):
    one = report_for(session, history)["one"]
    assert [(q.first_right, q.first_attempts) for q in one.questions] == [(3, 5), (3, 5), (1, 5)]
    assert [q.facility for q in one.questions] == [0.6, 0.6, 0.2]


def test_discrimination_is_the_correlation_with_the_rest_of_the_quiz(session, history):
    q1, q2, q3 = report_for(session, history)["one"].questions
    # Q1 scores x = 1,1,1,0,0; rest-of-quiz scores y = 1, .5, 0, .5, 0 (share of Q2 and Q3 right).
    # Deviations: sum dx*dy = 0.3, sum dx^2 = 1.2, sum dy^2 = 0.7, so r = 0.3 / sqrt(0.84).
    assert q1.discrimination == pytest.approx(0.3 / math.sqrt(0.84))
    assert q2.discrimination == pytest.approx(0.3 / math.sqrt(0.84))
    # Q3: x = 1,0,0,0,0; y = 1, 1, .5, .5, 0: r = 0.4 / sqrt(0.8 * 0.7).
    assert q3.discrimination == pytest.approx(0.4 / math.sqrt(0.56))
    assert q1.discrimination_note is None


def test_discrimination_needs_two_first_tries(session, history):
    two, three = report_for(session, history)["two"], report_for(session, history)["three"]
    q1 = two.questions[0]
    assert (q1.answers, q1.first_attempts, q1.facility) == (1, 1, 1.0)
    assert q1.discrimination is None
    assert q1.discrimination_note == "Needs at least 2 first tries; has 1."
    assert q1.flags == []
    untouched = three.questions[0]
    assert (untouched.answers, untouched.facility, untouched.discrimination) == (0, None, None)
    assert untouched.discrimination_note == "No first tries yet."
    assert [c.share for c in untouched.choices] == [None, None, None]


def test_choice_picks_with_their_misconceptions(session, history):
    q1, q2, q3 = report_for(session, history)["one"].questions
    rows = [(c.letter, c.is_correct, c.picks, c.misconception_code) for c in q1.choices]
    assert rows == [("A", True, 4, None), ("B", False, 1, "blocks-are-boosts"), ("C", False, 1, None)]
    assert [c.share for c in q1.choices] == [4 / 6, 1 / 6, 1 / 6]
    assert q1.choices[1].misconception_text == "Client may think blockers boost."
    # A "select all" question: shares of answers can add up to more than 100%.
    assert [(c.picks, c.misconception_code) for c in q2.choices] == [(6, None), (4, None), (1, "blocks-are-boosts")]
    assert [(c.text, c.picks) for c in q3.choices] == [("True", 2), ("False", 4)]


def test_funnel_started_passed_gave_up(session, history):
    report = report_for(session, history)
    # Lesson one: 7 started. Passed: learners 1 and 5. Gave up (nothing for 7+ days): learners 2
    # (tried 9 days ago), 4 (8 days ago) and 6 (opened 10 days ago, never tried). Still working:
    # learner 3 (tried 2 days ago) and 7 (opened yesterday).
    assert report["one"].funnel == LessonFunnel(started=7, passed=2, gave_up=3)
    assert report["one"].funnel.in_progress == 2
    assert report["two"].funnel == LessonFunnel(started=1, passed=1, gave_up=0)
    assert report["three"].funnel == LessonFunnel(started=0, passed=0, gave_up=0)


def test_gave_up_counts_only_a_week_without_opening_or_attempting(session, history):
    """Learner 3 opened lesson one 10 days ago but tried its quiz 2 days ago: still working."""
    assert report_for(session, history)["one"].funnel.gave_up == 3
    # Six days on, that attempt is 8 days old; learner 7's opening is exactly 7 days old, not more.
    later = course_analytics(session, course=history, now=NOW + 6 * DAYS)
    assert later.lessons[0].funnel == LessonFunnel(started=7, passed=2, gave_up=4)


def test_five_first_tries_are_too_few_to_flag_anything(session, history):
    q1, q2, q3 = report_for(session, history)["one"].questions
    assert q3.facility == 0.2  # hard, by the figure
    assert all(q.too_few and q.flags == [] for q in (q1, q2, q3))
    assert q3.caution == "Too few to judge: 5 first tries, fewer than 30"


def test_flags_mark_questions_that_may_need_review(session, history, monkeypatch):
    """With the threshold lowered (one constant), the same five first tries are judged."""
    monkeypatch.setattr(question_statistics, "MIN_ANSWERS_TO_JUDGE", 5)
    q1, q2, q3 = report_for(session, history)["one"].questions
    assert q1.flags == [] and q2.flags == []
    assert [flag.code for flag in q3.flags] == ["hard"]
    assert q3.caution is None


@pytest.mark.parametrize(
    ("right", "discrimination", "codes"),
    [
        (96, 0.5, ["easy"]),
        (95, 0.5, []),
        (30, 0.2, []),
        (29, 0.5, ["hard"]),
        (50, 0.19, ["weak"]),
        (50, -0.3, ["negative"]),
        (50, None, []),
        (20, 0.1, ["hard", "weak"]),
    ],
)
def test_review_thresholds(right, discrimination, codes):
    """Flag facility under 30% or over 95%, and discrimination under 20% (or below zero)."""
    stats = QuestionStats(1, 1, "Q?", "single", 100, 100, right, discrimination, None, [])
    assert [flag.code for flag in stats.flags] == codes


def test_no_flags_and_a_caution_below_the_threshold():
    """29 first tries, all wrong and negatively discriminating: shown with a caution, never flagged."""
    few = QuestionStats(1, 1, "Q?", "single", 29, 29, 0, -0.5, None, [])
    assert few.too_few and few.flags == []
    assert few.caution == "Too few to judge: 29 first tries, fewer than 30"
    enough = QuestionStats(1, 1, "Q?", "single", 30, 30, 0, -0.5, None, [])
    assert not enough.too_few and enough.caution is None
    assert [flag.code for flag in enough.flags] == ["hard", "negative"]
    assert QuestionStats(1, 1, "Q?", "single", 1, 1, 1, None, None, []).caution == (
        "Too few to judge: 1 first try, fewer than 30"
    )


def test_pearson_is_none_without_variance():
    assert pearson(5, 5, 2.5, 2.5, 5, 1.25) is None
    assert pearson(4, 2, 2, 2, 2, 2) == pytest.approx(1.0)


def test_query_count_does_not_grow_with_learners(session, course, app):
    target = lesson(session, "one")
    pattern = {"right": lambda n, q: n % 2 == 0 or q != 1, "when": NOW - 8 * DAYS}
    add_learners_with_attempts(session, target, 10, **pattern)
    with count_queries(db.engine) as few:
        small = course_analytics(session, course=course, now=NOW)
    session.expire_all()
    add_learners_with_attempts(session, target, 290, **pattern)
    with count_queries(db.engine) as many:
        large = course_analytics(session, course=course, now=NOW)
    limit = 9 if db.engine.dialect.name == "postgresql" else 8  # PostgreSQL: one more, the planner settings
    assert few() == many() <= limit
    assert small.lessons[0].funnel.started == 10
    assert large.lessons[0].funnel == LessonFunnel(started=300, passed=150, gave_up=150)
    assert large.lessons[0].questions[0].answers == 300


def plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def test_the_refresh_reads_attempts_and_answers_through_indexes(session, history):
    """At 100,000 learners the answers are millions of rows; the refresh must read the covering
    indexes instead (bench/PLANS.md), whatever plan the small test data suggests."""
    from sqlalchemy import event

    if db.engine.dialect.name != "postgresql":
        pytest.skip("index-only plans and INCLUDE columns are PostgreSQL's")
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        course_analytics(session, course=history, now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)

    assert session.connection().exec_driver_sql("SHOW enable_seqscan").scalar() == "off"
    big_tables = {"quiz_attempts", "attempt_answers"}
    scanned = set()
    for statement, parameters in captured:  # still in the refresh's transaction and settings
        if not any(table in statement for table in big_tables):
            continue
        plan = session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()
        for node in plan_nodes(plan[0]["Plan"]):
            if node.get("Relation Name") in big_tables:
                scanned.add(node["Relation Name"])
                assert node["Node Type"] != "Seq Scan", (node["Relation Name"], statement[:80])
    assert scanned == big_tables


# --- the stored snapshot and its refresh ------------------------------------------------------


def test_the_snapshot_keeps_data_that_rebuilds_the_same_report(session, history):
    reports = course_report.course_analytics_by_range(session, course=history, now=NOW)

    data = snapshot_data.report_data(reports)

    assert json.loads(json.dumps(data)) == data  # plain JSON, what the column stores
    for date_range in date_ranges.RANGES:
        rebuilt = snapshot_data.report_from_data(data, course=history, computed_at=NOW, date_range=date_range)
        assert rebuilt == reports[date_range.key]


def test_the_snapshot_data_shape(session, history):
    data = snapshot_data.report_data(course_report.course_analytics_by_range(session, course=history, now=NOW))
    one = data["lessons"][0]
    assert data["format"] == snapshot_data.DATA_FORMAT == 2
    assert data["ranges"] == ["30d", "90d", "12m", "all"]
    assert (one["lesson"]["slug"], one["number"]) == ("one", 1)
    assert set(one["lesson"]) == {"id", "slug", "title", "module_title"}
    assert one["funnel"]["all"] == {"started": 7, "passed": 2, "gave_up": 3}
    q1 = one["questions"][0]
    assert (q1["number"], q1["kind"]) == (1, "single")
    figures = q1["figures"]["all"]
    assert (figures["answers"], figures["first_attempts"], figures["first_right"]) == (6, 5, 3)
    assert figures["discrimination"] == pytest.approx(0.3 / math.sqrt(0.84))
    assert figures["picks"] == [4, 1, 1]  # per choice, in the order of q1["choices"]
    wrong = q1["choices"][1]
    assert wrong == {
        "choice_id": wrong["choice_id"],
        "letter": "B",
        "text": wrong["text"],
        "is_correct": False,
        "misconception_code": "blocks-are-boosts",
        "misconception_text": "Client may think blockers boost.",
    }  # no share: worked out from picks and answers when the page renders


def test_a_refresh_computes_and_keeps_the_figures(session, history):
    assert snapshots.snapshot_refresh(session, course_id=history.id, now=NOW) is True

    snapshot = snapshots.snapshot_get(session, course=history)
    assert (snapshot.computed_at, snapshot.refreshing_since) == (NOW, None)
    report = snapshots.snapshot_report(snapshot, course=history)
    assert report.computed_at == NOW
    assert report.lessons[0].funnel == LessonFunnel(started=7, passed=2, gave_up=3)
    assert report.lessons[0].questions[2].facility == 0.2


def test_a_second_refresh_replaces_the_figures_in_the_same_row(session, course):
    snapshots.snapshot_refresh(session, course_id=course.id, now=NOW - DAYS)
    add_learners_with_attempts(session, lesson(session, "one"), 3)

    assert snapshots.snapshot_refresh(session, course_id=course.id, now=NOW) is True

    assert session.scalar(select(func.count()).select_from(AnalyticsSnapshot)) == 1
    report = snapshots.snapshot_report(snapshots.snapshot_get(session, course=course), course=course)
    assert (report.computed_at, report.lessons[0].funnel.started) == (NOW, 3)


class Counting:
    """Stands in for course_analytics_by_range, counting the computations a refresh starts."""

    def __init__(self, fail: bool = False):
        self.calls, self.fail = 0, fail

    def __call__(self, session, *, course, now=None):
        self.calls += 1
        if self.fail:
            raise RuntimeError("the database went away")
        return empty_reports(course, now)


def empty_reports(course, now=None) -> dict:
    return {
        r.key: course_report.CourseAnalytics(course=course, lessons=[], computed_at=now or utcnow(), date_range=r)
        for r in date_ranges.RANGES
    }


def hold_the_claim(session, course, since) -> None:
    """Mark the course's snapshot as being refreshed since ``since``, as a running refresh would."""
    session.add(AnalyticsSnapshot(course_id=course.id, refreshing_since=since))
    session.commit()


def test_a_refresh_while_another_runs_computes_nothing(session, course, monkeypatch):
    counting = Counting()
    monkeypatch.setattr(snapshots, "course_analytics_by_range", counting)
    hold_the_claim(session, course, utcnow() - timedelta(minutes=1))

    assert snapshots.snapshot_refresh(session, course_id=course.id) is False

    assert counting.calls == 0
    assert snapshots.snapshot_report(snapshots.snapshot_get(session, course=course), course=course) is None


def test_the_job_skips_while_a_refresh_runs_and_computes_once_it_is_done(session, course, monkeypatch):
    """The job runs in a session of its own (inline here, as on a worker): the claim is in the database."""
    counting = Counting()
    monkeypatch.setattr(snapshots, "course_analytics_by_range", counting)
    hold_the_claim(session, course, utcnow())

    refresh_course_analytics(course.id)
    assert counting.calls == 0

    snapshot = snapshots.snapshot_get(session, course=course)
    snapshot.refreshing_since = None
    session.commit()
    refresh_course_analytics(course.id)
    assert counting.calls == 1
    snapshot = snapshots.snapshot_get(session, course=course, reload=True)
    assert snapshot.computed_at is not None and snapshot.refreshing_since is None


def test_an_overdue_refresh_is_taken_to_have_died(session, course, monkeypatch):
    counting = Counting()
    monkeypatch.setattr(snapshots, "course_analytics_by_range", counting)
    hold_the_claim(session, course, NOW - snapshots.REFRESH_TIMEOUT)

    assert snapshots.snapshot_refresh(session, course_id=course.id, now=NOW) is True
    assert counting.calls == 1


def test_a_failed_refresh_gives_its_claim_back(session, course, monkeypatch):
    monkeypatch.setattr(snapshots, "course_analytics_by_range", Counting(fail=True))

    with pytest.raises(RuntimeError):
        snapshots.snapshot_refresh(session, course_id=course.id, now=NOW)

    snapshot = snapshots.snapshot_get(session, course=course, reload=True)
    assert snapshot.refreshing_since is None and snapshot.data is None
    monkeypatch.setattr(snapshots, "course_analytics_by_range", Counting())
    assert snapshots.snapshot_refresh(session, course_id=course.id, now=NOW) is True  # the retry is not kept out


def test_a_refresh_of_a_course_that_is_gone_does_nothing(session):
    assert snapshots.snapshot_refresh(session, course_id=999_999) is False
    assert session.scalar(select(func.count()).select_from(AnalyticsSnapshot)) == 0


def test_is_refreshing_until_the_timeout():
    now = utcnow()
    assert not snapshots.snapshot_is_refreshing(None, now=now)
    assert not snapshots.snapshot_is_refreshing(AnalyticsSnapshot(refreshing_since=None), now=now)
    running = AnalyticsSnapshot(refreshing_since=now - snapshots.REFRESH_TIMEOUT + timedelta(seconds=1))
    assert snapshots.snapshot_is_refreshing(running, now=now)
    overdue = AnalyticsSnapshot(refreshing_since=now - snapshots.REFRESH_TIMEOUT)
    assert not snapshots.snapshot_is_refreshing(overdue, now=now)


def test_no_report_without_figures_or_from_another_format(session, course):
    assert snapshots.snapshot_report(None, course=course) is None
    assert snapshots.snapshot_report(AnalyticsSnapshot(computed_at=NOW, data=None), course=course) is None
    unknown = AnalyticsSnapshot(computed_at=NOW, data={"format": 99, "lessons": []})
    assert snapshots.snapshot_report(unknown, course=course) is None


def test_every_course_is_refreshed_on_the_hour(session, course, tmp_path):
    course_import(session, load_course(write_course(tmp_path / "second", {**COURSE, "slug": "second"})))

    def scheduled(hour: int, minute: int) -> bool:
        due = huey.read_periodic(datetime(2026, 12, 4, hour, minute, tzinfo=UTC))
        return any(isinstance(task, refresh_all_analytics.task_class) for task in due)

    assert scheduled(13, 0) and scheduled(0, 0)
    assert not scheduled(13, 30) and not scheduled(13, 1)

    refresh_all_analytics()  # inline in tests: it enqueues (so runs) one refresh a course

    snapshots = session.scalars(select(AnalyticsSnapshot).execution_options(populate_existing=True)).all()
    assert len(snapshots) == 2 and all(s.data and s.computed_at for s in snapshots)


# --- a real worker --------------------------------------------------------------------------------


@pytest.fixture
def redis_app(tmp_path):
    """An app whose queue is the local Redis, with a queue name of its own, flushed afterwards."""
    redis_or_skip()
    app = create_app(
        make_test_config(
            f"sqlite:///{tmp_path / 'app.db'}",
            JOBS_BACKEND="redis",
            REDIS_URL=REDIS_URL,
            JOBS_QUEUE_NAME=f"test-analytics-{uuid.uuid4().hex}",
        )
    )
    with app.app_context():
        db.create_all()
    try:
        yield app
    finally:
        huey.flush()
        immediate_again()
        with app.app_context():
            db.engine.dispose()


def test_two_workers_given_two_refreshes_at_once_compute_once(redis_app, monkeypatch):
    """Two refreshes of a course reach two worker threads together: one computes, the other skips.

    The computing one waits until the other's refresh has returned, rather than sleeping a time
    the other worker is guessed to try within: a slow machine makes it slower, never different.
    """
    other_returned = threading.Event()
    computing: list[str] = []

    def slow(session, *, course, now=None):
        computing.append(threading.current_thread().name)
        if len(computing) == 1:  # the first to compute: the other refresh tries meanwhile
            other_returned.wait(30)  # only waited out when the other worker never tries
        return empty_reports(course, now)

    outcomes: list[bool] = []
    real_refresh = jobs_analytics.snapshot_refresh

    def noted(session, *, course_id):
        try:
            outcomes.append(real_refresh(session, course_id=course_id))
            return outcomes[-1]
        finally:
            # While one refresh computes, only the other can return (as it would if it computed
            # too, not waiting: then the test fails at once rather than after the wait).
            other_returned.set()

    monkeypatch.setattr(snapshots, "course_analytics_by_range", slow)
    monkeypatch.setattr(jobs_analytics, "snapshot_refresh", noted)
    import_course(redis_app, factory_course_spec())
    with redis_app.app_context():
        course_id = db.session.scalar(select(Course.id))
        db.session.remove()

    refresh_course_analytics(course_id)
    refresh_course_analytics(course_id)
    assert huey.pending_count() == 2  # queued in Redis, not run inline
    with running_worker(workers=2):
        wait_for(lambda: len(outcomes) == 2)

    assert len(computing) == 1 and sorted(outcomes) == [False, True]
    with redis_app.app_context():
        snapshot = db.session.scalar(select(AnalyticsSnapshot))
        assert snapshot.computed_at is not None and snapshot.refreshing_since is None
