"""Grading and recording quiz attempts, tested without HTTP."""

import uuid

import pytest
from sqlalchemy import func, select

from app.models import AttemptAnswer, LessonProgress, QuizAttempt, ShownQuestion, User
from app.question_kinds import KINDS
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.errors import QuizInputError
from app.services.progress import course_by_slug, course_outline
from app.services.quizzes import check_answers, quiz_questions, quiz_submit_attempt
from tests.factories import write_course


@pytest.fixture
def tiny(session, tmp_path, learner):
    """The factory course: each lesson has single, multiple and true_false questions."""
    course_import(session, load_course(write_course(tmp_path)))
    user = session.get(User, learner)
    outline = course_outline(session, course=course_by_slug(session, "tiny"), learner=user)
    lesson = outline.entries[0].lesson
    return user, lesson, quiz_questions(session, lesson)


def right(question):
    return [c.id for c in question.choices if c.is_correct]


def wrong(question):
    return [next(c.id for c in question.choices if not c.is_correct)]


def submit(session, user, lesson, questions, answers, key=None, pass_mark=0.8, shown=None):
    return quiz_submit_attempt(
        session,
        learner=user,
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=key or uuid.uuid4().hex,
        pass_mark=pass_mark,
        shown=shown,
    )


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_multiple_is_right_only_for_exactly_the_correct_set(tiny):
    _, _, questions = tiny
    multiple = next(q for q in questions if q.kind == "multiple")
    a, b, c = (choice.id for choice in multiple.choices)
    grader = KINDS["multiple"]
    assert grader.is_right(multiple.live_choices, {a, b})
    assert not grader.is_right(multiple.live_choices, {a})
    assert not grader.is_right(multiple.live_choices, {a, b, c})
    assert not grader.is_right(multiple.live_choices, {c})


def test_all_right_passes_and_completes_the_lesson(session, tiny):
    user, lesson, questions = tiny
    result = submit(session, user, lesson, questions, {q.id: right(q) for q in questions})
    assert result.newly_recorded and result.attempt.passed
    assert (result.attempt.correct_count, result.attempt.score) == (3, 1.0)
    progress = session.scalar(select(LessonProgress))
    assert progress.completed_at == result.attempt.submitted_at


def test_below_pass_mark_fails_and_leaves_the_lesson_open(session, tiny):
    user, lesson, questions = tiny
    answers = {q.id: right(q) for q in questions}
    answers[questions[0].id] = wrong(questions[0])
    attempt = submit(session, user, lesson, questions, answers).attempt
    assert not attempt.passed and attempt.correct_count == 2
    assert round(attempt.score, 3) == 0.667
    # Answering opened the lesson, and only that.
    progress = session.scalar(select(LessonProgress))
    assert progress.opened_at == attempt.submitted_at and progress.completed_at is None


def test_score_equal_to_pass_mark_passes(session, tiny):
    user, lesson, questions = tiny
    answers = {q.id: right(q) for q in questions}
    answers[questions[0].id] = wrong(questions[0])
    assert submit(session, user, lesson, questions, answers, pass_mark=2 / 3).attempt.passed


def test_attempt_keeps_a_snapshot_of_what_was_shown_and_chosen(session, tiny):
    user, lesson, questions = tiny
    attempt = submit(session, user, lesson, questions, {q.id: wrong(q) for q in questions}).attempt
    first = attempt.answers[0]
    assert first.prompt == questions[0].prompt and first.explanation == questions[0].explanation
    # Every choice, in the order this attempt drew (tests/services/test_choice_order.py checks the order).
    assert sorted(c["text"] for c in first.choices_shown) == sorted(c.text for c in questions[0].choices)
    chosen = [c for c in first.choices_shown if c["chosen"]]
    assert chosen == [
        {
            "choice_id": wrong(questions[0])[0],
            "text": "Wrong answer",
            "correct": False,
            "chosen": True,
            "feedback": "No: it blocks.",
            "misconception": "blocks-are-boosts",
            "misconception_text": "A blocker does not boost.",
            "safety_critical": False,
        }
    ]
    # Read back from the database, the answer rebuilds the same snapshot from its shown version.
    shown = first.choices_shown
    session.expire_all()
    assert session.get(AttemptAnswer, first.id).choices_shown == shown


def test_every_attempt_is_kept(session, tiny):
    user, lesson, questions = tiny
    for answers in (
        {q.id: wrong(q) for q in questions},
        {q.id: right(q) for q in questions},
        {q.id: wrong(q) for q in questions},
    ):
        submit(session, user, lesson, questions, answers)
    assert count(session, QuizAttempt) == 3
    assert count(session, AttemptAnswer) == 9
    # Each question's version as shown is stored once, however many answers point at it.
    assert count(session, ShownQuestion) == 3


def test_same_submission_key_records_one_attempt(session, tiny):
    user, lesson, questions = tiny
    key = uuid.uuid4().hex
    first = submit(session, user, lesson, questions, {q.id: right(q) for q in questions}, key=key)
    again = submit(session, user, lesson, questions, {q.id: wrong(q) for q in questions}, key=key)
    assert again.attempt.id == first.attempt.id and not again.newly_recorded
    assert count(session, QuizAttempt) == 1


@pytest.mark.parametrize("case", ["unknown question", "unknown choice", "other question's choice", "two for single"])
def test_tampered_answers_raise_and_record_nothing(session, tiny, case):
    user, lesson, questions = tiny
    answers = {q.id: right(q) for q in questions}
    single = questions[0]
    if case == "unknown question":
        answers[10**9] = [1]
    elif case == "unknown choice":
        answers[single.id] = [10**9]
    elif case == "other question's choice":
        answers[single.id] = right(questions[1])[:1]
    else:
        answers[single.id] = [c.id for c in single.choices[:2]]
    with pytest.raises(QuizInputError) as raised:
        submit(session, user, lesson, questions, answers)
    assert raised.value.tampered
    assert count(session, QuizAttempt) == 0 and count(session, AttemptAnswer) == 0


def test_unanswered_questions_are_named(tiny):
    _, _, questions = tiny
    with pytest.raises(QuizInputError) as raised:
        check_answers(questions, {questions[0].id: right(questions[0])})
    assert not raised.value.tampered
    assert set(raised.value.question_errors) == {q.id for q in questions[1:]}
    with pytest.raises(QuizInputError, match="not answered any"):
        check_answers(questions, {})


@pytest.mark.parametrize("key", ["x' OR 1=1", "0" * 32 + "\n", "0" * 31, "0" * 33, "A" * 32])
def test_a_bad_submission_key_is_refused(session, tiny, key):
    """Only 32 lower-case hex digits: a key with a newline after them would be a second key
    for the same form, and record its answers twice."""
    user, lesson, questions = tiny
    with pytest.raises(QuizInputError):
        submit(session, user, lesson, questions, {q.id: right(q) for q in questions}, key=key)
    assert count(session, QuizAttempt) == 0


def test_a_submission_racing_another_of_the_learners_records_its_attempt(session, tiny, monkeypatch):
    """Two submissions of one learner at once (two tabs, two keys): the other one commits the
    review card this one was about to make; this one is recorded all the same, not a 500."""
    from sqlalchemy.orm import Session

    from app.models import ReviewCard
    from app.services import review

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: the other submission would wait for this one")
    user, lesson, questions = tiny
    real_card_new = review.card_new
    calls = []

    def the_other_submission_commits_first(**kwargs):
        # Between this submission's look for cards and its insert of the new ones.
        if not calls:
            with Session(session.get_bind()) as other:
                other.add(real_card_new(**kwargs))
                other.commit()
        calls.append(kwargs["question_id"])
        return real_card_new(**kwargs)

    monkeypatch.setattr(review, "card_new", the_other_submission_commits_first)
    result = submit(session, user, lesson, questions, {q.id: wrong(q) for q in questions})

    # Rolled back once (3 new cards tried), then recorded: 2 new cards, the other's moved on.
    assert result.newly_recorded and len(calls) == 3 + 2
    assert count(session, QuizAttempt) == 1
    cards = session.scalars(select(ReviewCard).where(ReviewCard.user_id == user.id)).all()
    assert sorted(card.question_id for card in cards) == sorted(q.id for q in questions)
    moved = next(card for card in cards if card.question_id == questions[0].id)
    assert moved.last_review is not None  # the other's card, moved on by this answer


def test_the_quiz_shown_fingerprint_follows_the_words_shown_not_their_order(session, tiny):
    """What a quiz page shows (prompts, kinds, choices' words) and nothing else: a reworded choice
    or a retired question changes it; the shuffled order and the feedback shown after do not."""
    from app.services.quizzes import check_quiz_unchanged, quiz_shown_fingerprint

    _, _, questions = tiny
    shown = quiz_shown_fingerprint(questions)
    assert shown == quiz_shown_fingerprint(list(questions))
    check_quiz_unchanged(questions, shown)
    check_quiz_unchanged(questions, None)  # a page served before the fingerprint: graded as before
    check_quiz_unchanged(questions, "")

    questions[0].live_choices[0].feedback = "Feedback shown only after answering, changed."
    assert quiz_shown_fingerprint(questions) == shown
    questions[0].live_choices[0].text = "The same choice, in other words"
    with pytest.raises(QuizInputError) as raised:
        check_quiz_unchanged(questions, shown)
    assert raised.value.changed and not raised.value.tampered
    assert "changed after you opened it" in raised.value.message
    with pytest.raises(QuizInputError):
        check_quiz_unchanged(questions[1:], quiz_shown_fingerprint(questions))
    session.rollback()


def test_a_quiz_changed_since_its_page_refuses_a_new_submission_but_not_one_already_recorded(session, tiny):
    """A page drawn from another version of the quiz is refused, unless its key recorded an
    attempt already (a double click, or a reload, across a publication): that attempt stands."""
    from app.services.quizzes import quiz_shown_fingerprint

    user, lesson, questions = tiny
    answers = {q.id: right(q) for q in questions}
    key = uuid.uuid4().hex
    first = submit(session, user, lesson, questions, answers, key=key, shown=quiz_shown_fingerprint(questions))
    other_version = "0" * 16  # the fingerprint of a page drawn before the quiz changed

    again = submit(session, user, lesson, questions, answers, key=key, shown=other_version)
    assert again.attempt.id == first.attempt.id and not again.newly_recorded

    with pytest.raises(QuizInputError) as raised:
        submit(session, user, lesson, questions, answers, shown=other_version)
    assert raised.value.changed
    assert count(session, QuizAttempt) == 1
