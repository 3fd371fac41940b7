"""Recording an attempt's rows (app/services/attempt_insert.py): one attempt per submission key
under concurrency, every answer pointing at its question's version as shown, and a key sent
again finding its attempt whatever the form now holds."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.models import AttemptAnswer, Lesson, LessonProgress, Question, QuizAttempt, ReviewCard, ShownQuestion, User
from app.models.types import utcnow
from app.services.attempt_insert import NewAnswer, attempt_insert, content_hash
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.live_questions import learner_cards, live_questions
from app.services.progress import course_by_slug, course_outline
from app.services.quizzes import question_version, quiz_questions, quiz_submit_attempt
from tests.factories import write_course
from tests.row_locks import rollbacks_of, wait_until_blocked


@pytest.fixture
def tiny(session, tmp_path, learner):
    """The factory course's first quiz and a learner."""
    course_import(session, load_course(write_course(tmp_path)))
    lesson = course_outline(session, course=course_by_slug(session, "tiny"), learner=None).entries[0].lesson
    return lesson, quiz_questions(session, lesson), learner


def live_quiz(session, lesson, *, learner_id: int) -> SimpleNamespace:
    """The questions to grade against and the learner's cards for them, as the quiz page reads them first."""
    return SimpleNamespace(
        questions=live_questions(session, lesson),
        card_rows=learner_cards(session, lesson_id=lesson.id, learner_id=learner_id),
    )


def every_wrong(questions) -> dict[int, list[int]]:
    return {q.id: [next(c.id for c in q.live_choices if not c.is_correct)] for q in questions}


def submit(session, learner_id, lesson, questions, answers, key):
    return quiz_submit_attempt(
        session,
        learner=session.get(User, learner_id),
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=key,
        pass_mark=0.8,
    )


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def failed_attempt(learner_id, lesson, questions, key, when) -> tuple[dict, list[NewAnswer]]:
    """attempt_insert's attempt row and answers for a submission with every answer wrong."""
    attempt = {
        "user_id": learner_id,
        "lesson_id": lesson.id,
        "submission_key": key,
        "submitted_at": when,
        "question_count": len(questions),
        "correct_count": 0,
        "score": 0.0,
        "pass_mark": 0.8,
        "passed": False,
    }
    answers = [
        NewAnswer(q.id, position, question_version(q), False, None, "0") for position, q in enumerate(questions, 1)
    ]
    return attempt, answers


@pytest.mark.parametrize("first_ends", ["commits", "rolls back"])
def test_the_same_key_sent_twice_at_once_records_one_attempt(app, session, tiny, first_ends):
    """PostgreSQL: the second submission waits on the first's uncommitted attempt; if that one
    commits, the second returns it (nothing of its own recorded), and if it rolls back, the second
    records its own: in its one try, no unique violation recovered from."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    lesson, questions, learner = tiny
    key = uuid.uuid4().hex
    submit(session, learner, lesson, questions, every_wrong(questions), uuid.uuid4().hex)  # versions stored
    session.commit()
    engine = session.get_bind()
    with Session(engine) as first, Session(engine) as second, ThreadPoolExecutor(1) as pool:
        first_attempt = attempt_insert(first, *failed_attempt(learner, lesson, questions, key, utcnow()))
        assert first_attempt is not None  # inserted, not committed yet
        second_questions = quiz_questions(second, lesson)

        def second_submits():
            with app.app_context():
                return submit(second, learner, lesson, second_questions, every_wrong(second_questions), key)

        with rollbacks_of(second) as rolled_back:
            waiting = pool.submit(second_submits)
            wait_until_blocked(engine, waiting, behind=first, what="the second submission with the key")
            if first_ends == "commits":
                first.commit()
            else:
                first.rollback()
            result = waiting.result(timeout=10)
        assert rolled_back == []  # settled by waiting and the ON CONFLICT, not by a unique violation

    attempts = session.scalars(select(QuizAttempt).where(QuizAttempt.submission_key == key)).all()
    assert len(attempts) == 1
    (attempt,) = attempts
    answers = session.scalar(select(func.count()).where(AttemptAnswer.attempt_id == attempt.id))
    assert answers == len(questions)
    if first_ends == "commits":
        assert not result.newly_recorded and result.attempt_id == first_attempt.attempt_id
    else:
        assert result.newly_recorded and result.attempt_id == attempt.id != first_attempt.attempt_id


def test_every_answer_points_at_its_own_questions_version_when_only_one_is_new(session, tiny):
    """An edit makes one question's version new: its answer is stored after the version, the
    others find theirs in the attempt's insert; each answer shows its own question as it was."""
    lesson, questions, learner = tiny
    submit(session, learner, lesson, questions, every_wrong(questions), uuid.uuid4().hex)
    edited = session.get(Question, questions[1].id)
    edited.prompt = "A reworded second question?"
    session.commit()
    live = quiz_questions(session, lesson)

    result = submit(session, learner, lesson, live, every_wrong(live), uuid.uuid4().hex)

    answers = session.scalars(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == result.attempt_id).order_by(AttemptAnswer.position)
    ).all()
    assert [answer.position for answer in answers] == list(range(1, len(live) + 1))
    assert [answer.question_id for answer in answers] == [q.id for q in live]
    for answer, question in zip(answers, live, strict=True):
        assert answer.shown_question.content_hash == content_hash(question_version(question))
    assert answers[1].prompt == "A reworded second question?"
    assert count(session, ShownQuestion) == len(questions) + 1


def test_a_key_sent_again_with_a_form_that_no_longer_checks_returns_its_attempt(session, tiny):
    """A refresh after the quiz changed (or a form sent again half empty): the attempt its key
    recorded stands; nothing new is recorded, no error is shown."""
    lesson, questions, learner = tiny
    key = uuid.uuid4().hex
    first = submit(session, learner, lesson, questions, every_wrong(questions), key)
    again = submit(session, learner, lesson, questions, {}, key)
    assert again.attempt_id == first.attempt_id and not again.newly_recorded
    assert count(session, QuizAttempt) == 1


def test_a_new_keys_answers_move_the_cards_read_with_the_attempt(session, tiny):
    """The cards come back with the attempt's insert (PostgreSQL) or are read after it (SQLite):
    either way a second wrong attempt moves the cards the first made, and makes no others."""
    lesson, questions, learner = tiny
    submit(session, learner, lesson, questions, every_wrong(questions), uuid.uuid4().hex)
    made = {card.question_id: (card.id, card.last_review) for card in session.scalars(select(ReviewCard))}
    assert set(made) == {q.id for q in questions}

    later = submit(session, learner, lesson, questions, every_wrong(questions), uuid.uuid4().hex)
    session.expire_all()
    cards = {card.question_id: card for card in session.scalars(select(ReviewCard))}
    assert {question_id: card.id for question_id, card in cards.items()} == {q: ids[0] for q, ids in made.items()}
    submitted_at = session.get(QuizAttempt, later.attempt_id).submitted_at
    assert all(card.last_review == submitted_at for card in cards.values())


def test_one_submission_both_moves_a_card_and_makes_one(session, tiny):
    """Cards moved and cards made by the same attempt are written together (one statement on
    PostgreSQL): the earlier card keeps its id and moves on, the new one starts then."""
    lesson, questions, learner = tiny
    right = {q.id: [c.id for c in q.live_choices if c.is_correct] for q in questions}
    wrong = every_wrong(questions)
    submit(session, learner, lesson, questions, {**right, questions[0].id: wrong[questions[0].id]}, uuid.uuid4().hex)
    (earlier,) = session.scalars(select(ReviewCard)).all()
    earlier_id = earlier.id

    answers = {**right, questions[0].id: wrong[questions[0].id], questions[1].id: wrong[questions[1].id]}
    later = submit(session, learner, lesson, questions, answers, uuid.uuid4().hex)
    session.expire_all()
    when = session.get(QuizAttempt, later.attempt_id).submitted_at
    cards = {card.question_id: card for card in session.scalars(select(ReviewCard))}
    assert set(cards) == {questions[0].id, questions[1].id}
    assert cards[questions[0].id].id == earlier_id and cards[questions[0].id].last_review == when
    assert cards[questions[1].id].created_at == when and cards[questions[1].id].last_review == when


def test_passing_again_keeps_the_first_completion_and_on_postgresql_is_one_statement(session, tiny):
    """A pass of a lesson completed before changes nothing of its progress: on PostgreSQL the
    attempt's insert has read that, so recording it (no mistakes, no cards) is that one statement."""
    from app.models import LessonProgress
    from tests.conftest import count_queries

    lesson, questions, learner = tiny
    right = {q.id: [c.id for c in q.live_choices if c.is_correct] for q in questions}
    first = submit(session, learner, lesson, questions, right, uuid.uuid4().hex)
    completed_at = session.get(QuizAttempt, first.attempt_id).submitted_at
    user, live, _ = session.get(User, learner), quiz_questions(session, lesson), lesson.id  # loaded, not counted
    with count_queries(session.get_bind()) as counted:
        again = quiz_submit_attempt(
            session,
            learner=user,
            lesson=lesson,
            questions=live,
            answers=right,
            submission_key=uuid.uuid4().hex,
            pass_mark=0.8,
        )
    assert again.newly_recorded and again.passed
    if session.get_bind().dialect.name == "postgresql":
        assert counted() == 1
    progress = session.scalar(
        select(LessonProgress).where(LessonProgress.user_id == learner, LessonProgress.lesson_id == lesson.id)
    )
    assert progress.completed_at == completed_at


def submit_with_cards(session, learner_id, lesson, answers, key, *, card_rows=None, lesson_opened=False):
    """Submit as the quiz page does: the live questions and the learner's cards read together first
    (``card_rows`` given: cards read earlier, as a page whose read was overtaken)."""
    live = live_quiz(session, lesson, learner_id=learner_id)
    return quiz_submit_attempt(
        session,
        learner=session.get(User, learner_id),
        lesson=lesson,
        questions=live.questions,
        answers=answers,
        submission_key=key,
        pass_mark=0.8,
        lesson_opened=lesson_opened,
        card_rows=live.card_rows if card_rows is None else card_rows,
    )


def cards_by_question(session) -> dict[int, tuple]:
    session.expire_all()
    return {
        card.question_id: (card.id, card.state, card.step, card.due, card.last_review, card.last_rating)
        for card in session.scalars(select(ReviewCard))
    }


def test_cards_read_with_the_live_questions_are_moved_and_written_with_the_attempt(session, tiny):
    """The quiz page's way: the cards come with the live questions, are moved on before the insert
    and written by it; on PostgreSQL a failed attempt at an opened lesson is that one statement."""
    from tests.conftest import count_queries

    lesson, questions, learner = tiny
    first = submit_with_cards(session, learner, lesson, every_wrong(questions), uuid.uuid4().hex)
    made = cards_by_question(session)
    assert set(made) == {q.id for q in questions}
    assert all(card[4] == session.get(QuizAttempt, first.attempt_id).submitted_at for card in made.values())

    live = live_quiz(session, lesson, learner_id=learner)  # read outside the count, as the page reads it
    user = session.get(User, learner)
    with count_queries(session.get_bind()) as counted:
        later = quiz_submit_attempt(
            session,
            learner=user,
            lesson=lesson,
            questions=live.questions,
            answers=every_wrong(questions),
            submission_key=uuid.uuid4().hex,
            pass_mark=0.8,
            lesson_opened=True,
            card_rows=live.card_rows,
        )
    if session.get_bind().dialect.name == "postgresql":
        assert counted() == 1
    moved = cards_by_question(session)
    when = session.get(QuizAttempt, later.attempt_id).submitted_at
    assert {q: card[0] for q, card in moved.items()} == {q: card[0] for q, card in made.items()}  # the same cards
    assert all(card[4] == when and card[3] > made[q][3] for q, card in moved.items())  # each moved on, later due


def test_a_key_sent_again_with_the_cards_moves_none_of_them(session, tiny):
    """A double click: the second submission finds its attempt and writes no card (a moved card
    would count the same answers twice)."""
    lesson, questions, learner = tiny
    key = uuid.uuid4().hex
    first = submit_with_cards(session, learner, lesson, every_wrong(questions), key)
    before = cards_by_question(session)

    again = submit_with_cards(session, learner, lesson, every_wrong(questions), key)

    assert again.attempt_id == first.attempt_id and not again.newly_recorded
    assert cards_by_question(session) == before
    assert count(session, QuizAttempt) == 1


def test_cards_made_meanwhile_by_another_submission_are_moved_not_made_again(session, tiny):
    """The cards were read before another tab's submission made them: the insert of the same
    cards fails, everything is rolled back, and the attempt is recorded again moving them on."""
    lesson, questions, learner = tiny
    stale = live_quiz(session, lesson, learner_id=learner).card_rows
    assert stale == []
    submit_with_cards(session, learner, lesson, every_wrong(questions), uuid.uuid4().hex)
    made = cards_by_question(session)

    later = submit_with_cards(session, learner, lesson, every_wrong(questions), uuid.uuid4().hex, card_rows=stale)

    assert later.newly_recorded and count(session, QuizAttempt) == 2
    moved = cards_by_question(session)
    when = session.get(QuizAttempt, later.attempt_id).submitted_at
    assert {q: card[0] for q, card in moved.items()} == {q: card[0] for q, card in made.items()}
    assert all(card[4] == when for card in moved.values())


def test_a_card_write_moves_only_the_given_learners_cards(session, tiny, other_learner):
    """The write finds moved cards among the learner's own: another learner's card id sent with
    this learner's changes is left as it was (on either database)."""
    from app.services.card_write import CardChanges, cards_write
    from app.services.review import CardRow

    lesson, questions, learner = tiny
    submit(session, learner, lesson, questions, every_wrong(questions), uuid.uuid4().hex)
    before = cards_by_question(session)
    theirs = session.scalars(select(ReviewCard).where(ReviewCard.user_id == learner)).first()
    moved = CardRow(**{column.key: getattr(theirs, column.key) for column in ReviewCard.__table__.columns})
    moved.due, moved.last_rating = moved.due.replace(year=moved.due.year + 1), 4

    cards_write(session, CardChanges(other_learner, [moved], []))
    session.commit()
    assert cards_by_question(session) == before

    cards_write(session, CardChanges(learner, [moved], []))
    session.commit()
    assert cards_by_question(session)[moved.question_id][3] == moved.due


def test_the_same_key_sent_twice_at_once_with_the_cards_moves_them_once(app, session, tiny):
    """The quiz page's path under a race (PostgreSQL), its statement on the driver with the cards:
    the second submission with the key waits on the first's uncommitted attempt and, once that
    commits, returns it: one attempt for the key, the cards as the first moved them. (That no
    card is written without its attempt is held by the test of a key sent again, above.)"""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    from app.services.review import cards_moves

    lesson, questions, learner = tiny
    submit_with_cards(session, learner, lesson, every_wrong(questions), uuid.uuid4().hex)  # cards made
    session.commit()
    key = uuid.uuid4().hex
    engine = session.get_bind()
    with Session(engine) as first, Session(engine) as second, ThreadPoolExecutor(1) as pool:
        live = live_quiz(first, lesson, learner_id=learner)
        when = utcnow()
        _, changes = cards_moves(
            user_id=learner, results={q.id: False for q in live.questions}, when=when, card_rows=live.card_rows
        )
        first_attempt = attempt_insert(first, *failed_attempt(learner, lesson, live.questions, key, when), changes)
        assert first_attempt is not None and first_attempt.cards_written

        def second_submits():
            with app.app_context():
                return submit_with_cards(second, learner, lesson, every_wrong(questions), key)

        with rollbacks_of(second) as rolled_back:
            waiting = pool.submit(second_submits)
            wait_until_blocked(engine, waiting, behind=first, what="the second submission with the key")
            first.commit()
            result = waiting.result(timeout=10)
        assert rolled_back == []  # settled by waiting and the ON CONFLICT, not by a unique violation

    assert not result.newly_recorded and result.attempt_id == first_attempt.attempt_id
    cards = cards_by_question(session)
    assert all(card[4] == when for card in cards.values())  # as the first moved them
    assert count(session, QuizAttempt) == 2


def idle(session, learner_id: int, lesson_id: int) -> tuple[User, Lesson]:
    """The learner and the lesson loaded, the session then holding no transaction: as a request has them."""
    user, lesson = session.get(User, learner_id), session.get(Lesson, lesson_id)
    assert (user.id, lesson.id, lesson.course_id) == (learner_id, lesson_id, lesson.course_id)  # loaded
    session.close()  # lets go of them as they are, loaded
    return user, lesson


class Transactions:
    """Counts the ORM transactions the session begins on the database."""

    def __init__(self, session):
        self.session, self.begun = session(), 0

    def __enter__(self):
        event.listen(self.session, "after_begin", self._begun)
        return self

    def __exit__(self, *exc):
        event.remove(self.session, "after_begin", self._begun)

    def _begun(self, *args):
        self.begun += 1


def committed_rows(learner_id: int) -> tuple[int, int, int]:
    """The learner's attempts, answers and review cards as another connection sees them: only what is committed."""
    from app.extensions import db

    with db.engine.connect() as other:
        attempts = other.scalar(select(func.count()).where(QuizAttempt.user_id == learner_id))
        answers = other.scalar(
            select(func.count()).select_from(AttemptAnswer).join(QuizAttempt).where(QuizAttempt.user_id == learner_id)
        )
        cards = other.scalar(select(func.count()).where(ReviewCard.user_id == learner_id))
    return attempts, answers, cards


def submit_as_a_request(session, learner_id, lesson_id, answers, key, *, opened: bool, completed: bool):
    """Submit as the quiz page does, with the session idle as the request has it when it submits."""
    user, lesson = idle(session, learner_id, lesson_id)
    live = live_quiz(session, lesson, learner_id=learner_id)
    with Transactions(session) as transactions:
        result = quiz_submit_attempt(
            session,
            learner=user,
            lesson=lesson,
            questions=live.questions,
            answers=answers,
            submission_key=key,
            pass_mark=0.8,
            lesson_opened=opened,
            lesson_completed=completed,
            card_rows=live.card_rows,
        )
    return result, transactions.begun


@pytest.mark.parametrize(
    ("answered", "opened", "completed", "alone"),
    [
        ("wrong", True, False, True),  # a failed attempt at an opened lesson: only the insert
        ("wrong", False, False, False),  # the attempt opens the lesson too
        ("right", True, True, True),  # a pass of a completed lesson: only the insert
        ("right", True, False, False),  # the first pass completes the lesson
    ],
)
def test_a_submission_whose_insert_is_all_it_writes_is_committed_by_itself_on_postgresql(
    session, tiny, answered, opened, completed, alone
):
    """No BEGIN or COMMIT when the attempt's one statement is the whole write (PostgreSQL runs it
    as its own transaction); otherwise the session's transaction holds the rest. Either way
    everything is committed when the submission returns, the cards moved with the attempt."""
    lesson, questions, learner = tiny
    lesson_id, question_count = lesson.id, len(questions)
    right = {q.id: [c.id for c in q.live_choices if c.is_correct] for q in questions}
    wrong = every_wrong(questions)
    if opened:  # the state the page's outline reported, made true first
        submit(session, learner, lesson, questions, right if completed else wrong, uuid.uuid4().hex)
        session.commit()
    before = committed_rows(learner)

    result, begun = submit_as_a_request(
        session,
        learner,
        lesson_id,
        right if answered == "right" else wrong,
        uuid.uuid4().hex,
        opened=opened,
        completed=completed,
    )

    postgresql = session.get_bind().dialect.name == "postgresql"
    assert begun == (0 if alone and postgresql else 1)
    assert result.newly_recorded and result.passed == (answered == "right")
    attempts, answer_rows, cards = committed_rows(learner)
    assert (attempts, answer_rows) == (before[0] + 1, before[1] + question_count)
    assert cards == (question_count if answered == "wrong" or before[2] else 0)
    when = session.get(QuizAttempt, result.attempt_id).submitted_at
    assert all(card[4] == when for card in cards_by_question(session).values())  # each moved by this attempt
    progress = session.scalar(
        select(LessonProgress).where(LessonProgress.user_id == learner, LessonProgress.lesson_id == lesson_id)
    )
    assert progress is not None and (progress.completed_at is not None) == (answered == "right" or completed)


def test_a_submission_alone_with_a_version_not_stored_yet_is_written_in_a_transaction(session, tiny):
    """An answer to a question edited since any attempt has no stored version to point at: the
    statement run alone writes nothing (an attempt missing that answer must never be committed),
    and the attempt is recorded in a transaction that stores the version first."""
    lesson, questions, learner = tiny
    lesson_id, edited_id, question_count, wrong = lesson.id, questions[0].id, len(questions), every_wrong(questions)
    submit(session, learner, lesson, questions, wrong, uuid.uuid4().hex)
    session.get(Question, edited_id).prompt = "An edited prompt, never shown before?"
    session.commit()
    stored = count(session, ShownQuestion)

    result, begun = submit_as_a_request(
        session, learner, lesson_id, wrong, uuid.uuid4().hex, opened=True, completed=False
    )

    assert begun == 1 and result.newly_recorded
    assert count(session, ShownQuestion) == stored + 1
    assert committed_rows(learner)[:2] == (2, 2 * question_count)
    answers = session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == result.attempt_id)).all()
    edited = next(answer for answer in answers if answer.question_id == edited_id)
    assert session.get(ShownQuestion, edited.shown_question_id).prompt == "An edited prompt, never shown before?"


def test_a_key_sent_again_alone_returns_its_attempt_and_writes_nothing(session, tiny):
    """A double click on a failed attempt: the second statement alone inserts nothing, the key's
    attempt is found and returned, and no card moves twice."""
    lesson, questions, learner = tiny
    lesson_id, question_count, wrong = lesson.id, len(questions), every_wrong(questions)
    submit(session, learner, lesson, questions, wrong, uuid.uuid4().hex)
    session.commit()
    key = uuid.uuid4().hex
    first, _ = submit_as_a_request(session, learner, lesson_id, wrong, key, opened=True, completed=False)
    cards = cards_by_question(session)

    again, _ = submit_as_a_request(session, learner, lesson_id, wrong, key, opened=True, completed=False)

    assert again.attempt_id == first.attempt_id and not again.newly_recorded
    assert committed_rows(learner)[:2] == (2, 2 * question_count)
    assert cards_by_question(session) == cards


def test_a_submission_with_statements_for_the_record_store_is_written_in_a_transaction(app, session, tiny):
    """With a learning record store configured the submission queues its xAPI statements: they
    are written with the attempt, in one transaction, not after an attempt committed alone."""
    from app.models import XapiStatement

    app.config.update(XAPI_ENDPOINT="http://127.0.0.1:9/xapi", XAPI_USERNAME="site", XAPI_PASSWORD="secret")
    lesson, questions, learner = tiny
    lesson_id, wrong = lesson.id, every_wrong(questions)
    submit(session, learner, lesson, questions, wrong, uuid.uuid4().hex)
    session.commit()
    queued = count(session, XapiStatement)

    result, begun = submit_as_a_request(
        session, learner, lesson_id, wrong, uuid.uuid4().hex, opened=True, completed=False
    )

    assert begun == 1 and result.newly_recorded
    assert count(session, XapiStatement) > queued
