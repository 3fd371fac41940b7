"""Synthetic learners at scale, and the history writer the demo data shares.

``seed_population`` creates N learners with realistic progress through a course (a drop-off
from lesson to lesson, failed attempts before a pass, timestamps over the last 90 days),
counsellors linked to a share of them with the views of their clients' pages, and the admin
actions behind those accounts. Every attempt is recorded exactly as ``quiz_submit_attempt``
records a real one: an AttemptAnswer per live question with its ``choices_shown`` snapshot,
an AnswerSelection per chosen choice with its misconception code, and a completed
LessonProgress row at the time of the passing attempt.

It is built for 100,000 learners (about 2 million answers) in minutes: one password hash for
every seeded account, ids assigned here (after the tables' current maximum), rows written in
large batches (COPY on PostgreSQL, executemany elsewhere) and each table's id sequence moved
past them after every batch, so ordinary inserts keep working, even after an interrupted run.
Seeding assumes nothing else writes to the database at the same time.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.models import (
    AnswerSelection,
    AttemptAnswer,
    AuditEvent,
    Choice,
    CounsellorLink,
    Course,
    Invitation,
    LessonProgress,
    ProgressView,
    Question,
    QuizAttempt,
    Role,
    User,
)
from app.services.errors import DomainError
from app.services.pass_rule import is_pass, questions_needed
from app.services.progress import course_outline
from app.services.quizzes import GRADERS, choices_snapshot, shown_order

SEED_PASSWORD = "seeded-account-password"  # noqa: S105 - synthetic accounts for development and benchmarks
SEED_EMAIL_DOMAIN = "seed.example.org"
HISTORY_DAYS = 90
INVITATION_LIFETIME = timedelta(days=14)

# How learners behave. Tuned so 100,000 learners give about 2 million answers, a funnel that
# narrows from lesson to lesson, and enough failed attempts for the "struggling" flag.
NEVER_STARTED = 0.08  # registered, never opened a lesson
LEAVE_BEFORE_QUIZ = 0.07  # opened a lesson, read it, never tried its quiz
GIVE_UP_AFTER_FAIL = (0.08, 0.15, 0.35)  # stopped for good after the 1st, 2nd, 3rd failed attempt
STOP_AFTER_PASS = 0.1  # passed a lesson, never opened the next
MAX_FAILURES = 3  # the attempt after the third failure passes
LINK_BY_ADMIN = 0.05  # links an admin made on a learner's behalf (audited); the rest came by invitation
LINK_REVOKED = 0.03
VIEWS_PER_LINK = (0, 0, 1, 1, 1, 2, 2, 3, 4, 6)
PENDING_INVITATIONS_PER_COUNSELLOR = 2

FIRST_NAMES = (  # noqa: SIM905 - easier to read and edit as words
    "Aaron Abi Adam Aisha Alex Ali Amara Amy Andy Anya Ash Beth Bilal Bo Carla Cat Chen Chris Dan Dee "
    "Eli Ellie Emeka Erin Faye Femi Finn Gail Gus Hana Harry Ian Imani Isla Jack Jade Jas Jo Kai Kemi "
    "Kim Lee Leo Liam Lou Maria Mo Nadia Neil Nia Noor Ola Omar Pat Paul Priya Raj Rosa Ruth Sam Sana "
    "Sean Tara Theo Tom Una Val Wes Yan Zara Zoe"
).split()
LAST_NAMES = (  # noqa: SIM905 - easier to read and edit as words
    "Adams Ahmed Ali Baker Bell Brown Campbell Chen Clarke Cole Davies Evans Fox Green Hall Hughes "
    "Hussain Jones Kaur Khan Kelly King Lee Lewis Martin Mensah Moore Murphy Nowak Okafor Patel Price "
    "Reid Roberts Rossi Shah Singh Smith Taylor Thomas Walker Ward Watson White Williams Wilson Wood "
    "Wright Young"
).split()


class SeedError(DomainError):
    """Seeding cannot run here: no such course, or this seed was used already."""


# ---------------------------------------------------------------------------------------------
# The course as the seeder needs it: every answer a learner can give, snapshotted once.


@dataclass(frozen=True)
class AnswerVariant:
    """One answer to a question: the chosen choices and everything an attempt records for it."""

    chosen: frozenset[int]
    is_correct: bool
    reveals_misconception: bool
    choices_shown: list[dict]
    choices_shown_json: str  # json.dumps of choices_shown, as the JSON column type writes it
    # (choice id, position among the live choices, is_correct, misconception code) per chosen choice
    selections: tuple[tuple[int, int, bool, str | None], ...]


@dataclass
class QuizQuestion:
    id: int
    kind: str
    prompt: str
    explanation: str
    variants: list[AnswerVariant]  # [0] is right; wrong ones follow, misconception-revealing first
    shuffle: bool = True  # as the question says: each attempt's order is drawn from its key
    base_wrong: float = 0.25  # how often an average learner gets it wrong on a first try


@dataclass
class LessonShape:
    id: int
    number: int
    questions: list[QuizQuestion]
    needed: int = 0  # questions right to pass, by the rule quiz_submit_attempt applies


@dataclass
class CourseShape:
    """A course's live lessons in order, with every answer variant of every live question."""

    course_id: int
    pass_mark: float
    lessons: list[LessonShape]

    @property
    def question_count(self) -> int:
        return sum(len(lesson.questions) for lesson in self.lessons)


def _variant(question: Question, live: list[Choice], chosen: frozenset[int]) -> AnswerVariant:
    shown = choices_snapshot(live, chosen)
    selections = tuple(
        (choice.id, index, choice.is_correct, choice.misconception.code if choice.misconception else None)
        for index, choice in enumerate(live, start=1)
        if choice.id in chosen
    )
    return AnswerVariant(
        chosen=chosen,
        is_correct=GRADERS[question.kind].is_right(live, chosen),
        reveals_misconception=any(code and not right for _, _, right, code in selections),
        choices_shown=shown,
        choices_shown_json=json.dumps(shown),
        selections=selections,
    )


def _question_variants(question: Question) -> list[AnswerVariant]:
    """The right answer first, then plausible wrong ones (misconception-revealing first)."""
    live = list(question.live_choices)
    correct = [choice for choice in live if choice.is_correct]
    wrong = [choice for choice in live if not choice.is_correct]
    # The first wrong choice that reveals a misconception comes first (the demo's wrong answer).
    singles = [c for c in wrong if c.misconception_id] + [c for c in wrong if not c.misconception_id]
    chosen_sets = [frozenset(c.id for c in correct)] + [frozenset({c.id}) for c in singles]
    if question.kind == "multiple":
        all_correct = frozenset(c.id for c in correct)
        if len(correct) > 1:  # missed one of the right ones
            chosen_sets += [all_correct - {c.id} for c in correct]
        chosen_sets += [all_correct | {c.id} for c in singles]  # the right ones and a wrong one
    unique = list(dict.fromkeys(chosen_sets))
    return [_variant(question, live, chosen) for chosen in unique]


def course_shape(session: Session, course: Course) -> CourseShape:
    """Load the course's live lessons and questions, and snapshot every answer variant."""
    from app.services.quizzes import quiz_questions

    outline = course_outline(session, course=course, learner=None)
    lessons = []
    for entry in outline.entries:
        questions = [
            QuizQuestion(
                id=question.id,
                kind=question.kind,
                prompt=question.prompt,
                explanation=question.explanation,
                variants=_question_variants(question),
                shuffle=question.shuffle,
            )
            for question in quiz_questions(session, entry.lesson)
        ]
        needed = questions_needed(course.pass_mark, len(questions))
        lessons.append(LessonShape(id=entry.lesson.id, number=entry.number, questions=questions, needed=needed))
    return CourseShape(course_id=course.id, pass_mark=course.pass_mark, lessons=lessons)


# ---------------------------------------------------------------------------------------------
# A learner's history: what they did, in order. Plans are data; the writer turns them into rows.


@dataclass(frozen=True)
class PlannedAttempt:
    at: datetime
    variants: tuple[int, ...]  # per question in quiz order, an index into its variants (0 = right)


@dataclass
class LessonVisit:
    lesson: LessonShape
    opened_at: datetime
    attempts: list[PlannedAttempt] = field(default_factory=list)
    # Only for a lesson without a quiz (marked done); a quiz lesson completes at its first pass.
    done_at: datetime | None = None


# ---------------------------------------------------------------------------------------------
# Sinks: rows collected per table, written in bulk. PostgreSQL gets COPY in text format; any
# other database gets executemany through SQLAlchemy Core (so its column types apply).

_COLUMNS = {
    User: ("id", "email", "display_name", "password_hash", "role", "is_active", "created_at", "session_version"),
    LessonProgress: ("id", "user_id", "lesson_id", "opened_at", "completed_at"),
    QuizAttempt: (
        "id",
        "user_id",
        "lesson_id",
        "submission_key",
        "submitted_at",
        "question_count",
        "correct_count",
        "score",
        "pass_mark",
        "passed",
    ),
    AttemptAnswer: ("id", "attempt_id", "question_id", "position", "kind", "prompt", "explanation", "is_correct")
    + ("choices_shown",),
    AnswerSelection: ("id", "answer_id", "choice_id", "position", "is_correct", "misconception_code"),
    Invitation: ("id", "counsellor_id", "code_hash", "created_at", "expires_at", "used_at", "accepted", "used_by_id"),
    CounsellorLink: ("id", "counsellor_id", "learner_id", "created_at", "revoked_at", "created_by_id"),
    ProgressView: ("id", "viewer_id", "learner_id", "viewer_role", "viewed_at"),
    AuditEvent: ("id", "actor_id", "subject_id", "action", "details", "created_at"),
}
# Foreign keys point backwards in this order.
_ORDER = tuple(_COLUMNS)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _Json:
    """A JSON document stored as is: the text the JSON column type would have written."""

    __slots__ = ("value", "text")

    def __init__(self, value, text: str | None = None):
        self.value = value
        self.text = json.dumps(value) if text is None else text


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, _Json):
        return value.text.translate(_COPY_ESCAPES)
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


class _Sink:
    """Rows waiting to be written, per table, and the next free id of each table."""

    def __init__(self, session: Session):
        self.session = session
        self.next_id = {model: (session.scalar(select(func.max(model.id))) or 0) + 1 for model in _ORDER}
        self.written = dict.fromkeys(_ORDER, 0)

    def take_id(self, model) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def add(self, model, row: tuple) -> None:
        raise NotImplementedError

    def answer(
        self, row_id: int, attempt_id: int, position: int, question: QuizQuestion, variant_index: int, order: tuple
    ):
        """Add an answer whose snapshot lists the variant's choices in ``order`` (indexes into them)."""
        raise NotImplementedError

    def flush(self) -> None:
        """Write every waiting row and commit, then move each id sequence past the rows."""
        raise NotImplementedError


class _CopySink(_Sink):
    """PostgreSQL: COPY ... FROM STDIN in text format, one statement per table per batch."""

    def __init__(self, session: Session):
        super().__init__(session)
        self.lines: dict[type, list[str]] = {model: [] for model in _ORDER}
        self._answer_text: dict[tuple, str] = {}  # (question id, variant index, order) -> row tail

    def add(self, model, row: tuple) -> None:
        self.lines[model].append("\t".join(map(_copy_value, row)))

    def answer(self, row_id, attempt_id, position, question, variant_index, order) -> None:
        # 2 million rows share a few thousand distinct tails: escape each once.
        key = (question.id, variant_index, order)
        tail = self._answer_text.get(key)
        if tail is None:
            variant = question.variants[variant_index]
            shown = variant.choices_shown_json if order == tuple(range(len(order))) else None
            if shown is None:
                shown = json.dumps([variant.choices_shown[index] for index in order])
            tail = "\t".join(
                (
                    _copy_value(question.kind),
                    _copy_value(question.prompt),
                    _copy_value(question.explanation),
                    _copy_value(variant.is_correct),
                    shown.translate(_COPY_ESCAPES),
                )
            )
            self._answer_text[key] = tail
        self.lines[AttemptAnswer].append(f"{row_id}\t{attempt_id}\t{question.id}\t{position}\t{tail}")

    def flush(self) -> None:
        from psycopg import sql

        connection = self.session.connection()
        cursor = connection.connection.driver_connection.cursor()
        for model in _ORDER:
            lines = self.lines[model]
            if not lines:
                continue
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(model.__tablename__), sql.SQL(", ").join(map(sql.Identifier, _COLUMNS[model]))
            )
            with cursor.copy(statement) as copy:
                for start in range(0, len(lines), 20_000):
                    copy.write("\n".join(lines[start : start + 20_000]) + "\n")
            self.written[model] += len(lines)
            lines.clear()
        for model in _ORDER:
            last = self.next_id[model] - 1
            if self.written[model]:
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                    {"table": model.__tablename__, "last": last},
                )
        self.session.commit()


class _ExecutemanySink(_Sink):
    """Any other database (SQLite): executemany of Core inserts, in the same batches."""

    def __init__(self, session: Session):
        super().__init__(session)
        self.rows: dict[type, list[dict]] = {model: [] for model in _ORDER}

    def add(self, model, row: tuple) -> None:
        values = dict(zip(_COLUMNS[model], row, strict=True))
        for name, value in values.items():
            if isinstance(value, _Json):
                values[name] = value.value
        self.rows[model].append(values)

    def answer(self, row_id, attempt_id, position, question, variant_index, order) -> None:
        variant = question.variants[variant_index]
        self.rows[AttemptAnswer].append(
            {
                "id": row_id,
                "attempt_id": attempt_id,
                "question_id": question.id,
                "position": position,
                "kind": question.kind,
                "prompt": question.prompt,
                "explanation": question.explanation,
                "is_correct": variant.is_correct,
                "choices_shown": [variant.choices_shown[index] for index in order],
            }
        )

    def flush(self) -> None:
        for model in _ORDER:
            rows = self.rows[model]
            for start in range(0, len(rows), 5_000):
                self.session.execute(insert(model.__table__), rows[start : start + 5_000])
            self.written[model] += len(rows)
            rows.clear()
        self.session.commit()


def _sink(session: Session) -> _Sink:
    if session.get_bind().dialect.name == "postgresql":
        return _CopySink(session)
    return _ExecutemanySink(session)


# ---------------------------------------------------------------------------------------------
# The history writer: plans in, rows out, exactly as the quiz and progress services write them.


@dataclass
class HistoryCounts:
    attempts: int = 0
    answers: int = 0
    selections: int = 0
    progress_rows: int = 0
    completions: int = 0


def _write_history(
    sink: _Sink, rng: random.Random, shape: CourseShape, learner_id: int, visits: Iterable[LessonVisit], counts
) -> None:
    for visit in visits:
        completed_at = visit.done_at if not visit.lesson.questions else None
        for attempt in visit.attempts:
            questions = visit.lesson.questions
            attempt_id = sink.take_id(QuizAttempt)
            submission_key = f"{rng.getrandbits(128):032x}"
            correct = 0
            for position, (question, variant_index) in enumerate(zip(questions, attempt.variants, strict=True), 1):
                variant = question.variants[variant_index]
                correct += variant.is_correct
                answer_id = sink.take_id(AttemptAnswer)
                # The order quiz_submit_attempt would have shown for this key.
                order = tuple(
                    shown_order(
                        range(len(variant.choices_shown)),
                        question_id=question.id,
                        shuffle=question.shuffle,
                        submission_key=submission_key,
                    )
                )
                sink.answer(answer_id, attempt_id, position, question, variant_index, order)
                for choice_id, written_position, is_correct, code in variant.selections:
                    shown_position = order.index(written_position - 1) + 1
                    sink.add(
                        AnswerSelection,
                        (sink.take_id(AnswerSelection), answer_id, choice_id, shown_position, is_correct, code),
                    )
                    counts.selections += 1
            passed = is_pass(correct, len(questions), shape.pass_mark)
            sink.add(
                QuizAttempt,
                (
                    attempt_id,
                    learner_id,
                    visit.lesson.id,
                    submission_key,
                    attempt.at,
                    len(questions),
                    correct,
                    correct / len(questions),
                    shape.pass_mark,
                    passed,
                ),
            )
            counts.attempts += 1
            counts.answers += len(questions)
            if passed and completed_at is None:
                completed_at = attempt.at
        sink.add(
            LessonProgress,
            (sink.take_id(LessonProgress), learner_id, visit.lesson.id, visit.opened_at, completed_at),
        )
        counts.progress_rows += 1
        counts.completions += completed_at is not None


def histories_write(
    session: Session,
    *,
    course: Course,
    histories: list[tuple[int, list[LessonVisit]]],
    seed: int | None = None,
    shape: CourseShape | None = None,
) -> HistoryCounts:
    """Record the planned histories of existing learners, as real submissions would, and commit.

    ``seed`` makes the submission keys reproducible; by default they are random."""
    shape = shape or course_shape(session, course)
    rng = random.Random(seed)  # noqa: S311 - submission keys of synthetic data, not secrets
    sink = _sink(session)
    counts = HistoryCounts()
    for learner_id, visits in histories:
        _write_history(sink, rng, shape, learner_id, visits, counts)
    sink.flush()
    return counts


def scripted_history(
    shape: CourseShape, *, passed: int, failures_on_next: int, open_next: bool, last_active: datetime
) -> list[LessonVisit]:
    """A simple history: pass the first ``passed`` lessons first time, then fail the next one's quiz
    ``failures_on_next`` times (every answer wrong, misconception-revealing where possible), or
    only open it when ``open_next``. The steps are a minute apart, the last at ``last_active``."""
    steps: list[tuple[LessonShape, bool]] = [(lesson, True) for lesson in shape.lessons[:passed]]
    following = shape.lessons[passed] if passed < len(shape.lessons) else None
    if following is not None:
        steps += [(following, False)] * failures_on_next
    opened_only = following is not None and not failures_on_next and open_next
    times = [last_active - timedelta(minutes=len(steps) - index) for index in range(len(steps) + 1)]
    visits: dict[int, LessonVisit] = {}
    for (lesson, right), at in zip(steps, times[1:], strict=True):
        visit = visits.get(lesson.id)
        if visit is None:
            visit = visits[lesson.id] = LessonVisit(lesson, opened_at=at - timedelta(seconds=30))
        if lesson.questions:
            variants = tuple(0 if right or len(q.variants) == 1 else 1 for q in lesson.questions)
            visit.attempts.append(PlannedAttempt(at, variants))
        else:
            visit.done_at = at
    if opened_only:
        visits[following.id] = LessonVisit(following, opened_at=last_active)
    return list(visits.values())


# ---------------------------------------------------------------------------------------------
# The population.


@dataclass
class SeedReport:
    learners: int = 0
    counsellors: int = 0
    admins: int = 0
    attempts: int = 0
    answers: int = 0
    selections: int = 0
    progress_rows: int = 0
    completions: int = 0
    finished: int = 0
    links: int = 0
    invitations: int = 0
    progress_views: int = 0
    audit_events: int = 0
    seconds: float = 0.0
    email_pattern: str = ""
    learner_ids: tuple[int, int] = (0, 0)  # first and last seeded learner id
    counsellor_ids: list[int] = field(default_factory=list)
    admin_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.learners:,} learners ({self.finished:,} finished the course), {self.counsellors} counsellors, "
            f"{self.admins} admins; {self.attempts:,} attempts, {self.answers:,} answers, "
            f"{self.selections:,} selections, {self.progress_rows:,} lesson progress rows; {self.links:,} links, "
            f"{self.invitations:,} invitations, {self.progress_views:,} progress views, "
            f"{self.audit_events:,} audit events; in {self.seconds:.1f} s"
        )


class _Planner:
    """Decides, learner by learner, what each one did; all randomness comes from one seed."""

    def __init__(self, rng: random.Random, shape: CourseShape, now: datetime):
        self.rng = rng
        self.shape = shape
        self.now = now
        for lesson in shape.lessons:
            for question in lesson.questions:
                question.base_wrong = rng.uniform(0.05, 0.5)

    def _gap(self, short_minutes: float, long_share: float) -> timedelta:
        rng = self.rng
        if rng.random() < long_share:
            return timedelta(hours=rng.uniform(3, 24 * 9))
        return timedelta(minutes=rng.lognormvariate(math.log(short_minutes), 0.6))

    def _answers(self, lesson: LessonShape, ability: float, tries: int, must_pass: bool) -> tuple[int, ...]:
        rng = self.rng
        picks = []
        # Feedback teaches: every retry makes a wrong answer less likely.
        scale = ((1.6 - ability) / 0.95) ** 3 * (0.7**tries)
        for question in lesson.questions:
            if len(question.variants) > 1 and rng.random() < question.base_wrong * scale:
                weights = [3 if v.reveals_misconception else 1 for v in question.variants[1:]]
                picks.append(1 + rng.choices(range(len(weights)), weights)[0])
            else:
                picks.append(0)
        if must_pass:
            wrong = [i for i, pick in enumerate(picks) if pick]
            allowed = len(picks) - lesson.needed
            rng.shuffle(wrong)
            for index in wrong[: max(0, len(wrong) - allowed)]:
                picks[index] = 0
        return tuple(picks)

    def plan(self, created_at: datetime) -> list[LessonVisit]:
        rng, now = self.rng, self.now
        if rng.random() < NEVER_STARTED:
            return []
        ability = rng.betavariate(4, 2)
        cursor = created_at + self._gap(4, 0.15)
        visits = []
        for lesson in self.shape.lessons:
            if cursor > now:
                break
            visit = LessonVisit(lesson, opened_at=cursor)
            visits.append(visit)
            cursor += timedelta(minutes=rng.uniform(2, 15))  # reading the lesson
            if cursor > now:
                break
            if not lesson.questions:
                visit.done_at = cursor
            else:
                if rng.random() < LEAVE_BEFORE_QUIZ:
                    break
                passed = False
                for tries in range(MAX_FAILURES + 1):
                    if cursor > now:
                        break
                    variants = self._answers(lesson, ability, tries, must_pass=tries == MAX_FAILURES)
                    visit.attempts.append(PlannedAttempt(cursor, variants))
                    right = sum(1 for index in variants if index == 0)
                    if right >= lesson.needed:
                        passed = True
                        break
                    if rng.random() < GIVE_UP_AFTER_FAIL[min(tries, len(GIVE_UP_AFTER_FAIL) - 1)]:
                        break
                    cursor += self._gap(3, 0.25)
                if not passed:
                    break
            if rng.random() < STOP_AFTER_PASS:
                break
            cursor += self._gap(6, 0.45)
        return visits


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def seed_population(
    session: Session,
    *,
    course: Course,
    learners: int,
    counsellors: int,
    seed: int,
    now: datetime,
    admins: int = 1,
    linked_share: float = 0.5,
    batch_size: int = 2_000,
    hash_method: str = "scrypt",
    password: str = SEED_PASSWORD,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Create ``learners`` learners with histories in ``course``, ``counsellors`` counsellors
    linked to about ``linked_share`` of them, and ``admins`` admins; commit batch by batch.

    Every seeded account has the password ``password`` and an address
    ``seed<seed>.<role><n>@seed.example.org``. Raises SeedError if this seed was used already.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    started = time.perf_counter()
    say = progress or (lambda message: None)
    prefix = f"seed{seed}."
    if session.scalar(select(User.id).where(User.email.like(f"{prefix}%@{SEED_EMAIL_DOMAIN}")).limit(1)) is not None:
        raise SeedError(f"This database already holds accounts seeded with seed {seed}; choose another seed.")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible from its seed
    shape = course_shape(session, course)
    if not shape.lessons:
        raise SeedError(f"The course {course.slug!r} has no live lessons to seed progress in.")
    password_hash = generate_password_hash(password, method=hash_method)
    sink = _sink(session)
    report = SeedReport(email_pattern=f"{prefix}<role><n>@{SEED_EMAIL_DOMAIN}")
    start = now - timedelta(days=HISTORY_DAYS)

    # Staff first: admins, then counsellors (made counsellors by the first admin, audited).
    for n in range(1, admins + 1):
        user_id = sink.take_id(User)
        when = start - timedelta(days=60 + rng.uniform(0, 30))
        sink.add(
            User,
            (user_id, f"{prefix}admin{n}@{SEED_EMAIL_DOMAIN}", _name(rng), password_hash, Role.ADMIN.value)
            + (True, when, 0),
        )
        report.admin_ids.append(user_id)
    admin_id = report.admin_ids[0] if report.admin_ids else None
    for n in range(1, counsellors + 1):
        user_id = sink.take_id(User)
        when = start - timedelta(days=rng.uniform(1, 40))
        sink.add(
            User,
            (user_id, f"{prefix}counsellor{n}@{SEED_EMAIL_DOMAIN}", _name(rng), password_hash)
            + (Role.COUNSELLOR.value, True, when, 0),
        )
        report.counsellor_ids.append(user_id)
        if admin_id is not None:
            details = _Json({"from": Role.LEARNER.value, "to": Role.COUNSELLOR.value})
            changed = when + timedelta(minutes=rng.uniform(5, 600))
            sink.add(AuditEvent, (sink.take_id(AuditEvent), admin_id, user_id, "role_changed", details, changed))
            report.audit_events += 1
        for _ in range(PENDING_INVITATIONS_PER_COUNSELLOR):
            made = now - timedelta(days=rng.uniform(0, 13))
            sink.add(
                Invitation,
                (sink.take_id(Invitation), user_id, f"{rng.getrandbits(256):064x}", made)
                + (made + INVITATION_LIFETIME, None, None, None),
            )
            report.invitations += 1
    report.admins, report.counsellors = admins, counsellors
    # Caseloads differ: a few counsellors have many clients, most a moderate number.
    caseload = [rng.lognormvariate(0, 0.5) for _ in report.counsellor_ids]
    cumulative = [sum(caseload[: i + 1]) for i in range(len(caseload))]

    planner = _Planner(rng, shape, now)
    counts = HistoryCounts()
    lesson_count = len(shape.lessons)
    first_learner = last_learner = 0
    for n in range(1, learners + 1):
        user_id = sink.take_id(User)
        first_learner = first_learner or user_id
        last_learner = user_id
        created_at = start + timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86_400 - 600))
        sink.add(
            User,
            (user_id, f"{prefix}learner{n}@{SEED_EMAIL_DOMAIN}", _name(rng), password_hash)
            + (Role.LEARNER.value, True, created_at, 0),
        )
        visits = planner.plan(created_at)
        before = counts.completions
        _write_history(sink, rng, shape, user_id, visits, counts)
        report.finished += counts.completions - before == lesson_count
        if report.counsellor_ids and rng.random() < linked_share:
            _link(sink, rng, report, now, user_id, created_at, cumulative, admin_id)
        if n % batch_size == 0 or n == learners:
            sink.flush()
            elapsed = time.perf_counter() - started
            say(f"  {n:,}/{learners:,} learners, {counts.answers:,} answers written ({elapsed:.0f} s)")
    sink.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, so the planner sees the new sizes at once rather than after autovacuum.
        for model in _ORDER:
            session.execute(
                text("ANALYZE " + session.get_bind().dialect.identifier_preparer.quote(model.__tablename__))
            )
        session.commit()
    report.learners = learners
    report.learner_ids = (first_learner, last_learner)
    report.attempts, report.answers, report.selections = counts.attempts, counts.answers, counts.selections
    report.progress_rows, report.completions = counts.progress_rows, counts.completions
    report.seconds = time.perf_counter() - started
    return report


def _link(sink, rng, report, now, learner_id, created_at, cumulative, admin_id) -> None:
    """Share this learner's progress with one counsellor, as an invitation or an admin would,
    with the counsellor's views of the client page afterwards."""
    counsellor_id = rng.choices(report.counsellor_ids, cum_weights=cumulative)[0]
    linked_at = min(now, created_at + timedelta(hours=rng.uniform(0.1, 24 * 10)))
    by_admin = admin_id is not None and rng.random() < LINK_BY_ADMIN
    if by_admin:
        details = _Json({"counsellor_id": counsellor_id})
        sink.add(AuditEvent, (sink.take_id(AuditEvent), admin_id, learner_id, "link_created", details, linked_at))
        report.audit_events += 1
    else:
        made = linked_at - timedelta(hours=rng.uniform(0.05, 24 * 5))
        sink.add(
            Invitation,
            (sink.take_id(Invitation), counsellor_id, f"{rng.getrandbits(256):064x}", made)
            + (made + INVITATION_LIFETIME, linked_at, True, learner_id),
        )
        report.invitations += 1
    revoked_at = None
    if rng.random() < LINK_REVOKED:
        revoked_at = linked_at + (now - linked_at) * rng.random()
    created_by = admin_id if by_admin else learner_id
    sink.add(
        CounsellorLink, (sink.take_id(CounsellorLink), counsellor_id, learner_id, linked_at, revoked_at, created_by)
    )
    report.links += 1
    until = revoked_at or now
    for _ in range(rng.choice(VIEWS_PER_LINK)):
        viewed = linked_at + (until - linked_at) * rng.random()
        sink.add(ProgressView, (sink.take_id(ProgressView), counsellor_id, learner_id, Role.COUNSELLOR.value, viewed))
        report.progress_views += 1
