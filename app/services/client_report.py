"""One client's progress in detail, for their counsellor: lessons, attempts, misconceptions.

What the page reads is bounded whatever the client's history. A client who retakes a quiz
hundreds of times made the page read and draw every attempt with every answer (issue 19: 1,400
attempts took about 630 ms and 2.8 MB). Now:

- each lesson lists its ATTEMPTS_SHOWN latest attempts in full, with how many there are in all
  and how many came after the counsellor's last look (one read, a window over the attempts);
- the misconception figures come from the client's answers summed up in SQL (``AnswersAlike``):
  quiz answers one row per version of a question, result and choices picked, review answers one
  row per question, result and snapshot, however often each was given. Each wrong row comes with
  the first right answer after it, so whether and when it was corrected needs no other row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    CTE,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import cast as cast_as
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql.functions import FunctionElement

from app.models import AttemptAnswer, Course, Lesson, Misconception, QuizAttempt, ReviewAnswer, ShownQuestion, User
from app.models.progress import ORDER_BASE, text_indexes
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

    @property
    def attempts_by_lesson(self) -> list[tuple[Lesson, list[QuizAttempt]]]:
        """The listed new attempts a lesson at a time, in the list's order (course order, then time):
        a client who retook a quiz ten times is one lesson named once with ten scores."""
        grouped: dict[int, tuple[Lesson, list[QuizAttempt]]] = {}
        for new in self.attempts:
            grouped.setdefault(new.lesson.id, (new.lesson, []))[1].append(new.attempt)
        return list(grouped.values())

    def is_newly_shown(self, insight: MisconceptionInsight) -> bool:
        """Whether the misconception first showed after the last look: the page marks it "New" where
        it is a talking point, so the printed summary need not name it twice."""
        return any(shown.code == insight.code for shown in self.newly_shown)


@dataclass(frozen=True)
class StuckLesson:
    """A lesson the client has tried and not passed: its number in the course, its title, how many tries."""

    number: int
    title: str
    tries: int


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

    @property
    def stuck_lessons(self) -> list[StuckLesson]:
        """The lessons not yet completed that the client has tried, in course order, from what the report read.

        Passing a quiz completes its lesson for good, so every try at a lesson not completed
        failed; a lesson whose latest tries include a pass (data made otherwise) is left out.
        Usually there is one, the client's current lesson; a lesson added to the course before
        ones they had done can make two.
        """
        stuck = []
        for entry in self.outline.entries:
            attempts = self.attempts_for(entry.lesson)
            if entry.completed_at is None and attempts.in_all and not any(a.passed for a in attempts.shown):
                stuck.append(StuckLesson(number=entry.number, title=entry.lesson.title, tries=attempts.in_all))
        return stuck


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
    ``next_right``: for wrong answers, the first right answer to the question, in a quiz or in
    review, after the last of these (None when there is none).
    """

    question_id: int | None
    prompt: str
    is_correct: bool
    codes: tuple[str, ...]
    count: int
    first: datetime
    last: datetime
    next_right: datetime | None = None


def wrong_codes(picked: Iterable[dict]) -> tuple[str, ...]:
    """The misconception codes of the wrong choices among ``picked`` (an answer's chosen choices)."""
    return tuple(
        choice["misconception"] for choice in picked if choice.get("misconception") and not choice.get("correct")
    )


def misconception_insights(
    answers: Sequence[AnswersAlike], known: dict[str, Misconception]
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
    for code in corrected:
        # Every question of a corrected one has an id, and a right answer after its latest wrong one.
        insights[code].corrected_at = max(cast(datetime, wrong.next_right) for wrong in last_wrong[code].values())
    return sorted(insights.values(), key=lambda i: (not i.safety_critical, not i.still_present, -(i.times), i.code))


def client_report(
    session: Session, *, learner: User, course: Course, previous_look: datetime | None = None
) -> ClientReport:
    """Load everything the client page shows in a fixed number of queries, whatever the client's history.

    ``previous_look`` is when this counsellor last viewed the client (None on a first look):
    the report's ``since_last_look`` lists what happened after it.
    """
    outline = course_outline(session, course=course, learner=learner)
    mine = {
        "learner_id": learner.id,
        "lesson_ids": [entry.lesson.id for entry in outline.entries],
        "course_id": course.id,
    }
    report = ClientReport(
        learner=learner,
        outline=outline,
        attempts_by_lesson=_latest_attempts(session, mine, previous_look),
        misconceptions=[],
    )
    known = {m.code: m for m in session.scalars(_misconceptions_statement(), mine)}
    answers = _answers_alike(session, _quiz_answers_alike_statement(), mine) + _answers_alike(
        session, _review_answers_alike_statement(), mine
    )
    # In time order (each read is; the sort is stable): a misconception lists its questions as first revealed.
    report.misconceptions = misconception_insights(sorted(answers, key=lambda alike: alike.first), known)
    report.since_last_look = since_last_look(report, previous_look)
    return report


@cache
def _misconceptions_statement() -> Select:
    """The course's misconceptions (bound: course_id)."""
    return select(Misconception).where(Misconception.course_id == bindparam("course_id"))


@dataclass(frozen=True)
class ClientAttemptsPage:
    """One page of a client's attempts at a lesson, newest first, each with its answers."""

    attempts: list[QuizAttempt]
    total: int
    number: int
    pages: int
    per_page: int

    def attempt_number(self, index: int) -> int:
        """The number of the page's ``index``-th attempt (from 0): attempts count from 1, the client's first."""
        return self.total - (self.number - 1) * self.per_page - index


def client_attempts_page(
    session: Session, *, learner_id: int, lesson_id: int, number: int, per_page: int = ATTEMPTS_SHOWN
) -> ClientAttemptsPage | None:
    """Page ``number`` (from 1) of the client's attempts at the lesson, ``per_page`` newest first,
    each with its answers: the client page lists the latest, this every one a page at a time.

    One read and its answers', whatever the history: the page's attempts with the count of all
    (a window taken before the LIMIT). None for a page past the last; page 1 always exists.
    """
    if number < 1:
        return None
    rows = session.execute(
        select(QuizAttempt, func.count().over())
        .where(QuizAttempt.user_id == learner_id, QuizAttempt.lesson_id == lesson_id)
        .order_by(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
        .options(selectinload(QuizAttempt.answers))
    ).all()
    if not rows:
        return ClientAttemptsPage([], total=0, number=1, pages=1, per_page=per_page) if number == 1 else None
    total = int(rows[0][1])
    return ClientAttemptsPage(
        [attempt for attempt, _ in rows], total=total, number=number, pages=-(-total // per_page), per_page=per_page
    )


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


def _next_right_answer(question_id: Any, after: Any) -> tuple[ColumnElement, ColumnElement]:
    """The client's first right answer to ``question_id`` after ``after``: in a quiz at the
    outline's lessons, and in review in the bound course (correlated subqueries on their indexes)."""
    attempt, answer = aliased(QuizAttempt), aliased(AttemptAnswer)
    in_quiz = (
        select(func.min(attempt.submitted_at))
        .join(answer, answer.attempt_id == attempt.id)
        .where(
            _their_attempts(attempt), answer.question_id == question_id, answer.is_correct, attempt.submitted_at > after
        )
        .scalar_subquery()
    )
    review = aliased(ReviewAnswer)
    in_review = (
        select(func.min(review.answered_at))
        .where(
            review.user_id == bindparam("learner_id"),
            review.course_id == bindparam("course_id"),
            review.question_id == question_id,
            review.is_correct,
            review.answered_at > after,
        )
        .scalar_subquery()
    )
    return in_quiz, in_review


class _RevealsCodeIn(FunctionElement):
    """SQL's ``wrong_codes``: whether the choices an answer picked include a wrong one whose
    misconception code is among the codes a subquery selects.

    Arguments: the choices as JSON (a list of choice objects), the picks, and the subquery of
    codes. The picks are canonical indexes into the choices (``AttemptAnswer.chosen``: a quiz
    answer's choices are its ShownQuestion's), or NULL for a review answer, whose snapshot marks
    each choice "chosen" (``_answers_alike`` reads the two so). A choice counts as ``wrong_codes``
    counts it: picked, not "correct", and its "misconception" one of the codes. Each database
    lists a JSON array's elements its own way, so each has its own SQL (below); either is one
    EXISTS over the answer's few choices. Only SQL the compiler rendered goes in: no values.
    """

    type = Boolean()
    name = "reveals_code_in"
    inherit_cache = True


class _Pick(FunctionElement):
    """The canonical choice index given (an integer from 0) as ``chosen`` holds it: one character
    (``indexes_text``). Each database names its code-point-to-character function its own way."""

    type = String()
    name = "pick"
    inherit_cache = True


class _Holds(FunctionElement):
    """Whether the text (the first argument, ``chosen``) holds the character (the second, a pick)."""

    type = Boolean()
    name = "holds"
    inherit_cache = True


@compiles(_RevealsCodeIn, "postgresql")
def _reveals_code_in_postgresql(element, compiler, **kw) -> str:
    choices, chosen, codes = (compiler.process(clause, **kw) for clause in element.clauses)
    # WITH ORDINALITY counts from 1; a choice's canonical index is its place from 0 (ORDER_BASE).
    value = "json_extract_path_text(shown_choice.value, '{}')".format
    index = f"chr({ORDER_BASE - 1} + CAST(shown_choice.n AS INTEGER))"
    return (
        f"EXISTS (SELECT 1 FROM json_array_elements({choices}) WITH ORDINALITY AS shown_choice(value, n) "  # noqa: S608 - the compiler's SQL  # nosec B608
        f"WHERE CASE WHEN {chosen} IS NULL THEN {value('chosen')} = 'true' ELSE strpos({chosen}, {index}) > 0 END "
        f"AND coalesce({value('correct')}, '') <> 'true' AND {value('misconception')} IN {codes})"
    )


@compiles(_RevealsCodeIn, "sqlite")
def _reveals_code_in_sqlite(element, compiler, **kw) -> str:
    choices, chosen, codes = (compiler.process(clause, **kw) for clause in element.clauses)
    # json_each's key is the element's place from 0; a JSON true reads as 1.
    value = "json_extract(shown_choice.value, '$.{}')".format
    index = f"char({ORDER_BASE} + shown_choice.key)"
    return (
        f"EXISTS (SELECT 1 FROM json_each({choices}) AS shown_choice "  # noqa: S608 - the compiler's SQL  # nosec B608
        f"WHERE CASE WHEN {chosen} IS NULL THEN {value('chosen')} = 1 ELSE instr({chosen}, {index}) > 0 END "
        f"AND NOT coalesce({value('correct')}, 0) AND {value('misconception')} IN {codes})"
    )


@compiles(_Pick, "postgresql")
def _pick_postgresql(element, compiler, **kw) -> str:
    return f"chr({ORDER_BASE} + {compiler.process(element.clauses, **kw)})"


@compiles(_Pick, "sqlite")
def _pick_sqlite(element, compiler, **kw) -> str:
    return f"char({ORDER_BASE} + {compiler.process(element.clauses, **kw)})"


@compiles(_Holds, "postgresql")
def _holds_postgresql(element, compiler, **kw) -> str:
    text, pick = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(strpos({text}, {pick}) > 0)"


@compiles(_Holds, "sqlite")
def _holds_sqlite(element, compiler, **kw) -> str:
    text, pick = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(instr({text}, {pick}) > 0)"


def _revealing_picks(codes: Any) -> CTE:
    """Each version of a question's picks (``_Pick``) that reveal one of ``codes``, by
    ``_RevealsCodeIn``'s own rule (a pick alone reveals a code when its choice does): a few rows,
    worked out once per statement from the versions' choices (a materialized CTE; so a statement
    can hold one ``holds_safety_critical_misconception``, whose CTEs take fixed names).

    A version lists its choices as a JSON array; its indexes come from a recursive count up to
    the longest array (no generic SQL lists a JSON array's elements).
    """
    version = aliased(ShownQuestion)
    length = func.json_array_length(version.choices)
    longest = select(func.max(func.json_array_length(ShownQuestion.choices))).scalar_subquery()
    # Written out: bound, PostgreSQL could not type the recursive count's column.
    zero, one = literal_column("0", Integer), literal_column("1", Integer)
    index = select(zero.label("i")).cte("choice_index", recursive=True)
    index = index.union_all(select(index.c.i + one).where(index.c.i + one < longest))
    pick = _Pick(index.c.i)
    return (
        select(version.id.label("shown_question_id"), pick.label("pick"))
        .join(index, index.c.i < length)
        .where(_RevealsCodeIn(version.choices, pick, codes))
        .cte("revealing_pick")
        .prefix_with("MATERIALIZED")
    )


def holds_safety_critical_misconception(learner: Any, *, lessons: Any, course: Any) -> ColumnElement[bool]:
    """Whether the client holds a safety-critical misconception still present: the client page's
    rule (``misconception_insights``: a misconception the course marks safety-critical, shown
    "still present"), as one SQL expression for the dashboard to flag and sort by.

    ``learner`` is the client's id (a column to correlate with, or a parameter), ``lessons`` the
    course's live lessons (ids, or a select of them: the outline's), ``course`` the course's id
    (a parameter: it is read once per statement). The client's answers, in a quiz at those
    lessons and in review in the course, are read once: the flag holds when a wrong one
    revealing a safety-critical misconception has no right answer to its question after it (none
    at all, for a question since deleted: its answers' question is NULL, and a right answer there
    corrects nothing). That is the client page's "still present": a misconception is present
    while, on one of its questions, its latest wrong answer is at least as late as the last right one.

    The dashboard asks this of every client (an admin's, of every learner), so the work per
    client is kept small (docs/performance.md, round twenty-five): which picks of which version of a question reveal a
    safety-critical misconception is worked out once per statement (``_revealing_picks``), and
    a quiz answer is then looked up there, never its version's JSON. Of the quiz answers, only
    the right ones (they correct) and the wrong ones to a version with such a pick (only those
    can reveal one) are ranked. A review answer carries its own choices (JSON, read for the
    wrong ones not corrected); review answers are few.
    """
    codes = (
        select(Misconception.code)
        .where(Misconception.course_id == course, Misconception.safety_critical)
        .scalar_subquery()
    )
    revealing = _revealing_picks(codes)
    attempt, answer = aliased(QuizAttempt), aliased(AttemptAnswer)
    in_quiz = (
        select(
            answer.question_id.label("question_id"),
            attempt.submitted_at.label("at"),
            answer.is_correct.label("is_correct"),
            answer.shown_question_id.label("shown_question_id"),
            answer.chosen.label("chosen"),
            null().label("choices"),
        )
        .join(attempt, attempt.id == answer.attempt_id)
        .where(
            attempt.user_id == learner,
            attempt.lesson_id.in_(lessons),
            or_(answer.is_correct, answer.shown_question_id.in_(select(revealing.c.shown_question_id))),
        )
        # Correlated with ``learner``'s table, two levels out: SQLAlchemy on its own correlates a
        # subquery only with the SELECT just around it, and would read every learner's answers.
        .correlate_except(answer, attempt)
    )
    review = aliased(ReviewAnswer)
    in_review = (
        select(review.question_id, review.answered_at, review.is_correct, null(), null(), review.choices_shown)
        .where(review.user_id == learner, review.course_id == course)
        .correlate_except(review)
    )
    answered = union_all(in_quiz, in_review).subquery("answered")
    right = and_(answered.c.is_correct, answered.c.question_id.is_not(None))
    ranked = select(
        answered,
        func.max(case((right, answered.c.at))).over(partition_by=answered.c.question_id).label("last_right"),
    ).subquery("ranked")
    picked = (
        select(revealing.c.pick)
        .where(revealing.c.shown_question_id == ranked.c.shown_question_id, _Holds(ranked.c.chosen, revealing.c.pick))
        .exists()
    )
    reveals = case(
        (ranked.c.shown_question_id.is_(None), _RevealsCodeIn(ranked.c.choices, ranked.c.chosen, codes)),  # review
        else_=picked,
    )
    return (
        select(ranked.c.question_id)
        .where(~ranked.c.is_correct, or_(ranked.c.last_right.is_(None), ranked.c.at >= ranked.c.last_right), reveals)
        .exists()
    )


def _only_wrong(is_correct: Any, value: Any) -> ColumnElement:
    """``value`` for wrong answers, NULL for right ones: a right answer reveals no misconception."""
    return case((is_correct, null()), else_=value)


@cache
def _quiz_answers_alike_statement() -> Select:
    """The client's quiz answers at the outline's lessons summed up: a row per version of a
    question, result and choices picked, with what ``AnswersAlike`` needs of it."""
    alike = (
        select(
            AttemptAnswer.question_id,
            AttemptAnswer.shown_question_id,
            AttemptAnswer.is_correct,
            AttemptAnswer.chosen,
            func.count().label("times"),
            func.min(QuizAttempt.submitted_at).label("first"),
            func.max(QuizAttempt.submitted_at).label("last"),
            func.min(AttemptAnswer.position).label("position"),
        )
        .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
        .where(_their_attempts())
        .group_by(
            AttemptAnswer.question_id, AttemptAnswer.shown_question_id, AttemptAnswer.is_correct, AttemptAnswer.chosen
        )
        .subquery("alike")
    )
    in_quiz, in_review = _next_right_answer(alike.c.question_id, alike.c.last)
    return (
        select(
            alike.c.question_id,
            alike.c.is_correct,
            alike.c.times,
            alike.c.first,
            alike.c.last,
            _only_wrong(alike.c.is_correct, ShownQuestion.prompt).label("prompt"),
            _only_wrong(alike.c.is_correct, ShownQuestion.choices).label("choices"),
            _only_wrong(alike.c.is_correct, alike.c.chosen).label("chosen"),
            _only_wrong(alike.c.is_correct, in_quiz).label("next_right_in_quiz"),
            _only_wrong(alike.c.is_correct, in_review).label("next_right_in_review"),
        )
        .join(ShownQuestion, ShownQuestion.id == alike.c.shown_question_id)
        .order_by(alike.c.first, alike.c.position, alike.c.shown_question_id, alike.c.chosen)
    )


@cache
def _review_answers_alike_statement() -> Select:
    """The client's review answers in the course summed up: a row per question, result and
    snapshot (which holds the choices picked), with what ``AnswersAlike`` needs of it."""
    snapshot = _only_wrong(ReviewAnswer.is_correct, cast_as(ReviewAnswer.choices_shown, Text))
    prompt = _only_wrong(ReviewAnswer.is_correct, ReviewAnswer.prompt)
    alike = (
        select(
            ReviewAnswer.question_id,
            ReviewAnswer.is_correct,
            func.count().label("times"),
            func.min(ReviewAnswer.answered_at).label("first"),
            func.max(ReviewAnswer.answered_at).label("last"),
            prompt.label("prompt"),
            snapshot.label("snapshot"),
        )
        .where(ReviewAnswer.user_id == bindparam("learner_id"), ReviewAnswer.course_id == bindparam("course_id"))
        .group_by(ReviewAnswer.question_id, ReviewAnswer.is_correct, prompt, snapshot)
        .subquery("alike")
    )
    in_quiz, in_review = _next_right_answer(alike.c.question_id, alike.c.last)
    return select(
        alike,
        _only_wrong(alike.c.is_correct, in_quiz).label("next_right_in_quiz"),
        _only_wrong(alike.c.is_correct, in_review).label("next_right_in_review"),
    ).order_by(alike.c.first, alike.c.question_id, alike.c.snapshot)


def _answers_alike(session: Session, statement: Select, bound: dict) -> list[AnswersAlike]:
    """The rows of a summed-up answers statement (quiz or review) as ``AnswersAlike``."""
    found = []
    for row in session.execute(statement, bound).mappings():
        if row["is_correct"]:
            codes: tuple[str, ...] = ()
        elif "snapshot" in row:  # a review answer's snapshot marks the choices picked
            codes = wrong_codes(choice for choice in json.loads(row["snapshot"]) if choice.get("chosen"))
        else:  # a quiz answer points at the version shown and keeps the picks as indexes
            codes = wrong_codes(row["choices"][index] for index in text_indexes(row["chosen"]))
        next_right = [as_utc(row[name]) for name in ("next_right_in_quiz", "next_right_in_review") if row[name]]
        found.append(
            AnswersAlike(
                question_id=row["question_id"],
                prompt=row["prompt"] or "",
                is_correct=row["is_correct"],
                codes=codes,
                count=row["times"],
                first=row["first"],
                last=row["last"],
                next_right=min(next_right, default=None),
            )
        )
    return found
