"""The factory course (tests/fixtures/course) keeps covering the whole course format.

The unit and view tests run on it instead of the real course, so it must keep every kind of
field and question they exercise; an edit that drops one fails here, not somewhere obscure.
"""

from __future__ import annotations

from app.services.course_files import QUESTION_KINDS
from app.services.course_quality import course_warnings
from tests.conftest import COURSE_SLUG, factory_course_spec, real_course_spec


def test_factory_course_uses_every_question_kind():
    spec = factory_course_spec()
    kinds = {question.kind for lesson in spec.lessons.values() for question in lesson.quiz}
    assert kinds == set(QUESTION_KINDS)


def test_factory_course_has_every_optional_field():
    spec = factory_course_spec()
    questions = [question for lesson in spec.lessons.values() for question in lesson.quiz]
    choices = [choice for question in questions for choice in question.choices]
    sources = [source for lesson in spec.lessons.values() for source in lesson.sources]

    assert len(spec.modules) >= 2 and any(len(module.lesson_slugs) >= 2 for module in spec.modules)
    assert spec.review is not None and spec.help
    assert any(source.url for source in sources) and any(not source.url for source in sources)
    assert any(question.shuffle for question in questions) and any(not question.shuffle for question in questions)
    assert any(choice.safety_critical and choice.misconception for choice in choices)
    assert {m.safety_critical for m in spec.misconceptions.values()} == {True, False}
    assert {choice.misconception for choice in choices if choice.misconception} == set(spec.misconceptions)


def test_factory_course_has_no_quality_warnings():
    """So a test can add exactly the warning it checks for."""
    assert course_warnings(factory_course_spec()) == []


def test_factory_course_is_not_the_real_course():
    """Both can be imported side by side, and no URL in a test can mean the real course by accident."""
    spec, real = factory_course_spec(), real_course_spec()
    assert COURSE_SLUG == spec.slug != real.slug
    assert not set(spec.lessons) & set(real.lessons)
    assert not {m.slug for m in spec.modules} & {m.slug for m in real.modules}
