"""Demo data for development: a counsellor with clients at different stages of the course."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import CounsellorLink, Course, LessonProgress, QuizAttempt, Role, User
from app.models.types import utcnow
from app.services.accounts import user_create
from app.services.progress import course_outline
from app.services.quizzes import quiz_questions, quiz_submit_attempt

DEMO_PASSWORD = "demo-password"  # noqa: S105 - demo accounts exist only in development
DEMO_ADMIN = "admin@demo.local"
DEMO_COUNSELLOR = "counsellor@demo.local"


@dataclass(frozen=True)
class DemoClient:
    email: str
    name: str
    lessons_passed: int
    failed_tries_on_next: int
    days_since_active: int
    linked: bool = True


DEMO_CLIENTS = (
    DemoClient("sam@demo.local", "Sam Finished", lessons_passed=99, failed_tries_on_next=0, days_since_active=1),
    DemoClient("alex@demo.local", "Alex Struggling", lessons_passed=2, failed_tries_on_next=3, days_since_active=0),
    DemoClient("jo@demo.local", "Jo Quiet", lessons_passed=1, failed_tries_on_next=1, days_since_active=12),
    DemoClient("priya@demo.local", "Priya New", lessons_passed=0, failed_tries_on_next=0, days_since_active=0),
    DemoClient(
        "chris@demo.local", "Chris Private", lessons_passed=3, failed_tries_on_next=0, days_since_active=2, linked=False
    ),
)


def _answers(questions, *, right: bool) -> dict[int, list[int]]:
    answers = {}
    for question in questions:
        if right:
            answers[question.id] = [c.id for c in question.live_choices if c.is_correct]
        else:
            # Prefer a wrong choice that reveals a misconception, so the demo has insights to show.
            wrong = [c for c in question.live_choices if not c.is_correct]
            picked = next((c for c in wrong if c.misconception_id), wrong[0])
            answers[question.id] = [picked.id]
    return answers


def _play(session: Session, learner: User, course: Course, client: DemoClient) -> None:
    """Work through the course as this client would have, then move their history into the past."""
    entries = course_outline(session, course=course, learner=learner).entries
    steps = []
    for entry in entries[: client.lessons_passed]:
        steps.append((entry.lesson, True))
    if client.lessons_passed < len(entries):
        next_lesson = entries[client.lessons_passed].lesson
        steps += [(next_lesson, False)] * client.failed_tries_on_next
        if client.failed_tries_on_next == 0 and client.lessons_passed == 0:
            session.add(LessonProgress(user_id=learner.id, lesson_id=next_lesson.id))
            session.commit()
    for lesson, right in steps:
        questions = quiz_questions(session, lesson)
        quiz_submit_attempt(
            session,
            learner=learner,
            lesson=lesson,
            questions=questions,
            answers=_answers(questions, right=right),
            submission_key=uuid.uuid4().hex,
            pass_mark=course.pass_mark,
        )
    shift = timedelta(days=client.days_since_active)
    if shift:
        # Move every timestamp back so "last active" and the inactive flag show real variety.
        for attempt in session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == learner.id)):
            attempt.submitted_at -= shift
        for row in session.scalars(select(LessonProgress).where(LessonProgress.user_id == learner.id)):
            row.opened_at -= shift
            if row.completed_at:
                row.completed_at -= shift
        session.execute(
            update(User).where(User.id == learner.id).values(created_at=utcnow() - shift - timedelta(days=3))
        )
    session.commit()


def demo_create(session: Session, *, course: Course, hash_method: str) -> list[str]:
    """Create the demo admin, counsellor and clients once; return what was created."""
    if session.scalar(select(User.id).where(User.email == DEMO_COUNSELLOR)) is not None:
        return []
    created = []
    user_create(
        session,
        email=DEMO_ADMIN,
        display_name="Dana Admin",
        password=DEMO_PASSWORD,
        role=Role.ADMIN,
        hash_method=hash_method,
    )
    counsellor = user_create(
        session,
        email=DEMO_COUNSELLOR,
        display_name="Casey Counsellor",
        password=DEMO_PASSWORD,
        role=Role.COUNSELLOR,
        hash_method=hash_method,
    )
    created += [DEMO_ADMIN, DEMO_COUNSELLOR]
    for client in DEMO_CLIENTS:
        learner = user_create(
            session, email=client.email, display_name=client.name, password=DEMO_PASSWORD, hash_method=hash_method
        )
        if client.linked:
            session.add(CounsellorLink(counsellor_id=counsellor.id, learner_id=learner.id, created_by_id=learner.id))
            session.commit()
        _play(session, learner, course, client)
        created.append(client.email)
    return created
