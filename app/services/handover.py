"""Handing a caseload to a colleague, with each client's consent.

A counsellor who leaves or changes role (or an admin for them) asks their clients to share their
progress with a colleague: each chosen client gets a request, addressed to their account and
answered on /me/. Nothing is shared with the colleague until the client says yes, and saying yes
makes the link exactly as accepting an invitation does (``sharing.consent_link``), without the
old counsellor's label, which was their private note. The client's sharing with the old
counsellor goes on until either of them ends it. Requests expire as invitations do
(``INVITATION_LIFETIME``) and are purged with them (app/jobs/invitations.py).

Whom else a client shares with is theirs to tell: what the old counsellor (or an admin for them) sees
of a handover, its result, its list of answers, the admin's audit entry and their data download,
reads the same for a client who already shares with the colleague as for one who does not. So such a
client is asked as any other, and the request simply waits, then expires, as an unanswered one does:
their /me/ does not show a request to someone they already share with (``sharing._waiting_handovers``;
were they to stop sharing with the colleague meanwhile, it shows, a real request they may answer),
and the colleague's download names no client who has not said yes to it
(``personal_data.ASKED_CLIENT``). Answering for them (an automatic yes or no) would be neither their
answer nor uninformative: an instant "accepted" says as much as "already shares".

Taking the counsellor role away (to learner or admin) or deactivating the account ends none of
their clients' links, so an admin can still ask those clients afterwards; the account itself,
once no longer a counsellor's, cannot (``may_hand_over``). Each client's /me/ says what that
sharing means now (``sharing.counsellor_now``), so they can end it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, exists, func, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.models import CounsellorLink, HandoverRequest, Role, User
from app.models.types import utcnow
from app.services.audit import audit_record
from app.services.errors import DomainError, ValidationError
from app.services.sharing import (
    INVITATION_LIFETIME,
    LEARNERS_ONLY_MESSAGE,
    OUTCOMES_KEPT,
    SharingNotAllowed,
    consent_link,
    takes_clients,
)
from app.services.user_admin import counsellor_choices

# The page where a handover was started lists its requests for this long after they end, this many at most.
STATUSES_SHOWN = 500

ANSWERED_MESSAGE = "You have already answered this request."
EXPIRED_MESSAGE = "This request has expired. Ask your counsellor or the clinic for an invitation instead."
WITHDRAWN_MESSAGE = (
    "The counsellor this request was for can no longer take on clients here, so nothing was shared. "
    "Ask the clinic if you would like to share with someone else."
)


class HandoverUnusable(DomainError):
    """The request can no longer be answered: answered already, expired, or its colleague deactivated
    or no longer a counsellor (``reason``: "answered", "expired" or "withdrawn")."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class CaseloadClient:
    """A client who shares with the counsellor now, as the handover page lists them."""

    learner_id: int
    name: str
    label: str | None  # the counsellor's own note: shown to them alone


@dataclass(frozen=True)
class HandoverResult:
    """What asking did: how many requests were made, and how many clients were left out, and why.

    Each reason is one the page's own list of answers already shows (its request waiting, its "no"):
    none depends on whom else the client shares with (see the module's docstring).
    """

    created: int
    # A request from this caseload to this colleague waits: one asked by another counsellor's would
    # tell this one that the client sees them too, so it does not count.
    already_asked: int
    # Declined a request from this caseload to this colleague: a "no" is not asked again.
    already_declined: int


@dataclass(frozen=True)
class HandoverStatus:
    """One request as the page where it was started lists it."""

    id: int
    client_name: str
    colleague_name: str
    status: str  # "waiting", "accepted", "declined", "expired" or "withdrawn"
    created_at: datetime
    answered_at: datetime | None


# Said of a client who no longer shares with the counsellor the request was from (to that counsellor).
NO_LONGER_SHARING = "A client who no longer shares with you"


def may_hand_over(session: Session, *, actor: User, from_counsellor: User) -> bool:
    """Whether ``actor`` may ask ``from_counsellor``'s clients to share with a colleague: a counsellor
    for their own caseload; an admin for any counsellor's, and for an account that is no longer a
    counsellor's (made a learner or an admin) while it has a caseload (``has_caseload``).

    A former counsellor made a learner asks nobody: as a learner they may see no client's progress,
    names included. (An admin may, their own caseload too: they see every learner anyway.)
    """
    if from_counsellor.role == Role.COUNSELLOR:
        return actor.id == from_counsellor.id or actor.role == Role.ADMIN
    return actor.role == Role.ADMIN and has_caseload(session, counsellor=from_counsellor)


def has_caseload(session: Session, *, counsellor: User) -> bool:
    """Whether a learner shares with ``counsellor`` now, or was asked to share with a colleague on
    their behalf (whose answers the handover page lists): one query."""
    sharing = (
        select(CounsellorLink.id)
        .join(User, User.id == CounsellorLink.learner_id)
        .where(
            CounsellorLink.counsellor_id == counsellor.id,
            CounsellorLink.revoked_at.is_(None),
            User.role == Role.LEARNER,
        )
        .exists()
    )
    asked = select(HandoverRequest.id).where(HandoverRequest.from_counsellor_id == counsellor.id).exists()
    return bool(session.scalar(select(or_(sharing, asked))))


def caseload_clients(session: Session, *, counsellor: User) -> list[CaseloadClient]:
    """The learners who share with ``counsellor`` now, by name (one query)."""
    rows = session.execute(
        select(User.id, User.display_name, CounsellorLink.label)
        .join(User, User.id == CounsellorLink.learner_id)
        .where(
            CounsellorLink.counsellor_id == counsellor.id,
            CounsellorLink.revoked_at.is_(None),
            User.role == Role.LEARNER,
        )
        .order_by(func.lower(User.display_name), User.id)
    ).all()
    return [CaseloadClient(learner_id, name, label) for learner_id, name, label in rows]


def colleagues(session: Session, *, counsellor: User) -> list[User]:
    """The active counsellors other than ``counsellor`` a caseload can go to, by name (one query)."""
    return [user for user in counsellor_choices(session) if user.id != counsellor.id]


def _waiting(now: datetime) -> Any:
    """A request not yet answered nor expired."""
    return and_(HandoverRequest.answered_at.is_(None), HandoverRequest.expires_at > now)


def handover_request(
    session: Session,
    *,
    actor: User,
    from_counsellor: User,
    to_counsellor_id: int | None,
    learner_ids: Collection[int] | None = None,
    now: datetime | None = None,
) -> HandoverResult:
    """Ask each chosen client of ``from_counsellor`` to share their progress with a colleague, and commit.

    ``learner_ids``: the clients to ask, from those sharing with ``from_counsellor`` now (None:
    all of them). A client with a request from this caseload to the colleague waiting is not asked
    again; nor is one who declined a request from this caseload to this colleague: their "no" stands
    (an invitation from the colleague can still be accepted). A client who already shares with the
    colleague is asked as any other, so that nothing here tells whom else they share with (see the
    module's docstring). Raises LookupError when ``actor`` may not hand this caseload over (callers
    answer 404), ValidationError ("colleague") for anyone but another active counsellor and
    ValidationError ("clients") when none of the chosen clients shares with ``from_counsellor``.
    """
    if not may_hand_over(session, actor=actor, from_counsellor=from_counsellor):
        raise LookupError(from_counsellor.id)
    now = now or utcnow()
    # Locked, and read afresh, before anything is counted: two asks at once (a double click, or an
    # admin and the counsellor) then take turns, and the second finds the first's requests waiting
    # rather than making each client a second one; a colleague deactivated meanwhile is seen as such.
    colleague = (
        session.scalar(
            select(User).where(User.id == to_counsellor_id).with_for_update().execution_options(populate_existing=True)
        )
        if to_counsellor_id is not None
        else None
    )
    if (
        colleague is None
        or colleague.id == from_counsellor.id
        or colleague.role != Role.COUNSELLOR
        or not colleague.is_active
    ):
        raise ValidationError("colleague", "Choose another counsellor whose account is active.")
    caseload = {client.learner_id for client in caseload_clients(session, counsellor=from_counsellor)}
    chosen = caseload if learner_ids is None else caseload & set(learner_ids)
    if not chosen:
        raise ValidationError("clients", "Choose at least one client who shares their progress with you.")
    # Whether a client shares with the colleague already is not asked: it must change nothing here
    # (see the module's docstring). Only this caseload's own requests to the colleague count, waiting
    # or declined, which its list of answers shows already: another counsellor's request would tell
    # this one that the client sees them too. A waiting one has no answer yet (NULL).
    answers = session.execute(
        select(HandoverRequest.learner_id, HandoverRequest.accepted).where(
            HandoverRequest.counsellor_id == colleague.id,
            HandoverRequest.from_counsellor_id == from_counsellor.id,
            HandoverRequest.learner_id.in_(chosen),
            or_(_waiting(now), HandoverRequest.accepted.is_(False)),
        )
    ).all()
    asked = {learner_id for learner_id, accepted in answers if accepted is None}
    declined = {learner_id for learner_id, accepted in answers if accepted is False}
    to_ask = sorted(chosen - asked - declined)
    if to_ask and actor.id != from_counsellor.id:
        # An admin acting on someone else's caseload: every admin action is audited, in its own commit.
        audit_record(
            session,
            actor=actor,
            action="caseload_handover_asked",
            subject=from_counsellor,
            details={"counsellor_id": colleague.id, "asked": len(to_ask)},
        )
    session.add_all(
        HandoverRequest(
            learner_id=learner_id,
            counsellor_id=colleague.id,
            from_counsellor_id=from_counsellor.id,
            requested_by_id=actor.id,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        for learner_id in to_ask
    )
    session.commit()
    return HandoverResult(len(to_ask), len(asked), len(declined - asked))


def handover_respond(
    session: Session, *, learner: User, request_id: int, accept: bool, now: datetime | None = None
) -> HandoverRequest:
    """Accept (share with the colleague, as accepting an invitation does) or decline a request, and commit.

    Raises LookupError when it is not this learner's request (callers answer 404), SharingNotAllowed
    for an account that is not a learner's and HandoverUnusable when it can no longer be answered.
    """
    request = learner_handover(session, learner=learner, request_id=request_id)
    if request is None:
        raise LookupError(request_id)
    if learner.role != Role.LEARNER:
        raise SharingNotAllowed(LEARNERS_ONLY_MESSAGE)
    now = now or utcnow()
    _check_usable(request, now)
    # Claimed with a conditional UPDATE, as an invitation's code is: two tabs cannot both answer it.
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(HandoverRequest)
            .where(HandoverRequest.id == request.id, _waiting(now))
            .values(answered_at=now, accepted=accept)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if claimed != 1:
        session.rollback()
        raise HandoverUnusable("answered", ANSWERED_MESSAGE)
    if accept:
        # The old counsellor's label is their private note, not the colleague's: none is carried over.
        consent_link(session, counsellor_id=request.counsellor_id, learner=learner, label=None, now=now)
    session.commit()
    session.refresh(request)
    return request


def learner_handover(session: Session, *, learner: User, request_id: int) -> HandoverRequest | None:
    """One of the requests addressed to ``learner``, or None when it is someone else's or not there."""
    return session.scalar(
        select(HandoverRequest).where(HandoverRequest.id == request_id, HandoverRequest.learner_id == learner.id)
    )


def _check_usable(request: HandoverRequest, now: datetime) -> None:
    """Raise HandoverUnusable when the request can no longer be answered."""
    if request.answered_at is not None:
        raise HandoverUnusable("answered", ANSWERED_MESSAGE)
    if request.expires_at <= now:
        raise HandoverUnusable("expired", EXPIRED_MESSAGE)
    colleague = request.counsellor
    if not takes_clients(is_active=colleague.is_active, role=colleague.role):
        # As an invitation is withdrawn: the colleague can no longer (or may not) see anyone's progress.
        raise HandoverUnusable("withdrawn", WITHDRAWN_MESSAGE)


def handover_statuses(
    session: Session, *, viewer: User, from_counsellor: User, now: datetime | None = None
) -> list[HandoverStatus]:
    """The requests made for ``from_counsellor``'s clients that wait or ended within ``OUTCOMES_KEPT``,
    newest first, at most ``STATUSES_SHOWN`` (one query).

    A client who no longer shares with ``from_counsellor`` is not named to them (``NO_LONGER_SHARING``):
    stopping sharing promised the counsellor nothing more of them, their name included. An admin,
    who sees every learner, sees every name.
    """
    now = now or utcnow()
    client, colleague = aliased(User), aliased(User)
    still_shares = exists().where(
        CounsellorLink.counsellor_id == from_counsellor.id,
        CounsellorLink.learner_id == HandoverRequest.learner_id,
        CounsellorLink.revoked_at.is_(None),
    )
    ended = func.coalesce(HandoverRequest.answered_at, HandoverRequest.expires_at)
    rows = session.execute(
        select(
            HandoverRequest,
            client.display_name,
            colleague.display_name,
            colleague.is_active,
            colleague.role,
            still_shares,
        )
        .join(client, client.id == HandoverRequest.learner_id)
        .join(colleague, colleague.id == HandoverRequest.counsellor_id)
        .where(HandoverRequest.from_counsellor_id == from_counsellor.id, ended >= now - OUTCOMES_KEPT)
        .order_by(HandoverRequest.created_at.desc(), HandoverRequest.id.desc())
        .limit(STATUSES_SHOWN)
    ).all()
    named = viewer.role == Role.ADMIN
    statuses = []
    for request, client_name, colleague_name, active, role, shares in rows:
        if request.answered_at is not None:
            status = "accepted" if request.accepted else "declined"
        elif request.expires_at <= now:
            status = "expired"
        elif not takes_clients(is_active=active, role=role):
            status = "withdrawn"
        else:
            status = "waiting"
        statuses.append(
            HandoverStatus(
                request.id,
                client_name if named or shares else NO_LONGER_SHARING,
                colleague_name,
                status,
                request.created_at,
                request.answered_at,
            )
        )
    return statuses


def handover_requests_purge(session: Session, *, now: datetime) -> int:
    """Delete the requests that ended (answered or expired) longer than ``OUTCOMES_KEPT`` before
    ``now``, as ``invitations_purge`` does invitations, and commit; return how many went.

    A declined one is kept while its client has an account, as a declined invitation is: it is the
    record that stops an admin linking that client to that colleague (``user_admin._said_no``).
    """
    ended = func.coalesce(HandoverRequest.answered_at, HandoverRequest.expires_at)
    declined = HandoverRequest.accepted.is_(False)
    deleted = cast(
        "CursorResult[Any]",
        session.execute(
            delete(HandoverRequest)
            .where(ended < now - OUTCOMES_KEPT, not_(declined))
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    session.commit()
    return deleted
