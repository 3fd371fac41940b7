"""Bulk-insert learners with history for analytics tests: fast enough for hundreds of learners."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.models import AttemptAnswer, Course, Lesson, LessonProgress, QuizAttempt, Role, User
from app.models.types import utcnow
from app.services.pass_rule import is_pass
from app.services.quizzes import answer_columns, question_version, quiz_questions, shown_question_ids


def _next_id(session: Session, column) -> int:
    return (session.scalar(select(func.max(column))) or 0) + 1


def add_learners_with_attempts(
    session: Session, lesson: Lesson, count: int, *, right=lambda learner, question: True, when: datetime | None = None
) -> None:
    """Insert ``count`` learners who opened ``lesson`` and made one attempt at its quiz.

    ``right(learner_index, question_index)`` says whether that learner got that question right;
    a wrong answer picks the first wrong choice. Each attempt passes or fails by the course's
    pass mark and the one pass rule, as a real submission would. Commits.
    """
    when = when or utcnow() - timedelta(days=1)
    questions = quiz_questions(session, lesson)
    pass_mark = session.scalar(select(Course.pass_mark).where(Course.id == lesson.course_id))
    user_id = _next_id(session, User.id)
    attempt_id = _next_id(session, QuizAttempt.id)
    answer_id = _next_id(session, AttemptAnswer.id)
    versions = shown_question_ids(session, [question_version(question) for question in questions])
    users, progress, attempts, answers = [], [], [], []
    for index in range(count):
        uid, aid = user_id + index, attempt_id + index
        users.append(
            {
                "id": uid,
                "email": f"bulk-{uid}@example.org",
                "display_name": f"Bulk {uid}",
                "password_hash": "x",
                "role": Role.LEARNER,
                "created_at": when,
            }
        )
        correct = 0
        for position, question in enumerate(questions, start=1):
            live_ids = [c.id for c in question.live_choices]
            is_right = right(index, position - 1)
            correct += is_right
            chosen = (
                [c for c in question.live_choices if c.is_correct]
                if is_right
                else [next(c for c in question.live_choices if not c.is_correct)]
            )
            answers.append(
                {
                    "id": answer_id,
                    "attempt_id": aid,
                    "question_id": question.id,
                    "position": position,
                    "shown_question_id": versions[position - 1],
                    "is_correct": is_right,
                    # Shown in the author's order.
                    **answer_columns(live_ids, live_ids, [c.id for c in chosen]),
                }
            )
            answer_id += 1
        passed = is_pass(correct, len(questions), pass_mark)
        attempts.append(
            {
                "id": aid,
                "user_id": uid,
                "lesson_id": lesson.id,
                "submission_key": f"{aid:032x}",
                "submitted_at": when,
                "question_count": len(questions),
                "correct_count": correct,
                "score": correct / len(questions),
                "pass_mark": pass_mark,
                "passed": passed,
            }
        )
        progress.append(
            {"user_id": uid, "lesson_id": lesson.id, "opened_at": when, "completed_at": when if passed else None}
        )
    for model, rows in (
        (User, users),
        (LessonProgress, progress),
        (QuizAttempt, attempts),
        (AttemptAnswer, answers),
    ):
        if rows:
            session.execute(insert(model), rows)
    session.commit()
