"""Seeding a population: the rows are what real submissions would have written, and every page
service works on them."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.devdata import rows
from app.devdata.cli import seed as seed_command
from app.devdata.population import SEED_PASSWORD, SeedError, seed_population
from app.devdata.rows import RowError, copy_text, json_value, sink_for
from app.models import (
    AttemptAnswer,
    AuditEvent,
    Choice,
    CounsellorLink,
    Invitation,
    Lesson,
    LessonProgress,
    ProgressView,
    Question,
    QuizAttempt,
    Role,
    ShownQuestion,
    User,
)
from app.models.types import utcnow
from app.services.accounts import user_create
from app.services.analytics.course_report import course_analytics
from app.services.client_report import client_report
from app.services.dashboard import DashboardQuery, dashboard_page
from app.services.pass_rule import is_pass
from app.services.progress import LessonState, course_by_slug, course_outline
from app.services.quizzes import quiz_questions, quiz_submit_attempt, shown_order
from app.services.sharing import INVITATION_LIFETIME, visible_learner_ids

LEARNERS = 200
COUNSELLORS = 3


@pytest.fixture
def course(real_course) -> str:
    """The real course here: the expected ranges below (about 20 answers a learner, 4.7 an attempt)
    are the shape of the seeded data the benchmarks run on, which depends on its size."""
    return real_course


@pytest.fixture
def seeded(app, session, course):
    """200 learners, 3 counsellors and an admin in the real course."""
    now = utcnow()
    report = seed_population(
        session,
        course=course_by_slug(session, course),
        learners=LEARNERS,
        counsellors=COUNSELLORS,
        seed=7,
        now=now,
        batch_size=64,  # several batches, so sequences are moved more than once
        hash_method=app.config["PASSWORD_HASH_METHOD"],
    )
    return report, now


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def live_quizzes(session, course_slug: str) -> dict[int, list[Question]]:
    outline = course_outline(session, course=course_by_slug(session, course_slug), learner=None)
    return {entry.lesson.id: quiz_questions(session, entry.lesson) for entry in outline.entries}


def snapshot(choices: list[Choice], chosen: set[int]) -> list[dict]:
    """The choices_shown a real submission records, written out independently of the seeder."""
    return [
        {
            "choice_id": choice.id,
            "text": choice.text,
            "correct": choice.is_correct,
            "chosen": choice.id in chosen,
            "feedback": choice.feedback,
            "misconception": choice.misconception.code if choice.misconception else None,
            "misconception_text": choice.misconception.learner_text if choice.misconception else None,
            "safety_critical": not choice.is_correct
            and (choice.safety_critical or bool(choice.misconception and choice.misconception.safety_critical)),
        }
        for choice in choices
    ]


def test_counts_are_in_the_expected_ranges(session, course, seeded):
    report, _ = seeded
    assert count(session, User, User.role == Role.LEARNER) == LEARNERS
    assert count(session, User, User.role == Role.COUNSELLOR) == COUNSELLORS
    assert count(session, User, User.role == Role.ADMIN) == 1
    answers = count(session, AttemptAnswer)
    assert answers == report.answers
    # About 20 answers a learner (2 million at 100,000), with room for a small sample's spread.
    assert 12 * LEARNERS <= answers <= 30 * LEARNERS
    attempts = count(session, QuizAttempt)
    assert attempts == report.attempts and answers / attempts == pytest.approx(4.7, abs=0.4)
    # Each live question's version as shown is stored once, whatever the number of answers.
    assert count(session, ShownQuestion) == sum(len(questions) for questions in live_quizzes(session, course).values())
    assert count(session, LessonProgress) == report.progress_rows
    assert count(session, QuizAttempt, QuizAttempt.passed.is_(False)) > LEARNERS / 4  # failures before passing
    links = count(session, CounsellorLink)
    assert links == report.links and 0.3 * LEARNERS <= links <= 0.7 * LEARNERS
    assert count(session, ProgressView) == report.progress_views > links / 2
    assert count(session, ProgressView, ProgressView.viewer_role != Role.COUNSELLOR) == 0
    assert count(session, AuditEvent, AuditEvent.action == "role_changed") == COUNSELLORS
    assert count(session, AuditEvent) == report.audit_events
    # Every link a learner made came by an invitation they accepted; each counsellor has some pending.
    by_learner = count(session, CounsellorLink, CounsellorLink.created_by_id == CounsellorLink.learner_id)
    assert count(session, Invitation, Invitation.accepted.is_(True)) == by_learner
    assert count(session, Invitation, Invitation.used_at.is_(None)) == 2 * COUNSELLORS
    # Every invitation lasts as long as one a counsellor makes (sharing's rule, not a copy).
    lifetimes = {row.expires_at - row.created_at for row in session.scalars(select(Invitation))}
    assert lifetimes == {INVITATION_LIFETIME}
    # A funnel: fewer learners reach each later lesson, and some finish.
    started = [
        count(session, LessonProgress, LessonProgress.lesson_id == lesson_id)
        for lesson_id in session.scalars(select(Lesson.id).order_by(Lesson.module_id, Lesson.position))
    ]
    assert started == sorted(started, reverse=True) and started[0] > started[-1] > 0
    assert 0 < report.finished < LEARNERS / 2


def test_every_attempt_is_recorded_as_a_real_submission_would_be(session, course, seeded):
    quizzes = live_quizzes(session, course)
    pass_mark = course_by_slug(session, course).pass_mark
    attempts = session.scalars(select(QuizAttempt).options(selectinload(QuizAttempt.answers))).all()
    assert attempts
    for attempt in attempts:
        questions = quizzes[attempt.lesson_id]
        assert [a.question_id for a in attempt.answers] == [q.id for q in questions]
        assert [a.position for a in attempt.answers] == list(range(1, len(questions) + 1))
        assert attempt.question_count == len(questions) and attempt.pass_mark == pass_mark
        assert len(attempt.submission_key) == 32 and int(attempt.submission_key, 16) >= 0
        for answer, question in zip(attempt.answers, questions, strict=True):
            chosen = {c["choice_id"] for c in answer.choices_shown if c["chosen"]}
            assert chosen, "every question is answered"
            if question.kind != "multiple":
                assert len(chosen) == 1
            assert (answer.kind, answer.prompt, answer.explanation) == (
                question.kind,
                question.prompt,
                question.explanation,
            )
            shown = shown_order(
                question.live_choices,
                question_id=question.id,
                shuffle=question.shuffle,
                submission_key=attempt.submission_key,
            )
            assert answer.choices_shown == snapshot(shown, chosen)
            assert answer.is_correct == (chosen == {c.id for c in question.live_choices if c.is_correct})
        correct = sum(answer.is_correct for answer in attempt.answers)
        assert attempt.correct_count == correct and attempt.score == correct / len(questions)
        assert attempt.passed == is_pass(correct, len(questions), pass_mark)


def test_rows_match_what_quiz_submit_attempt_writes(app, session, course, seeded):
    """Replay a seeded wrong attempt through the real service and compare the rows."""
    seeded_attempt = session.scalar(
        select(QuizAttempt)
        .where(QuizAttempt.passed.is_(False))
        .order_by(QuizAttempt.id)
        .options(selectinload(QuizAttempt.answers))
        .limit(1)
    )
    lesson = session.get(Lesson, seeded_attempt.lesson_id)
    learner = user_create(
        session, email="replay@example.org", display_name="Replay", password="x" * 12, hash_method="scrypt:128:8:1"
    )
    answers = {
        answer.question_id: [c["choice_id"] for c in answer.choices_shown if c["chosen"]]
        for answer in seeded_attempt.answers
    }
    real = quiz_submit_attempt(
        session,
        learner=learner,
        lesson=lesson,
        questions=quiz_questions(session, lesson),
        answers=answers,
        # The same key draws the same order of choices, so the snapshots must match exactly.
        submission_key=seeded_attempt.submission_key,
        pass_mark=seeded_attempt.pass_mark,
    ).attempt

    def rows(attempt):
        return [
            (
                a.question_id,
                a.position,
                a.kind,
                a.prompt,
                a.explanation,
                a.is_correct,
                a.choices_shown,
                # The same version row and the same stored order and picks, not only equal renderings.
                (a.shown_question_id, a.choice_order, a.chosen),
            )
            for a in attempt.answers
        ] + [(attempt.question_count, attempt.correct_count, attempt.score, attempt.passed)]

    session.expire_all()
    assert rows(session.get(QuizAttempt, real.id)) == rows(session.get(QuizAttempt, seeded_attempt.id))


def test_review_cards_are_what_the_learners_answers_would_have_made(session, course, seeded):
    """Each learner's cards are those their attempts, replayed in order through the quiz's own card
    rules (review.cards_moves), make: one per question ever answered wrong, moved on by each
    answer since; a learner who never answered wrong has none."""
    from app.models import ReviewCard
    from app.services.review import cards_moves

    report, _ = seeded
    columns = [column.key for column in ReviewCard.__table__.columns if column.key != "id"]
    stored: dict[int, dict[int, tuple]] = defaultdict(dict)
    for card in session.scalars(select(ReviewCard)):
        stored[card.user_id][card.question_id] = tuple(getattr(card, key) for key in columns)
    assert sum(len(cards) for cards in stored.values()) == report.review_cards > 0

    attempts = session.scalars(
        select(QuizAttempt)
        .options(selectinload(QuizAttempt.answers))
        .order_by(QuizAttempt.submitted_at, QuizAttempt.id)
    ).all()
    replayed: dict[int, dict[int, dict]] = defaultdict(dict)
    for attempt in attempts:
        cards = replayed[attempt.user_id]
        results = {answer.question_id: answer.is_correct for answer in attempt.answers}
        _, changes = cards_moves(
            user_id=attempt.user_id,
            results=results,
            when=attempt.submitted_at,
            card_rows=[cards[question_id] for question_id in results if question_id in cards],
        )
        for card in [*changes.moved, *changes.new]:
            cards[card.question_id] = {"id": 0, **{key: getattr(card, key) for key in columns}}
    expected = {
        user_id: {question_id: tuple(card[key] for key in columns) for question_id, card in cards.items()}
        for user_id, cards in replayed.items()
        if cards
    }
    assert stored == expected
    wrong_answerers = {attempt.user_id for attempt in attempts if any(not a.is_correct for a in attempt.answers)}
    assert set(stored) == wrong_answerers


def test_progress_rows_agree_with_the_attempts_and_the_unlocking_rule(session, course, seeded):
    report, now = seeded
    quizzes = live_quizzes(session, course)
    order = list(quizzes)
    attempts: dict[tuple[int, int], list[QuizAttempt]] = defaultdict(list)
    for attempt in session.scalars(select(QuizAttempt).order_by(QuizAttempt.submitted_at)):
        attempts[attempt.user_id, attempt.lesson_id].append(attempt)
    progress = {(row.user_id, row.lesson_id): row for row in session.scalars(select(LessonProgress))}
    assert set(attempts) <= set(progress), "no attempt without the lesson opened"
    learners = session.scalars(select(User).where(User.role == Role.LEARNER)).all()
    earliest = now - timedelta(days=91)
    for learner in learners:
        assert earliest <= learner.created_at <= now
        previous_completed_at = learner.created_at
        for lesson_id in order:
            row = progress.get((learner.id, lesson_id))
            if row is None:
                break
            tries = attempts.get((learner.id, lesson_id), [])
            passes = [a for a in tries if a.passed]
            assert previous_completed_at <= row.opened_at <= now
            assert all(row.opened_at <= a.submitted_at <= now for a in tries)
            if passes:
                assert row.completed_at == passes[0].submitted_at
                assert len(passes) == 1 and tries[-1] is passes[0]  # no retries once passed
                assert len(tries) <= 4  # 0 to 3 failures first
                previous_completed_at = row.completed_at
            else:
                assert row.completed_at is None
                break
        else:
            continue
        # A learner who stopped has nothing recorded beyond the lesson they stopped at.
        later = order[order.index(lesson_id) + 1 :]
        assert not any((learner.id, other) in progress for other in later)
    assert sum(1 for key in attempts if key in progress) == len(attempts)
    assert report.completions == sum(1 for row in progress.values() if row.completed_at)


def test_learner_pages_agree(session, course, seeded):
    course_row = course_by_slug(session, course)
    completed = Counter(session.scalars(select(LessonProgress.user_id).where(LessonProgress.completed_at.is_not(None))))
    for learner in session.scalars(select(User).where(User.role == Role.LEARNER).limit(60)):
        outline = course_outline(session, course=course_row, learner=learner)
        assert outline.completed_count == completed[learner.id]
        states = [entry.state for entry in outline.entries]
        # Completed lessons come first, then the one open lesson, then locked ones.
        done = states.count(LessonState.COMPLETED)
        assert states[:done] == [LessonState.COMPLETED] * done
        if done < len(states):
            assert states[done] == LessonState.AVAILABLE
            assert set(states[done + 1 :]) <= {LessonState.LOCKED}
        assert outline.is_complete == (done == len(states))


def test_counsellor_dashboard_and_client_page_work(session, course, seeded):
    report, _ = seeded
    course_row = course_by_slug(session, course)
    flags = Counter()
    for counsellor_id in report.counsellor_ids:
        counsellor = session.get(User, counsellor_id)
        live = count(
            session,
            CounsellorLink,
            CounsellorLink.counsellor_id == counsellor_id,
            CounsellorLink.revoked_at.is_(None),
        )
        page = dashboard_page(session, viewer=counsellor, course=course_row, query=DashboardQuery())
        assert page.total == live > 0
        for row in page.rows:
            flags.update(row.flags)
            assert row.completed == count(
                session,
                LessonProgress,
                LessonProgress.user_id == row.learner_id,
                LessonProgress.completed_at.is_not(None),
            )
        client = session.get(User, page.rows[0].learner_id)
        report_page = client_report(session, learner=client, course=course_row)
        attempts = sum(lesson.in_all for lesson in report_page.attempts_by_lesson.values())
        assert attempts == count(session, QuizAttempt, QuizAttempt.user_id == client.id)
    assert flags["inactive"] > 0 and flags["finished"] > 0
    # The admin sees every learner.
    admin = session.get(User, report.admin_ids[0])
    assert count(session, User, User.id.in_(visible_learner_ids(admin))) == LEARNERS


def test_client_page_finds_misconceptions(session, course, seeded):
    course_row = course_by_slug(session, course)
    learner_id = next(
        attempt.user_id
        for attempt in session.scalars(select(QuizAttempt).options(selectinload(QuizAttempt.answers)))
        if any(
            c["chosen"] and c["misconception"] and not c["correct"] for a in attempt.answers for c in a.choices_shown
        )
    )
    report = client_report(session, learner=session.get(User, learner_id), course=course_row)
    assert report.misconceptions and all(insight.times > 0 for insight in report.misconceptions)


def test_analytics_work_on_the_population(session, course, seeded):
    analytics = course_analytics(session, course=course_by_slug(session, course))
    first = analytics.lessons[0]
    assert first.funnel.started > first.funnel.passed > 0
    assert all(question.first_attempts > 0 for question in first.questions)
    # Abler learners get more right, so most questions discriminate positively.
    measured = [q.discrimination for item in analytics.lessons for q in item.questions if q.discrimination is not None]
    assert measured and sum(d > 0 for d in measured) > len(measured) / 2


def test_every_seeded_reference_points_at_a_row(session, seeded):
    """On PostgreSQL seeding switches the foreign-key triggers off (app/devdata/rows.py), so the
    references are checked here instead, every one of every table seeding writes."""
    from sqlalchemy import and_

    dangling = {}
    for model in rows.TABLES:
        for key in model.__table__.foreign_keys:
            child, parent = key.parent, key.column
            target = parent.table.alias()
            orphans = session.scalar(
                select(func.count())
                .select_from(model.__table__.outerjoin(target, target.c[parent.name] == child))
                .where(and_(child.is_not(None), target.c[parent.name].is_(None)))
            )
            if orphans:
                dangling[f"{model.__tablename__}.{child.name}"] = orphans
    assert not dangling, dangling
    assert session.scalar(select(func.count()).select_from(AttemptAnswer)) > 0


def test_normal_inserts_continue_after_seeding(app, session, course, seeded):
    maxima = {model: session.scalar(select(func.max(model.id))) for model in (User, QuizAttempt, AttemptAnswer)}
    learner = user_create(
        session, email="after@example.org", display_name="After", password="x" * 12, hash_method="scrypt:128:8:1"
    )
    lesson = session.scalar(select(Lesson).order_by(Lesson.module_id, Lesson.position).limit(1))
    questions = quiz_questions(session, lesson)
    answers = {q.id: [next(c.id for c in q.live_choices if c.is_correct)] for q in questions}
    result = quiz_submit_attempt(
        session,
        learner=learner,
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key="a" * 32,
        pass_mark=0.8,
    )
    assert learner.id > maxima[User]
    assert result.attempt.id > maxima[QuizAttempt] and result.attempt.passed
    assert min(answer.id for answer in result.attempt.answers) > maxima[AttemptAnswer]
    assert session.scalar(select(func.count()).select_from(Choice)) > 0


def test_seeding_again_needs_a_new_seed(app, session, course, seeded):
    course_row = course_by_slug(session, course)
    with pytest.raises(SeedError):
        seed_population(session, course=course_row, learners=5, counsellors=1, seed=7, now=utcnow())
    report = seed_population(
        session,
        course=course_row,
        learners=5,
        counsellors=1,
        admins=0,
        seed=8,
        now=utcnow(),
        hash_method=app.config["PASSWORD_HASH_METHOD"],
    )
    assert count(session, User, User.role == Role.LEARNER) == LEARNERS + 5
    assert report.audit_events == 0  # no admin to have made the counsellor


def test_seed_command_creates_accounts_that_can_log_in(app, course):
    from tests.conftest import login

    result = app.test_cli_runner().invoke(seed_command, ["--learners", "30", "--counsellors", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "30 learners" in result.output and SEED_PASSWORD in result.output
    client = app.test_client()
    assert login(client, "seed3.counsellor1@seed.example.org", SEED_PASSWORD).status_code == 302
    assert client.get("/counsel/").status_code == 200


def test_seed_command_refuses_a_production_like_configuration(app, course, database_url):
    from app import create_app
    from app.extensions import db
    from tests.conftest import make_test_config

    secure = create_app(make_test_config(database_url, SESSION_COOKIE_SECURE=True))
    try:
        result = secure.test_cli_runner().invoke(seed_command, ["--learners", "3"])
        assert result.exit_code != 0 and "Refusing" in result.output
    finally:
        with secure.app_context():
            db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Rows by column name: a row that misses or misnames a column is refused, loudly.


def user_row(**changes) -> dict:
    row = {
        "id": 1,
        "email": "row@example.org",
        "display_name": "Row",
        "password_hash": "x",
        "role": Role.LEARNER.value,
        "is_active": True,
        "created_at": utcnow(),
        "last_login_at": None,
        "session_version": 0,
    }
    row.update(changes)
    return row


def test_a_row_naming_every_column_is_written(app, session):
    sink = sink_for(session)
    user_id = sink.take_id(User)

    sink.add(User, user_row(id=user_id))
    sink.flush()
    session.commit()

    assert session.get(User, user_id).email == "row@example.org"


def test_a_row_missing_a_column_is_refused_naming_the_table_and_the_column(app, session):
    row = user_row()
    del row["session_version"]

    with pytest.raises(RowError, match=r"users row misses session_version\. Its columns are: id, email"):
        sink_for(session).add(User, row)


def test_a_row_misnaming_a_column_is_refused_naming_both(app, session):
    row = user_row()
    row["name"] = row.pop("display_name")

    with pytest.raises(RowError) as refused:
        sink_for(session).add(User, row)

    assert "misses display_name" in str(refused.value)
    assert "names name, which the table does not have" in str(refused.value)


def test_a_column_added_to_a_model_stops_seeding_with_a_clear_message(app, session, course, monkeypatch):
    """As if a column ``nickname`` had been added to users: seeding fails before writing anything."""
    real = rows.columns_of
    monkeypatch.setattr(rows, "columns_of", lambda model: real(model) + (("nickname",) if model is User else ()))

    with pytest.raises(RowError, match="users row misses nickname"):
        seed_population(
            session, course=course_by_slug(session, course), learners=3, counsellors=1, seed=9, now=utcnow()
        )
    session.rollback()
    assert count(session, User) == 0


def test_copy_text_escapes_what_copy_would_misread_and_refuses_unknown_types():
    when = utcnow()

    assert [copy_text(value) for value in (None, True, False, 3, 0.5, when)] == [
        "\\N",
        "t",
        "f",
        "3",
        "0.5",
        when.isoformat(),
    ]
    assert copy_text("a\tb\nc\\d") == "a\\tb\\nc\\\\d"
    assert json_value({"text": "line\none"}).copy_text == '{"text": "line\\\\none"}'
    with pytest.raises(TypeError, match="cannot write a set"):
        copy_text({1})
