"""Quizzes: load a lesson's questions, check and grade a submission, keep every attempt.

Recording an attempt also feeds its answers to the learner's review cards, in the same
transaction (``app/services/review.py``: a wrong answer makes a card, a right one moves it on).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.models import (
    Choice,
    Lesson,
    Question,
    QuizAttempt,
    User,
)
from app.models.progress import indexes_text, with_chosen
from app.models.types import utcnow
from app.question_kinds import KINDS
from app.services.attempt_insert import NewAnswer, attempt_insert
from app.services.attempt_insert import content_hash as content_hash  # where it was defined first
from app.services.attempt_insert import shown_question_ids as shown_question_ids
from app.services.course_content import LessonView
from app.services.errors import QuizInputError
from app.services.live_questions import LiveChoice, LiveQuestion
from app.services.pass_rule import is_pass
from app.services.progress import lesson_note_opened, lesson_record_completion
from app.services.xapi import xapi_quiz_submitted, xapi_records

QUIZ_CHANGED = (
    "This quiz was changed after you opened it, so your answers were not recorded: you would have been "
    "marked on questions or choices you did not see. Below is the quiz as it is now. Check your answers, "
    "then send them again."
)
QUIZ_SHOWN_FIELD = "quiz_shown"  # the quiz page's field holding quiz_shown_fingerprint
SUBMISSION_KEY_PATTERN = re.compile(r"[0-9a-f]{32}")  # whole: fullmatch, as "$" would let a newline follow

# What a submission is graded against: the live questions as models (quiz_questions) or as the
# plain values the quiz page's POST keeps per course version (live_questions.graded_questions).
GradedQuestion = Question | LiveQuestion

ChoiceT = TypeVar("ChoiceT")


def shown_order(choices: Sequence[ChoiceT], *, question_id: int, shuffle: bool, submission_key: str) -> list[ChoiceT]:
    """The order a question's choices are shown in for one attempt.

    Drawn from the attempt's one-time submission key, so the quiz page and the grading of its
    submission agree without storing anything until the attempt is recorded, and every new
    attempt gets a new order. A question whose author pinned the order keeps the written one.
    """
    ordered = list(choices)
    if shuffle and len(ordered) > 1:
        _shuffle(ordered, f"{submission_key}:{question_id}".encode())
    return ordered


_DRAW = 8  # bytes of the hash per swap: a 64-bit number, whose remainder by a few choices has no bias worth the name


def _shuffle(items: list, seed: bytes) -> None:
    """Shuffle ``items`` in place (Fisher-Yates), every swap drawn from SHAKE-256 of ``seed``.

    Not a secret, only an order. Seeding a ``random.Random`` per question cost 10 us (it hashes
    the seed and fills 2.5 KB of state); this costs 2, five times on a quiz page and again when
    its submission is graded.
    """
    count = len(items)
    drawn = hashlib.shake_256(seed).digest(_DRAW * (count - 1))
    for step, last in enumerate(range(count - 1, 0, -1)):
        other = int.from_bytes(drawn[step * _DRAW : (step + 1) * _DRAW], "big") % (last + 1)
        items[last], items[other] = items[other], items[last]


class PresentedQuestion(Protocol):
    """What showing a question needs: the course content's QuestionView and a due review question both fit."""

    @property
    def id(self) -> int: ...

    @property
    def shuffle(self) -> bool: ...

    @property
    def live_choices(self) -> Sequence[Any]: ...


PresentedT = TypeVar("PresentedT", bound=PresentedQuestion)


def quiz_presentation(questions: Iterable[PresentedT], submission_key: str) -> list[tuple[PresentedT, list]]:
    """Each question of a quiz (or review) page with its choices in the order this submission shows them."""
    return [
        (
            question,
            shown_order(
                question.live_choices, question_id=question.id, shuffle=question.shuffle, submission_key=submission_key
            ),
        )
        for question in questions
    ]


def quiz_questions(session: Session, lesson: Lesson | LessonView) -> list[Question]:
    """Load a lesson's live questions with their choices and misconceptions (1 query)."""
    return list(
        session.scalars(
            select(Question)
            .where(Question.lesson_id == lesson.id, Question.retired_at.is_(None))
            .order_by(Question.position)
            .options(joinedload(Question.live_choices).joinedload(Choice.misconception))
        ).unique()
    )


class ShownQuizQuestion(PresentedQuestion, Protocol):
    """What a quiz page shows of a question, over what showing it needs: the page's QuestionView
    and grading's LiveQuestion both fit."""

    @property
    def kind(self) -> str: ...

    @property
    def prompt(self) -> str: ...


def quiz_shown_fingerprint(questions: Iterable[ShownQuizQuestion]) -> str:
    """A short hash of what a quiz page shows: each question's prompt and kind, each choice's words.

    The page sends it back with the answers: a submission whose quiz was published anew since
    (a choice reworded, a question retired) would be graded, and kept in the learner's history,
    as wording they never saw. Not the order (each page shuffles its own), nor what is shown
    only after answering (feedback, explanations).
    """
    shown = [
        [question.id, question.kind, question.prompt, [[choice.id, choice.text] for choice in question.live_choices]]
        for question in questions
    ]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode()).hexdigest()[:16]


def check_quiz_unchanged(questions: Iterable[ShownQuizQuestion], shown: str | None) -> None:
    """Raise QuizInputError (changed) when the page was drawn from another version of the quiz.

    ``shown`` is the page's quiz_shown_fingerprint; a submission without one (a page served
    before it was added) is graded as before.
    """
    if shown and shown != quiz_shown_fingerprint(questions):
        raise QuizInputError(QUIZ_CHANGED, changed=True)


def check_answers(questions: Sequence[GradedQuestion], answers: dict[int, list[int]]) -> dict[int, set[int]]:
    """Check a parsed submission against the questions; return chosen choice ids per question.

    Raises QuizInputError: tampered for ids the form could not have sent, otherwise naming
    the questions left unanswered.
    """
    by_id = {question.id: question for question in questions}
    unknown = [question_id for question_id in answers if question_id not in by_id]
    if unknown:
        raise QuizInputError("This submission names questions that are not in this quiz.", tampered=True)
    chosen: dict[int, set[int]] = {}
    for question_id, choice_ids in answers.items():
        question = by_id[question_id]
        valid_ids = {choice.id for choice in question.live_choices}
        if not set(choice_ids) <= valid_ids:
            raise QuizInputError("This submission names a choice that does not belong to its question.", tampered=True)
        if len(set(choice_ids)) > 1 and not KINDS[question.kind].several_right:
            raise QuizInputError("Only one choice can be picked for a single-answer question.", tampered=True)
        if choice_ids:
            chosen[question_id] = set(choice_ids)
    missing = {q.id: "Choose an answer for this question." for q in questions if q.id not in chosen}
    if missing:
        message = "Answer every question before you submit." if chosen else "You have not answered any questions yet."
        raise QuizInputError(message, question_errors=missing)
    return chosen


class ShownMisconception(Protocol):
    """What an answer's record keeps of a choice's misconception (the model's, or an unsaved one)."""

    @property
    def code(self) -> str: ...

    @property
    def learner_text(self) -> str: ...

    @property
    def safety_critical(self) -> bool: ...


class ShownChoice(Protocol):
    """What an answer's record keeps of a choice: a saved Choice, or the question editor's preview of one."""

    @property
    def id(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def is_correct(self) -> bool: ...

    @property
    def feedback(self) -> str: ...

    @property
    def safety_critical(self) -> bool: ...

    @property
    def misconception(self) -> ShownMisconception | None: ...


def choice_record(choice: ShownChoice) -> dict:
    """What a question's version keeps of one choice: the snapshot format without "chosen"."""
    return {
        "choice_id": choice.id,
        "text": choice.text,
        "correct": choice.is_correct,
        "feedback": choice.feedback,
        "misconception": choice.misconception.code if choice.misconception else None,
        # What the learner was told about it, kept as it was then.
        "misconception_text": choice.misconception.learner_text if choice.misconception else None,
        "safety_critical": is_safety_critical(choice),
    }


def choices_snapshot(choices: Sequence[ShownChoice], chosen_ids: set[int] | frozenset[int]) -> list[dict]:
    """The choices of a question as the learner saw them, in that order, for an answer's record.

    The one definition of the snapshot format: attempt answers rebuild it from their question's
    version (``AttemptAnswer.choices_shown``), review answers and previews store it. Attempts
    recorded before choices were shuffled or marked safety-critical lack that key: their list is
    in the order they were shown, and nothing in them was marked.
    """
    return [with_chosen(choice_record(choice), choice.id in chosen_ids) for choice in choices]


class VersionedQuestion(Protocol):
    """What storing a question's version needs (a saved Question)."""

    @property
    def id(self) -> int: ...

    @property
    def kind(self) -> str: ...

    @property
    def prompt(self) -> str: ...

    @property
    def explanation(self) -> str: ...

    @property
    def live_choices(self) -> Sequence[Any]: ...


def question_version(question: VersionedQuestion) -> dict:
    """The content of a question as shown, choices in the author's order: a ShownQuestion's columns."""
    return {
        "question_id": question.id,
        "kind": question.kind,
        "prompt": question.prompt,
        "explanation": question.explanation,
        "choices": [choice_record(choice) for choice in question.live_choices],
    }


def _version_of(question: GradedQuestion) -> tuple[dict, str | None]:
    """A graded question's version (``question_version``) and, for live values, its content hash.

    The hash (sha256 of the version's canonical JSON) is what the attempt's insert matches the
    stored version by; a lesson's questions are graded again and again unchanged, so for the
    frozen values of live_questions both are kept, keyed by the whole value (any edit is another key).
    A model's version is built every time: its attributes can change under the same object.
    """
    if isinstance(question, LiveQuestion):
        return _live_version(question)
    return question_version(question), None


@lru_cache(maxsize=1024)
def _live_version(question: LiveQuestion) -> tuple[dict, str]:
    # Shared by every submission that hits it: the dict is only read (shown_question_ids copies it).
    version = question_version(question)
    return version, content_hash(version)


def answer_columns(live_ids: Sequence[int], shown_ids: Sequence[int], chosen_ids: Iterable[int]) -> dict[str, Any]:
    """An answer's own columns: the order shown (None when the author's) and the picks, as indexes."""
    index_of = {choice_id: index for index, choice_id in enumerate(live_ids)}
    order = [index_of[choice_id] for choice_id in shown_ids]
    return {
        "choice_order": None if order == sorted(order) else indexes_text(order),
        "chosen": indexes_text(sorted(index_of[choice_id] for choice_id in chosen_ids)),
    }


def is_safety_critical(choice: ShownChoice) -> bool:
    """Whether picking this choice could kill or seriously harm: marked so, or its misconception is."""
    if choice.is_correct:
        return False
    return choice.safety_critical or bool(choice.misconception and choice.misconception.safety_critical)


@dataclass(frozen=True)
class SubmissionResult:
    """What recording a submission did: the attempt's id, whether it is new, whether it passed."""

    # Read before the commit: after it, an ORM attempt's ``id`` would be reloaded from the
    # database, and a database that failed just then would make a saved attempt look lost.
    attempt_id: int
    newly_recorded: bool
    # Whether a newly recorded attempt passed (read before the commit too): LTI posts a score then.
    passed: bool = False
    session: Session | None = field(default=None, repr=False, compare=False)

    @property
    def attempt(self) -> QuizAttempt:
        """The attempt as a model (one query the first time): the submission itself never needs it."""
        assert self.session is not None, "a SubmissionResult from quiz_submit_attempt has its session"
        attempt = self.session.get(QuizAttempt, self.attempt_id)
        assert attempt is not None
        return attempt


def _existing_attempt(session: Session, learner: User, submission_key: str) -> QuizAttempt | None:
    return session.scalar(
        select(QuizAttempt).where(QuizAttempt.user_id == learner.id, QuizAttempt.submission_key == submission_key)
    )


def _already_recorded(session: Session, existing: QuizAttempt, lesson: Lesson | LessonView) -> SubmissionResult:
    """The result for a key sent again: the attempt recorded with it, if it is this quiz's."""
    if existing.lesson_id != lesson.id:
        raise QuizInputError("This submission key belongs to another quiz.", tampered=True)
    return SubmissionResult(existing.id, newly_recorded=False, session=session)


def quiz_submit_attempt(
    session: Session,
    *,
    learner: User,
    lesson: Lesson | LessonView,
    questions: Sequence[GradedQuestion],
    answers: dict[int, list[int]],
    submission_key: str,
    pass_mark: float,
    lesson_opened: bool = False,
    lesson_completed: bool = False,
    card_rows: Sequence[Mapping[str, Any]] | None = None,
    shown: str | None = None,
) -> SubmissionResult:
    """Grade a submission, record it as a new attempt and, if passed, complete the lesson.

    ``shown``: the quiz page's fingerprint of what it showed (``quiz_shown_fingerprint``); a
    submission whose quiz has changed since is refused (``check_quiz_unchanged``). None: not checked.

    ``lesson_opened``, ``lesson_completed``: the learner's progress already records the lesson
    opened, or completed (the page's outline says so; neither is ever undone), so a failed
    attempt need not write the opening again, nor a pass the completion (a statement fewer).
    ``card_rows``: the learner's review cards for these questions, read before
    (live_questions.learner_cards): moved on before the insert and written with it (one statement
    fewer). None: they are read with the attempt's insert.

    The submission key comes from the quiz form; sending the same key again (a double click
    or a refresh) returns the attempt already recorded instead of recording another: the
    attempt's insert does nothing for a key already used (the unique key on user and
    submission key decides, under any concurrency), and the recorded one is read then.
    Commits once. Raises QuizInputError before recording anything if the input is bad.
    """
    if not SUBMISSION_KEY_PATTERN.fullmatch(submission_key or ""):
        raise QuizInputError("This submission is missing its form key; reload the quiz and try again.", tampered=True)
    try:
        if not questions:
            raise QuizInputError("This lesson has no quiz.", tampered=True)
        check_quiz_unchanged(questions, shown)
        chosen = check_answers(questions, answers)
    except QuizInputError:
        # A form sent again after its quiz changed (a refresh after an edit, a double click across
        # a publication): the attempt its key recorded stands, as for any key sent again. Looked
        # for only here, on the rare error.
        existing = _existing_attempt(session, learner, submission_key)
        if existing is None:
            raise
        return _already_recorded(session, existing, lesson)
    record = partial(
        _record_attempt,
        session,
        learner,
        lesson,
        questions,
        chosen,
        submission_key,
        pass_mark,
        lesson_opened=lesson_opened,
        lesson_completed=lesson_completed,
    )
    try:
        return record(card_rows)
    except _LostRace:
        # Another submission of this learner's (another key, another tab) made a row this one
        # made too, a review card or the lesson's progress, and committed first: everything was
        # rolled back, and recording again now finds that row and moves it on (the cards read
        # before are out of date: read again with the insert).
        return record(None, last_try=True)


class _LostRace(Exception):
    """A concurrent submission committed a row this one also inserted; nothing was saved."""


def _record_attempt(
    session: Session,
    learner: User,
    lesson: Lesson | LessonView,
    questions: Sequence[GradedQuestion],
    chosen: dict[int, set[int]],
    submission_key: str,
    pass_mark: float,
    card_rows: Sequence[Mapping[str, Any]] | None,
    *,
    lesson_opened: bool,
    lesson_completed: bool,
    last_try: bool = False,
) -> SubmissionResult:
    """Record a checked submission as a new attempt (see ``quiz_submit_attempt``); commits once."""
    # Every mistake becomes a review card and every answer moves an existing one, saved with the
    # attempt (the rules are in app/services/review.py, which imports this module).
    from app.services.review import cards_moves, cards_record_answers

    when = utcnow()
    results: dict[int, bool] = {}
    answers = []
    for position, question in enumerate(questions, start=1):
        chosen_ids = chosen[question.id]
        # Graded by identity; the order only records what this learner saw.
        # Models' choices or LiveChoice values: both have the id the answer records.
        live: Sequence[Choice | LiveChoice] = question.live_choices
        results[question.id] = is_right = KINDS[question.kind].is_right(live, chosen_ids)
        shown = shown_order(live, question_id=question.id, shuffle=question.shuffle, submission_key=submission_key)
        version, version_hash = _version_of(question)
        answers.append(
            NewAnswer(
                question_id=question.id,
                position=position,
                version=version,
                is_correct=is_right,
                **answer_columns([c.id for c in live], [c.id for c in shown], chosen_ids),
                content_hash=version_hash,
            )
        )
    correct_count = sum(results.values())
    passed = is_pass(correct_count, len(questions), pass_mark)
    attempt = {
        "user_id": learner.id,
        "lesson_id": lesson.id,
        "submission_key": submission_key,
        "submitted_at": when,
        "question_count": len(questions),
        "correct_count": correct_count,
        "score": correct_count / len(questions),
        "pass_mark": pass_mark,
        "passed": passed,
    }
    cards = None
    if card_rows is not None:
        _, cards = cards_moves(user_id=learner.id, results=results, when=when, card_rows=card_rows)
    # The attempt's insert is all there is to write when its cards go with it, no statement is
    # queued for xAPI and the lesson's progress has nothing to add (opened, or completed by a pass).
    alone = cards is not None and (lesson_completed if passed else lesson_opened) and not xapi_records()
    try:
        recorded = attempt_insert(session, attempt, answers, cards, alone=alone)
        if recorded is None:  # the key was used already (a double click, a refresh)
            existing = _existing_attempt(session, learner, submission_key)
            assert existing is not None, "the insert found the key taken"
            return _already_recorded(session, existing, lesson)
        if recorded.committed:  # saved by itself: nothing else to write
            return SubmissionResult(recorded.attempt_id, newly_recorded=True, passed=passed, session=session)
        if not recorded.cards_written:
            cards_record_answers(session, user_id=learner.id, results=results, when=when, card_rows=recorded.card_rows)
        xapi_quiz_submitted(
            session,
            learner_id=learner.id,
            lesson_id=lesson.id,
            questions=questions,
            chosen=chosen,
            results=results,
            correct_count=correct_count,
            passed=passed,
            when=when,
        )
        if passed:
            if not recorded.lesson_completed:  # a lesson completed before stays as it was
                lesson_record_completion(session, learner=learner, lesson=lesson, when=when)
        elif not lesson_opened:  # answering a quiz opens its lesson too (completing records that as well)
            lesson_note_opened(session, learner=learner, lesson=lesson, when=when)
        session.commit()
    except IntegrityError:
        # The same key arrived twice at once: keep the attempt that won the race (another
        # conflict, with a submission under another key, is tried once more by the caller).
        session.rollback()
        existing = _existing_attempt(session, learner, submission_key)
        if existing is None:
            if last_try:
                raise
            raise _LostRace from None
        return _already_recorded(session, existing, lesson)
    return SubmissionResult(recorded.attempt_id, newly_recorded=True, passed=passed, session=session)


def attempt_for_learner(
    session: Session, *, learner: User, lesson: Lesson | LessonView, attempt_id: int
) -> QuizAttempt | None:
    """Return the learner's own attempt at this lesson's quiz with its answers, or None."""
    return (
        session.execute(
            select(QuizAttempt)
            .where(QuizAttempt.id == attempt_id, QuizAttempt.user_id == learner.id, QuizAttempt.lesson_id == lesson.id)
            .options(joinedload(QuizAttempt.answers))
        )
        .unique()
        .scalar_one_or_none()
    )
