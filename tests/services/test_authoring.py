"""Editing the authoring draft: every operation, checked by the same rules as the course files.

Preview and publish are in test_authoring_publish.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import Course, CourseDraft
from app.services import authoring
from app.services.authoring import (
    ChoiceInput,
    DraftError,
    DraftInvalid,
    NotInDraft,
    QuestionInput,
    ReviewInput,
    SourceInput,
)
from app.services.course_export import course_to_data
from app.services.course_files import load_course
from app.services.course_import import course_import
from tests.conftest import factory_course_spec
from tests.factories import write_course

SPEC = factory_course_spec()
FIRST_MODULE, SECOND_MODULE = SPEC.modules[:2]
FIRST = FIRST_MODULE.lesson_slugs[0]
# A misconception some choice points at, so it cannot be removed.
USED_CODE = next(
    c.misconception for lesson in SPEC.lessons.values() for q in lesson.quiz for c in q.choices if c.misconception
)


@pytest.fixture
def course_row(session, course) -> Course:
    """The factory course's row, as published."""
    return session.scalar(select(Course).where(Course.slug == course))


@pytest.fixture
def tiny(session, tmp_path) -> Course:
    """The small factory course: no review, no help, no sources, nothing pinned or safety-critical."""
    course_import(session, load_course(write_course(tmp_path)))
    return session.scalar(select(Course).where(Course.slug == "tiny"))


def draft(session, course) -> dict:
    return authoring.draft_data(session, course)


def as_input(question: dict) -> QuestionInput:
    choices = [
        ChoiceInput(
            c["text"],
            c["feedback"],
            c.get("correct", False),
            c.get("misconception"),
            c.get("id"),
            safety_critical=c.get("safety_critical", False),
        )
        for c in question["choices"]
    ]
    return QuestionInput(
        question["kind"], question["prompt"], question["explanation"], choices, shuffle=question.get("shuffle", True)
    )


def first_question(session, course, position: int = 1) -> dict:
    return authoring.draft_question(draft(session, course), FIRST, position)


def test_reading_the_draft_starts_from_the_published_course_and_writes_nothing(session, course_row):
    data = draft(session, course_row)

    assert data == course_to_data(session, course_row, with_ids=True)
    assert all("id" in q for q in data["lessons"][FIRST]["front"]["quiz"])
    assert session.scalar(select(func.count()).select_from(CourseDraft)) == 0


def test_get_or_create_keeps_one_draft_per_course(session, course_row):
    first = authoring.draft_get_or_create(session, course_row)
    session.commit()

    assert authoring.draft_get_or_create(session, course_row).id == first.id


def test_course_update_changes_the_draft_only(session, course_row):
    authoring.course_update(session, course=course_row, title="A new title", summary="New words.", pass_mark=0.7)

    session.expire_all()
    assert draft(session, course_row)["course"]["title"] == "A new title"
    assert course_row.title == SPEC.title and course_row.pass_mark == SPEC.pass_mark


def test_a_broken_rule_names_its_file_and_field_and_saves_nothing(session, course_row):
    with pytest.raises(DraftInvalid) as raised:
        authoring.course_update(session, course=course_row, title="", summary="Words.", pass_mark=1.5)

    assert {(p.file, p.field) for p in raised.value.problems} == {
        ("course.yaml", "title"),
        ("course.yaml", "pass_mark"),
    }
    assert set(raised.value.field_errors) == {"title", "pass_mark"}
    assert authoring.draft_get(session, course_row) is None


def test_text_the_sanitiser_would_change_is_refused_beside_each_field_and_nothing_is_saved(session, course_row):
    """Saved as written or not at all: the sanitiser once took tags (and anything it took for
    one) out without a word, and an author lost text they never saw go."""
    before = draft(session, course_row)
    with pytest.raises(DraftInvalid) as refused:
        authoring.lesson_update(
            session,
            course=course_row,
            lesson_slug=FIRST,
            title='Blockers <img src=x onerror="alert(1)">',
            minutes=7,
            body="Hi <script>alert(1)</script> and [x](javascript:alert(1)) there.",
        )
    assert refused.value.field_errors == {
        "title": [
            '“<img src=x onerror="alert(1)">” would be removed: HTML tags and script links are not kept, '
            "so write plain text"
        ],
        "body": [
            "“[x](javascript:alert(1)” would be removed: HTML tags and script links are not kept, "
            "so write Markdown instead (**bold**, [a link](https://...))"
        ],
    }
    assert draft(session, course_row) == before


def test_writing_that_only_looks_like_markup_is_saved_as_written(session, course_row):
    body = "Most people notice the effect in <a few weeks. Take it with food <or milk>.\n\nAT&T, 5 < 6.\n"
    authoring.lesson_update(session, course=course_row, lesson_slug=FIRST, title="Blockers", minutes=7, body=body)
    assert draft(session, course_row)["lessons"][FIRST]["body"] == body


def test_module_add_keeps_an_empty_module_that_blocks_publishing(session, course_row):
    authoring.module_add(session, course=course_row, slug="extras", title="Extras")

    assert draft(session, course_row)["course"]["modules"][-1] == {"slug": "extras", "title": "Extras", "lessons": []}
    preview = authoring.publish_preview(session, course=course_row)
    assert [(p.field, p.message) for p in preview.problems] == [
        (f"modules[{len(SPEC.modules) + 1}].lessons", "needs a list of at least one lesson slug")
    ]
    with pytest.raises(DraftInvalid):
        authoring.publish(session, course=course_row)


def test_module_add_refuses_a_slug_already_used(session, course_row):
    with pytest.raises(DraftInvalid) as raised:
        authoring.module_add(session, course=course_row, slug=FIRST, title="Clash")

    assert list(raised.value.field_errors) == ["slug"]


def test_module_rename_move_and_delete_when_empty(session, course_row):
    authoring.module_rename(session, course=course_row, module_slug=SECOND_MODULE.slug, title="Safety first")
    authoring.module_move(session, course=course_row, module_slug=SECOND_MODULE.slug, direction="up")
    authoring.module_add(session, course=course_row, slug="extras", title="Extras")
    authoring.module_delete(session, course=course_row, module_slug="extras")

    modules = draft(session, course_row)["course"]["modules"]
    assert [(m["slug"], m["title"]) for m in modules][:2] == [
        (SECOND_MODULE.slug, "Safety first"),
        (FIRST_MODULE.slug, FIRST_MODULE.title),
    ]
    assert len(modules) == len(SPEC.modules)


def test_module_with_lessons_cannot_be_deleted(session, course_row):
    with pytest.raises(DraftError, match="empty module"):
        authoring.module_delete(session, course=course_row, module_slug=SECOND_MODULE.slug)


def test_lesson_add_appends_to_its_module(session, course_row):
    authoring.lesson_add(
        session,
        course=course_row,
        module_slug=SECOND_MODULE.slug,
        slug="side-effects",
        title="Side effects",
        minutes=4,
        body="Some **text**.",
    )

    data = draft(session, course_row)
    assert data["course"]["modules"][1]["lessons"][-1] == "side-effects"
    assert data["lessons"]["side-effects"] == {
        "front": {"title": "Side effects", "minutes": 4},
        "body": "Some **text**.\n",
    }


def test_lesson_error_is_located_at_its_field(session, course_row):
    with pytest.raises(DraftInvalid) as raised:
        authoring.lesson_update(session, course=course_row, lesson_slug=FIRST, title="T", minutes=0, body="   ")

    assert {(p.file, p.field) for p in raised.value.problems} == {
        (f"lessons/{FIRST}.md", "minutes"),
        (f"lessons/{FIRST}.md", "body"),
    }
    assert set(raised.value.field_errors) == {"minutes", "body"}


def test_lesson_move_crosses_into_the_next_module(session, course_row):
    last = FIRST_MODULE.lesson_slugs[-1]
    authoring.lesson_move(session, course=course_row, lesson_slug=last, direction="down")

    modules = draft(session, course_row)["course"]["modules"]
    assert modules[0]["lessons"] == FIRST_MODULE.lesson_slugs[:-1]
    assert modules[1]["lessons"][0] == last
    with pytest.raises(DraftError, match="already first"):
        authoring.lesson_move(session, course=course_row, lesson_slug=FIRST, direction="up")


def test_lesson_remove_takes_it_out_of_the_draft(session, course_row):
    authoring.lesson_remove(session, course=course_row, lesson_slug=SECOND_MODULE.lesson_slugs[0])

    data = draft(session, course_row)
    assert (
        SECOND_MODULE.lesson_slugs[0] not in authoring.draft_lesson_order(data)
        and SECOND_MODULE.lesson_slugs[0] not in data["lessons"]
    )
    with pytest.raises(NotInDraft):
        authoring.lesson_remove(session, course=course_row, lesson_slug=SECOND_MODULE.lesson_slugs[0])


def test_question_add_appends_a_new_question(session, course_row):
    new = QuestionInput(
        "true_false",
        "Naltrexone is addictive.",
        "It is not.",
        [ChoiceInput("True", "No."), ChoiceInput("False", "Right.", True)],
    )

    position = authoring.question_add(session, course=course_row, lesson_slug=FIRST, question=new)

    assert first_question(session, course_row, position)["prompt"] == "Naltrexone is addictive."
    assert "id" not in first_question(session, course_row, position)


def test_question_update_keeps_ids_and_drops_foreign_ones(session, course_row):
    question = first_question(session, course_row)
    edited = as_input(question)
    edited.choices[0] = replace(edited.choices[0], text="Reworded choice")
    edited.choices[1] = replace(edited.choices[1], id=first_question(session, course_row, 2)["choices"][0]["id"])

    authoring.question_update(session, course=course_row, lesson_slug=FIRST, position=1, question=edited)

    saved = first_question(session, course_row)
    assert saved["id"] == question["id"]
    assert saved["choices"][0] == {**question["choices"][0], "text": "Reworded choice"}
    assert "id" not in saved["choices"][1]


def test_single_question_with_two_correct_choices_is_refused(session, course_row):
    edited = as_input(first_question(session, course_row))
    edited.choices[0] = replace(edited.choices[0], correct=True, misconception=None)

    with pytest.raises(DraftInvalid) as raised:
        authoring.question_update(session, course=course_row, lesson_slug=FIRST, position=1, question=edited)

    assert raised.value.field_errors == {
        "choices": ["A one-answer question (kind: single) needs exactly one correct choice, found 2"]
    }
    assert raised.value.problems[0].file == f"lessons/{FIRST}.md"
    assert authoring.draft_get(session, course_row) is None


def test_a_choice_error_names_the_choice(session, course_row):
    edited = as_input(first_question(session, course_row))
    edited.choices[2] = replace(edited.choices[2], feedback="")

    with pytest.raises(DraftInvalid) as raised:
        authoring.question_update(session, course=course_row, lesson_slug=FIRST, position=1, question=edited)

    assert raised.value.field_errors == {"choices[3].feedback": ["Is required"]}


def test_question_move_and_remove(session, course_row):
    ids = [q["id"] for q in draft(session, course_row)["lessons"][FIRST]["front"]["quiz"]]

    authoring.question_move(session, course=course_row, lesson_slug=FIRST, position=1, direction="down")
    authoring.question_remove(session, course=course_row, lesson_slug=FIRST, position=3)

    quiz = draft(session, course_row)["lessons"][FIRST]["front"]["quiz"]
    assert [q["id"] for q in quiz] == [ids[1], ids[0]] + ids[3:]


def test_misconceptions_add_edit_and_remove(session, course_row):
    authoring.misconception_add(session, course=course_row, code="new-idea", learner="L.", counsellor="C.")
    authoring.misconception_update(session, course=course_row, code="new-idea", learner="L2.", counsellor="C2.")
    assert draft(session, course_row)["course"]["misconceptions"]["new-idea"] == {"learner": "L2.", "counsellor": "C2."}

    authoring.misconception_remove(session, course=course_row, code="new-idea")
    assert "new-idea" not in draft(session, course_row)["course"]["misconceptions"]


def test_a_misconception_in_use_cannot_be_removed(session, course_row):
    with pytest.raises(DraftError, match="still used"):
        authoring.misconception_remove(session, course=course_row, code=USED_CODE)


def test_discard_throws_the_draft_away(session, course_row):
    authoring.lesson_remove(session, course=course_row, lesson_slug=SECOND_MODULE.lesson_slugs[0])

    assert authoring.draft_discard(session, course=course_row) is True
    assert SECOND_MODULE.lesson_slugs[0] in authoring.draft_lesson_order(draft(session, course_row))


# --- the review, help, sources, pinned order and safety-critical marks -------------------------


def update_tiny(session, tiny, **changes) -> None:
    """course_update on the factory course, keeping its title, summary and pass mark."""
    base = {"title": tiny.title, "summary": tiny.summary, "pass_mark": tiny.pass_mark}
    authoring.course_update(session, course=tiny, **(base | changes))


def test_course_update_saves_the_review_and_the_help(session, tiny):
    update_tiny(
        session,
        tiny,
        review=ReviewInput(" Dr A. Reviewer MRCP ", date(2026, 12, 4), " 2027-12-04 "),
        help="- Call **NHS 111**.\r\n- Or 999.\n\n",
    )

    raw = draft(session, tiny)["course"]
    assert raw["review"] == {
        "reviewed_by": "Dr A. Reviewer MRCP",
        "reviewed_on": "2026-12-04",
        "next_review_on": "2027-12-04",
    }
    assert raw["help"] == "- Call **NHS 111**.\n- Or 999.\n"
    assert authoring.draft_review(draft(session, tiny)).reviewed_on == date(2026, 12, 4)
    # As learners will get it: Markdown rendered, phone numbers as tap-to-call links.
    help_html = authoring.draft_help_html(draft(session, tiny))
    assert help_html.startswith("<ul>\n<li>Call <strong>") and 'href="tel:111"' in help_html


def test_course_update_keeps_the_review_and_help_unless_given_and_empty_clears_them(session, tiny):
    update_tiny(session, tiny, review=ReviewInput("Panel", "2026-12-04", "2027-12-04"), help="Ask your GP.")

    update_tiny(session, tiny, title="Renamed")
    assert {"review", "help"} <= set(draft(session, tiny)["course"])

    update_tiny(session, tiny, review=ReviewInput("", None, ""), help="  \n ")
    raw = draft(session, tiny)["course"]
    assert "review" not in raw and "help" not in raw
    assert authoring.draft_review(draft(session, tiny)) is None
    assert authoring.draft_help_html(draft(session, tiny)) == ""


@pytest.mark.parametrize(
    "review, field, message",
    [
        (
            ReviewInput("Panel", "2026-13-01", "2027-12-04"),
            "review.reviewed_on",
            "Must be a date written as YYYY-MM-DD",
        ),
        (ReviewInput("Panel", "4/12/2026", "2027-12-04"), "review.reviewed_on", "Must be a date written as YYYY-MM-DD"),
        (
            ReviewInput("Panel", "2026-12-04", "2026-12-04"),
            "review.next_review_on",
            "Must be after the day it was reviewed (reviewed_on)",
        ),
        (ReviewInput("", "2026-12-04", "2027-12-04"), "review.reviewed_by", "Is required"),
        (ReviewInput("Panel", "2026-12-04", None), "review.next_review_on", "Is required"),
    ],
)
def test_a_bad_review_is_refused_at_its_field(session, tiny, review, field, message):
    with pytest.raises(DraftInvalid) as raised:
        update_tiny(session, tiny, review=review)

    assert [(p.file, p.field) for p in raised.value.problems] == [("course.yaml", field)]
    assert raised.value.field_errors == {field: [message]}
    assert authoring.draft_get(session, tiny) is None


def test_lesson_update_saves_sources_before_the_quiz(session, tiny):
    sources = [SourceInput(" NICE TA115 ", " https://www.nice.org.uk/guidance/ta115 "), SourceInput("A leaflet")]

    authoring.lesson_update(
        session, course=tiny, lesson_slug="one", title="Lesson one", minutes=5, body="Words.", sources=sources
    )

    front = draft(session, tiny)["lessons"]["one"]["front"]
    assert front["sources"] == [
        {"title": "NICE TA115", "url": "https://www.nice.org.uk/guidance/ta115"},
        {"title": "A leaflet"},
    ]
    assert list(front) == ["title", "minutes", "sources", "quiz"]


def test_lesson_update_keeps_sources_unless_given_and_an_empty_list_removes_them(session, tiny):
    edit = {"course": tiny, "lesson_slug": "one", "title": "Lesson one", "minutes": 5, "body": "Words."}
    authoring.lesson_update(session, **edit, sources=[SourceInput("A leaflet")])

    authoring.lesson_update(session, **(edit | {"minutes": 6}))
    assert draft(session, tiny)["lessons"]["one"]["front"]["sources"] == [{"title": "A leaflet"}]

    authoring.lesson_update(session, **edit, sources=[])
    assert "sources" not in draft(session, tiny)["lessons"]["one"]["front"]


@pytest.mark.parametrize(
    "bad, field, message",
    [
        (SourceInput("FTP site", "ftp://example.org/x"), "sources[2].url", "Must be a web address starting with"),
        (SourceInput("Bare name", "example.org"), "sources[2].url", "Must be a web address starting with"),
        (SourceInput("", "https://example.org"), "sources[2].title", "Is required"),
    ],
)
def test_a_bad_source_is_refused_naming_the_lesson_and_the_source(session, tiny, bad, field, message):
    sources = [SourceInput("Good", "https://example.org"), bad]

    with pytest.raises(DraftInvalid) as raised:
        authoring.lesson_update(
            session, course=tiny, lesson_slug="two", title="Lesson two", minutes=5, body="Words.", sources=sources
        )

    assert [(p.file, p.field) for p in raised.value.problems] == [("lessons/two.md", field)]
    assert raised.value.field_errors[field][0].startswith(message)
    assert authoring.draft_get(session, tiny) is None


def test_lesson_add_takes_sources(session, tiny):
    authoring.lesson_add(
        session,
        course=tiny,
        module_slug="second-part",
        slug="four",
        title="Four",
        minutes=3,
        body="Words.",
        sources=[SourceInput("A book")],
    )

    assert draft(session, tiny)["lessons"]["four"]["front"]["sources"] == [{"title": "A book"}]


def test_question_update_saves_a_pinned_order_and_safety_critical_choices(session, tiny):
    question = as_input(authoring.draft_question(draft(session, tiny), "one", 1))
    question.shuffle = False
    question.choices[1] = replace(question.choices[1], safety_critical=True)

    authoring.question_update(session, course=tiny, lesson_slug="one", position=1, question=question)

    saved = authoring.draft_question(draft(session, tiny), "one", 1)
    assert saved["shuffle"] is False
    assert [c.get("safety_critical", False) for c in saved["choices"]] == [False, True, False]
    # Shuffled (the default) and unmarked choices are left out, as in the files.
    authoring.question_update(
        session, course=tiny, lesson_slug="one", position=1, question=replace(question, shuffle=True)
    )
    assert "shuffle" not in authoring.draft_question(draft(session, tiny), "one", 1)


def test_question_add_can_pin_the_order(session, tiny):
    new = QuestionInput(
        "single",
        "Which one?",
        "The last.",
        [ChoiceInput("This", "No."), ChoiceInput("None of these", "Right.", True)],
        shuffle=False,
    )

    position = authoring.question_add(session, course=tiny, lesson_slug="one", question=new)

    assert authoring.draft_question(draft(session, tiny), "one", position)["shuffle"] is False


def test_a_correct_choice_cannot_be_safety_critical(session, tiny):
    question = as_input(authoring.draft_question(draft(session, tiny), "one", 1))
    question.choices[0] = replace(question.choices[0], safety_critical=True)

    with pytest.raises(DraftInvalid) as raised:
        authoring.question_update(session, course=tiny, lesson_slug="one", position=1, question=question)

    assert [(p.file, p.field) for p in raised.value.problems] == [
        ("lessons/one.md", "quiz[1].choices[1].safety_critical")
    ]
    assert raised.value.field_errors == {
        "choices[1].safety_critical": ["Only a wrong choice can be marked safety-critical"]
    }


def test_misconceptions_take_a_title_and_a_safety_mark(session, tiny):
    authoring.misconception_add(
        session,
        course=tiny,
        code="more-is-safe",
        learner="L.",
        counsellor="C.",
        title="Thinks more is safe",
        safety_critical=True,
    )
    assert draft(session, tiny)["course"]["misconceptions"]["more-is-safe"] == {
        "title": "Thinks more is safe",
        "safety_critical": True,
        "learner": "L.",
        "counsellor": "C.",
    }

    authoring.misconception_update(session, course=tiny, code="more-is-safe", learner="L2.", counsellor="C2.")
    kept = draft(session, tiny)["course"]["misconceptions"]["more-is-safe"]
    assert (kept["title"], kept["safety_critical"], kept["learner"]) == ("Thinks more is safe", True, "L2.")

    authoring.misconception_update(
        session, course=tiny, code="more-is-safe", learner="L2.", counsellor="C2.", title="", safety_critical=False
    )
    assert draft(session, tiny)["course"]["misconceptions"]["more-is-safe"] == {"learner": "L2.", "counsellor": "C2."}


def test_a_long_misconception_title_is_refused_at_its_field(session, tiny):
    with pytest.raises(DraftInvalid) as raised:
        authoring.misconception_update(
            session, course=tiny, code="blocks-are-boosts", learner="L.", counsellor="C.", title="x" * 81
        )

    assert [(p.file, p.field) for p in raised.value.problems] == [
        ("course.yaml", "misconceptions.blocks-are-boosts.title")
    ]
    assert list(raised.value.field_errors) == ["title"]
    assert authoring.draft_get(session, tiny) is None


def test_a_removed_lesson_learners_used_keeps_its_slug_from_a_new_lesson(session, course_row, learner):
    """Its slug names the retired row and their progress on it: a new lesson there would take it over."""
    from app.models import Lesson, User
    from app.services.progress import lesson_record_completion

    used = FIRST_MODULE.lesson_slugs[-1]
    lesson = session.scalar(select(Lesson).where(Lesson.slug == used))
    lesson_record_completion(session, learner=session.get(User, learner), lesson=lesson)
    session.commit()
    authoring.lesson_remove(session, course=course_row, lesson_slug=used)
    authoring.publish(session, course=course_row)
    assert session.scalar(select(Lesson.retired_at).where(Lesson.slug == used)) is not None

    with pytest.raises(DraftInvalid) as refused:
        authoring.lesson_add(
            session, course=course_row, module_slug=SECOND_MODULE.slug, slug=used, title="New", minutes=3, body="New."
        )
    assert "A removed lesson had the address" in refused.value.field_errors["slug"][0]
    assert used not in draft(session, course_row)["lessons"]  # nothing was added
    assert session.scalar(select(func.count()).select_from(CourseDraft)) == 0


def test_a_lesson_removed_in_the_draft_keeps_its_slug_from_a_new_lesson_before_publishing(session, course_row, learner):
    """Publishing would make the new lesson an edit of the removed one: its learners' progress
    and attempts would show against a different lesson."""
    from app.models import Lesson, User
    from app.services.progress import lesson_record_completion

    used = FIRST_MODULE.lesson_slugs[-1]
    lesson = session.scalar(select(Lesson).where(Lesson.slug == used))
    lesson_record_completion(session, learner=session.get(User, learner), lesson=lesson)
    session.commit()
    authoring.lesson_remove(session, course=course_row, lesson_slug=used)
    before = draft(session, course_row)

    with pytest.raises(DraftInvalid) as refused:
        authoring.lesson_add(
            session, course=course_row, module_slug=SECOND_MODULE.slug, slug=used, title="Reuse", minutes=3, body="New."
        )
    assert refused.value.field_errors["slug"] == [
        f"“{lesson.title}”, which this draft removes, keeps the address “{used}” until you publish: a new "
        "lesson there would become that lesson again, with any progress and attempts learners have on it. "
        "Choose another slug."
    ]
    assert draft(session, course_row) == before  # nothing was added
