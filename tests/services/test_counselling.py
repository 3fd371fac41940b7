"""What the counsellor pages read and record (app/services/counselling.py)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CounsellorLink, Course, Lesson, LessonProgress, ProgressView, Role, User
from app.models.types import utcnow
from app.services.counselling import VISIT_GAP, client_view, counsellor_course
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


def test_statements_built_once_take_each_views_own_values(app, session, course, learner, other_learner):
    """The client page's reads are built once (``functools.cache``), the viewer, the client and
    the course bound as parameters: two counsellors viewing their own clients in turn each get
    their own client, progress and last look, neither sees the other's client, and the views
    after the first build nothing."""
    from app.services import client_report, counselling, default_course, progress, sharing

    mine = create_user(app, "counsellor@example.org", role=Role.COUNSELLOR)
    theirs = create_user(app, "robin@example.org", role=Role.COUNSELLOR)
    session.add_all(
        [
            CounsellorLink(counsellor_id=mine, learner_id=learner),
            CounsellorLink(counsellor_id=theirs, learner_id=other_learner),
        ]
    )
    lesson = session.scalars(select(Lesson).join(Course).where(Course.slug == course).order_by(Lesson.id)).first()
    session.add(LessonProgress(user_id=learner, lesson_id=lesson.id, opened_at=utcnow()))
    session.commit()

    def look(viewer: int, client: int, slug: str | None = None) -> tuple | None:
        view = client_view(
            session, viewer=session.get(User, viewer), learner_id=client, course_slug=slug, draw=the_view
        )
        if view is None:
            return None
        opened = any(entry.opened_at for entry in view.report.outline.entries)
        return view.report.learner.id, view.course.slug, opened, view.report.since_last_look.first_look

    built = [
        counselling._previous_look_statement,
        sharing._viewable_learner_statement,
        client_report._misconceptions_statement,
        default_course._named_course,
        default_course._default_course,
        progress._outline_statement,
    ]

    def visit_ends() -> None:
        """Move the views back by more than a visit's gap: the next look is a later visit."""
        for view in session.scalars(select(ProgressView)):
            view.viewed_at -= VISIT_GAP + timedelta(minutes=1)
        session.commit()

    assert look(mine, learner) == (learner, course, True, True)
    visit_ends()
    assert look(mine, learner, course) == (learner, course, True, False)
    before = [function.cache_info().misses for function in built]
    assert look(theirs, other_learner) == (other_learner, course, False, True)
    assert look(theirs, learner) is None
    assert look(mine, other_learner) is None
    visit_ends()
    assert look(theirs, other_learner, course) == (other_learner, course, False, False)
    assert look(theirs, other_learner, "no-such-course") is None
    assert [function.cache_info().misses for function in built] == before
