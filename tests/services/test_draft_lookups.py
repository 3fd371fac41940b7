"""Finding a module or a misconception in the authoring draft: its data, or NotInDraft (a 404 to the views)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Course
from app.services import authoring
from app.services.authoring import NotInDraft
from tests.conftest import factory_course_spec

SPEC = factory_course_spec()
FIRST_MODULE = SPEC.modules[0]
# A code the factory course defines, whichever choice points at it.
CODE = next(
    c.misconception for lesson in SPEC.lessons.values() for q in lesson.quiz for c in q.choices if c.misconception
)


@pytest.fixture
def data(session, course) -> dict:
    row = session.scalar(select(Course).where(Course.slug == course))
    return authoring.draft_data(session, row)


def test_a_module_in_the_draft_is_found_by_its_slug(data):
    module = authoring.draft_module(data, FIRST_MODULE.slug)
    assert module["slug"] == FIRST_MODULE.slug
    assert module["title"] == FIRST_MODULE.title
    assert list(module["lessons"]) == list(FIRST_MODULE.lesson_slugs)


def test_a_module_not_in_the_draft_is_not_in_draft(data):
    with pytest.raises(NotInDraft, match="no module “gone”"):
        authoring.draft_module(data, "gone")


def test_a_misconception_in_the_draft_is_found_by_its_code(data):
    misconception = authoring.draft_misconception(data, CODE)
    assert misconception is data["course"]["misconceptions"][CODE]


def test_a_misconception_not_in_the_draft_is_not_in_draft(data):
    with pytest.raises(NotInDraft, match="no misconception “gone”"):
        authoring.draft_misconception(data, "gone")
