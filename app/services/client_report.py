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
    # When the last open question was answered right; None while it is still present.
    corrected_at: datetime | None = None

    @property
    def still_present(self) -> bool:
        return self.open_questions > 0

    @property
    def heading(self) -> str:
        """The short title the author gave it, or its code made readable."""
        return self.title or self.code.replace("-", " ").capitalize()


@dataclass(frozen=True)
class NewAttempt:
    """A quiz attempt made since the counsellor last looked, with the lesson it belongs to."""

    lesson: Lesson
    attempt: QuizAttempt


@dataclass(frozen=True)
class SinceLastLook:
    """What changed since this counsellor's previous view of the client; ``previous`` None on a first look."""

    previous: datetime | None
    attempts: list[NewAttempt] = field(default_factory=list)
    lessons_finished: list[Lesson] = field(default_factory=list)
    newly_shown: list[MisconceptionInsight] = field(default_factory=list)
    corrected: list[MisconceptionInsight] = field(default_factory=list)

    @property
    def first_look(self) -> bool:
        return self.previous is None

    @property
    def nothing_new(self) -> bool:
        return not (self.attempts or self.lessons_finished or self.newly_shown or self.corrected)


@dataclass
class ClientReport:
    learner: User
    outline: CourseOutline
    attempts_by_lesson: dict[int, list[QuizAttempt]]
    misconceptions: list[MisconceptionInsight]
    since_last_look: SinceLastLook = field(default_factory=lambda: SinceLastLook(previous=None))

    def attempts_for(self, lesson: Lesson) -> list[QuizAttempt]:
        return self.attempts_by_lesson.get(lesson.id, [])


def since_last_look(report: ClientReport, previous: datetime | None) -> SinceLastLook:
    """What happened after ``previous`` (the counsellor's last view): attempts, lessons, misconceptions.

    Strictly after: something recorded at the very moment of the last view was already seen.
    The lists keep the report's order (course order, then time; misconceptions in talking order).
    On a first look (``previous`` None) nothing is listed: everything on the page is new.
    """
    if previous is None:
        return SinceLastLook(previous=None)
    entries = report.outline.entries
    return SinceLastLook(
        previous=previous,
        attempts=[
            NewAttempt(lesson=entry.lesson, attempt=attempt)
            for entry in entries
            for attempt in report.attempts_for(entry.lesson)
            if attempt.submitted_at > previous
        ],
        lessons_finished=[e.lesson for e in entries if e.completed_at is not None and e.completed_at > previous],
        newly_shown=[i for i in report.misconceptions if i.first_seen is not None and i.first_seen > previous],
        corrected=[i for i in report.misconceptions if i.corrected_at is not None and i.corrected_at > previous],
    )


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
    right_times: dict[int, list[datetime]] = {}  # each question's right answers, in time order
    for when, answer in answers:
        if answer.is_correct and answer.question_id is not None:
            last_right[answer.question_id] = when
            right_times.setdefault(answer.question_id, []).append(when)
    insights: dict[str, MisconceptionInsight] = {}
    open_by_code: dict[str, set] = {}
    last_wrong_by_code: dict[str, dict[int, datetime]] = {}  # per code, each question's latest wrong answer
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
            if answer.question_id is not None:
                last_wrong_by_code.setdefault(code, {})[answer.question_id] = when
            if corrected:
                open_set.discard(question_key)
            else:
                open_set.add(question_key)
    for code, insight in insights.items():
        insight.open_questions = len(open_by_code.get(code, ()))
        if not insight.still_present:
            # Corrected when the last of its questions got its first right answer after its last wrong one
            # (later right answers only confirm it: they do not make it "corrected" again).
            insight.corrected_at = max(
                next(right for right in right_times[question_id] if right > wrong)
                for question_id, wrong in last_wrong_by_code[code].items()
            )
    return sorted(insights.values(), key=lambda i: (not i.safety_critical, not i.still_present, -(i.times), i.code))


def client_report(
    session: Session, *, learner: User, course: Course, previous_look: datetime | None = None
) -> ClientReport:
    """Load everything the client page shows in a fixed number of queries.

    ``previous_look`` is when this counsellor last viewed the client (None on a first look):
    the report's ``since_last_look`` lists what happened after it.
    """
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
    report = ClientReport(
        learner=learner,
        outline=outline,
        attempts_by_lesson=by_lesson,
        misconceptions=misconception_insights(attempts, known, reviews),
    )
    report.since_last_look = since_last_look(report, previous_look)
    return report
