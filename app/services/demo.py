"""Demo data for development: a counsellor with clients at different stages of the course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import CounsellorLink, Course, Role, User
from app.models.types import utcnow
from app.services.accounts import user_create
from app.services.seeding import CourseShape, course_shape, histories_write, scripted_history

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


def _play(session: Session, learner: User, course: Course, client: DemoClient, shape: CourseShape) -> None:
    """Record this client's history with the seeding code: lessons passed first time, failed tries
    at the next one (wrong answers that reveal misconceptions), the last step days_since_active ago."""
    last_active = utcnow() - timedelta(days=client.days_since_active)
    history = scripted_history(
        shape,
        passed=client.lessons_passed,
        failures_on_next=client.failed_tries_on_next,
        open_next=client.lessons_passed == 0,
        last_active=last_active,
    )
    histories_write(session, course=course, histories=[(learner.id, history)], shape=shape)
    # Registered a few days before their last activity, before any of the history above.
    session.execute(update(User).where(User.id == learner.id).values(created_at=last_active - timedelta(days=3)))
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
    shape = course_shape(session, course)
    for client in DEMO_CLIENTS:
        learner = user_create(
            session, email=client.email, display_name=client.name, password=DEMO_PASSWORD, hash_method=hash_method
        )
        if client.linked:
            session.add(CounsellorLink(counsellor_id=counsellor.id, learner_id=learner.id, created_by_id=learner.id))
            session.commit()
        _play(session, learner, course, client, shape)
        created.append(client.email)
    return created
