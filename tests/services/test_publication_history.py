"""Each publication keeps the course it published and its changes; the history lists them all."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Course, CoursePublication, Question, User
from app.services import authoring
from app.services.accounts import user_create
from app.services.authoring import ChoiceInput, QuestionInput
from app.services.authoring.draft import published_data
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.personal_data import account_delete, personal_data_export
from app.services.progress import course_by_slug
from tests.conftest import FACTORY_COURSE_DIR, count_queries, factory_course_spec

SPEC = factory_course_spec()
FIRST = SPEC.modules[0].lesson_slugs[0]
PASSWORD = "long enough pw"


@pytest.fixture
def course_row(session, course) -> Course:
    return course_by_slug(session, course)


def make_admin(session, email: str = "ada@example.org", name: str = "Ada Admin") -> int:
    user = user_create(session, email=email, display_name=name, password=PASSWORD, hash_method="scrypt:128:8:1")
    return user.id


def publish_body(session, course: Course, body: str, user_id: int | None = None) -> CoursePublication:
    """Give the first lesson a new body in the draft and publish it."""
    lesson = SPEC.lessons[FIRST]
    authoring.lesson_update(
        session, course=course, lesson_slug=FIRST, title=lesson.title, minutes=lesson.minutes, body=body
    )
    return authoring.publish(session, course=course, user_id=user_id)


def new_question(prompt: str) -> QuestionInput:
    choices = [ChoiceInput("Yes", "Right.", True, None, None), ChoiceInput("No", "Not so.", False, None, None)]
    return QuestionInput("single", prompt, "Because.", choices)


def test_a_publication_keeps_the_course_it_published_with_every_row_id(session, course_row):
    authoring.question_add(session, course=course_row, lesson_slug=FIRST, question=new_question("Is it new?"))
    preview = authoring.publish_preview(session, course=course_row)

    publication = authoring.publish(session, course=course_row)
    publication_id = publication.id
    db.session.remove()

    stored = db.session.get(CoursePublication, publication_id)
    course = course_by_slug(db.session, SPEC.slug)
    assert stored.data == published_data(db.session, course)
    assert stored.changes == preview.changes
    added = next(q for q in stored.data["lessons"][FIRST]["front"]["quiz"] if q["prompt"] == "Is it new?")
    # The question the draft added has its new row's id, so a later restore finds that row.
    row = db.session.get(Question, added["id"])
    assert row.prompt == "Is it new?" and [c["id"] for c in added["choices"]] == [c.id for c in row.live_choices]


def test_a_misconception_removed_on_publish_is_not_in_the_copy(session, course_row):
    code = next(iter(SPEC.misconceptions))
    data = authoring.draft_data(session, course_row)
    for lesson in data["lessons"].values():
        for question in lesson["front"].get("quiz", []):
            for choice in question["choices"]:
                choice.pop("misconception", None)
    del data["course"]["misconceptions"][code]
    draft = authoring.draft_get_or_create(session, course_row)
    draft.data = data
    session.commit()

    publication = authoring.publish(session, course=course_row)

    assert code not in publication.data["course"]["misconceptions"]
    assert publication.data == published_data(session, course_row)


def test_history_lists_newest_first_with_who_when_and_what_changed(session, course_row):
    ada, bo = make_admin(session), make_admin(session, "bo@example.org", "Bo Builder")
    first = publish_body(session, course_row, "Version one.", ada)
    second = publish_body(session, course_row, "Version two.", bo)
    first_id, second_id, first_changes = first.id, second.id, first.changes

    history = authoring.publication_history(session, course=course_row)

    assert [e.id for e in history.entries] == [second_id, first_id]
    assert [e.published_by for e in history.entries] == ["Bo Builder", "Ada Admin"]
    assert history.entries[1].changes == first_changes == [f"Lesson “{SPEC.lessons[FIRST].title}”: text changed"]
    # The newest is what learners see, so only the earlier one can be restored.
    assert history.newest_is_live and history.entries[0].is_live and not history.entries[0].restorable
    assert history.entries[1].restorable and not history.has_draft


def test_a_publishers_deleted_account_leaves_the_entry_without_a_name(session, course_row):
    ada = make_admin(session)
    publish_body(session, course_row, "Version one.", ada)

    account_delete(session, user=session.get(User, ada), password=PASSWORD)

    [entry] = authoring.publication_history(session, course=course_row).entries
    assert entry.published_by is None and entry.has_snapshot


def test_publications_from_before_copies_were_kept_are_listed_but_not_restorable(session, course_row):
    session.add(
        CoursePublication(
            course_id=course_row.id, summary="making-tea: updated 1 lessons.\n- Lesson “Old”: text changed\n"
        )
    )
    session.commit()

    [entry] = authoring.publication_history(session, course=course_row).entries
    assert entry.changes == ["Lesson “Old”: text changed"]
    assert not entry.has_snapshot and not entry.restorable and not entry.is_live


def test_after_an_import_from_files_no_version_is_marked_as_what_learners_see(session, course_row, tmp_path):
    publish_body(session, course_row, "Version one.")
    publish_body(session, course_row, "Version two.")
    course_import(session, load_course(FACTORY_COURSE_DIR))  # back to the files' text

    history = authoring.publication_history(session, course=course_row)

    assert not history.newest_is_live
    assert all(entry.restorable for entry in history.entries)


def test_an_import_from_files_is_in_the_history_and_the_first_publish_can_be_undone(session, course_row):
    """The course as imported is a version in the history: restoring it undoes the first publication."""
    assert authoring.import_from_files(session, load_course(FACTORY_COURSE_DIR)).changed is False
    [imported] = authoring.publication_history(session, course=course_row).entries  # none was restorable yet
    assert imported.from_files and imported.published_by is None and imported.is_live

    publish_body(session, course_row, "Version one.", user_id=make_admin(session))
    newest, imported = authoring.publication_history(session, course=course_row).entries
    assert not newest.from_files and newest.published_by == "Ada Admin" and newest.is_live
    assert imported.from_files and imported.restorable

    publication = session.get(CoursePublication, imported.id)
    authoring.publication_restore(
        session, course=course_row, publication=publication, user_id=None, zone=ZoneInfo("Europe/London")
    )
    assert published_data(session, course_row) == session.get(CoursePublication, imported.id).data


def test_an_import_that_changes_nothing_adds_nothing_once_a_version_can_be_restored(session, course_row):
    publish_body(session, course_row, "Version one.")
    # back to the files' text, over what an admin published: a change, so it must be asked for
    authoring.import_from_files(session, load_course(FACTORY_COURSE_DIR), overwrite_published=True)
    authoring.import_from_files(session, load_course(FACTORY_COURSE_DIR))  # nothing new
    entries = authoring.publication_history(session, course=course_row).entries
    assert [entry.from_files for entry in entries] == [True, False]
    # The publication recorded its change as waiting for the review; the files record none.
    assert entries[0].is_live and entries[0].changes == [
        "Course: unreviewed-changes date changed",
        f"Lesson “{SPEC.lessons[FIRST].title}”: text changed",
    ]


def test_another_courses_publication_is_not_found(session, course_row):
    other = replace(SPEC, slug="other-course")
    course_import(session, other)
    other_row = course_by_slug(session, "other-course")
    publication = publish_body(session, course_row, "Version one.")

    assert authoring.publication_get(session, course=other_row, publication_id=publication.id) is None
    assert authoring.publication_get(session, course=course_row, publication_id=publication.id) is not None


def test_the_history_is_read_in_a_fixed_number_of_queries(app, session, course_row):
    publish_body(session, course_row, "Version one.")
    publish_body(session, course_row, "Version two.")
    session.expire_all()
    with count_queries(db.engine) as few:
        authoring.publication_history(session, course=course_row)
    for n in range(3, 9):
        publish_body(session, course_row, f"Version {n}.")
    session.expire_all()
    with count_queries(db.engine) as many:
        authoring.publication_history(session, course=course_row)
    assert few() == many()


def test_the_publish_record_still_names_its_publisher_in_their_data_download(session, course_row):

    ada = make_admin(session)
    publish_body(session, course_row, "Version one.", ada)

    export = personal_data_export(session, user=session.get(User, ada))

    [record] = export["course_publications_i_made"]
    assert record["course_id"] == course_row.id and "text changed" in record["summary"]
    assert "data" not in record  # the course content is not the publisher's personal data
    assert session.scalars(select(CoursePublication.published_by_id)).all() == [ada]


def test_an_import_undoes_only_what_admins_changed_and_the_files_do_not_have():
    def data(title: str, body: str, summary: str = "S", lesson_id: int = 1) -> dict:
        return {
            "course": {"title": "C", "summary": summary, "modules": [{"slug": "m", "lessons": ["one"]}]},
            "lessons": {"one": {"front": {"title": title, "id": lesson_id}, "body": body}},
        }

    last_import = data("Title", "Body")
    published = data("Title", "Body fixed by an admin", lesson_id=7)  # ids are not what the files say
    assert authoring.admin_changes_undone(last_import, published, data("Title", "Body")) == ["lesson “one”"]
    assert authoring.admin_changes_undone(last_import, published, data("Title", "Body fixed by an admin")) == []
    # A lesson is compared whole: the files changing its title beside the admin's body is refused too.
    assert authoring.admin_changes_undone(last_import, published, data("New", "Body fixed by an admin")) != []
    # With nothing changed by admins since the last import, every change of the files goes in.
    assert authoring.admin_changes_undone(last_import, last_import, data("New", "New", summary="New")) == []
    # A part only the files changed is theirs: the summary here, beside the admin's lesson kept.
    assert (
        authoring.admin_changes_undone(
            last_import, published, data("Title", published["lessons"]["one"]["body"], summary="New")
        )
        == []
    )
