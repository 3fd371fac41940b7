"""A person's rights over their data: download everything held about them, and erase it.

USER_REFERENCES names every column in the schema that points at an account and says how the
export covers it and what erasure does to it; a test fails when a new one is left out.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash

from app.models import (
    ApiToken,
    AuditEvent,
    Certificate,
    CounsellorLink,
    Course,
    CourseDraft,
    CourseMedia,
    CoursePublication,
    HandoverRequest,
    Invitation,
    Lesson,
    LessonProgress,
    ProgressView,
    Question,
    QuizAttempt,
    ReminderSettings,
    ReviewAnswer,
    ReviewCard,
    Role,
    User,
    UserSession,
)
from app.services.contact_requests import (
    HOLDER_DELETED,
    HOLDER_ERASED,
    contact_requests_export,
    contact_requests_unhold,
)
from app.services.errors import ValidationError
from app.services.lti.identities import lti_export
from app.services.sharing import counsellor_now, visible_learner_ids
from app.services.user_admin import is_last_active_admin_locked
from app.services.xapi import xapi_export

# (table, column) -> (export section, what erasure does)
USER_REFERENCES = {
    ("lesson_progress", "user_id"): ("progress", "erased"),
    ("quiz_attempts", "user_id"): ("quiz_attempts", "erased, with their answers"),
    ("invitations", "counsellor_id"): ("invitations_created", "erased"),
    ("invitations", "used_by_id"): (
        "invitations_answered",
        "unlinked, the counsellor's label of whom it was for cleared",
    ),
    ("counsellor_links", "learner_id"): ("sharing", "erased"),
    ("counsellor_links", "counsellor_id"): ("clients", "erased"),
    ("counsellor_links", "created_by_id"): ("links_made_for_others", "unlinked"),
    ("handover_requests", "learner_id"): ("handover_requests_to_me", "erased"),
    ("handover_requests", "counsellor_id"): ("handover_requests_to_share_with_me", "erased"),
    ("handover_requests", "from_counsellor_id"): ("handover_requests_for_my_clients", "unlinked"),
    ("handover_requests", "requested_by_id"): ("handover_requests_i_started", "unlinked"),
    ("progress_views", "learner_id"): ("views_of_my_progress", "unlinked: an anonymous record stays"),
    ("progress_views", "viewer_id"): ("progress_i_viewed", "unlinked: an anonymous record stays"),
    ("audit_events", "subject_id"): ("admin_actions_on_my_account", "unlinked: an anonymous record stays"),
    ("audit_events", "actor_id"): ("admin_actions_i_took", "unlinked: an anonymous record stays"),
    ("course_drafts", "updated_by_id"): ("course_drafts_i_edited", "unlinked"),
    ("course_publications", "published_by_id"): ("course_publications_i_made", "unlinked"),
    ("course_media", "uploaded_by_id"): ("course_images_i_uploaded", "unlinked: the image stays in the course"),
    ("user_sessions", "user_id"): ("login_sessions", "erased"),
    ("reminder_settings", "user_id"): ("reminders", "erased"),
    ("review_cards", "user_id"): ("review_schedule", "erased"),
    ("review_answers", "user_id"): ("review_answers", "erased"),
    ("certificates", "user_id"): ("certificates", "erased: their codes then verify nothing"),
    ("api_tokens", "user_id"): ("api_tokens", "erased: the tokens stop working"),
    ("contact_requests", "requester_id"): ("contact_requests", "erased"),
    ("contact_requests", "picked_up_by_id"): ("contact_requests_i_picked_up", "unlinked"),
    ("contact_request_notes", "author_id"): (
        "contact_request_notes_i_added",
        "unlinked: the note stays the clinic's record, by a removed account",
    ),
    ("contact_request_events", "actor_id"): ("contact_request_actions_i_took", "unlinked: an anonymous record stays"),
    ("xapi_actors", "user_id"): ("learning_record_store_id", "erased: the store's statements lead to nobody"),
    ("xapi_statements", "user_id"): ("learning_record_store_waiting", "erased: never sent"),
    ("lti_identities", "user_id"): ("lms_links", "erased, with where scores went: a new launch makes a new account"),
}


# What a person's export says instead of a learner's name it must not give.
REMOVED_ACCOUNT = "A removed account"
# Neutral: the link may have ended either way (the client stopped sharing, or the counsellor stopped seeing them).
STOPPED_SHARING = "A client who no longer shares with you"
NOT_SHARED_NOW = "A learner whose progress you can no longer see"
# A request to share with the colleague, in the colleague's export, for a client who has not said yes to it
# (or no longer shares with them): one wording whether or not the colleague sees that client, so a row
# tells them nothing of whom the client shared with before, nor how they answered.
ASKED_CLIENT = "A client asked to share with you"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _stopped_by(link: CounsellorLink, learner: str, counsellor: str) -> str | None:
    """Who ended a sharing link, in the reader's words for each side; None while it lasts."""
    if link.revoked_at is None:
        return None
    return counsellor if link.ended_by_counsellor else learner


def _names(session: Session, user_ids: AbstractSet[int | None]) -> tuple[dict[int | None, str], dict[int, str]]:
    """The display names of the people the export mentions, and what each is now to a learner who
    shares with them (``sharing.counsellor_now``), in one query whatever their number."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}, {}
    rows = session.execute(select(User.id, User.display_name, counsellor_now()).where(User.id.in_(ids))).all()
    return {row[0]: row[1] for row in rows}, {row[0]: row[2] for row in rows}


def _visible_learner_names(session: Session, *, viewer: User, learner_ids: AbstractSet[int | None]) -> dict[int, str]:
    """The names of those of these learners the viewer may see now, by sharing's one rule
    (``visible_learner_ids``: an admin every learner, a counsellor the clients who share with
    them today), in one query whatever their number."""
    ids = {learner_id for learner_id in learner_ids if learner_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(User.id, User.display_name).where(User.id.in_(ids), User.id.in_(visible_learner_ids(viewer)))
    )
    return {row.id: row.display_name for row in rows}


def _viewed_learner(view: ProgressView, learner_names: dict[int, str]) -> str:
    """Whose progress a view was of, in the viewer's export: a name only while the viewer may see them."""
    if view.learner_id is None:
        return REMOVED_ACCOUNT
    if view.learner_id in learner_names:
        return learner_names[view.learner_id]
    return STOPPED_SHARING if view.viewer_role == Role.COUNSELLOR else NOT_SHARED_NOW


def _handover_sections(
    handovers: list[HandoverRequest], *, user: User, names: dict[int | None, str], learner_names: dict[int, str]
) -> dict[str, list[dict]]:
    """The requests to share with a colleague (app/services/handover.py) the person was asked, was
    the colleague of, handed over, or started; a client named only while the person may see them."""

    def answer(h: HandoverRequest) -> dict:
        return {
            "asked_at": _when(h.created_at),
            "expires_at": _when(h.expires_at),
            "answered_at": _when(h.answered_at),
            "accepted": h.accepted,
        }

    def unanswered(h: HandoverRequest) -> dict:
        return {**answer(h), "answered_at": None, "accepted": None}

    def client(h: HandoverRequest) -> str:
        return learner_names.get(h.learner_id, NOT_SHARED_NOW)

    return {
        "handover_requests_to_me": [
            {"from": names.get(h.from_counsellor_id), "to": names.get(h.counsellor_id), **answer(h)}
            for h in handovers
            if h.learner_id == user.id
        ],
        # The client was told the colleague learns nothing unless they say yes: who was asked, and how
        # one answered (a no, or a yes since ended), is not theirs to know until then. Nor is a client
        # they see named for a request not accepted: it was made whether or not the client shared with
        # them already, so naming them would say whom else they share with (app/services/handover.py).
        "handover_requests_to_share_with_me": [
            {"client": learner_names[h.learner_id], "from": names.get(h.from_counsellor_id), **answer(h)}
            if h.accepted and h.learner_id in learner_names
            else {"client": ASKED_CLIENT, "from": names.get(h.from_counsellor_id), **unanswered(h)}
            for h in handovers
            if h.counsellor_id == user.id
        ],
        "handover_requests_for_my_clients": [
            {"client": client(h), "to": names.get(h.counsellor_id), **answer(h)}
            for h in handovers
            if h.from_counsellor_id == user.id
        ],
        "handover_requests_i_started": [
            {
                "client": client(h),
                "from": names.get(h.from_counsellor_id),
                "to": names.get(h.counsellor_id),
                **answer(h),
            }
            for h in handovers
            if h.requested_by_id == user.id
        ],
    }


def personal_data_export(session: Session, *, user: User) -> dict:
    """Everything held about this account, as plain JSON-ready data."""
    # Each lesson by its address (slug, stable for programs) and its title (for people).
    all_lessons = list(session.scalars(select(Lesson)))
    lessons = {lesson.id: lesson.slug for lesson in all_lessons}
    titles = {lesson.id: lesson.title for lesson in all_lessons}
    attempts = session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == user.id)
        .order_by(QuizAttempt.submitted_at)
        .options(selectinload(QuizAttempt.answers))
    )
    data = {
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role,
            "active": user.is_active,
            "created_at": _when(user.created_at),
            "last_login_at": _when(user.last_login_at),
        },
        "progress": [
            {
                "lesson": lessons.get(row.lesson_id),
                "lesson_title": titles.get(row.lesson_id),
                "opened_at": _when(row.opened_at),
                "completed_at": _when(row.completed_at),
            }
            for row in session.scalars(
                select(LessonProgress).where(LessonProgress.user_id == user.id).order_by(LessonProgress.id)
            )
        ],
        "quiz_attempts": [
            {
                "lesson": lessons.get(attempt.lesson_id),
                "lesson_title": titles.get(attempt.lesson_id),
                "submitted_at": _when(attempt.submitted_at),
                "score": attempt.score,
                "passed": attempt.passed,
                "answers": [
                    {"question": answer.prompt, "right": answer.is_correct, "choices": answer.choices_shown}
                    for answer in attempt.answers
                ],
            }
            for attempt in attempts
        ],
    }
    links = list(
        session.scalars(
            select(CounsellorLink)
            .where(
                (CounsellorLink.learner_id == user.id)
                | (CounsellorLink.counsellor_id == user.id)
                | (CounsellorLink.created_by_id == user.id)
            )
            .order_by(CounsellorLink.created_at, CounsellorLink.id)
        )
    )
    invitations = list(
        session.scalars(
            select(Invitation)
            .where((Invitation.counsellor_id == user.id) | (Invitation.used_by_id == user.id))
            .order_by(Invitation.created_at, Invitation.id)
        )
    )
    views = list(
        session.scalars(
            select(ProgressView)
            .where((ProgressView.learner_id == user.id) | (ProgressView.viewer_id == user.id))
            .order_by(ProgressView.viewed_at)
        )
    )
    handovers = list(
        session.scalars(
            select(HandoverRequest)
            .where(
                (HandoverRequest.learner_id == user.id)
                | (HandoverRequest.counsellor_id == user.id)
                | (HandoverRequest.from_counsellor_id == user.id)
                | (HandoverRequest.requested_by_id == user.id)
            )
            .order_by(HandoverRequest.created_at, HandoverRequest.id)
        )
    )
    staff = {link.counsellor_id for link in links} | {i.counsellor_id for i in invitations}
    staff |= {h.counsellor_id for h in handovers}
    handing_over = {h.from_counsellor_id for h in handovers}
    names, now = _names(session, staff | handing_over | {v.viewer_id for v in views})
    # Learners this person linked with, looked at or asked to share with a colleague are named only
    # while they may see them now: one who stopped sharing was promised the counsellor sees nothing
    # more, their name included, and one who declined a colleague was promised them nothing.
    learners = {link.learner_id for link in links if link.learner_id != user.id}
    learners |= {h.learner_id for h in handovers if h.learner_id != user.id}
    learner_names = _visible_learner_names(
        session, viewer=user, learner_ids=learners | {v.learner_id for v in views if v.viewer_id == user.id}
    )
    data["sharing"] = [
        {
            "counsellor": names.get(link.counsellor_id),
            "since": _when(link.created_at),
            "stopped": _when(link.revoked_at),
            "stopped_by": _stopped_by(link, "you", "the counsellor"),
            # While the sharing lasts, what the counsellor is now (/me/ says the same): one no longer
            # a counsellor's sees nothing of it, an admin sees every learner's progress anyway.
            "counsellor_now": now.get(link.counsellor_id) if link.revoked_at is None else None,
        }
        for link in links
        if link.learner_id == user.id
    ]
    # A stopped link stays the counsellor's record of when sharing began and ended, under no name.
    data["clients"] = [
        {
            "client": STOPPED_SHARING if link.revoked_at else learner_names.get(link.learner_id, NOT_SHARED_NOW),
            "since": _when(link.created_at),
            "stopped": _when(link.revoked_at),
            "stopped_by": _stopped_by(link, "the client", "you"),
            # The counsellor's own note, as on their invitations below: never in the client's "sharing".
            "label": link.label,
        }
        for link in links
        if link.counsellor_id == user.id
    ]
    data["links_made_for_others"] = [
        {
            "client": learner_names.get(link.learner_id, NOT_SHARED_NOW),
            "counsellor": names.get(link.counsellor_id),
            "made_at": _when(link.created_at),
        }
        for link in links
        if link.created_by_id == user.id and link.learner_id != user.id
    ]
    data["invitations_created"] = [
        {
            "created_at": _when(i.created_at),
            "expires_at": _when(i.expires_at),
            "used_at": _when(i.used_at),
            "accepted": i.accepted,
            # The counsellor's own note: theirs to download, never in the client's export below.
            "label": i.label,
            "cancelled_at": _when(i.cancelled_at),
        }
        for i in invitations
        if i.counsellor_id == user.id
    ]
    data["invitations_answered"] = [
        {"from": names.get(i.counsellor_id), "answered_at": _when(i.used_at), "accepted": i.accepted}
        for i in invitations
        if i.used_by_id == user.id
    ]
    data.update(_handover_sections(handovers, user=user, names=names, learner_names=learner_names))
    data["views_of_my_progress"] = [
        {
            "viewer": names.get(v.viewer_id) or REMOVED_ACCOUNT,
            "role": v.viewer_role,
            "viewed_at": _when(v.viewed_at),
        }
        for v in views
        if v.learner_id == user.id
    ]
    data["progress_i_viewed"] = [
        {"learner": _viewed_learner(v, learner_names), "viewed_at": _when(v.viewed_at)}
        for v in views
        if v.viewer_id == user.id
    ]
    events = list(
        session.scalars(
            select(AuditEvent)
            .where((AuditEvent.subject_id == user.id) | (AuditEvent.actor_id == user.id))
            .order_by(AuditEvent.created_at)
        )
    )
    data["admin_actions_on_my_account"] = [
        {"action": e.action, "details": e.details, "at": _when(e.created_at)} for e in events if e.subject_id == user.id
    ]
    data["admin_actions_i_took"] = [
        {"action": e.action, "details": e.details, "at": _when(e.created_at)} for e in events if e.actor_id == user.id
    ]
    data["course_drafts_i_edited"] = [
        {"course_id": d.course_id, "updated_at": _when(d.updated_at)}
        for d in session.scalars(
            select(CourseDraft).where(CourseDraft.updated_by_id == user.id).order_by(CourseDraft.id)
        )
    ]
    data["course_publications_i_made"] = [
        {"course_id": p.course_id, "published_at": _when(p.published_at), "summary": p.summary}
        for p in session.scalars(
            select(CoursePublication)
            .where(CoursePublication.published_by_id == user.id)
            .order_by(CoursePublication.published_at, CoursePublication.id)
        )
    ]
    # Which images, not the images: they are course content, not the person's data.
    data["course_images_i_uploaded"] = [
        {"course": title, "name": m.name, "uploaded_at": _when(m.uploaded_at)}
        for m, title in session.execute(
            select(CourseMedia, Course.title)
            .join(Course, Course.id == CourseMedia.course_id)
            .where(CourseMedia.uploaded_by_id == user.id)
            .order_by(CourseMedia.id)
        )
    ]
    # The token's hash stays out: it is of no use to the person and is best kept on the server.
    data["login_sessions"] = [
        {
            "started_at": _when(s.created_at),
            "last_seen_at": _when(s.last_seen_at),
            "ends_at": _when(s.expires_at),
            "kept_logged_in": s.remember,
        }
        for s in session.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.created_at)
        )
    ]
    # Names, scopes and dates only: the token's hash stays on the server, like the sessions' above.
    data["api_tokens"] = [
        {
            "name": t.name,
            "scopes": sorted(t.scope_set),
            "created_at": _when(t.created_at),
            "last_used_at": _when(t.last_used_at),
        }
        for t in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    ]
    reminders = session.get(ReminderSettings, user.id)
    data["reminders"] = (
        {
            "away_a_week_with_lessons_left": reminders.away_reminders,
            "questions_to_review": reminders.review_reminders,
            "last_reminded_at": _when(reminders.last_reminded_at),
            "changed_at": _when(reminders.updated_at),
        }
        if reminders is not None
        else {}
    )
    questions = {
        question_id: prompt
        for question_id, prompt in session.execute(
            select(Question.id, Question.prompt)
            .join(ReviewCard, ReviewCard.question_id == Question.id)
            .where(ReviewCard.user_id == user.id)
        )
    }
    data["review_schedule"] = [
        {
            "question": questions.get(card.question_id),
            "due": _when(card.due),
            "state": card.state,
            "step": card.step,
            "stability": card.stability,
            "difficulty": card.difficulty,
            "last_review": _when(card.last_review),
            "last_rating": card.last_rating,
            "created_at": _when(card.created_at),
        }
        for card in session.scalars(select(ReviewCard).where(ReviewCard.user_id == user.id).order_by(ReviewCard.id))
    ]
    data["review_answers"] = [
        {
            "question": answer.prompt,
            "answered_at": _when(answer.answered_at),
            "right": answer.is_correct,
            "rating": answer.rating,
            "choices": answer.choices_shown,
        }
        for answer in session.scalars(
            select(ReviewAnswer)
            .where(ReviewAnswer.user_id == user.id)
            .order_by(ReviewAnswer.answered_at, ReviewAnswer.id)
        )
    ]
    # Codes included: they are the person's own, shown to them on their certificate page too.
    data["certificates"] = [
        {
            "course": title,
            "code": c.code,
            "issued_at": _when(c.issued_at),
            "revoked_at": _when(c.revoked_at),
            "name_at_issue": c.name_at_issue,
            "name_shown": c.name_display,
            "public": c.public,
        }
        for c, title in session.execute(
            select(Certificate, Course.title)
            .join(Course, Course.id == Certificate.course_id)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.id)
        )
    ]
    # Requests to be contacted by the clinic: the person's own, and what they did to others' as staff.
    data.update(contact_requests_export(session, user=user))
    # The pseudonym the site's learning record store knows them by, and what still waits to go there.
    data.update(xapi_export(session, user_id=user.id))
    # The LMSs (LTI) that launch the course for them, and where their scores go.
    data.update(lti_export(session, user_id=user.id))
    return data


def account_delete(session: Session, *, user: User, password: str | None) -> None:
    """Erase the person's own account after checking its password again, and commit.

    What goes and what stays is ``account_erase``'s rule, which an admin's erasure on request
    (``user_erase`` in app/services/user_admin.py) follows too.
    """
    # An account with no password anyone knows (an LMS signs it in): being signed in, and the
    # confirmation, must do. Every other account gives its password again.
    if user.signs_in_with_password and not check_password_hash(user.password_hash, password or ""):
        raise ValidationError("password", "That password is not right.")
    if is_last_active_admin_locked(session, user):
        session.rollback()  # releases the lock at once
        raise ValidationError("password", "You are the only admin. Make someone else an admin first.")
    account_erase(session, user=user, erased_by=None)
    session.commit()


def account_erase(session: Session, *, user: User, erased_by: User | None) -> None:
    """Erase the account in the caller's transaction; the caller checks who may, and commits.

    ``erased_by`` is the admin who erases it, or None for the person's own deletion: the open
    contact requests the account held go back to the queue, each with a line on its trail saying
    why (``contact_requests_unhold``), as when a holder is deactivated.

    Progress, attempts (with answers), review cards and answers, invitations, sharing links, login sessions,
    API tokens, reminder settings, requests to be contacted, the xAPI pseudonym and statements not yet sent,
    LMS links and certificates go with it (ON DELETE CASCADE: a deleted account's certificate code verifies
    nothing);
    audit records stay, unlinked, so they keep no personal data (ON DELETE SET NULL), and so do
    the invitations the person answered, with the counsellor's label of whom each was for cleared.
    The one rule for erasure: the person's own deletion and an admin's both come here.
    """
    # The label a counsellor wrote on an invitation this person used says whom it was for (a name,
    # a group): it is about them, so it goes with them; the invitation stays, unlinked, as the
    # counsellor's record that one was used.
    session.execute(
        update(Invitation)
        .where(Invitation.used_by_id == user.id)
        .values(label=None)
        .execution_options(synchronize_session=False)
    )
    # Without this the holder's key would only be unlinked (SET NULL below): the request back in the
    # queue with nothing on its trail or its card to say why, or that someone may have called already.
    contact_requests_unhold(
        session,
        holder_id=user.id,
        actor=erased_by,
        action=HOLDER_DELETED if erased_by is None else HOLDER_ERASED,
    )
    # A plain DELETE lets the database apply each foreign key's rule, as declared in the schema.
    session.execute(delete(User).where(User.id == user.id))
