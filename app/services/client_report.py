"""One client's progress in detail, for their counsellor: lessons, attempts, misconceptions.

What the page reads is bounded whatever the client's history. A client who retakes a quiz
hundreds of times made the page read and draw every attempt with every answer (issue 19: 1,400
attempts took 670 ms and 2.8 MB). Now:

- each lesson lists its ATTEMPTS_SHOWN latest attempts in full, with how many there are in all
  and how many came after the counsellor's last look (one read, a window over the attempts);
- the misconception figures come from the client's answers summed up in SQL: one row per
  version of a question and choices picked (``AnswersAlike``), however often they were given.
  Review answers are read one by one, as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, null, select
from sqlalchemy.orm import Session, aliased, selectinload

from app.models import AttemptAnswer, Course, Lesson, Misconception, QuizAttempt, ReviewAnswer, ShownQuestion, User
from app.models.progress import text_indexes
from app.models.types import UTCDateTime, as_utc
from app.services.attempt_history import ATTEMPTS_SHOWN
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
class LessonAttempts:
    """A lesson's attempts as the client page lists them: the latest few in full (oldest of
    them first), how many there are in all, and how many came after the counsellor's last look."""

    shown: list[QuizAttempt] = field(default_factory=list)
    in_all: int = 0
    since_last_look: int = 0

    @property
    def first_number(self) -> int:
        """The number of the first attempt shown: attempts count from 1, the client's first."""
        return self.in_all - len(self.shown) + 1

    @property
    def not_shown(self) -> int:
        """How many earlier attempts are left out."""
        return self.in_all - len(self.shown)


@dataclass(frozen=True)
class NewAttempt:
    """A quiz attempt made since the counsellor last looked, with the lesson it belongs to."""

    lesson: Lesson
    attempt: QuizAttempt


@dataclass(frozen=True)
class SinceLastLook:
    """What changed since this counsellor's previous view of the client; ``previous`` None on a first look.

    ``attempts`` lists the new attempts among those the page shows; ``attempt_count`` counts
    every new one (a client may have made more than a lesson lists since).
    """

    previous: datetime | None
    attempts: list[NewAttempt] = field(default_factory=list)
    attempt_count: int = 0
    lessons_finished: list[Lesson] = field(default_factory=list)
    newly_shown: list[MisconceptionInsight] = field(default_factory=list)
    corrected: list[MisconceptionInsight] = field(default_factory=list)

    @property
    def first_look(self) -> bool:
        return self.previous is None

    @property
    def attempts_not_listed(self) -> int:
        """New attempts left out of ``attempts``."""
        return self.attempt_count - len(self.attempts)

    @property
    def nothing_new(self) -> bool:
        return not (self.attempt_count or self.lessons_finished or self.newly_shown or self.corrected)


@dataclass
class ClientReport:
    learner: User
    outline: CourseOutline
    attempts_by_lesson: dict[int, LessonAttempts]
    misconceptions: list[MisconceptionInsight]
    since_last_look: SinceLastLook = field(default_factory=lambda: SinceLastLook(previous=None))

    def attempts_for(self, lesson: Lesson) -> LessonAttempts:
        """The lesson's attempts as the page lists them (none shown when there are none)."""
        return self.attempts_by_lesson.get(lesson.id, LessonAttempts())


def since_last_look(report: ClientReport, previous: datetime | None) -> SinceLastLook:
    """What happened after ``previous`` (the counsellor's last view): attempts, lessons, misconceptions.

    Strictly after: something recorded at the very moment of the last view was already seen.
    The lists keep the report's order (course order, then time; misconceptions in talking order).
    On a first look (``previous`` None) nothing is listed: everything on the page is new. The
    report's attempts must have been counted against the same ``previous`` (``client_report``).
    """
    if previous is None:
        return SinceLastLook(previous=None)
    entries = report.outline.entries
    return SinceLastLook(
        previous=previous,
        attempts=[
            NewAttempt(lesson=entry.lesson, attempt=attempt)
            for entry in entries
            for attempt in report.attempts_for(entry.lesson).shown
            if attempt.submitted_at > previous
        ],
        attempt_count=sum(lesson.since_last_look for lesson in report.attempts_by_lesson.values()),
        lessons_finished=[e.lesson for e in entries if e.completed_at is not None and e.completed_at > previous],
        newly_shown=[i for i in report.misconceptions if i.first_seen is not None and i.first_seen > previous],
        corrected=[i for i in report.misconceptions if i.corrected_at is not None and i.corrected_at > previous],
    )


@dataclass(frozen=True)
class AnswersAlike:
    """Answers alike, summed up: to the same version of a question, right or not, with the same
    choices picked; how many there were, and when the first and the last were given.

    ``codes``: the misconception code of each wrong choice picked (a right answer picks none).
    ``next_right``: the first right answer to the question, in a quiz or in review, after the
    last of these (None when there is none); left out (``next_right_known`` False) where the
    reader could not tell, for ``misconception_insights`` to ask for when it needs it.
    """

    question_id: int | None
    prompt: str
    is_correct: bool
    codes: tuple[str, ...]
    count: int
    first: datetime
    last: datetime
    next_right: datetime | None = None
    next_right_known: bool = True


def wrong_codes(picked: Iterable[dict]) -> tuple[str, ...]:
    """The misconception codes of the wrong choices among ``picked`` (an answer's chosen choices)."""
    return tuple(
        choice["misconception"] for choice in picked if choice.get("misconception") and not choice.get("correct")
    )


# For ``misconception_insights``: the first right answer to each (question id, time) after that
# time, where the answers it was given do not say.
FirstRightAfter = Callable[[set[tuple[int, datetime]]], dict[tuple[int, datetime], datetime]]


def misconception_insights(
    answers: Sequence[AnswersAlike], known: dict[str, Misconception], first_right_after: FirstRightAfter
) -> list[MisconceptionInsight]:
    """Group the misconceptions revealed by wrong choices, each marked as still present or corrected.

    Quiz answers and review answers (the spaced review of mistakes) count alike: an occurrence
    is corrected when a later answer to the same question, in a quiz or in review, was right,
    and a wrong review answer is an occurrence too. So a misconception is still present on a
    question while its latest wrong answer there has no right answer after it, and it was
    corrected when the last of its questions got its first right answer after its latest wrong
    one (later right answers only confirm it). An answer to a question since deleted cannot be
    corrected. The order is the order to talk about them in: safety-critical ones first, then
    the rest; within each, those still present before those corrected, the most frequent first.
    """
    last_right: dict[int, datetime] = {}
    for alike in answers:
        if alike.is_correct and alike.question_id is not None:
            last_right[alike.question_id] = max(alike.last, last_right.get(alike.question_id, alike.last))
    insights: dict[str, MisconceptionInsight] = {}
    prompts: dict[str, dict[str, datetime]] = {}  # per code, each prompt's first wrong answer
    last_wrong: dict[str, dict[int | str, AnswersAlike]] = {}  # per code, each question's latest wrong answers
    for alike in answers:
        for code in alike.codes:
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
            insight.times += alike.count
            insight.first_seen = min(insight.first_seen or alike.first, alike.first)
            insight.last_seen = max(insight.last_seen or alike.last, alike.last)
            seen = prompts.setdefault(code, {})
            seen[alike.prompt] = min(seen.get(alike.prompt, alike.first), alike.first)
            question = alike.question_id if alike.question_id is not None else alike.prompt
            wrong = last_wrong.setdefault(code, {})
            if question not in wrong or alike.last > wrong[question].last:
                wrong[question] = alike
    corrected = []
    for code, insight in insights.items():
        insight.questions = sorted(prompts[code], key=lambda prompt: prompts[code][prompt])
        insight.open_questions = sum(
            1
            for question, wrong in last_wrong[code].items()
            if isinstance(question, str) or last_right.get(question, wrong.last) <= wrong.last
        )
        if not insight.still_present:
            corrected.append(code)
    # Corrected: every question has an id, and a right answer after its latest wrong one.
    unknown = {
        (cast(int, wrong.question_id), wrong.last)
        for code in corrected
        for wrong in last_wrong[code].values()
        if not wrong.next_right_known
    }
    asked = first_right_after(unknown) if unknown else {}
    for code in corrected:
        insights[code].corrected_at = max(
            cast(
                datetime,
                wrong.next_right if wrong.next_right_known else asked[(cast(int, wrong.question_id), wrong.last)],
            )
            for wrong in last_wrong[code].values()
        )
    return sorted(insights.values(), key=lambda i: (not i.safety_critical, not i.still_present, -(i.times), i.code))


def client_report(
    session: Session, *, learner: User, course: Course, previous_look: datetime | None = None
) -> ClientReport:
    """Load everything the client page shows in a fixed number of queries, whatever the client's history.

    ``previous_look`` is when this counsellor last viewed the client (None on a first look):
    the report's ``since_last_look`` lists what happened after it.
    """
    outline = course_outline(session, course=course, learner=learner)
    mine = {"learner_id": learner.id, "lesson_ids": [entry.lesson.id for entry in outline.entries]}
    report = ClientReport(
        learner=learner,
        outline=outline,
        attempts_by_lesson=_latest_attempts(session, mine, previous_look),
        misconceptions=[],
    )
    known = {m.code: m for m in session.scalars(select(Misconception).where(Misconception.course_id == course.id))}
    reviews = [
        _Review(*row)
        for row in session.execute(
            select(
                ReviewAnswer.question_id,
                ReviewAnswer.prompt,
                ReviewAnswer.is_correct,
                ReviewAnswer.choices_shown,
                ReviewAnswer.answered_at,
            ).where(ReviewAnswer.user_id == learner.id, ReviewAnswer.course_id == course.id)
        )
    ]
    answers = _quiz_answers_alike(session, mine, reviews) + [
        AnswersAlike(
            question_id=review.question_id,
            prompt=review.prompt,
            is_correct=review.is_correct,
            codes=() if review.is_correct else wrong_codes(c for c in review.choices_shown if c.get("chosen")),
            count=1,
            first=review.answered_at,
            last=review.answered_at,
            # A right quiz answer may come after it: asked for only if the misconception was corrected.
            next_right_known=False,
        )
        for review in reviews
    ]
    report.misconceptions = misconception_insights(
        answers, known, lambda pairs: _first_right_after(session, mine, pairs, reviews)
    )
    report.since_last_look = since_last_look(report, previous_look)
    return report


@dataclass(frozen=True)
class _Review:
    """A review answer, as the report reads it."""

    question_id: int | None
    prompt: str
    is_correct: bool
    choices_shown: list[dict]
    answered_at: datetime


def _first_right_in_review(reviews: Sequence[_Review], question_id: int | None, after: datetime) -> datetime | None:
    """The client's first right review answer to the question after ``after``, if any."""
    return min(
        (r.answered_at for r in reviews if r.is_correct and r.question_id == question_id and r.answered_at > after),
        default=None,
    )


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((moment for moment in moments if moment is not None), default=None)


# The client's attempts at the outline's lessons (bound: learner_id, lesson_ids).
def _their_attempts(attempt: type[QuizAttempt] | Any = QuizAttempt) -> ColumnElement[bool]:
    return and_(
        attempt.user_id == bindparam("learner_id"), attempt.lesson_id.in_(bindparam("lesson_ids", expanding=True))
    )


@cache
def _latest_attempts_statement() -> Select:
    """Each lesson's ATTEMPTS_SHOWN latest attempts, oldest of them first, each with how many
    there are at its lesson in all and how many after the bound ``previous``."""
    lesson = QuizAttempt.lesson_id
    ranked = (
        select(
            QuizAttempt.id,
            func.row_number()
            .over(partition_by=lesson, order_by=(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc()))
            .label("newest"),
            func.count().over(partition_by=lesson).label("in_all"),
            func.sum(case((QuizAttempt.submitted_at > bindparam("previous", type_=UTCDateTime), 1), else_=0))
            .over(partition_by=lesson)
            .label("since"),
        )
        .where(_their_attempts())
        .subquery("ranked")
    )
    return (
        select(QuizAttempt, ranked.c.in_all, ranked.c.since)
        .join(ranked, ranked.c.id == QuizAttempt.id)
        .where(ranked.c.newest <= ATTEMPTS_SHOWN)
        .order_by(QuizAttempt.submitted_at, QuizAttempt.id)
        .options(selectinload(QuizAttempt.answers))
    )


# On a first look nothing is new; the count of attempts after it is then not used.
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _latest_attempts(session: Session, mine: dict, previous: datetime | None) -> dict[int, LessonAttempts]:
    """Each lesson's ATTEMPTS_SHOWN latest attempts with their answers, oldest of them first, with
    how many there are in all and how many came after ``previous``: one read and its answers'."""
    rows = session.execute(_latest_attempts_statement(), {**mine, "previous": previous or _NEVER}).all()
    by_lesson: dict[int, LessonAttempts] = {}
    for attempt, in_all, new in rows:
        since = int(new) if previous is not None else 0
        attempts = by_lesson.setdefault(attempt.lesson_id, LessonAttempts(in_all=int(in_all), since_last_look=since))
        attempts.shown.append(attempt)
    return by_lesson


@cache
def _answers_alike_statement() -> Select:
    """The client's quiz answers summed up, a row per version of a question, result and choices
    picked, oldest first; for wrong answers, the first right quiz answer to the question after them."""
    alike = (
        select(
            AttemptAnswer.question_id,
            AttemptAnswer.shown_question_id,
            AttemptAnswer.is_correct,
            AttemptAnswer.chosen,
            func.count().label("times"),
            func.min(QuizAttempt.submitted_at).label("first"),
            func.max(QuizAttempt.submitted_at).label("last"),
        )
        .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
        .where(_their_attempts())
        .group_by(
            AttemptAnswer.question_id, AttemptAnswer.shown_question_id, AttemptAnswer.is_correct, AttemptAnswer.chosen
        )
        .subquery("alike")
    )
    later, later_answer = aliased(QuizAttempt), aliased(AttemptAnswer)
    next_right = (
        select(func.min(later.submitted_at))
        .join(later_answer, later_answer.attempt_id == later.id)
        .where(
            _their_attempts(later),
            later_answer.question_id == alike.c.question_id,
            later_answer.is_correct,
            later.submitted_at > alike.c.last,
        )
        .scalar_subquery()
    )
    return (
        select(
            alike,
            # What only wrong answers need: a right answer reveals no misconception.
            case((alike.c.is_correct, null()), else_=ShownQuestion.prompt).label("prompt"),
            case((alike.c.is_correct, null()), else_=ShownQuestion.choices).label("choices"),
            case((alike.c.is_correct, null()), else_=next_right).label("next_right"),
        )
        .join(ShownQuestion, ShownQuestion.id == alike.c.shown_question_id)
        .order_by(alike.c.first, alike.c.shown_question_id, alike.c.chosen)
    )


def _quiz_answers_alike(session: Session, mine: dict, reviews: Sequence[_Review]) -> list[AnswersAlike]:
    """The client's quiz answers summed up in SQL (``_answers_alike_statement``), each wrong one's
    next right answer found among the quiz answers there and the ``reviews`` here."""
    return [
        AnswersAlike(
            question_id=row.question_id,
            prompt=row.prompt or "",
            is_correct=row.is_correct,
            codes=() if row.is_correct else wrong_codes(row.choices[index] for index in text_indexes(row.chosen)),
            count=row.times,
            first=row.first,
            last=row.last,
            next_right=None
            if row.is_correct
            else _earliest(
                row.next_right and as_utc(row.next_right),
                _first_right_in_review(reviews, row.question_id, row.last),
            ),
        )
        for row in session.execute(_answers_alike_statement(), mine)
    ]


def _first_right_after(
    session: Session, mine: dict, pairs: set[tuple[int, datetime]], reviews: Sequence[_Review]
) -> dict[tuple[int, datetime], datetime]:
    """For each (question id, time), the client's first right answer to the question after that
    time, in a quiz (one query, whatever the history) or in review (``reviews``, as read)."""
    ordered = sorted(pairs)
    firsts = session.execute(
        select(
            *(
                select(func.min(QuizAttempt.submitted_at))
                .join(AttemptAnswer, AttemptAnswer.attempt_id == QuizAttempt.id)
                .where(
                    _their_attempts(),
                    AttemptAnswer.question_id == question,
                    AttemptAnswer.is_correct,
                    QuizAttempt.submitted_at > wrong,
                )
                .scalar_subquery()
                for question, wrong in ordered
            )
        ),
        mine,
    ).one()
    found = {}
    for (question, wrong), first in zip(ordered, firsts, strict=True):
        earliest = _earliest(first and as_utc(first), _first_right_in_review(reviews, question, wrong))
        found[(question, wrong)] = cast(datetime, earliest)  # asked only for questions answered right since
    return found
