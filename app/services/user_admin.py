"""User administration by admins: find accounts, create them, send a reset link, change roles,
deactivate and reactivate, link a learner to a counsellor on the learner's behalf, and erase an
account on its owner's request.

Every change is one transaction that also writes an ``AuditEvent`` (ids only, never
personal data). Two rules protect the site: an admin never demotes, deactivates or erases their
own account, and the last active admin can never be removed, so the site always keeps
someone who can administer it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, literal, null, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from app.models import (
    COUNSELLING_ROLES,
    AuditEvent,
    CounsellorLink,
    HandoverRequest,
    Invitation,
    LessonProgress,
    LtiIdentity,
    Role,
    User,
)
from app.models.types import utcnow
from app.permissions import can_author
from app.services.accounts import HIDDEN_MARKS_MESSAGE, name_has_hidden_marks, normalise_email, user_by_email
from app.services.api_tokens import tokens_revoke_all
from app.services.audit import audit_record
from app.services.contact_requests import HOLDER_DEACTIVATED, HOLDER_NOT_STAFF, contact_requests_unhold
from app.services.default_course import course_or_default
from app.services.errors import DomainError, ValidationError
from app.services.progress import live_lesson_ids
from app.services.sharing import active_link, progress_view_record
from app.services.text_search import contains_text
from app.services.user_sessions import user_sessions_end_all

PAGE_SIZE = 50
SEARCH_MAX_LENGTH = 80
AUDIT_LIMIT = 100
NAME_MAX_LENGTH = 80
EMAIL_MAX_LENGTH = 254

# The stored "hash" of an account an admin created, until its owner chooses a password from the
# e-mailed link. It is no hash at all (no "$"), so no password ever matches it and nobody, the
# admin included, knows a password for the account.
NO_PASSWORD_YET = "!no-password-yet"  # noqa: S105 -- a marker that matches no password

# The list's orders, by the name the query string uses.
SORTS = ("name", "last_login", "role")
STATUSES = ("active", "deactivated")


class NotAllowed(DomainError):
    """Only an active admin may manage accounts."""


class AccountChangeRefused(ValidationError):
    """The change breaks an administration rule; ``field`` names the control it belongs to."""


class OwnAccountRefused(AccountChangeRefused):
    """An admin tried to demote or deactivate their own account."""


class LastAdminRefused(AccountChangeRefused):
    """The change would leave the site without an active admin."""


class LinkRefused(AccountChangeRefused):
    """The accounts cannot be linked (wrong roles, or a deactivated account)."""


class EmailInUse(AccountChangeRefused):
    """An account already uses the address (admins may see every account, so saying so leaks nothing)."""


class ResetLinkRefused(AccountChangeRefused):
    """A deactivated account cannot be sent a reset link: the link would not work."""


class AccountGone(DomainError):
    """The account is no longer there: erased meanwhile, by another admin or by its owner."""


@dataclass(frozen=True)
class UserQuery:
    """What the admin asked for: free-text search, role and status filters, order and page (from 1)."""

    search: str = ""
    role: str = ""
    status: str = ""
    sort: str = "name"
    page: int = 1


@dataclass(frozen=True)
class UserRow:
    """One account in the list, with when it last logged in and how far it is through the course."""

    user: User
    # When it last logged in (``last_login_at``, kept when that session ends); None if never.
    last_login: datetime | None
    # Live lessons of the default course completed; None when there is no course.
    completed: int | None
    # A platform (LMS) that is registered now signs this account in.
    lms_linked: bool = False


@dataclass(frozen=True)
class UserPage:
    """One page of accounts and where it sits in the whole result."""

    rows: list[UserRow]
    total: int
    page: int
    pages: int
    # How many live lessons the default course has; None when there is no course.
    live_lessons: int | None = None

    @property
    def users(self) -> list[User]:
        """The page's accounts, in order."""
        return [row.user for row in self.rows]


@dataclass(frozen=True)
class AuditRecord:
    """One administrative action on an account, with the acting admin's name for display."""

    action: str
    details: dict
    actor_name: str | None
    created_at: datetime
    # The counsellor a ``link_created`` event names, looked up for display only.
    counsellor_name: str | None = None


def _require_admin(actor: User) -> None:
    if not can_author(actor) or not actor.is_active:
        raise NotAllowed("Only an admin can manage accounts.")


def _audit(session: Session, *, actor: User, subject: User, action: str, details: dict | None = None) -> AuditEvent:
    return audit_record(session, actor=actor, subject=subject, action=action, details=details)


def lock_active_admins(session: Session, user: User) -> list[int]:
    """Lock the active admins' rows and reload ``user``; return the active admins' ids.

    Rows are locked in id order, so two admins acting at once cannot deadlock. On PostgreSQL
    a concurrent change that would remove an admin waits here and then sees the committed
    result, so two admins demoting each other cannot leave the site with none; SQLite
    serialises writers anyway. Reloading decides on the committed state, not on what this
    session loaded earlier.
    """
    active_admins = _lock_active_admin_ids(session)
    session.refresh(user)
    return active_admins


def _lock_active_admin_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True)).order_by(User.id).with_for_update()
        )
    )


def _is_active_admin(user: User) -> bool:
    return user.role == Role.ADMIN and user.is_active


def is_last_active_admin(user: User, active_admins: list[int]) -> bool:
    """The rule that keeps the site administrable: ``user`` is its only active admin.

    ``active_admins`` is what lock_active_admins returned, so the answer holds until the
    caller's transaction ends.
    """
    return _is_active_admin(user) and active_admins == [user.id]


def is_last_active_admin_locked(session: Session, user: User) -> bool:
    """Whether ``user`` is the only active admin, locking the admins' rows only when it is an admin.

    For changes that are refused for the last admin alone (erasing an account): anyone else
    goes ahead without waiting on the lock. The caller commits or rolls back.
    """
    # Only an active admin can be the last one; lock_active_admins reloads the account too.
    return _is_active_admin(user) and is_last_active_admin(user, lock_active_admins(session, user))


def _refuse_losing_admin(
    session: Session, *, actor: User, user: User, active_admins: list[int], field: str, own_message: str
) -> None:
    """Refuse taking away an active admin when it is the actor's own account or the last one.

    Rolls back first, so a refusal releases the row locks at once.
    """
    error: AccountChangeRefused | None = None
    if user.id == actor.id:
        error = OwnAccountRefused(field, own_message)
    elif is_last_active_admin(user, active_admins):
        error = LastAdminRefused(field, "This is the only active admin. Make another account an admin first.")
    if error is not None:
        session.rollback()
        raise error


def users_search(session: Session, *, query: UserQuery) -> UserPage:
    """Return one page of accounts matching the search (name or e-mail, any case), role and status,
    each with its last login and its progress through the default course's live lessons.

    Runs four queries (the count, the default course, its live lessons and the page; three when
    there is no course), whatever the number of accounts: progress is a subquery of the page's
    query, the last login a column of the account.
    """
    stmt = select(User)
    search = query.search.strip()[:SEARCH_MAX_LENGTH]
    if search:
        stmt = stmt.where(or_(contains_text(User.display_name, search), contains_text(User.email, search)))
    if query.role in set(Role):
        stmt = stmt.where(User.role == query.role)
    if query.status in STATUSES:
        stmt = stmt.where(User.is_active.is_(query.status == "active"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, query.page), pages)

    course = course_or_default(session)
    last_login = User.last_login_at
    live_total: int | None = None
    completed: ColumnElement[Any] = null()  # no course: nobody has progress to show
    if course is not None:
        live = live_lesson_ids(course.id)
        live_total = session.scalar(select(func.count()).select_from(live.subquery())) or 0
        completed = (
            select(func.count(LessonProgress.id))
            .where(
                LessonProgress.user_id == User.id,
                LessonProgress.completed_at.is_not(None),
                LessonProgress.lesson_id.in_(live),
            )
            .correlate(User)
            .scalar_subquery()
        )
    by_name = (func.lower(User.display_name), User.id)
    order = {
        "last_login": (last_login.desc().nulls_last(), *by_name),
        "role": (User.role, *by_name),
    }.get(query.sort, by_name)
    rows = session.execute(
        stmt.add_columns(last_login, completed, _lms_linked(User.id))
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return UserPage(
        rows=[
            UserRow(user=user, last_login=seen, completed=done, lms_linked=linked) for user, seen, done, linked in rows
        ],
        total=total,
        page=page,
        pages=pages,
        live_lessons=live_total,
    )


def _lms_linked(user_id: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """Whether a registered platform signs the account in (its identities go with a removed platform)."""
    return exists().where(LtiIdentity.user_id == user_id)


def lms_linked(session: Session, *, user: User) -> bool:
    """Whether a platform (LMS) registered now signs ``user`` in.

    An account with no e-mail address that no platform signs in any more (its platform was
    removed) can be reached by nobody: the admin's pages say so, since only erasing it is left.
    """
    return bool(session.scalar(select(_lms_linked(literal(user.id)))))


def user_audit_events(session: Session, *, user: User, limit: int = AUDIT_LIMIT) -> list[AuditRecord]:
    """The administrative actions taken on this account, newest first (at most two queries)."""
    actor = aliased(User)
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.details, AuditEvent.created_at, actor.display_name)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(AuditEvent.subject_id == user.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    counsellor_ids = {
        details["counsellor_id"]
        for _, details, _, _ in rows
        if isinstance(details, dict) and isinstance(details.get("counsellor_id"), int)
    }
    names = (
        dict(session.execute(select(User.id, User.display_name).where(User.id.in_(counsellor_ids))).all())
        if counsellor_ids
        else {}
    )
    return [
        AuditRecord(action, details or {}, name, when, names.get(details.get("counsellor_id")) if details else None)
        for action, details, when, name in rows
    ]


def counsellor_choices(session: Session) -> list[User]:
    """The active counsellors a learner can be linked to, by name (one query)."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.COUNSELLOR, User.is_active.is_(True))
            .order_by(func.lower(User.display_name), User.id)
        )
    )


def user_role_change(session: Session, *, actor: User, user: User, role: Role | str) -> bool:
    """Give the account a new role, audit it as ``role_changed`` and commit.

    An account that leaves the staff (a counsellor or admin made a learner) hands the open contact
    requests it held back to the queue in the same commit, each recorded on its trail.
    Returns False, changing nothing, when the account already has that role. Raises
    ValidationError for an unknown role, OwnAccountRefused when an admin demotes themselves
    and LastAdminRefused when it would leave no active admin.
    """
    _require_admin(actor)
    if role not in set(Role):
        raise ValidationError("role", f"Choose one of: {', '.join(Role)}.")
    role = Role(role)
    active_admins = lock_active_admins(session, user)
    if user.role == Role.ADMIN and role != Role.ADMIN:
        _refuse_losing_admin(
            session,
            actor=actor,
            user=user,
            active_admins=active_admins,
            field="role",
            own_message="You cannot remove your own admin role.",
        )
    if user.role == role:
        session.rollback()  # nothing to write; release the row locks
        return False
    previous = user.role
    user.role = role.value
    if previous in COUNSELLING_ROLES and role not in COUNSELLING_ROLES:
        contact_requests_unhold(session, holder_id=user.id, actor=actor, action=HOLDER_NOT_STAFF)
    _audit(session, actor=actor, subject=user, action="role_changed", details={"from": previous, "to": role.value})
    session.commit()
    return True


def user_deactivate(session: Session, *, actor: User, user: User) -> bool:
    """Deactivate the account so it can no longer log in, audit it as ``deactivated`` and commit.

    Progress, attempts and links stay as they were. Every session of the account ends
    (remember-me cookies too), its API tokens are revoked and the links already mailed about it
    (a reset, a change of address) are spent, so none can come back if it is reactivated. The
    open contact requests it held go back to the queue, each recorded on its trail, so none waits
    on someone who can no longer log in to call.
    Returns False when the account was already deactivated. Raises OwnAccountRefused or
    LastAdminRefused.
    """
    _require_admin(actor)
    active_admins = lock_active_admins(session, user)
    _refuse_losing_admin(
        session,
        actor=actor,
        user=user,
        active_admins=active_admins,
        field="active",
        own_message="You cannot deactivate your own account.",
    )
    if not user.is_active:
        session.rollback()  # nothing to write; release the row locks
        return False
    user.is_active = False
    user.session_version += 1  # a reset link mailed before would otherwise work again on reactivation
    user_sessions_end_all(session, user=user)
    tokens_revoke_all(session, user=user)
    contact_requests_unhold(session, holder_id=user.id, actor=actor, action=HOLDER_DEACTIVATED)
    _audit(session, actor=actor, subject=user, action="deactivated")
    session.commit()
    return True


def user_reactivate(session: Session, *, actor: User, user: User) -> bool:
    """Let a deactivated account log in again, audit it as ``reactivated`` and commit.

    The person logs in afresh: any session left from before the deactivation is ended, so an
    old cookie never comes back with the account. Returns False when the account was already
    active.
    """
    _require_admin(actor)
    session.refresh(user)
    if user.is_active:
        return False
    user.is_active = True
    user_sessions_end_all(session, user=user)
    _audit(session, actor=actor, subject=user, action="reactivated")
    session.commit()
    return True


def learner_link_checked(session: Session, *, learner: User, counsellor_id: int) -> tuple[User, CounsellorLink | None]:
    """The counsellor ``learner_link_counsellor`` would link the learner to, and their live link
    if there is one already; raises LinkRefused as it would. Writes nothing: for the page that
    asks before linking, so that it asks only about a link that would be made."""
    if learner.role != Role.LEARNER:
        raise LinkRefused("counsellor_id", "Only learner accounts can share their progress with a counsellor.")
    if not learner.is_active:
        raise LinkRefused("counsellor_id", "This account is deactivated. Reactivate it before linking.")
    counsellor = session.get(User, counsellor_id)
    if counsellor is None or counsellor.role != Role.COUNSELLOR:
        raise LinkRefused("counsellor_id", "Choose a counsellor account.")
    if not counsellor.is_active:
        raise LinkRefused("counsellor_id", "That counsellor's account is deactivated.")
    existing = active_link(session, counsellor_id=counsellor.id, learner_id=learner.id)
    if existing is None and (said_no := _said_no(session, counsellor_id=counsellor.id, learner_id=learner.id)):
        raise LinkRefused(
            "counsellor_id",
            f"{learner.display_name} {said_no} {counsellor.display_name}, so only they can share "
            f"again: by accepting an invitation from {counsellor.display_name}.",
        )
    return counsellor, existing


def learner_link_counsellor(
    session: Session, *, actor: User, learner: User, counsellor_id: int
) -> tuple[CounsellorLink, bool]:
    """Share the learner's progress with a counsellor on the learner's behalf, audit it as
    ``link_created`` and commit.

    Returns the live link and whether it was made now; an existing live link is returned
    unchanged, with no new audit row. Raises LinkRefused (field ``counsellor_id``) when the
    learner is not an active learner or the counsellor not an active counsellor, and when the
    learner stopped sharing with this counsellor before, or declined their invitation: that was
    their choice, which only they can undo (by accepting an invitation from the counsellor),
    never an admin for them.
    """
    _require_admin(actor)
    counsellor, existing = learner_link_checked(session, learner=learner, counsellor_id=counsellor_id)
    if existing is not None:
        return existing, False
    link = CounsellorLink(
        counsellor_id=counsellor.id, learner_id=learner.id, created_at=utcnow(), created_by_id=actor.id
    )
    session.add(link)
    _audit(session, actor=actor, subject=learner, action="link_created", details={"counsellor_id": counsellor.id})
    try:
        session.commit()
    except IntegrityError:
        # Someone linked the same pair a moment ago: the unique live-link index kept one.
        session.rollback()
        existing = active_link(session, counsellor_id=counsellor.id, learner_id=learner.id)
        if existing is None:
            raise
        return existing, False
    return link, True


def _said_no(session: Session, *, counsellor_id: int, learner_id: int) -> str | None:
    """How the learner said no to sharing with this counsellor, if they did: "stopped sharing
    with" (they shared, and ended it themselves) or "declined sharing with" (they declined the
    counsellor's invitation, which the consent page promised would leave the counsellor seeing
    nothing of their progress). None if they never said no. A link the counsellor ended (a
    client discharged) is no "no" of the learner's. One query."""
    stopped = exists().where(
        CounsellorLink.counsellor_id == counsellor_id,
        CounsellorLink.learner_id == learner_id,
        CounsellorLink.revoked_at.is_not(None),
        CounsellorLink.ended_by_counsellor.is_(False),
    )
    declined = exists().where(
        Invitation.counsellor_id == counsellor_id,
        Invitation.used_by_id == learner_id,
        Invitation.accepted.is_(False),
    )
    # A request to share with this counsellor when a colleague handed their caseload over, declined.
    declined_handover = exists().where(
        HandoverRequest.counsellor_id == counsellor_id,
        HandoverRequest.learner_id == learner_id,
        HandoverRequest.accepted.is_(False),
    )
    return session.scalar(
        select(case((stopped, "stopped sharing with"), (or_(declined, declined_handover), "declined sharing with")))
    )


def password_not_chosen(user: User) -> bool:
    """Whether the account was created by an admin and its owner has not chosen a password yet."""
    return user.password_hash == NO_PASSWORD_YET


def user_onboard(session: Session, *, actor: User, email: str, display_name: str, role: Role | str) -> User:
    """Create an account with no password, audit it as ``created`` and commit.

    Its owner chooses the password from a link the caller e-mails (app/jobs/mail.py); until then
    no password logs in to it. Raises ValidationError for an empty or too long name or address or
    an unknown role, and EmailInUse (field ``email``) when an account already uses the address.
    """
    _require_admin(actor)
    name = display_name.strip()
    address = normalise_email(email)
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError("display_name", f"Enter a name of at most {NAME_MAX_LENGTH} characters.")
    if name_has_hidden_marks(name):
        raise ValidationError("display_name", HIDDEN_MARKS_MESSAGE)
    if "@" not in address or len(address) > EMAIL_MAX_LENGTH:
        raise ValidationError("email", "Enter an e-mail address, like name@example.org.")
    if role not in set(Role):
        raise ValidationError("role", f"Choose one of: {', '.join(Role)}.")
    taken = EmailInUse("email", "An account already uses this e-mail address. Find it in the list instead.")
    if user_by_email(session, address) is not None:
        raise taken
    user = User(email=address, display_name=name, role=Role(role).value, password_hash=NO_PASSWORD_YET)
    session.add(user)
    try:
        session.flush()  # the id, for the audit row; a twin created a moment ago fails here
    except IntegrityError:
        session.rollback()
        raise taken from None
    _audit(session, actor=actor, subject=user, action="created", details={"role": user.role})
    session.commit()
    return user


def user_reset_link_audit(session: Session, *, actor: User, user: User) -> None:
    """Record that an admin sent the account a link to choose a password (``reset_link_sent``), commit.

    The caller enqueues the e-mail after this returns. Raises ResetLinkRefused (field ``reset``)
    for a deactivated account, whose link would not work.
    """
    _require_admin(actor)
    session.refresh(user)
    if not user.is_active:
        raise ResetLinkRefused("reset", "This account is deactivated. Reactivate it before sending a link.")
    if user.email is None:
        raise ResetLinkRefused("reset", "This account has no e-mail address: it signs in through an LMS (LTI).")
    _audit(session, actor=actor, subject=user, action="reset_link_sent")
    session.commit()


def user_data_download(session: Session, *, actor: User, user: User) -> dict:
    """Record that an admin downloaded everything held about the account (``data_downloaded``), commit, and return it.

    For a person who asks the clinic for a copy of their data, and for an account nobody can sign
    in to any more, before it is erased. A learner's download is also a view of their progress
    (``progress_view_record``), listed on their /me/ with the admin's name. The data is the
    owner's own download on /me/data.json (``personal_data_export``: one rule for what it holds),
    built after the records are written, so it lists this download among the changes an admin
    made to the account, as the owner's own download now would. Raises AccountGone when the
    account was erased meanwhile.
    """
    from app.services.personal_data import personal_data_export  # personal_data imports this module

    _require_admin(actor)
    # The account's row, held until the commit: an erasure meanwhile waits, rather than taking
    # part of the data away mid-export or leaving the record pointing at nobody.
    if session.scalar(select(User.id).where(User.id == user.id).with_for_update()) is None:
        session.rollback()
        raise AccountGone("That account is no longer here.")
    _audit(session, actor=actor, subject=user, action="data_downloaded")
    if user.role == Role.LEARNER:
        # The file holds their whole progress: /me/ lists it among the views of their progress,
        # with who and when, as it promises every look at it is.
        progress_view_record(session, viewer=actor, learner=user)
    session.flush()
    data = personal_data_export(session, user=user)
    session.commit()
    return data


def user_erase(session: Session, *, actor: User, user: User) -> None:
    """Erase the account as its owner's own deletion would, audit it as ``account_erased`` and commit.

    For a person who asks the clinic to erase their data, and for an account its owner can no
    longer reach (one an LMS made, whose platform was removed). What goes and what stays is the
    rule the owner's own deletion on /me/delete follows (``account_erase`` in
    app/services/personal_data.py). The audit record keeps the account's role only, and the
    erasure itself unlinks it from the account. Raises OwnAccountRefused (field ``erase``: an
    admin erases their own account on /me/delete, with their password), LastAdminRefused, and
    AccountGone when the account was erased meanwhile.
    """
    from app.services.personal_data import account_erase  # personal_data imports this module

    _require_admin(actor)
    active_admins = _lock_active_admin_ids(session)
    # The account's row too, after the admins' (the order every change here locks in): a second
    # erasure of it waits for the first, then finds nothing to erase.
    if session.scalar(select(User.id).where(User.id == user.id).with_for_update()) is None:
        session.rollback()
        raise AccountGone("That account is no longer here.")
    session.refresh(user)
    _refuse_losing_admin(
        session,
        actor=actor,
        user=user,
        active_admins=active_admins,
        field="erase",
        own_message="You cannot erase your own account here. Use “Delete my account” on your own page.",
    )
    _audit(session, actor=actor, subject=user, action="account_erased", details={"role": user.role})
    session.flush()  # written before the account goes, whose deletion then unlinks it (SET NULL)
    account_erase(session, user=user, erased_by=actor)
    session.commit()
