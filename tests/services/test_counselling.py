"""What the counsellor pages read and record (app/services/counselling.py)."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CounsellorLink, Course, ProgressView, Role, User
from app.models.types import utcnow
from app.services.counselling import client_view, counsellor_course
from tests.conftest import create_user


def the_view(view):
    """A ``draw`` that gives back the view itself, for tests that look into it."""
    return view


def views_recorded() -> list[tuple]:
    """The audit log as another request would read it (committed rows only)."""
    db.session.remove()
    return [tuple(row) for row in db.session.execute(select(ProgressView.viewer_id, ProgressView.learner_id))]


def test_the_course_is_the_one_named_or_else_the_first(session, course):
    first = session.scalar(select(Course).where(Course.slug == course))
    session.add(Course(slug="second", title="Second", summary="Another.", pass_mark=0.5))
    session.commit()

    assert counsellor_course(session, slug=None) is first
    assert counsellor_course(session, slug="") is first
    assert counsellor_course(session, slug="second").title == "Second"
    assert counsellor_course(session, slug="no-such-course") is None


def test_with_no_course_there_is_none(session):
    assert session.scalar(select(func.count(Course.id))) == 0
    assert counsellor_course(session, slug=None) is None


def test_a_linked_client_is_shown_and_the_view_is_recorded(app, session, course, learner):
    counsellor_id = create_user(app, "counsellor@example.org", role=Role.COUNSELLOR)
    session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner))
    session.commit()

    view = client_view(
        session, viewer=session.get(User, counsellor_id), learner_id=learner, course_slug=None, draw=the_view
    )

    assert view is not None
    assert view.course.slug == course
    assert view.report.learner.id == learner
    assert views_recorded() == [(counsellor_id, learner)]


def test_what_draw_makes_is_answered_and_the_view_is_recorded_after_it(app, session, course, learner):
    counsellor_id = create_user(app, "counsellor@example.org", role=Role.COUNSELLOR)
    session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner))
    session.commit()
    committed_while_drawing = []

    def draw(view):
        with db.engine.connect() as other:  # what another request sees while the page is drawn
            committed_while_drawing.append(other.scalar(select(func.count(ProgressView.id))))
        return f"page of {view.report.learner.display_name}"

    page = client_view(
        session, viewer=session.get(User, counsellor_id), learner_id=learner, course_slug=None, draw=draw
    )

    assert page == f"page of {session.get(User, learner).display_name}"
    assert committed_while_drawing == [0]
    assert views_recorded() == [(counsellor_id, learner)]


def test_nothing_is_recorded_when_the_view_cannot_be_drawn(app, session, course, learner):
    counsellor_id = create_user(app, "counsellor@example.org", role=Role.COUNSELLOR)
    session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner))
    session.commit()

    def draw(view):
        raise RuntimeError("the template failed")

    with pytest.raises(RuntimeError):
        client_view(session, viewer=session.get(User, counsellor_id), learner_id=learner, course_slug=None, draw=draw)

    assert views_recorded() == []


def test_no_view_and_no_record_without_a_live_link(app, session, course, learner):
    counsellor_id = create_user(app, "counsellor@example.org", role=Role.COUNSELLOR)
    counsellor = session.get(User, counsellor_id)
    assert (
        client_view(session, viewer=counsellor, learner_id=learner, course_slug=None, draw=the_view) is None
    )  # never linked

    session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner, revoked_at=utcnow()))
    session.commit()
    assert (
        client_view(session, viewer=counsellor, learner_id=learner, course_slug=None, draw=the_view) is None
    )  # revoked
    assert (
        client_view(session, viewer=counsellor, learner_id=learner + 100, course_slug=None, draw=the_view) is None
    )  # no one

    assert views_recorded() == []


def test_no_view_and_no_record_for_an_unknown_course(app, session, course, learner):
    counsellor_id = create_user(app, "counsellor@example.org", role=Role.COUNSELLOR)
    session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner))
    session.commit()

    counsellor = session.get(User, counsellor_id)
    assert (
        client_view(session, viewer=counsellor, learner_id=learner, course_slug="no-such-course", draw=the_view) is None
    )
    assert views_recorded() == []
