"""Your data: every table that points at an account is exported and erased (or unlinked)."""

import json
import uuid
from unittest.mock import ANY

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import (
    ApiToken,
    AuditEvent,
    Certificate,
    ContactRequest,
    ContactRequestEvent,
    ContactRequestNote,
    CounsellorLink,
    Course,
    CourseDraft,
    CourseMedia,
    CoursePublication,
    HandoverRequest,
    Invitation,
    Lesson,
    LessonProgress,
    LtiIdentity,
    LtiPlatform,
    ProgressView,
    Question,
    ReminderSettings,
    ReviewCard,
    Role,
    User,
    UserSession,
    XapiActor,
    XapiStatement,
)
from app.models.types import utcnow
from app.services.errors import ValidationError
from app.services.personal_data import STOPPED_SHARING, USER_REFERENCES, account_delete, personal_data_export
from app.services.progress import lesson_record_completion
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.services.review import review_submit
from app.services.user_admin import user_erase
from tests.conftest import PASSWORD, create_user


def user_references() -> set[tuple[str, str]]:
    return {
        (table.name, fk.parent.name)
        for table in db.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "users"
    }


def test_every_column_pointing_at_an_account_is_covered(ctx):
    """A new table or column referencing users must be added to USER_REFERENCES (export and erasure)."""
    assert user_references() == set(USER_REFERENCES)


@pytest.fixture
def person(app, course, session):
    """A user who appears in every column that can point at an account."""
    me = session.get(User, create_user(app, "me@example.org", name="Me Myself"))
    other = session.get(User, create_user(app, "other@example.org", role=Role.COUNSELLOR))
    lesson = session.scalar(select(Lesson).order_by(Lesson.id))
    questions = quiz_questions(session, lesson)
    quiz_submit_attempt(
        session,
        learner=me,
        lesson=lesson,
        questions=questions,
        answers={q.id: [q.live_choices[0].id] for q in questions},
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    lesson_record_completion(session, learner=me, lesson=lesson)
    # The quiz above got the "select all" question wrong (one of its two right answers): it has a
    # review card, answered here once on the review page.
    card = session.scalar(select(ReviewCard).where(ReviewCard.user_id == me.id))
    card_question = session.get(Question, card.question_id)
    review_submit(
        session,
        learner=me,
        course=session.get(Course, lesson.course_id),
        shown_question_ids=[card.question_id],
        answers={card.question_id: [card_question.live_choices[0].id]},
        submission_key=uuid.uuid4().hex,
    )
    course_row = session.scalar(select(Course))
    now = utcnow()
    session.add_all(
        [
            Invitation(counsellor_id=me.id, code_hash=uuid.uuid4().hex, expires_at=now),
            # Asked to share with a colleague of a counsellor's; and, as staff, the colleague, the
            # counsellor handing over and the one who asked, all at once.
            HandoverRequest(learner_id=me.id, counsellor_id=other.id, from_counsellor_id=other.id, expires_at=now),
            HandoverRequest(
                learner_id=other.id,
                counsellor_id=me.id,
                from_counsellor_id=me.id,
                requested_by_id=me.id,
                expires_at=now,
            ),
            Invitation(
                counsellor_id=other.id,
                code_hash=uuid.uuid4().hex,
                expires_at=now,
                used_at=now,
                used_by_id=me.id,
                label="Lee, the Tuesday group",
            ),
            CounsellorLink(counsellor_id=other.id, learner_id=me.id, created_by_id=me.id),
            CounsellorLink(counsellor_id=me.id, learner_id=other.id, created_by_id=other.id),
            CounsellorLink(counsellor_id=other.id, learner_id=other.id, created_by_id=me.id),
            ProgressView(viewer_id=other.id, learner_id=me.id, viewer_role="counsellor"),
            ProgressView(viewer_id=me.id, learner_id=other.id, viewer_role="admin"),
            AuditEvent(actor_id=other.id, subject_id=me.id, action="role_changed", details={"to": "learner"}),
            AuditEvent(actor_id=me.id, subject_id=other.id, action="deactivated", details={}),
            CourseDraft(course_id=course_row.id, data={}, updated_by_id=me.id),
            CoursePublication(course_id=course_row.id, published_by_id=me.id, summary="Changed things"),
            CourseMedia(
                course_id=course_row.id,
                name="chart.png",
                content_type="image/png",
                sha256="0" * 64,
                data=b"\x89PNG",
                size_bytes=4,
                width=1,
                height=1,
                uploaded_by_id=me.id,
            ),
            UserSession(user_id=me.id, token_hash=uuid.uuid4().hex, expires_at=now),
            ReminderSettings(user_id=me.id, away_reminders=True, last_reminded_at=now),
            Certificate(user_id=me.id, course_id=course_row.id, code=uuid.uuid4().hex, name_at_issue="Me Myself"),
            ApiToken(user_id=me.id, name="Clinic dashboard", scopes="read:progress", token_hash=uuid.uuid4().hex),
            ContactRequest(requester_id=me.id, contact_by="phone", phone="07700 900123", topic="alcohol"),
            XapiActor(user_id=me.id, name="0" * 32),
            XapiStatement(
                id=str(uuid.uuid4()),
                user_id=me.id,
                statement={"verb": {"display": {"en": "experienced"}}, "object": {"id": "http://localhost/x"}},
                created_at=now,
            ),
        ]
    )
    # An LMS (LTI) that launches the course for this person.
    lms = LtiPlatform(
        name="Moodle",
        issuer="https://lms.example.org",
        client_id="c",
        auth_login_url="https://lms.example.org/auth",
        auth_token_url="https://lms.example.org/token",
        key_set_url="https://lms.example.org/jwks",
        deployment_ids="1",
    )
    session.add(lms)
    session.flush()
    session.add(LtiIdentity(platform_id=lms.id, subject="moodle-user-7", user_id=me.id))
    # A request someone else made, which this person picked up as clinic staff.
    picked = ContactRequest(
        requester_id=other.id, contact_by="email", email="o@example.org", topic="other", picked_up_by_id=me.id
    )
    session.add(picked)
    session.flush()
    session.add(ContactRequestEvent(request_id=picked.id, actor_id=me.id, action="picked_up"))
    session.add(ContactRequestNote(request_id=picked.id, author_id=me.id, text="Called: no answer"))
    session.commit()
    return me


def test_the_export_covers_every_reference(session, person):
    data = personal_data_export(session, user=person)
    assert data["profile"]["email"] == "me@example.org"
    for (table, column), (section, _) in USER_REFERENCES.items():
        assert data[section], f"{table}.{column}: export section {section!r} is empty"
    assert data["quiz_attempts"][0]["answers"][0]["question"]
    assert "token_hash" not in data["login_sessions"][0]  # the secret stays on the server
    # A note this person added as staff: which request and when, never what it says (it is about the person who asked).
    assert data["contact_request_notes_i_added"] == [{"request": ANY, "added_at": ANY}]
    assert "Called: no answer" not in json.dumps(data)
    assert data["api_tokens"] == [
        {"name": "Clinic dashboard", "scopes": ["read:progress"], "created_at": ANY, "last_used_at": None}
    ]


def count_where(session, table, column, value) -> int:
    return session.scalar(text(f"SELECT count(*) FROM {table} WHERE {column} = :value"), {"value": value})  # noqa: S608


def erase_as_an_admin(app, session, person) -> None:
    """An admin's erasure on the person's request, from /author/users/<id>/erase."""
    admin = session.get(User, create_user(app, "ada@example.org", role=Role.ADMIN))
    user_erase(session, actor=admin, user=person)


@pytest.mark.parametrize(
    ("erase", "audit_added"),
    [
        pytest.param(lambda app, session, person: account_delete(session, user=person, password=PASSWORD), 0, id="own"),
        pytest.param(erase_as_an_admin, 1, id="by-an-admin"),  # and records that it did
    ],
)
def test_deletion_clears_every_reference_and_keeps_anonymous_audit(app, session, person, erase, audit_added):
    """The person's own deletion and an admin's erasure remove the same: one rule (account_erase)."""
    person_id = person.id
    audit_rows = session.scalar(select(func.count()).select_from(AuditEvent))
    view_rows = session.scalar(select(func.count()).select_from(ProgressView))
    contact_event_rows = session.scalar(select(func.count()).select_from(ContactRequestEvent))
    contact_note_rows = session.scalar(select(func.count()).select_from(ContactRequestNote))
    erase(app, session, person)
    session.expire_all()
    assert session.get(User, person_id) is None
    for table, column in USER_REFERENCES:
        assert count_where(session, table, column, person_id) == 0, f"{table}.{column} still points at the account"
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_rows + audit_added
    assert session.scalar(select(func.count()).select_from(ProgressView)) == view_rows
    # The open request they held goes back to the queue, one line more on its trail saying why.
    assert session.scalar(select(func.count()).select_from(ContactRequestEvent)) == contact_event_rows + 1
    last = session.scalar(select(ContactRequestEvent).order_by(ContactRequestEvent.id.desc()).limit(1))
    assert last.action == ("holder_erased" if audit_added else "holder_deleted")
    # The note they wrote on someone else's request stays the clinic's record, by nobody now.
    assert session.scalar(select(func.count()).select_from(ContactRequestNote)) == contact_note_rows == 1
    assert session.scalar(text("SELECT count(*) FROM quiz_attempts")) == 0
    assert session.scalar(text("SELECT count(*) FROM attempt_answers")) == 0
    # The invitation they answered stays the counsellor's record, without the label saying whom it was for.
    labels = session.scalars(text("SELECT label FROM invitations WHERE used_at IS NOT NULL AND used_by_id IS NULL"))
    assert list(labels) == [None]


def test_a_wrong_password_deletes_nothing(session, person):
    with pytest.raises(ValidationError):
        account_delete(session, user=person, password="not my password")
    assert session.get(User, person.id) is not None


def test_the_only_admin_cannot_delete_their_account(app, session):
    admin = session.get(User, create_user(app, "admin@example.org", role=Role.ADMIN))
    with pytest.raises(ValidationError, match="only admin"):
        account_delete(session, user=admin, password=PASSWORD)


def test_the_export_lists_rows_in_the_order_they_were_made(app, session, course):
    """Not in whatever order the database keeps them: on PostgreSQL a row changed later (a
    lesson completed, a link stopped) moves to the end of its table."""
    counsellor = session.get(User, create_user(app, "casey@example.org", name="Casey", role=Role.COUNSELLOR))
    first, second = (create_user(app, f"{name}@example.org", name=name) for name in ("Ann", "Bea"))
    lessons = session.scalars(select(Lesson).order_by(Lesson.id).limit(2)).all()
    now = utcnow()
    for learner in (first, second):
        session.add(CounsellorLink(counsellor_id=counsellor.id, learner_id=learner, created_by_id=counsellor.id))
        session.add(
            Invitation(counsellor_id=counsellor.id, code_hash=uuid.uuid4().hex, expires_at=now, label=str(learner))
        )
        session.commit()
    opened = lessons[::-1]  # the second lesson first (an index on lesson ids would list them the other way)
    for lesson in opened:
        session.add(LessonProgress(user_id=first, lesson_id=lesson.id, opened_at=now))
        session.commit()
    session.execute(
        text("UPDATE counsellor_links SET revoked_at = :now WHERE learner_id = :id"), {"now": now, "id": first}
    )
    session.execute(text("UPDATE invitations SET label = 'made first' WHERE label = :label"), {"label": str(first)})
    session.execute(
        text("UPDATE lesson_progress SET completed_at = :now WHERE lesson_id = :id"), {"now": now, "id": opened[0].id}
    )
    session.commit()

    for_counsellor = personal_data_export(session, user=counsellor)
    for_learner = personal_data_export(session, user=session.get(User, first))

    # Ann's link, made first and stopped since, is listed first, under no name (test_personal_data_names.py).
    assert [client["client"] for client in for_counsellor["clients"]] == [STOPPED_SHARING, "Bea"]
    assert [invitation["label"] for invitation in for_counsellor["invitations_created"]] == ["made first", str(second)]
    assert [row["lesson"] for row in for_learner["progress"]] == [lesson.slug for lesson in opened]
