"""Importing course specs: idempotent upserts that never touch learners' history."""

from __future__ import annotations

import copy
import uuid
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Choice, Course, Lesson, Module, Question, User
from app.services.accounts import user_create
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug, course_outline, lesson_record_opened
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.factories import COURSE, default_lessons, question_single, write_course

HISTORY_TABLES = ("lesson_progress", "quiz_attempts", "attempt_answers", "shown_questions")


def dump(session, table_names=None) -> dict[str, list[dict]]:
    """Every row of the given tables (all tables by default), in primary-key order."""
    tables = [t for t in db.metadata.sorted_tables if table_names is None or t.name in table_names]
    return {
        table.name: [dict(row._mapping) for row in session.execute(select(table).order_by(*table.primary_key))]
        for table in tables
    }


def import_folder(session, folder):
    return course_import(session, load_course(folder))


def lesson_by_slug(session, slug: str) -> Lesson | None:
    return session.scalar(select(Lesson).where(Lesson.slug == slug))


def take_quiz(session, learner: User, slug: str, *, right: bool) -> None:
    """Submit the lesson's quiz with every answer right, or with the first wrong choice each time."""
    lesson = lesson_by_slug(session, slug)
    questions = quiz_questions(session, lesson)
    right_ids = {q.id: [c.id for c in q.choices if c.is_correct] for q in questions}
    first_wrong_ids = {q.id: [next(c.id for c in q.choices if not c.is_correct)] for q in questions}
    answers = right_ids if right else first_wrong_ids
    quiz_submit_attempt(
        session,
        learner=learner,
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=lesson.course.pass_mark,
    )


@pytest.fixture
def learner_with_history(session, tmp_path) -> User:
    """The tiny course imported; a learner failed then passed lesson one and failed lesson two."""
    import_folder(session, write_course(tmp_path / "v1"))
    learner = user_create(
        session,
        email="lee@example.org",
        display_name="Lee",
        password="long enough password",
        hash_method="scrypt:128:8:1",
    )
    take_quiz(session, learner, "one", right=False)
    take_quiz(session, learner, "one", right=True)
    outline = course_outline(session, course=session.scalar(select(Course)), learner=learner)
    lesson_record_opened(session, learner=learner, entry=outline.entry_for("two"))
    take_quiz(session, learner, "two", right=False)
    assert len(dump(session, HISTORY_TABLES)["quiz_attempts"]) == 3
    return learner


def edited_course(tmp_path):
    """The tiny course with every kind of edit an author makes, written to a new folder."""
    course = copy.deepcopy(COURSE)
    course["modules"] = [
        {"slug": "first-part", "title": "First part", "lessons": ["three", "one"]},
        {"slug": "second-part", "title": "Second part, renamed", "lessons": ["two"]},
        {"slug": "third-part", "title": "Third part", "lessons": ["four"]},
    ]
    lessons = default_lessons()
    one = lessons["one"]
    one["front"]["title"] = "Lesson one, rewritten"
    one["body"] = "## A new start\n\nDifferent words now.\n"
    single = one["front"]["quiz"][0]
    single["prompt"] = "A reworded first question?"
    single["choices"][1]["feedback"] = "No: better feedback now."
    del single["choices"][2]  # nobody picked it: the learner's wrong pick was choice 2
    two_single = lessons["two"]["front"]["quiz"][0]
    two_single["choices"][0]["correct"] = False
    two_single["choices"][2]["correct"] = True
    lessons["two"]["front"]["quiz"].append(question_single(4))
    lessons["four"] = copy.deepcopy(lessons["three"])
    return write_course(tmp_path / "v2", course=course, lessons=lessons)


def test_import_creates_the_course_rows(session, tmp_path):
    report = import_folder(session, write_course(tmp_path))

    assert dict(report.created) == {
        "courses": 1,
        "misconceptions": 1,
        "modules": 2,
        "lessons": 3,
        "questions": 9,
        "choices": 24,
    }
    course = session.scalar(select(Course))
    assert (course.slug, course.pass_mark) == ("tiny", 0.8)
    assert [(m.slug, [lesson.slug for lesson in m.lessons]) for m in course.modules] == [
        ("first-part", ["one", "two"]),
        ("second-part", ["three"]),
    ]
    one = lesson_by_slug(session, "one")
    assert "<h2>Lesson one</h2>" in one.body_html
    assert [q.kind for q in one.questions] == ["single", "multiple", "true_false"]
    wrong = one.questions[0].choices[1]
    assert (wrong.text, wrong.is_correct, wrong.misconception.code) == ("Wrong answer", False, "blocks-are-boosts")


def test_importing_the_same_files_twice_changes_nothing(session, tmp_path):
    folder = write_course(tmp_path)
    import_folder(session, folder)
    before = dump(session)

    report = import_folder(session, folder)

    assert report.changed is False
    assert "nothing changed" in report.summary()
    assert dump(session) == before


def test_reimport_with_learner_history_changes_nothing(session, tmp_path, learner_with_history):
    before = dump(session)

    report = import_folder(session, tmp_path / "v1")

    assert report.changed is False
    assert dump(session) == before


def test_edited_course_updates_lessons(session, tmp_path):
    import_folder(session, write_course(tmp_path / "v1"))

    report = import_folder(session, edited_course(tmp_path))

    assert report.changed
    session.expire_all()
    course = session.scalar(select(Course))
    assert [(m.slug, m.title, [lesson.slug for lesson in m.lessons]) for m in course.modules] == [
        ("first-part", "First part", ["three", "one"]),
        ("second-part", "Second part, renamed", ["two"]),
        ("third-part", "Third part", ["four"]),
    ]
    one = lesson_by_slug(session, "one")
    assert one.title == "Lesson one, rewritten"
    assert "<h2>A new start</h2>" in one.body_html and "Different words now." in one.body_markdown
    single = one.questions[0]
    assert single.prompt == "A reworded first question?"
    assert single.choices[1].feedback == "No: better feedback now."
    assert [c.text for c in single.choices] == ["Right answer", "Wrong answer"]
    two = lesson_by_slug(session, "two")
    assert [c.is_correct for c in two.questions[0].choices] == [False, False, True]
    assert len(two.questions) == 4
    assert session.scalar(select(func.count()).select_from(Choice)) == 24 - 1 + 3 + 8


def test_edited_course_keeps_progress_and_past_attempts_exactly(session, tmp_path, learner_with_history):
    before = dump(session, HISTORY_TABLES)
    snapshot = before["shown_questions"][before["attempt_answers"][0]["shown_question_id"] - 1]
    assert snapshot["prompt"] == "Single question 1?"
    assert sorted(c["text"] for c in snapshot["choices"]) == [
        "Other wrong answer",
        "Right answer",
        "Wrong answer",
    ]

    import_folder(session, edited_course(tmp_path))

    session.expire_all()
    assert lesson_by_slug(session, "one").questions[0].prompt == "A reworded first question?"
    assert dump(session, HISTORY_TABLES) == before


def test_edited_course_keeps_every_lesson_row_learners_point_to(session, tmp_path, learner_with_history):
    ids_before = {lesson.slug: lesson.id for lesson in session.scalars(select(Lesson))}

    import_folder(session, edited_course(tmp_path))

    ids_after = {lesson.slug: lesson.id for lesson in session.scalars(select(Lesson))}
    assert ids_after == {**ids_before, "four": ids_after["four"]}


def test_removing_a_lesson_nobody_started_deletes_it(session, tmp_path, learner_with_history):
    course = copy.deepcopy(COURSE)
    course["modules"] = [{"slug": "first-part", "title": "First part", "lessons": ["one", "two"]}]
    lessons = default_lessons()
    del lessons["three"]
    history = dump(session, HISTORY_TABLES)

    report = import_folder(session, write_course(tmp_path / "v2", course=course, lessons=lessons))

    assert (report.deleted["lessons"], report.deleted["modules"]) == (1, 1)
    assert lesson_by_slug(session, "three") is None
    assert session.scalar(select(func.count()).select_from(Question)) == 6
    assert list(session.scalars(select(Module.slug))) == ["first-part"]
    assert dump(session, HISTORY_TABLES) == history


def test_a_lesson_can_move_into_the_place_of_a_removed_one(session, tmp_path):
    import_folder(session, write_course(tmp_path / "v1"))
    course = copy.deepcopy(COURSE)
    course["modules"][0]["lessons"] = ["one", "three"]
    course["modules"][1]["lessons"] = ["four"]
    lessons = default_lessons()
    lessons["four"] = lessons.pop("two")

    import_folder(session, write_course(tmp_path / "v2", course=course, lessons=lessons))

    modules = session.scalars(select(Module).order_by(Module.position))
    assert [(m.slug, [lesson.slug for lesson in m.lessons]) for m in modules] == [
        ("first-part", ["one", "three"]),
        ("second-part", ["four"]),
    ]


def test_a_module_can_move_into_the_place_of_a_removed_one(session, tmp_path):
    import_folder(session, write_course(tmp_path / "v1"))
    course = copy.deepcopy(COURSE)
    course["modules"] = [{"slug": "second-part", "title": "Second part", "lessons": ["one", "two", "three"]}]

    report = import_folder(session, write_course(tmp_path / "v2", course=course))

    assert report.deleted["modules"] == 1
    assert [(m.slug, m.position) for m in session.scalars(select(Module))] == [("second-part", 1)]


def test_removing_a_choice_a_learner_picked_retires_it_and_keeps_every_record(session, tmp_path, learner_with_history):
    before = dump(session, HISTORY_TABLES)
    lessons = default_lessons()
    del lessons["one"]["front"]["quiz"][1]["choices"][2]  # "C": the learner's wrong pick

    report = import_folder(session, write_course(tmp_path / "v2", lessons=lessons))

    assert dump(session, HISTORY_TABLES) == before  # choice_id links included
    picked = session.scalar(select(Choice).where(Choice.text == "C", Choice.retired_at.is_not(None)))
    assert picked is not None and picked.question.lesson.slug == "one"
    assert picked.retired_at is not None and picked.position is None
    assert "C" not in [c.text for c in picked.question.live_choices]
    assert report.retired["choices"] == 1


def test_removing_a_lesson_with_learner_history_retires_it(session, tmp_path, learner_with_history):
    course = copy.deepcopy(COURSE)
    course["modules"][0]["lessons"] = ["two"]
    lessons = default_lessons()
    del lessons["one"]
    before = dump(session, HISTORY_TABLES)

    report = import_folder(session, write_course(tmp_path / "v2", course=course, lessons=lessons))

    assert report.retired["lessons"] == 1
    assert dump(session, HISTORY_TABLES) == before
    retired = session.scalar(select(Lesson).where(Lesson.slug == "one"))
    assert retired.retired_at is not None and retired.position is None and retired.module_id is None
    outline = course_outline(session, course=course_by_slug(session, "tiny"), learner=None)
    assert [e.lesson.slug for e in outline.entries] == ["two", "three"]


def test_a_retired_lesson_comes_back_when_its_file_returns(session, tmp_path, learner_with_history):
    course = copy.deepcopy(COURSE)
    course["modules"][0]["lessons"] = ["two"]
    lessons = default_lessons()
    del lessons["one"]
    import_folder(session, write_course(tmp_path / "v2", course=course, lessons=lessons))

    import_folder(session, write_course(tmp_path / "v3"))

    outline = course_outline(session, course=course_by_slug(session, "tiny"), learner=None)
    assert [e.lesson.slug for e in outline.entries] == ["one", "two", "three"]


class _TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_stored_body_html_is_sanitised(session, tmp_path, rules_let_markup_through):
    """Defence in depth: the course rules refuse markup, and were they to let some through,
    importing still stores none of it."""
    lessons = default_lessons()
    lessons["one"]["body"] = (
        "## Safe heading\n\n"
        "<script>alert('x')</script>\n\n"
        '<img src="x.png" onerror="alert(1)">\n\n'
        "[Bad link](javascript:alert(1)) and [good link](https://example.org/help)\n\n"
        '<a href="javascript:alert(2)">raw link</a>\n'
    )

    import_folder(session, write_course(tmp_path, lessons=lessons))

    html = lesson_by_slug(session, "one").body_html
    parser = _TagCollector()
    parser.feed(html)
    assert "script" not in {tag for tag, _ in parser.tags}
    assert not [attr for _, attrs in parser.tags for attr in attrs if attr.startswith("on")]
    hrefs = [attrs.get("href", "") for tag, attrs in parser.tags if tag == "a"]
    assert hrefs == ["https://example.org/help"]
    assert "<h2>Safe heading</h2>" in html


def test_changes_are_listed_in_words_an_admin_reads_not_column_names():
    from app.services.course_import import described

    assert described(["is_correct", "feedback"]) == "whether it is right, feedback changed"
    assert described(["retired_at", "body_markdown", "body_html"]) == "brought back; text changed"
    assert described(["retired_at"]) == "brought back"
    assert described(["pass_mark", "help_markdown", "help_html"]) == "pass mark, help text changed"


def test_a_reimport_names_what_changed_in_words(session, tmp_path):
    import_folder(session, write_course(tmp_path / "v1"))
    course = copy.deepcopy(COURSE)
    course["pass_mark"] = 0.7
    lessons = default_lessons()
    lessons["one"]["front"]["minutes"] = 9

    report = import_folder(session, write_course(tmp_path / "v2", course=course, lessons=lessons))

    assert "Course: pass mark changed" in report.changes
    assert any(change.endswith(": reading time changed") for change in report.changes)
