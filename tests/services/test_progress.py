"""The unlocking rule and the learner's place in the course, tested without HTTP."""

from types import SimpleNamespace

import pytest

from app.models import Lesson, User
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.errors import LessonLocked
from app.services.progress import (
    LessonNeedsQuiz,
    LessonState,
    course_by_slug,
    course_outline,
    lesson_mark_done,
    lesson_record_completion,
    lesson_record_opened,
    lesson_states,
    lessons_to_complete_first,
    require_unlocked,
)
from tests.conftest import COURSE_SLUG
from tests.factories import COURSE, default_lessons, write_course

L, A, C = LessonState.LOCKED, LessonState.AVAILABLE, LessonState.COMPLETED


def lessons(n):
    return [SimpleNamespace(id=i) for i in range(1, n + 1)]


@pytest.mark.parametrize(
    ("completed", "expected"),
    [
        (set(), [A, L, L, L]),
        ({1}, [C, A, L, L]),
        ({1, 2}, [C, C, A, L]),
        ({1, 2, 3, 4}, [C, C, C, C]),
        # A lesson added before one already completed: the new one is open, the completed one stays.
        ({1, 3}, [C, A, C, A]),
    ],
)
def test_a_lesson_opens_when_the_one_before_it_is_complete(completed, expected):
    assert lesson_states(lessons(4), completed) == expected


def outline_for(session, user):
    return course_outline(session, course=course_by_slug(session, COURSE_SLUG), learner=user)


def test_outline_lists_lessons_in_module_then_lesson_order(session, course):
    outline = outline_for(session, None)
    positions = [(e.lesson.module.position, e.lesson.position) for e in outline.entries]
    assert positions == sorted(positions)
    assert [e.number for e in outline.entries] == list(range(1, len(outline.entries) + 1))
    assert outline.percent_complete == 0 and not outline.is_complete


def test_require_unlocked_refuses_a_locked_lesson(session, course, learner):
    user = session.get(User, learner)
    outline = outline_for(session, user)
    second = outline.entries[1].lesson.slug
    with pytest.raises(LessonLocked):
        require_unlocked(outline, second)
    with pytest.raises(LookupError):
        require_unlocked(outline, "no-such-lesson")
    assert require_unlocked(outline, outline.entries[0].lesson.slug).state is LessonState.AVAILABLE


def test_completion_unlocks_the_next_lesson_and_moves_continue(session, course, learner):
    user = session.get(User, learner)
    outline = outline_for(session, user)
    first = outline.entries[0]
    assert outline.continue_entry() is first
    lesson_record_completion(session, learner=user, lesson=first.lesson)
    session.commit()
    outline = outline_for(session, user)
    assert [e.state for e in outline.entries[:3]] == [C, A, L]
    assert outline.continue_entry() is outline.entries[1]
    assert outline.percent_complete == round(100 / len(outline.entries))


def test_recording_completion_twice_keeps_the_first_time(session, course, learner):
    user = session.get(User, learner)
    lesson = outline_for(session, user).entries[0].lesson
    lesson_record_completion(session, learner=user, lesson=lesson)
    session.commit()
    first_time = outline_for(session, user).entries[0].completed_at
    lesson_record_completion(session, learner=user, lesson=lesson)
    session.commit()
    assert outline_for(session, user).entries[0].completed_at == first_time


def test_opening_is_recorded_once(session, course, learner):
    user = session.get(User, learner)
    entry = outline_for(session, user).entries[0]
    lesson_record_opened(session, learner=user, entry=entry)
    opened = outline_for(session, user).entries[0]
    lesson_record_opened(session, learner=user, entry=entry)
    assert outline_for(session, user).entries[0].opened_at == opened.opened_at is not None


def test_mark_done_completes_only_a_lesson_without_a_quiz(session, tmp_path, learner):
    lessons_spec = default_lessons()
    lessons_spec["one"]["front"].pop("quiz")
    course_import(session, load_course(write_course(tmp_path, lessons=lessons_spec)))
    user = session.get(User, learner)
    outline = course_outline(session, course=course_by_slug(session, "tiny"), learner=user)
    first, second = outline.entries[:2]
    with pytest.raises(LessonLocked):
        lesson_mark_done(session, learner=user, entry=second)
    lesson_mark_done(session, learner=user, entry=first)
    outline = course_outline(session, course=course_by_slug(session, "tiny"), learner=user)
    assert outline.entries[0].state is C
    with pytest.raises(LessonNeedsQuiz):
        lesson_mark_done(session, learner=user, entry=outline.entries[1])


def test_progress_is_per_learner(session, course, learner, other_learner):
    user, other = session.get(User, learner), session.get(User, other_learner)
    lesson_record_completion(session, learner=user, lesson=session.query(Lesson).first())
    session.commit()
    assert outline_for(session, other).completed_count == 0
    assert outline_for(session, user).completed_count == 1


@pytest.fixture
def five_lessons(session, tmp_path) -> str:
    """A course of five lessons without quizzes, "one" to "five", in two modules."""
    slugs = ["one", "two", "three", "four", "five"]
    course = {
        **COURSE,
        "modules": [
            {"slug": "start", "title": "Start", "lessons": slugs[:2]},
            {"slug": "end", "title": "End", "lessons": slugs[2:]},
        ],
    }
    lessons_spec = {slug: {"front": {"title": f"Lesson {slug}", "minutes": 3}, "body": "Words.\n"} for slug in slugs}
    course_import(session, load_course(write_course(tmp_path, course, lessons_spec)))
    return course["slug"]


def locked_message(session, slug: str, user: User, completed: set[str], locked: str) -> LessonLocked:
    outline = course_outline(session, course=course_by_slug(session, slug), learner=user)
    for entry in outline.entries:
        if entry.lesson.slug in completed:
            lesson_record_completion(session, learner=user, lesson=entry.lesson)
    session.commit()
    outline = course_outline(session, course=course_by_slug(session, slug), learner=user)
    with pytest.raises(LessonLocked) as refused:
        require_unlocked(outline, locked)
    return refused.value


@pytest.mark.parametrize(
    ("completed", "locked", "message", "next_slug"),
    [
        # The lesson before it is open: as it always said, and which lesson that is.
        (
            {"one"},
            "three",
            "“Lesson three” opens when you complete the lesson before it. Next for you: “Lesson two”.",
            "two",
        ),
        # Several stand in the way: how many, and the one to take now, the first not completed.
        (
            set(),
            "three",
            "“Lesson three” opens when you complete the 2 lessons before it. Next for you: “Lesson one”.",
            "one",
        ),
        (
            {"one"},
            "five",
            "“Lesson five” opens when you complete the 3 lessons before it. Next for you: “Lesson two”.",
            "two",
        ),
        # Lessons done out of order (one added to the course after later ones were completed):
        # only those right before it stand in the way, and the first of them is open.
        (
            {"two", "three"},
            "five",
            "“Lesson five” opens when you complete the lesson before it. Next for you: “Lesson four”.",
            "four",
        ),
    ],
)
def test_a_locked_lesson_says_how_many_lessons_come_first_and_which_is_next(
    session, five_lessons, learner, completed, locked, message, next_slug
):
    user = session.get(User, learner)
    refused = locked_message(session, five_lessons, user, completed, locked)
    assert str(refused) == message
    assert (refused.next_slug, refused.next_title) == (next_slug, f"Lesson {next_slug}")
    outline = course_outline(session, course=course_by_slug(session, five_lessons), learner=user)
    assert outline.entry_for(next_slug).state is LessonState.AVAILABLE
    waiting = lessons_to_complete_first(outline, outline.entry_for(locked))
    assert waiting[0].lesson.slug == next_slug and waiting[-1].number == outline.entry_for(locked).number - 1


def test_an_open_lesson_has_no_lessons_to_complete_first(session, five_lessons, learner):
    user = session.get(User, learner)
    outline = course_outline(session, course=course_by_slug(session, five_lessons), learner=user)
    assert lessons_to_complete_first(outline, outline.entries[0]) == []
