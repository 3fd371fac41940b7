"""The /me/ page's own read: sharing, contact requests and each lesson's attempts summed up, in one query."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Course, Lesson, ProgressView, QuizAttempt, Role, User
from app.models.types import utcnow
from app.services.attempt_history import AttemptSummary, attempts_by_lesson, summarise
from app.services.contact_requests import ContactDetails, contact_request_create, contact_request_withdraw
from app.services.my_page import my_page
from app.services.sharing import invitation_create, invitation_respond, learner_sharing_overview
from tests.conftest import count_queries, create_user

SECRET = "test-secret-key"
PHONE = ContactDetails(contact_by="phone", phone="07700 900123", topic="alcohol", name="Sam", note="Evenings only")


@pytest.fixture
def people(app, session, course):
    ids = {
        "learner": create_user(app, "learner@example.org", name="Lee Learner"),
        "other": create_user(app, "fred@example.org"),
        "counsellor": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
    }
    return {key: session.get(User, user_id) for key, user_id in ids.items()}


def course_and_lessons(session) -> tuple[int, list[int]]:
    course = session.scalars(select(Course).order_by(Course.id)).first()
    lessons = session.scalars(select(Lesson.id).where(Lesson.course_id == course.id).order_by(Lesson.id)).all()
    return course.id, list(lessons)


def attempt(session, user: User, lesson_id: int, correct: int, questions: int, minutes_ago: int) -> QuizAttempt:
    row = QuizAttempt(
        user_id=user.id,
        lesson_id=lesson_id,
        submission_key=f"k{session.query(QuizAttempt).count()}",
        submitted_at=utcnow().replace(microsecond=0) - timedelta(minutes=minutes_ago),
        question_count=questions,
        correct_count=correct,
        score=correct / questions if questions else 0.0,
        pass_mark=0.8,
        passed=bool(questions) and correct / questions >= 0.8,
    )
    session.add(row)
    session.commit()
    return row


def test_each_lessons_attempts_are_summed_up_by_the_rule_of_the_full_history(session, people):
    course_id, (first, second, third, *_) = course_and_lessons(session)
    learner = people["learner"]
    # Lesson 1: two equal bests (2 of 4 and 3 of 6: the earlier is the best), then a worse latest.
    attempt(session, learner, first, 2, 4, minutes_ago=30)
    attempt(session, learner, first, 3, 6, minutes_ago=20)
    attempt(session, learner, first, 1, 4, minutes_ago=10)
    # Lesson 2: two attempts at the same moment: the later id is the latest.
    attempt(session, learner, second, 5, 5, minutes_ago=5)
    attempt(session, learner, second, 0, 5, minutes_ago=5)
    # Lesson 3: a quiz that asked nothing counts as none right.
    attempt(session, learner, third, 0, 0, minutes_ago=1)
    attempt(session, people["other"], first, 4, 4, minutes_ago=0)  # never someone else's

    page = my_page(session, learner_id=learner.id, course_id=course_id)

    mine = session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == learner.id)).all()
    history = attempts_by_lesson(
        AttemptSummary(a.id, a.lesson_id, a.submitted_at, a.correct_count, a.question_count, a.passed) for a in mine
    )
    assert page.attempts == {lesson_id: summarise(attempts) for lesson_id, attempts in history.items()}
    assert page.attempts[first].count == 3
    assert (page.attempts[first].best.correct_count, page.attempts[first].latest.correct_count) == (2, 1)
    assert page.attempts[second].latest.correct_count == 0 and page.attempts[second].best.correct_count == 5


def test_no_course_or_another_course_sums_up_no_attempts(session, people):
    course_id, lessons = course_and_lessons(session)
    attempt(session, people["learner"], lessons[0], 1, 1, minutes_ago=1)

    assert my_page(session, learner_id=people["learner"].id, course_id=None).attempts == {}
    assert my_page(session, learner_id=people["learner"].id, course_id=course_id + 1000).attempts == {}


def test_the_sharing_part_is_the_overview_the_sharing_service_gives(session, people):
    learner, counsellor = people["learner"], people["counsellor"]
    _, code = invitation_create(session, counsellor=counsellor, secret_key=SECRET)
    invitation_respond(session, code=code, learner=learner, accept=True, secret_key=SECRET)
    for _ in range(3):
        session.add(ProgressView(viewer_id=counsellor.id, learner_id=learner.id, viewer_role=counsellor.role))
    session.commit()

    page = my_page(session, learner_id=learner.id, course_id=None, view_limit=2)

    assert page.sharing == learner_sharing_overview(session, learner=learner, view_limit=2)
    assert [link.counsellor_name for link in page.sharing.links] == ["Casey"]
    assert len(page.sharing.views) == 2


def test_the_persons_own_contact_requests_newest_first_withdrawn_ones_erased(session, people):
    learner = people["learner"]
    first = contact_request_create(session, details=PHONE, requester=learner)
    second = contact_request_create(session, details=PHONE, requester=learner)
    contact_request_create(session, details=PHONE, requester=people["other"])
    contact_request_withdraw(session, requester=learner, request_id=first.id)

    requests = my_page(session, learner_id=learner.id, course_id=None).contact_requests

    assert [r.id for r in requests] == [second.id, first.id]
    assert (requests[0].status, requests[0].phone, requests[0].contact_by) == ("new", "07700 900123", "phone")
    assert (requests[1].status, requests[1].phone, requests[1].topic) == ("withdrawn", None, None)


def test_it_is_one_query_whatever_the_history(app, session, people):
    course_id, lessons = course_and_lessons(session)
    for minutes in range(30):
        attempt(session, people["learner"], lessons[minutes % 3], 1, 2, minutes_ago=minutes)
    contact_request_create(session, details=PHONE, requester=people["learner"])
    learner_id = people["learner"].id

    with count_queries(session.get_bind()) as counted:
        page = my_page(session, learner_id=learner_id, course_id=course_id)
    assert sum(summary.count for summary in page.attempts.values()) == 30 and len(page.contact_requests) == 1
    assert counted() == 1


def test_the_read_gives_the_same_rows_on_the_driver_in_core_and_through_the_session(session, people):
    """A Read of every part (app/services/reads.py): each column typed as the ORM would give it."""
    from app.services.my_page import _MY_PAGE
    from tests.services.test_reads import fresh_request, three_ways

    course_id, lessons = course_and_lessons(session)
    learner, counsellor = people["learner"], people["counsellor"]
    _, code = invitation_create(session, counsellor=counsellor, secret_key=SECRET)
    invitation_respond(session, code=code, learner=learner, accept=True, secret_key=SECRET)
    session.add(ProgressView(viewer_id=counsellor.id, learner_id=learner.id, viewer_role=counsellor.role))
    attempt(session, learner, lessons[0], 4, 5, minutes_ago=3)
    contact_request_create(session, details=PHONE, requester=learner)
    learner_id = learner.id
    fresh_request(session)

    rows = three_ways(session, _MY_PAGE, {"learner_id": learner_id, "course_id": course_id, "view_limit": 100})

    assert sorted(row[0] for row in rows) == ["attempt", "contact", "sharing", "sharing"]
    (attempt_row,) = [row for row in rows if row[0] == "attempt"]
    assert attempt_row[-7].tzinfo is not None and attempt_row[-4] is True  # submitted_at aware, passed a bool
