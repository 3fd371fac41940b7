"""The course meant when none is named: the first imported (app/services/default_course.py)."""

from sqlalchemy import select

from app.models import Course
from app.services.default_course import course_or_default, default_course_id


def add_courses(session, *slugs: str) -> None:
    session.add_all(Course(slug=slug, title=slug.title(), summary="Words.", pass_mark=0.8) for slug in slugs)
    session.commit()


def test_the_default_is_the_first_course_imported_whatever_its_name(session):
    add_courses(session, "zebra", "aardvark")
    assert course_or_default(session).slug == "zebra"
    assert course_or_default(session, "").slug == "zebra"
    assert session.scalar(select(Course.slug).where(Course.id == default_course_id())) == "zebra"


def test_a_named_course_is_that_course_or_none(session):
    add_courses(session, "zebra", "aardvark")
    assert course_or_default(session, "aardvark").slug == "aardvark"
    assert course_or_default(session, "no-such-course") is None


def test_with_no_course_there_is_no_default(session):
    assert course_or_default(session) is None
    assert session.scalar(select(default_course_id())) is None
