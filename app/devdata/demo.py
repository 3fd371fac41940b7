"""Demo data for development: an admin, a counsellor and clients at different stages of the
course, created once and in one transaction (a failure half-way leaves nothing behind, so the
next ``flask demo`` starts again from nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.devdata.history import histories_write, scripted_history
from app.devdata.shape import course_shape
from app.models import ContactRequest, ContactRequestEvent, ContactRequestNote, CounsellorLink, Course, Role, User
from app.models.types import utcnow

DEMO_PASSWORD = "demo-password"  # noqa: S105 - demo accounts exist only in development
DEMO_ADMIN = "admin@demo.local"
DEMO_COUNSELLOR = "counsellor@demo.local"


@dataclass(frozen=True)
class DemoClient:
    """A demo learner: how far they got, how often they failed the next quiz, when last active."""

    email: str
    name: str
    lessons_passed: int
    failed_tries_on_next: int
    days_since_active: int
    linked: bool = True
    # The counsellor's own label for them, as an invitation would have carried onto the link.
    label: str | None = None


DEMO_CLIENTS = (
    DemoClient(
        "sam@demo.local",
        "Sam Finished",
        lessons_passed=99,
        failed_tries_on_next=0,
        days_since_active=1,
        label="Tuesday group",
    ),
    DemoClient(
        "alex@demo.local",
        "Alex Struggling",
        lessons_passed=2,
        failed_tries_on_next=3,
        days_since_active=0,
        label="Referred by Dr Ng",
    ),
    DemoClient("jo@demo.local", "Jo Quiet", lessons_passed=1, failed_tries_on_next=1, days_since_active=12),
    DemoClient("priya@demo.local", "Priya New", lessons_passed=0, failed_tries_on_next=0, days_since_active=0),
    DemoClient(
        "chris@demo.local", "Chris Private", lessons_passed=3, failed_tries_on_next=0, days_since_active=2, linked=False
    ),
)


def _account(session: Session, *, email: str, name: str, role: Role, password_hash: str, **columns) -> User:
    user = User(email=email, display_name=name, password_hash=password_hash, role=role.value, **columns)
    session.add(user)
    session.flush()  # its id, for the links and histories below
    return user


def _build(session: Session, *, course: Course, hash_method: str) -> list[str]:
    """Add every demo row to the session's transaction, without committing; return the addresses."""
    # One hash for every demo account: they share a password, and scrypt is slow on purpose.
    password_hash = generate_password_hash(DEMO_PASSWORD, method=hash_method)
    _account(session, email=DEMO_ADMIN, name="Dana Admin", role=Role.ADMIN, password_hash=password_hash)
    counsellor = _account(
        session, email=DEMO_COUNSELLOR, name="Casey Counsellor", role=Role.COUNSELLOR, password_hash=password_hash
    )
    shape = course_shape(session, course)
    now = utcnow()
    histories = []
    for client in DEMO_CLIENTS:
        last_active = now - timedelta(days=client.days_since_active)
        learner = _account(
            session,
            email=client.email,
            name=client.name,
            role=Role.LEARNER,
            password_hash=password_hash,
            # Registered a few days before their last activity, before any of their history.
            created_at=last_active - timedelta(days=3),
            last_login_at=last_active,
        )
        if client.linked:
            session.add(
                CounsellorLink(
                    counsellor_id=counsellor.id, learner_id=learner.id, created_by_id=learner.id, label=client.label
                )
            )
        # Lessons passed first time, failed tries at the next one (wrong answers that reveal
        # misconceptions), the last step days_since_active ago.
        history = scripted_history(
            shape,
            passed=client.lessons_passed,
            failures_on_next=client.failed_tries_on_next,
            open_next=client.lessons_passed == 0,
            last_active=last_active,
        )
        histories.append((learner.id, history))
    session.flush()
    histories_write(session, course=course, histories=histories, shape=shape)
    _contact_requests(session, counsellor=counsellor, now=now)
    return [DEMO_ADMIN, DEMO_COUNSELLOR, *(client.email for client in DEMO_CLIENTS)]


def _contact_requests(session: Session, *, counsellor: User, now) -> None:
    """A small queue for the clinic: a visitor's call-back, two learners' requests with progress
    attached (one shared with the demo counsellor, one not), one the counsellor tried twice to
    reach with no answer, and one the counsellor has dealt with."""
    learners = {
        u.email: u for u in session.scalars(select(User).where(User.email.in_([c.email for c in DEMO_CLIENTS])))
    }
    asked = [
        ContactRequest(
            contact_by="phone",
            phone="07700 900461",
            name="Robin",
            good_times="After 6pm",
            topic="family",
            created_at=now - timedelta(hours=20),
            status_changed_at=now - timedelta(hours=20),
        ),
        ContactRequest(
            requester_id=learners["alex@demo.local"].id,
            progress_attached=True,
            contact_by="email",
            email="alex@demo.local",
            topic="alcohol",
            note="I keep getting the same quiz wrong. Can we talk?",
            created_at=now - timedelta(hours=3),
            status_changed_at=now - timedelta(hours=3),
        ),
        ContactRequest(
            requester_id=learners["chris@demo.local"].id,
            progress_attached=True,
            contact_by="phone",
            phone="07700 900462",
            topic="opioids",
            good_times="Weekday mornings",
            created_at=now - timedelta(days=1),
            status_changed_at=now - timedelta(days=1),
        ),
    ]
    dealt_with = ContactRequest(
        requester_id=learners["sam@demo.local"].id,
        contact_by="phone",
        phone="07700 900463",
        topic="alcohol",
        status="contacted",
        picked_up_by_id=counsellor.id,
        picked_up_at=now - timedelta(days=2),
        created_at=now - timedelta(days=3),
        status_changed_at=now - timedelta(days=2),
    )
    # Tried twice in the evenings Jo asked for, with no answer: open, and still the counsellor's to try again.
    no_answer = ContactRequest(
        requester_id=learners["jo@demo.local"].id,
        contact_by="phone",
        phone="07700 900464",
        topic="opioids",
        good_times="Weekday evenings",
        status="no_answer",
        picked_up_by_id=counsellor.id,
        picked_up_at=now - timedelta(days=2, hours=1),
        created_at=now - timedelta(days=2, hours=5),
        status_changed_at=now - timedelta(hours=22),
    )
    session.add_all([*asked, dealt_with, no_answer])
    session.flush()
    dealt_at = now - timedelta(days=2)
    _trail(
        session,
        request=dealt_with,
        counsellor=counsellor,
        steps=(
            (dealt_at, "picked_up", None, None, None),
            (dealt_at, "status", "new", "contacted", None),
            (dealt_at, "note_added", None, None, "Spoke on the phone; first appointment booked."),
        ),
    )
    _trail(
        session,
        request=no_answer,
        counsellor=counsellor,
        steps=(
            (now - timedelta(days=2, hours=1), "picked_up", None, None, None),
            (now - timedelta(days=2), "status", "new", "no_answer", None),
            (
                now - timedelta(days=2),
                "note_added",
                None,
                None,
                "Rang in the evening, as asked: no answer. No voicemail.",
            ),
            (now - timedelta(hours=22), "status", "no_answer", "no_answer", None),
            (now - timedelta(hours=22), "note_added", None, None, "Tried again, no answer. Will try tomorrow evening."),
        ),
    )


def _trail(session: Session, *, request: ContactRequest, counsellor: User, steps) -> None:
    """Add a request's trail as the services write it: each step (when, action, from status, to
    status, note text) an event by the counsellor, and a note where the step added one."""
    for at, action, from_status, to_status, text in steps:
        session.add(
            ContactRequestEvent(
                request_id=request.id,
                actor_id=counsellor.id,
                action=action,
                from_status=from_status,
                to_status=to_status,
                created_at=at,
            )
        )
        if text:
            session.add(ContactRequestNote(request_id=request.id, author_id=counsellor.id, text=text, created_at=at))


def demo_create(session: Session, *, course: Course, hash_method: str) -> list[str]:
    """Create the demo admin, counsellor and clients once, in one transaction; return the
    addresses created (none when the demo exists already). On any error everything is rolled
    back and the error raised."""
    if session.scalar(select(User.id).where(User.email == DEMO_COUNSELLOR)) is not None:
        return []
    try:
        created = _build(session, course=course, hash_method=hash_method)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return created
