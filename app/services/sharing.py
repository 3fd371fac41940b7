"""Consented sharing between learners and counsellors, and the rule of who may see whom.

The rule is written once, as a query (``visible_learner_ids``): an admin may see every learner;
a counsellor may see exactly the learners with a live link to them; nobody else sees anyone.
A client's page, the contact queue and the tests go through it. The dashboard, its CSV export
and the API's client list read the caseload with ``visible_learner_names``: the same rule, from
the links' copy of their client's name (NULL once the client is no longer a learner); a test
holds the two to the same answers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased, joinedload

from app.models import COUNSELLING_ROLES, CounsellorLink, HandoverRequest, Invitation, ProgressView, Role, User
from app.models.types import utcnow
from app.services import client_identity
from app.services.client_identity import ClientIdentity
from app.services.errors import DomainError, ValidationError
from app.services.reads import Read, read_rows
from app.services.text_search import containing, matches

INVITATION_LIFETIME = timedelta(days=14)
# No 0/O or 1/I/L, so a code read aloud or copied by hand survives.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
LABEL_MAX_LENGTH = 80
# A counsellor's invitations page lists how invitations ended for this long, this many at most.
OUTCOMES_KEPT = timedelta(days=30)
OUTCOMES_SHOWN = 50

UNKNOWN_MESSAGE = "We could not find that invitation. Check the code and try again."
USED_MESSAGE = "This invitation has already been used. Ask your counsellor for a new one."
LEARNERS_ONLY_MESSAGE = "Only learner accounts can share their progress with a counsellor."


WITHDRAWN_MESSAGE = (
    "The counsellor who made this invitation can no longer take on clients here. "
    "Ask the clinic, or your counsellor, for a new one."
)


def takes_clients(*, is_active: bool, role: str) -> bool:
    """Whether an account may be shared with now: active, and a counsellor's. An invitation from one
    that no longer is, or a handover request to one, is withdrawn: saying yes would share a learner's
    progress with an account that may not (or can no longer) see it."""
    return is_active and role in COUNSELLING_ROLES


# What the account a learner shares with is now, as it bears on their progress (``counsellor_now``):
# taking the counsellor role away or deactivating the account ends no sharing (app/services/handover.py),
# so /me/ and the data download say what the sharing still means.
STILL_COUNSELS = "counsellor"  # a counsellor: they see the learner's progress through this sharing
SEES_EVERYONE = "admin"  # a site administrator: they may see every learner's progress, shared or not
NOT_COUNSELLING = "not_counselling"  # made a learner, or deactivated: they see nothing of it


def counsellor_now() -> ColumnElement[str]:
    """What the account in ``users`` is now to a learner who shares with it, as a column: one of
    STILL_COUNSELS, SEES_EVERYONE or NOT_COUNSELLING.

    ``visible_learner_ids``' rule, for an account that can log in: an admin sees every learner, a
    counsellor those who share with them, anyone else nobody. An account deactivated sees nothing:
    it cannot log in. A read of the learner's links adds it as a column, not a query of its own.
    """
    active = User.is_active.is_(True)
    return case(
        (and_(active, User.role == _written(Role.COUNSELLOR)), _written(STILL_COUNSELS)),
        (and_(active, User.role == _written(Role.ADMIN)), _written(SEES_EVERYONE)),
        else_=_written(NOT_COUNSELLING),
    )


def _written(constant: str) -> ColumnElement[str]:
    """One of this module's constants written into the SQL, not bound: /me/'s read passes every
    bound value on each run (app/services/reads.py), and these never change."""
    return literal_column(f"'{constant}'", String)


class InvitationUnusable(DomainError):
    """The code is unknown, cancelled, expired, already used or withdrawn (its counsellor was
    deactivated or is no longer a counsellor); ``reason`` says which.

    ``invitation``: the invitation found, when there is one (cancelled, expired or used).
    """

    def __init__(self, reason: str, message: str, invitation: Invitation | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.invitation = invitation


@dataclass(frozen=True)
class OwnAnswer:
    """How the viewer answered an invitation they used themselves, and whether they still share."""

    counsellor_name: str
    answered_at: datetime
    accepted: bool
    sharing_now: bool  # a live link to that counsellor now (they may have stopped since, or shared again)


def own_answer(session: Session, *, invitation: Invitation | None, viewer: User) -> OwnAnswer | None:
    """The viewer's own answer to a used invitation (1 query); None if someone else used it, or nobody.

    Someone who opens the link again after accepting must not be told that nothing is shared.
    """
    if invitation is None or invitation.used_at is None or invitation.used_by_id != viewer.id:
        return None
    live = session.scalar(
        select(CounsellorLink.id).where(
            CounsellorLink.counsellor_id == invitation.counsellor_id,
            CounsellorLink.learner_id == viewer.id,
            CounsellorLink.revoked_at.is_(None),
        )
    )
    return OwnAnswer(
        counsellor_name=invitation.counsellor.display_name,
        answered_at=invitation.used_at,
        accepted=bool(invitation.accepted),
        sharing_now=live is not None,
    )


class SharingNotAllowed(DomainError):
    """This account cannot accept an invitation (only learners share their progress)."""


def normalise_code(code: str) -> str:
    """Compare codes without regard to case, spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str, secret_key: str) -> str:
    """Keyed hash of a code: a leaked table cannot be turned back into working codes."""
    return hmac.new(secret_key.encode(), normalise_code(code).encode(), hashlib.sha256).hexdigest()


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def invitation_label(label: str | None) -> str | None:
    """The label as stored: on one line, trimmed, None when empty. Raises ValidationError when too long.

    Its field is one line; a line break sent anyway (a crafted form) becomes a space, as the
    list would show it, rather than being kept to split the label in the CSV or the data file.
    """
    label = " ".join((label or "").split())
    if len(label) > LABEL_MAX_LENGTH:
        raise ValidationError("label", f"Keep the label to {LABEL_MAX_LENGTH} characters or fewer.")
    return label or None


def invitation_create(
    session: Session, *, counsellor: User, secret_key: str, label: str | None = None
) -> tuple[Invitation, str]:
    """Create a single-use invitation and commit; return it with its code (shown only now).

    ``label`` is the counsellor's private note of whom it is for; the client never sees it.
    """
    if counsellor.role not in COUNSELLING_ROLES:
        raise SharingNotAllowed("Only counsellors can invite clients.")
    label = invitation_label(label)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = utcnow()
    invitation = Invitation(
        counsellor_id=counsellor.id,
        code_hash=code_hash(code, secret_key),
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
        label=label,
    )
    session.add(invitation)
    session.commit()
    return invitation, format_code(code)


def invitation_by_code(session: Session, *, code: str, secret_key: str, now: datetime | None = None) -> Invitation:
    """Return the usable invitation for a code, or raise InvitationUnusable saying why."""
    now = now or utcnow()
    if len(normalise_code(code)) != CODE_LENGTH:
        raise InvitationUnusable("unknown", UNKNOWN_MESSAGE)
    invitation = session.scalar(
        select(Invitation)
        .where(Invitation.code_hash == code_hash(code, secret_key))
        .options(joinedload(Invitation.counsellor))
    )
    if invitation is None:
        raise InvitationUnusable("unknown", UNKNOWN_MESSAGE)
    if invitation.used_at is not None:
        raise InvitationUnusable("used", USED_MESSAGE, invitation)
    if invitation.cancelled_at is not None:
        cancelled = "Your counsellor has cancelled this invitation. Ask your counsellor for a new code."
        raise InvitationUnusable("cancelled", cancelled, invitation)
    if invitation.expires_at <= now:
        raise InvitationUnusable(
            "expired", "This invitation has expired. Ask your counsellor for a new one.", invitation
        )
    counsellor = invitation.counsellor
    if not takes_clients(is_active=counsellor.is_active, role=counsellor.role):
        # Deactivated, or no longer a counsellor, since making it.
        raise InvitationUnusable("withdrawn", WITHDRAWN_MESSAGE, invitation)
    return invitation


def invitation_respond(
    session: Session, *, code: str, learner: User, accept: bool, secret_key: str
) -> CounsellorLink | None:
    """Accept (make the link) or decline an invitation, using it up either way; commit.

    Returns the live link on accept. Raises InvitationUnusable or SharingNotAllowed.
    """
    if learner.role != Role.LEARNER:
        raise SharingNotAllowed(LEARNERS_ONLY_MESSAGE)
    invitation = invitation_by_code(session, code=code, secret_key=secret_key)
    now = utcnow()
    # Claim the code with a conditional update so two tabs cannot both use it, and a cancel
    # made since the check above still wins.
    # An UPDATE's result is a CursorResult (it has rowcount); Session.execute is typed for any statement.
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.used_at.is_(None), Invitation.cancelled_at.is_(None))
            .values(used_at=now, accepted=accept, used_by_id=learner.id)
        ),
    ).rowcount
    if claimed != 1:
        session.rollback()
        invitation_by_code(session, code=code, secret_key=secret_key)  # raises: used or cancelled meanwhile
        raise InvitationUnusable("used", USED_MESSAGE)  # pragma: no cover - the line above has raised
    link = None
    if accept:
        link = consent_link(
            session, counsellor_id=invitation.counsellor_id, learner=learner, label=invitation.label, now=now
        )
    session.commit()
    return link


def consent_link(
    session: Session, *, counsellor_id: int, learner: User, label: str | None, now: datetime
) -> CounsellorLink:
    """The learner's live link to the counsellor, made now on their own consent when there is none;
    the caller commits. One rule for every yes a learner gives: an invitation's and a handover
    request's (app/services/handover.py).

    ``label``: the counsellor's private note of whom it is for, put on the link (None: none given).
    """
    link = active_link(session, counsellor_id=counsellor_id, learner_id=learner.id)
    if link is None:
        # The invitation's label goes onto the link, where the counsellor's pages show it: the
        # invitation itself is deleted 30 days after it ends (invitations_purge).
        link = CounsellorLink(
            counsellor_id=counsellor_id, learner_id=learner.id, created_at=now, created_by_id=learner.id, label=label
        )
        session.add(link)
    elif link.label is None:
        # Already sharing (an earlier invitation, or a link an admin made): accepting changes
        # nothing the client shares, but a label the counsellor gave now fills one never given.
        link.label = label
    return link


def active_link(session: Session, *, counsellor_id: int, learner_id: int) -> CounsellorLink | None:
    return session.scalar(
        select(CounsellorLink).where(
            CounsellorLink.counsellor_id == counsellor_id,
            CounsellorLink.learner_id == learner_id,
            CounsellorLink.revoked_at.is_(None),
        )
    )


def clients_sharing_count(session: Session, *, counsellor: User) -> int:
    """How many learners share their progress with ``counsellor`` now (their live links), as the
    handover page lists them: not a client since made staff, who is nobody's client while staff."""
    return (
        session.scalar(
            select(func.count())
            .select_from(CounsellorLink)
            .join(User, User.id == CounsellorLink.learner_id)
            .where(
                CounsellorLink.counsellor_id == counsellor.id,
                CounsellorLink.revoked_at.is_(None),
                User.role == Role.LEARNER,
            )
        )
        or 0
    )


def learner_links(session: Session, *, learner: User) -> list[CounsellorLink]:
    """The counsellors the learner shares with now, oldest first."""
    return list(
        session.scalars(
            select(CounsellorLink)
            .where(CounsellorLink.learner_id == learner.id, CounsellorLink.revoked_at.is_(None))
            .options(joinedload(CounsellorLink.counsellor))
            .order_by(CounsellorLink.created_at)
        )
    )


def link_revoke(session: Session, *, learner: User, link_id: int) -> CounsellorLink:
    """Stop sharing with a counsellor at once, and commit. Raises LookupError if not the learner's live link."""
    link = session.scalar(
        select(CounsellorLink).where(
            CounsellorLink.id == link_id,
            CounsellorLink.learner_id == learner.id,
            CounsellorLink.revoked_at.is_(None),
        )
    )
    if link is None:
        raise LookupError(link_id)
    _end(session, link, by_counsellor=False)
    return link


def shares_with_namesake(session: Session, *, learner_id: int, name: str) -> bool:
    """Whether the learner still shares with a counsellor called ``name`` through a live link.

    After stopping one of two links to counsellors of one name, the message must say which one
    ended (by address, as /me/ tells them apart): the name alone would fit the one still shared.
    """
    return (
        session.scalar(
            select(CounsellorLink.id)
            .join(User, User.id == CounsellorLink.counsellor_id)
            .where(
                CounsellorLink.learner_id == learner_id,
                CounsellorLink.revoked_at.is_(None),
                User.display_name == name,
            )
            .limit(1)
        )
        is not None
    )


def _end(session: Session, link: CounsellorLink, *, by_counsellor: bool) -> None:
    """End a live link now, recording who ended it, and commit; LookupError if it has ended already.

    A conditional UPDATE: of a learner's stop and a counsellor's end at once, the first stands
    with its time and who ended it, and the other finds the link ended.
    """
    ended = cast(
        CursorResult,
        session.execute(
            update(CounsellorLink)
            .where(CounsellorLink.id == link.id, CounsellorLink.revoked_at.is_(None))
            # The label often names the client: it goes once the counsellor no longer sees them.
            .values(revoked_at=utcnow(), ended_by_counsellor=by_counsellor, label=None)
            .execution_options(synchronize_session=False)
        ),
    )
    if ended.rowcount != 1:
        session.rollback()
        raise LookupError(link.id)
    session.commit()


def counsellor_client_link(session: Session, *, counsellor: User, learner_id: int) -> CounsellorLink | None:
    """The counsellor's live link with this learner, the learner loaded with it (one query); None
    when there is none (not their client, or no longer)."""
    return session.scalar(
        select(CounsellorLink)
        .where(
            CounsellorLink.counsellor_id == counsellor.id,
            CounsellorLink.learner_id == learner_id,
            CounsellorLink.revoked_at.is_(None),
        )
        .options(joinedload(CounsellorLink.learner))
    )


def link_end_by_counsellor(session: Session, *, counsellor: User, learner_id: int) -> CounsellorLink:
    """Stop seeing a client's progress at once (a client discharged, or gone to someone else), and
    commit: the link ends as when the client stops sharing, marked as ended by the counsellor.

    Raises LookupError if the counsellor has no live link with this learner (never had one, or it
    has ended: by the client, at the same moment too, since the link is ended by a conditional UPDATE).
    """
    link = active_link(session, counsellor_id=counsellor.id, learner_id=learner_id)
    if link is None:
        raise LookupError(learner_id)
    _end(session, link, by_counsellor=True)
    return link


def visible_learner_ids(viewer: User) -> Select:
    """The rule: a query of the ids of the learners this viewer may see."""
    return _visible_ids(viewer.role, viewer.id)


def _visible_ids(role: str, viewer_id: int | ColumnElement[int]) -> Select:
    """``visible_learner_ids`` for a viewer of ``role`` whose id is ``viewer_id`` (a value or a bound parameter)."""
    learners = select(User.id).where(User.role == Role.LEARNER)
    if role == Role.ADMIN:
        return learners
    if role == Role.COUNSELLOR:
        return learners.where(
            User.id.in_(
                select(CounsellorLink.learner_id).where(
                    CounsellorLink.counsellor_id == viewer_id, CounsellorLink.revoked_at.is_(None)
                )
            )
        )
    return learners.where(false())


def visible_learner_names(viewer: User, *, search: str = "") -> Subquery:
    """The learners the viewer may see (``visible_learner_ids``' rule) as rows of (id, name_key).

    ``name_key`` is the lowercased display name, to count and page a caseload in name order;
    ``search``, when given, keeps only the names containing it (any case, taken literally).
    ``caseload_names`` is the same with the viewer's id and the search as parameters.
    """
    return caseload_names(viewer.role, viewer.id, containing(search) if search else None)


def caseload_names(
    role: str, viewer_id: int | ColumnElement[int], pattern: str | ColumnElement[str] | None = None
) -> Subquery:
    """``visible_learner_names`` for a viewer of ``role`` whose id is ``viewer_id``, and a name
    ``pattern`` (``text_search.containing``'s) or none: either may be a bound parameter, so that
    the dashboard builds its statements once (app/services/dashboard.py).

    A counsellor's rows are their live links, which keep their client's name key while the
    client is a learner (NULL otherwise: app/models/caseload_names.py), so that counting them
    and finding a page in name order read one index range, with no other table: the cost of a
    dashboard page does not grow with the caseload. Through ``users`` PostgreSQL read every
    client (about 20 ms for 8,300) or, planned as a join, every user (0.5 s at a million).
    Each learner comes once: a pair has at most one live link.
    """
    if role == Role.COUNSELLOR:
        key = CounsellorLink.client_name_key
        links = select(CounsellorLink.learner_id.label("id"), key.label("name_key")).where(
            CounsellorLink.counsellor_id == viewer_id, CounsellorLink.revoked_at.is_(None), key.is_not(None)
        )
        return (links.where(matches(key, pattern)) if pattern is not None else links).subquery("clients")
    learners = select(User.id.label("id"), func.lower(User.display_name).label("name_key"))
    if role != Role.ADMIN:
        return learners.where(false()).subquery("clients")
    learners = learners.where(User.role == Role.LEARNER)
    return (learners.where(matches(User.display_name, pattern)) if pattern is not None else learners).subquery(
        "clients"
    )


def viewable_learner(session: Session, *, viewer: User, learner_id: int) -> User | None:
    """Return the learner if this viewer may see them, else None (callers answer 404)."""
    return session.scalar(_viewable_learner_statement(viewer.role), {"viewer_id": viewer.id, "learner_id": learner_id})


@cache
def _viewable_learner_statement(role: str) -> Select:
    """``viewable_learner``'s read for a viewer of ``role``, built once (bound: viewer_id, learner_id)."""
    viewer_id = bindparam("viewer_id", type_=Integer)
    return select(User).where(User.id == bindparam("learner_id"), User.id.in_(_visible_ids(role, viewer_id)))


def viewable_client(session: Session, *, viewer: User, learner_id: int) -> ClientIdentity | None:
    """The learner, named as the viewer's pages name them (app/services/client_identity.py), if the
    viewer may see them, else None (callers answer 404): ``viewable_learner``'s one query, with the
    label, since when and whether a namesake as columns of it."""
    row = session.execute(
        _viewable_client_statement(viewer.role), {"viewer_id": viewer.id, "learner_id": learner_id}
    ).one_or_none()
    return None if row is None else ClientIdentity(row[0], row.label, row.sharing_since, bool(row.namesake))


@cache
def _viewable_client_statement(role: str) -> Select:
    """``viewable_client``'s read for a viewer of ``role``, built once (bound: viewer_id, learner_id)."""
    viewer_id = bindparam("viewer_id", type_=Integer)
    return _viewable_learner_statement(role).add_columns(*client_identity.identity_columns(role, viewer_id, User.id))


def can_view_learner(session: Session, viewer: User, learner_id: int) -> bool:
    """Whether the viewer may see this learner's progress."""
    return viewable_learner(session, viewer=viewer, learner_id=learner_id) is not None


def progress_view_record(session: Session, *, viewer: User, learner: User) -> None:
    """Write the audit record of one view of a learner's progress (who, whom, when); the caller commits."""
    session.add(ProgressView(viewer_id=viewer.id, learner_id=learner.id, viewer_role=viewer.role))


@dataclass(frozen=True)
class ViewRecord:
    viewer_name: str
    viewer_role: str
    viewed_at: datetime


@dataclass(frozen=True)
class LinkRecord:
    id: int
    counsellor_name: str
    since: datetime
    # What tells two counsellors of one name apart, as the admin's page that links a learner on their
    # behalf names them; None for an account an LMS signs in, which has no address.
    counsellor_email: str | None = None
    # What the counsellor is now (counsellor_now): one no longer a counsellor's still holds the link,
    # until the learner ends it, but sees nothing; an admin sees every learner, shared with or not.
    counsellor_now: str = STILL_COUNSELS


@dataclass(frozen=True)
class HandoverRecord:
    """A request waiting for the learner's answer: share their progress with ``colleague_name``,
    to whom ``from_name`` (None: an account since removed) handed their caseload over."""

    id: int
    colleague_name: str
    colleague_email: str | None
    from_name: str | None
    # Whether the clinic (an admin) asked, rather than the counsellor themselves.
    by_clinic: bool
    expires_at: datetime


@dataclass(frozen=True)
class SharingOverview:
    """What /me/ shows about sharing: live links, oldest first, views, newest first, and the
    requests to share with a colleague of a counsellor's that wait for an answer, oldest first."""

    links: list[LinkRecord]
    views: list[ViewRecord]
    handovers: list[HandoverRecord] = field(default_factory=list)


def sharing_overview_selects(learner_id: ColumnElement[int]) -> tuple[Select, Select, Select]:
    """The learner's live links, the latest views of their progress and the handover requests
    waiting for their answer: three SELECTs to UNION ALL.

    Each row: its kind ("link", "view", "handover" or "handover-clinic"), the link's, view's or
    request's id, the counsellor's, viewer's or colleague's name, the viewer's role (for a
    request: the name of the counsellor it is from; for a link, what its counsellor is now:
    ``counsellor_now``), when (for a request: when
    it expires), and the counsellor's or colleague's e-mail address (None for a view). The views
    are the ``view_limit`` (a bound parameter) latest.
    """
    links = (
        select(
            literal("link").label("kind"),
            CounsellorLink.id.label("ref"),
            User.display_name.label("name"),
            counsellor_now().label("role"),
            CounsellorLink.created_at.label("at"),
            User.email.label("email"),
        )
        .join(User, User.id == CounsellorLink.counsellor_id)
        .where(CounsellorLink.learner_id == learner_id, CounsellorLink.revoked_at.is_(None))
    )
    recent = (
        select(ProgressView.id, ProgressView.viewed_at, ProgressView.viewer_role, ProgressView.viewer_id)
        .where(ProgressView.learner_id == learner_id)
        .order_by(ProgressView.viewed_at.desc(), ProgressView.id.desc())
        .limit(bindparam("view_limit"))
        .subquery()
    )
    views = select(
        literal("view"),
        recent.c.id,
        User.display_name,
        recent.c.viewer_role,
        recent.c.viewed_at,
        literal(None, String),  # a link's counsellor's address: a view has none
    ).outerjoin(User, User.id == recent.c.viewer_id)
    return links, views, _waiting_handovers(learner_id)


def _waiting_handovers(learner_id: ColumnElement[int]) -> Select:
    """sharing_overview_selects' rows of the handover requests the learner has not answered, whose
    colleague can still take clients and is not shared with already. Expired ones are left out
    by sharing_overview_from_rows: the statement is built once, with no time in it."""
    colleague, handing_over = aliased(User), aliased(User)
    shares_already = (
        select(CounsellorLink.id)
        .where(
            CounsellorLink.counsellor_id == HandoverRequest.counsellor_id,
            CounsellorLink.learner_id == HandoverRequest.learner_id,
            CounsellorLink.revoked_at.is_(None),
        )
        .exists()
    )
    by_them = HandoverRequest.requested_by_id == HandoverRequest.from_counsellor_id
    return (
        select(
            case((by_them, literal("handover")), else_=literal("handover-clinic")),
            HandoverRequest.id,
            colleague.display_name,
            handing_over.display_name,
            HandoverRequest.expires_at,
            colleague.email,
        )
        .join(colleague, colleague.id == HandoverRequest.counsellor_id)
        .outerjoin(handing_over, handing_over.id == HandoverRequest.from_counsellor_id)
        .where(
            HandoverRequest.learner_id == learner_id,
            HandoverRequest.answered_at.is_(None),
            colleague.is_active.is_(True),
            # Not IN (...): an expanding list would keep the Read off the driver's cursor (app/services/reads.py).
            or_(*(colleague.role == role for role in sorted(COUNSELLING_ROLES))),
            # A client already sharing with the colleague is asked as any other, so that the old
            # counsellor cannot tell (app/services/handover.py): not asked here, it ends unanswered.
            not_(shares_already),
        )
    )


def sharing_overview_from_rows(rows: list[tuple], now: datetime | None = None) -> SharingOverview:
    """The overview from the rows of sharing_overview_selects, in the page's order; the handover
    requests expired by ``now`` left out."""
    now = now or utcnow()
    links = [(ref, name, at, email, now_) for kind, ref, name, now_, at, email in rows if kind == "link"]
    views = [(at, ref, name, role) for kind, ref, name, role, at, _ in rows if kind == "view"]
    handovers = sorted(
        (
            HandoverRecord(ref, name, email, from_name, kind == "handover-clinic", at)
            for kind, ref, name, from_name, at, email in rows
            if kind in ("handover", "handover-clinic") and at > now
        ),
        key=lambda handover: (handover.expires_at, handover.id),
    )
    return SharingOverview(
        links=[
            LinkRecord(ref, name, at, email, now_)
            for ref, name, at, email, now_ in sorted(links, key=lambda link: (link[2], link[0]))
        ],
        views=[
            ViewRecord(name or "A removed account", role, at)
            for at, _, name, role in sorted(views, key=lambda view: (view[0], view[1]), reverse=True)
        ],
        handovers=handovers,
    )


# Built once (the /me/ page reads the same parts with its others: app/services/my_page.py).
_SHARING_OVERVIEW = Read(union_all(*sharing_overview_selects(bindparam("learner_id"))))


def learner_sharing_overview(session: Session, *, learner: User, view_limit: int = 100) -> SharingOverview:
    """The learner's live links and the log of views of their progress, in one query."""
    rows = read_rows(session, _SHARING_OVERVIEW, {"learner_id": learner.id, "view_limit": view_limit})
    return sharing_overview_from_rows(rows)


def pending_invitations(session: Session, *, counsellor: User) -> list[Invitation]:
    """The counsellor's invitations not yet used, cancelled or expired, newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.counsellor_id == counsellor.id,
                Invitation.used_at.is_(None),
                Invitation.cancelled_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


@dataclass(frozen=True)
class InvitationOutcome:
    """How one of a counsellor's invitations ended: accepted, declined, cancelled or expired, and when.

    ``client_id``: the client who accepted it, while they still share their progress with this
    counsellor (their page can be linked); None otherwise. Who declined is never said: the
    counsellor learns only that their invitation was answered no and, when whoever declined it
    was sharing with them already and still is (an earlier invitation, or a link an admin made for
    them), since when (``shares_since``), so that a "no" is not read as having stopped sharing: the
    consent page told that learner so before they answered. Sharing begun after the "no" is not
    said: it would name the one who declined, whom the consent page promised only "declined".
    """

    invitation: Invitation
    outcome: str
    at: datetime
    client_id: int | None
    shares_since: datetime | None = None
    # Whether that sharing is their own doing (an invitation they accepted), not a link an admin made for them.
    shares_by_invitation: bool = False

    @property
    def shared_before_declining(self) -> bool:
        """Whether whoever declined it was already sharing with this counsellor, and still is."""
        return self.shares_since is not None


def recent_invitation_outcomes(
    session: Session, *, counsellor: User, now: datetime | None = None
) -> list[InvitationOutcome]:
    """The counsellor's invitations that ended within ``OUTCOMES_KEPT``, latest first, at most
    ``OUTCOMES_SHOWN``: so an invitation does not just vanish from their page when it is answered.
    """
    now = now or utcnow()
    since = now - OUTCOMES_KEPT
    # Whoever answered: their live link to this counsellor (one at most), since when, and who made it.
    live_link = select().where(
        CounsellorLink.counsellor_id == Invitation.counsellor_id,
        CounsellorLink.learner_id == Invitation.used_by_id,
        CounsellorLink.revoked_at.is_(None),
    )
    sharing_since = live_link.add_columns(CounsellorLink.created_at).correlate(Invitation).scalar_subquery()
    linked_by = live_link.add_columns(CounsellorLink.created_by_id).correlate(Invitation).scalar_subquery()
    ended = _ended_at()  # in the past for all that qualify
    rows = session.execute(
        select(Invitation, sharing_since, linked_by)
        .where(Invitation.counsellor_id == counsellor.id, ended >= since, ended <= now)
        .order_by(ended.desc(), Invitation.id.desc())
        .limit(OUTCOMES_SHOWN)
    ).all()
    outcomes = []
    for invitation, link_since, link_by in rows:
        if invitation.used_at is not None:
            outcome, at = ("accepted" if invitation.accepted else "declined"), invitation.used_at
        elif invitation.cancelled_at is not None:
            outcome, at = "cancelled", invitation.cancelled_at
        else:
            outcome, at = "expired", invitation.expires_at
        client_id = invitation.used_by_id if outcome == "accepted" and link_since is not None else None
        shares_since = link_since if outcome == "declined" and link_since is not None and link_since <= at else None
        by_them = shares_since is not None and link_by == invitation.used_by_id
        outcomes.append(InvitationOutcome(invitation, outcome, at, client_id, shares_since, by_them))
    return outcomes


def _ended_at() -> ColumnElement[datetime]:
    """When an invitation ended, or will: answered, cancelled, or else its expiry."""
    return func.coalesce(Invitation.used_at, Invitation.cancelled_at, Invitation.expires_at)


def invitations_purge(session: Session, *, now: datetime) -> tuple[int, int]:
    """Delete the invitations that ended (answered, cancelled or expired unused) longer than
    ``OUTCOMES_KEPT`` before ``now``, and commit; return how many were deleted, and how many
    kept had their label cleared.

    The counsellor's page no longer shows them, and a label often names a client. A declined
    invitation whose learner still has an account is kept, its label cleared: it is the record
    that stops an admin linking that learner to that counsellor (``user_admin._said_no``).
    """
    ended_long_ago = _ended_at() < now - OUTCOMES_KEPT
    declined = and_(Invitation.accepted.is_(False), Invitation.used_by_id.is_not(None))
    cleared = cast(
        "CursorResult[Any]",
        session.execute(
            update(Invitation)
            .where(ended_long_ago, declined, Invitation.label.is_not(None))
            .values(label=None)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    deleted = cast(
        "CursorResult[Any]",
        session.execute(
            delete(Invitation).where(ended_long_ago, not_(declined)).execution_options(synchronize_session=False)
        ),
    ).rowcount
    session.commit()
    return deleted, cleared


def counsellor_invitation(session: Session, *, counsellor: User, invitation_id: int) -> Invitation | None:
    """One of the counsellor's own invitations, or None when it is someone else's or not there."""
    return session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.counsellor_id == counsellor.id)
    )


def invitation_is_waiting(invitation: Invitation, *, now: datetime | None = None) -> bool:
    """Whether the invitation can still be answered: not used, cancelled or expired."""
    return invitation.used_at is None and invitation.cancelled_at is None and invitation.expires_at > (now or utcnow())


def invitation_cancel(session: Session, *, counsellor: User, invitation_id: int) -> Invitation:
    """Cancel one of the counsellor's unused invitations, and commit; its code then stops working.

    Raises LookupError when the invitation is not this counsellor's (callers answer 404, so ids
    cannot be probed) and InvitationUnusable("used") when the client has already answered it.
    Cancelling twice is harmless: the first time stands.
    """
    invitation = counsellor_invitation(session, counsellor=counsellor, invitation_id=invitation_id)
    if invitation is None:
        raise LookupError(invitation_id)
    if invitation.cancelled_at is not None:
        return invitation
    # Conditional, like accepting: a client answering at the same moment and this cancel cannot both win.
    cancelled = cast(
        "CursorResult[Any]",
        session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.used_at.is_(None), Invitation.cancelled_at.is_(None))
            .values(cancelled_at=utcnow())
        ),
    ).rowcount
    session.commit()
    session.refresh(invitation)
    if cancelled != 1 and invitation.cancelled_at is None:
        raise InvitationUnusable("used", "Your client has already answered this invitation, so it cannot be cancelled.")
    return invitation
