"""The authoring views' two shared steps: the course named in the URL is loaded once, after the
admin guard, and the service's errors are put on the form's fields by one helper."""

from __future__ import annotations

import pytest
from flask import g, url_for
from werkzeug.datastructures import MultiDict

from app.author.forms import CourseForm, LessonForm, MisconceptionForm, QuestionForm, populate_errors
from app.models import Role
from app.services.authoring import DraftInvalid
from tests.conftest import create_user, login

UNKNOWN = "/author/courses/no-such-course/edit"


# --- the course in the URL ---------------------------------------------------------------------


def test_an_unknown_course_is_404_for_an_admin(app, client, course):
    create_user(app, "admin@example.org", role=Role.ADMIN)
    login(client, "admin@example.org")

    assert client.get(UNKNOWN).status_code == 404
    assert client.get(f"/author/courses/{course}/edit").status_code == 200


def test_visitors_are_sent_away_before_any_course_is_looked_up(app, client, course):
    # The guard runs first, so an unknown course answers exactly as a known one does.
    response = client.get(UNKNOWN)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    create_user(app, "learner@example.org")
    login(client, "learner@example.org")
    assert client.get(UNKNOWN).status_code == 403
    assert client.get(f"/author/courses/{course}/edit").status_code == 403


def test_with_no_course_the_authoring_home_names_the_import_command(app, client, monkeypatch):
    # The folder comes from the one default-course rule, not from the template.
    monkeypatch.setattr("app.author.publishing.DEFAULT_COURSE_FOLDER", "courses/elsewhere")
    create_user(app, "admin@example.org", role=Role.ADMIN)
    login(client, "admin@example.org")

    page = client.get("/author/").get_data(as_text=True)
    assert "flask courses import courses/elsewhere" in page


def test_links_between_a_courses_pages_need_not_name_the_course(app):
    with app.test_request_context("/author/"):

        class Loaded:
            slug = "some-course"

        g.course = Loaded()
        assert url_for("author.lesson_edit", lesson_slug="one") == "/author/courses/some-course/lessons/one/edit"
        other = url_for("author.lesson_edit", course_slug="other", lesson_slug="one")
        assert other == "/author/courses/other/lessons/one/edit"
        assert url_for("author.index") == "/author/"


# --- the service's errors on the form's fields -------------------------------------------------


def form(form_class, data: dict | None = None):
    return form_class(formdata=MultiDict(data or {}), meta={"csrf": False})


@pytest.fixture
def request_context(app):
    with app.test_request_context("/author/", method="POST"):
        yield


@pytest.mark.usefixtures("request_context")
def test_errors_go_beside_their_fields_and_the_rest_to_the_summary():
    course_form = form(CourseForm)
    invalid = DraftInvalid(
        [],
        {"title": ["Too long."], "review.reviewed_on": ["Not a date."], "modules[1].lessons": ["Empty."]},
        other=["lessons/one.md: quiz[1]: broken."],
    )

    left = populate_errors(course_form, invalid)

    assert course_form.title.errors == ["Too long."]
    assert course_form.reviewed_on.errors == ["Not a date."]  # the service's name, aliased
    assert left == ["Empty.", "lessons/one.md: quiz[1]: broken."]


@pytest.mark.usefixtures("request_context")
def test_a_field_the_form_has_not_got_leaves_its_message_in_the_summary():
    edit = form(MisconceptionForm)
    del edit.code  # the edit page: a code cannot change

    assert populate_errors(edit, DraftInvalid([], {"": ["Already defined."], "learner": ["Say more."]})) == [
        "Already defined."
    ]
    assert edit.learner.errors == ["Say more."]
    new = form(MisconceptionForm)
    assert populate_errors(new, DraftInvalid([], {"": ["Already defined."]})) == []
    assert new.code.errors == ["Already defined."]


@pytest.mark.usefixtures("request_context")
def test_a_choices_errors_go_to_its_row_as_saved():
    question = form(
        QuestionForm,
        {
            "kind": "single",
            "choices-0-text": "Dropped",
            "choices-0-remove": "y",
            "choices-1-text": "First kept",
            "choices-2-text": "Second kept",
        },
    )
    question.set_misconceptions({})

    left = populate_errors(
        question,
        DraftInvalid([], {"choices[2].text": ["Same text twice."], "choices": ["One must be right."], "x": ["?"]}),
    )

    assert question.choices[2].form.text.errors == ["Same text twice."]  # the second kept row
    assert not question.choices[1].form.text.errors
    assert question.choice_errors == ["One must be right."]
    assert left == ["?"]


@pytest.mark.usefixtures("request_context")
def test_a_sources_errors_name_its_line_in_the_box():
    lesson = form(LessonForm, {"sources": "A book | https://example.org\n\nA leaflet | not-an-address"})
    assert [source.title for source in lesson.source_inputs()] == ["A book", "A leaflet"]

    populate_errors(lesson, DraftInvalid([], {"sources[2].url": ["Must start with https://."]}))

    assert lesson.sources.errors == ["Line 3: the address must start with https://."]
