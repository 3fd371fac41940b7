"""One client's progress in detail, for their counsellor: lessons, attempts, misconceptions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import AttemptAnswer, Course, Lesson, Misconception, QuizAttempt, ReviewAnswer, User
from app.services.progress import CourseOutline, course_outline


@dataclass
class MisconceptionInsight:
    """A misconception the client's wrong choices revealed, and whether they have moved past it."""

    code: str
    counsellor_text: str
    learner_text: str
    title: str = ""
    safety_critical: bool = False
    times: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    questions: list[str] = field(default_factory=list)
    open_questions: int = 0

    @property
    def still_present(self) -> bool:
        return self.open_questions > 0

    @property
    def heading(self) -> str:
        """The short title the author gave it, or its code made readable."""
        return self.title or self.code.replace("-", " ").capitalize()


@dataclass
class ClientReport:
    learner: User
    outline: CourseOutline
    attempts_by_lesson: dict[int, list[QuizAttempt]]
    misconceptions: list[MisconceptionInsight]

    def attempts_for(self, lesson: Lesson) -> list[QuizAttempt]:
        return self.attempts_by_lesson.get(lesson.id, [])


def misconception_insights(
    attempts: list[QuizAttempt], known: dict[str, Misconception], reviews: Sequence[ReviewAnswer] = ()
) -> list[MisconceptionInsight]:
    """Group the misconceptions revealed by wrong choices, each marked as still present or corrected.

    Quiz answers and review answers (the spaced review of mistakes) count alike: an occurrence
    is corrected when a later answer to the same question, in a quiz or in review, was right,
    and a wrong review answer is an occurrence too. The order is the order to talk about them
    in: safety-critical ones first, then the rest; within each, those still present before
    those corrected, the most frequent first.
    """
    answers: list[tuple[datetime, AttemptAnswer | ReviewAnswer]] = sorted(
        [(attempt.submitted_at, answer) for attempt in attempts for answer in attempt.answers]
        + [(review.answered_at, review) for review in reviews],
        key=lambda pair: pair[0],
    )
    last_right: dict[int, datetime] = {}
    for when, answer in answers:
        if answer.is_correct and answer.question_id is not None:
            last_right[answer.question_id] = when
    insights: dict[str, MisconceptionInsight] = {}
    open_by_code: dict[str, set] = {}
    for when, answer in answers:
        for choice in answer.choices_shown:
            code = choice.get("misconception")
            if not (choice.get("chosen") and code and not choice.get("correct")):
                continue
            misconception = known.get(code)
            insight = insights.setdefault(
                code,
                MisconceptionInsight(
                    code=code,
                    counsellor_text=misconception.counsellor_text if misconception else "",
                    learner_text=misconception.learner_text if misconception else "",
                    title=misconception.title if misconception else "",
                    safety_critical=bool(misconception and misconception.safety_critical),
                ),
            )
            insight.times += 1
            insight.first_seen = insight.first_seen or when
            insight.last_seen = when
            if answer.prompt not in insight.questions:
                insight.questions.append(answer.prompt)
            question_key = answer.question_id if answer.question_id is not None else answer.prompt
            corrected = answer.question_id is not None and last_right.get(answer.question_id, when) > when
            open_set = open_by_code.setdefault(code, set())
            if corrected:
                open_set.discard(question_key)
            else:
                open_set.add(question_key)
    for code, insight in insights.items():
        insight.open_questions = len(open_by_code.get(code, ()))
    return sorted(insights.values(), key=lambda i: (not i.safety_critical, not i.still_present, -(i.times), i.code))


def client_report(session: Session, *, learner: User, course: Course) -> ClientReport:
    """Load everything the client page shows in a fixed number of queries."""
    outline = course_outline(session, course=course, learner=learner)
    lesson_ids = [entry.lesson.id for entry in outline.entries]
    attempts = list(
        session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.user_id == learner.id, QuizAttempt.lesson_id.in_(lesson_ids))
            .order_by(QuizAttempt.submitted_at, QuizAttempt.id)
            .options(selectinload(QuizAttempt.answers))
        )
    )
    known = {m.code: m for m in session.scalars(select(Misconception).where(Misconception.course_id == course.id))}
    reviews = list(
        session.scalars(
            select(ReviewAnswer)
            .where(ReviewAnswer.user_id == learner.id, ReviewAnswer.course_id == course.id)
            .order_by(ReviewAnswer.answered_at, ReviewAnswer.id)
        )
    )
    by_lesson: dict[int, list[QuizAttempt]] = {}
    for attempt in attempts:
        by_lesson.setdefault(attempt.lesson_id, []).append(attempt)
    return ClientReport(
        learner=learner,
        outline=outline,
        attempts_by_lesson=by_lesson,
        misconceptions=misconception_insights(attempts, known, reviews),
    )
