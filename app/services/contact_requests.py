"""Requests to be contacted by the clinic: asking, the clinic's queue, withdrawing, and forgetting.

Anyone may ask, with or without an account. A request keeps only what a call-back needs, and
only the contact detail for the method the person chose. The clinic's staff (counsellors and
admins, ``COUNSELLING_ROLES``) all see the queue; each pick-up, release, status change and
note added is one transaction that also writes a ``ContactRequestEvent`` (who, when, what;
never what the request or the note said).

A picked-up request is its holder's: only they, or an admin, change its status or hand it back,
so nobody else can close a call-back someone has promised. A holder who tried and got no answer
marks it "tried, no answer" (``no_answer``) as often as they try: it stays open and theirs, and
the trail keeps each try. A holder who leaves the staff (their account deactivated, deleted by
themselves or erased by an admin, or its staff role taken away) hands their open requests back to
the queue in the same commit (``contact_requests_unhold``), so nobody waits on a call-back that
nobody will make.

Anyone on the staff may add a private note to any request (``ContactRequestNote``): notes are
only ever added, each with its author and time, so nobody's note is ever lost to someone else's.

Attached progress never widens who may see it: the queue links a request to the client page
only for a viewer who may already open it under the one sharing rule
(``visible_learner_ids`` in app/services/sharing.py: a counsellor with a live link from the
learner, or an admin). Anyone else sees that progress was attached, and nothing of it.

When a signed-in person's account moves to a new e-mail address (app/services/email_change.py),
their open requests that asked to be e-mailed at the old one move with it, in the same commit
(``contact_requests_follow_address``): people often change address because someone else reads
the old inbox, and the clinic must not write there. The trail records that the address was
updated (an "email_updated" event, naming nobody), never either address.

Withdrawing marks the request withdrawn and empties, at once, everything it said about the
person (contact details, name, times, subject, note, and every staff note: they are about the
person, and often repeat their number or what they said) and detaches the
progress. We keep the empty record, rather than deleting it, so that a counsellor who has
picked the request up sees that the person withdrew (and does not call from a number noted
down earlier) instead of finding it gone; it is deleted with the closed ones once the retention
period has passed (``contact_requests_purge``), or at once with the account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, Select, case, delete, func, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from app.models import (
    COUNSELLING_ROLES,
    ContactMethod,
    ContactRequest,
    ContactRequestEvent,
    ContactRequestNote,
    ContactStatus,
    ContactTopic,
    Role,
    User,
)
from app.models.types import utcnow
from app.services import accounts
from app.services.accounts import HIDDEN_MARKS_MESSAGE, name_has_hidden_marks
from app.services.errors import DomainError, ValidationError
from app.services.sealing import seal, unseal
from app.services.sharing import visible_learner_ids

NAME_MAX_LENGTH = 80
PHONE_MAX_LENGTH = 32
EMAIL_MAX_LENGTH = 254
GOOD_TIMES_MAX_LENGTH = 120
NOTE_MAX_LENGTH = 500
STAFF_NOTE_MAX_LENGTH = 2000
QUEUE_PAGE_SIZE = 50
DEFAULT_RETENTION = timedelta(days=90)

TOPIC_LABELS = {
    ContactTopic.ALCOHOL: "Alcohol",
    ContactTopic.OPIOIDS: "Opioids",
    ContactTopic.FAMILY: "For a family member or friend",
    ContactTopic.OTHER: "Something else",
}
METHOD_LABELS = {ContactMethod.PHONE: "Phone", ContactMethod.EMAIL: "E-mail"}
# What the staff read in the queue.
STATUS_LABELS = {
    ContactStatus.NEW: "New",
    ContactStatus.NO_ANSWER: "Tried, no answer",
    ContactStatus.CONTACTED: "Contacted",
    ContactStatus.CLOSED: "Closed",
    ContactStatus.WITHDRAWN: "Withdrawn",
}
# What the person who asked reads on /me/.
REQUESTER_STATUS_LABELS = {
    ContactStatus.NEW: "Waiting for the clinic",
    # Kind, and no more than is true: nobody has spoken to them yet, and someone will try again.
    ContactStatus.NO_ANSWER: "We tried to reach you, and will try again",
    ContactStatus.CONTACTED: "The clinic has been in touch",
    ContactStatus.CLOSED: "Closed",
    ContactStatus.WITHDRAWN: "Withdrawn: what you told us is erased",
}
# Everything /me/ needs to describe a person's own requests.
REQUESTER_LABELS = {"topics": TOPIC_LABELS, "methods": METHOD_LABELS, "statuses": REQUESTER_STATUS_LABELS}
# The statuses staff set; "withdrawn" is the person's alone.
STAFF_STATUSES = (ContactStatus.NEW, ContactStatus.NO_ANSWER, ContactStatus.CONTACTED, ContactStatus.CLOSED)
OPEN_STATUSES = (ContactStatus.NEW, ContactStatus.NO_ANSWER, ContactStatus.CONTACTED)
ENDED_STATUSES = (ContactStatus.CLOSED, ContactStatus.WITHDRAWN)
QUEUE_VIEWS = ("open", "ended")
# The trail's record that the person's account moved to a new address and the request with it.
EMAIL_UPDATED = "email_updated"
# The actions the person who asked takes (their events name no actor).
REQUESTER_ACTIONS = ("withdrawn", EMAIL_UPDATED)
# The trail's record that a request went back to the queue because its holder left the staff: the
# actor is the admin who deactivated the account, took its staff role away or erased it; none when
# the holder deleted their own account (the trail never names a deleted account: it is gone).
HOLDER_DEACTIVATED = "holder_deactivated"
HOLDER_NOT_STAFF = "holder_not_staff"
HOLDER_ERASED = "holder_erased"
HOLDER_DELETED = "holder_deleted"
HOLDER_LEFT_ACTIONS = (HOLDER_DEACTIVATED, HOLDER_NOT_STAFF, HOLDER_ERASED, HOLDER_DELETED)

# Digits with the usual separators and an optional leading +: 7 to 15 digits (E.164's most).
_PHONE_CHARACTERS = re.compile(r"\+?[0-9 ()\-.]+")


class ContactRequestRefused(DomainError):
    """A change the request's state does not allow (withdrawn, already picked up, same status)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotClinicStaff(DomainError):
    """Only counsellors and admins work the clinic's queue."""


@dataclass(frozen=True)
class ContactDetails:
    """What the person typed into the request form, before it is checked."""

    contact_by: str
    topic: str
    phone: str = ""
    email: str = ""
    name: str = ""
    good_times: str = ""
    note: str = ""
    attach_progress: bool = False


def _trimmed(value: str | None, field: str, limit: int, what: str) -> str | None:
    value = " ".join((value or "").split()) if field != "note" else (value or "").strip()
    if len(value) > limit:
        raise ValidationError(field, f"Keep {what} to {limit} characters or fewer.")
    return value or None


def _name(value: str | None) -> str | None:
    """Whom to ask for, as kept; ValidationError if too long or holding hidden marks (staff read it
    in the queue, where a mark that reorders text could make it show as another name)."""
    name = _trimmed(value, "name", NAME_MAX_LENGTH, "the name")
    if name is not None and name_has_hidden_marks(name):
        raise ValidationError("name", HIDDEN_MARKS_MESSAGE)
    return name


def normalise_phone(value: str | None) -> str:
    """The number as typed, spaces tidied; raises ValidationError unless it looks like a phone number."""
    phone = " ".join((value or "").split())
    if not phone:
        raise ValidationError("phone", "Enter a phone number we can call, or choose e-mail instead.")
    digits = sum(ch.isdigit() for ch in phone)
    if len(phone) > PHONE_MAX_LENGTH or not _PHONE_CHARACTERS.fullmatch(phone) or not 7 <= digits <= 15:
        raise ValidationError("phone", "Enter a phone number using digits, such as 07700 900123 or +44 20 7946 0000.")
    return phone


def normalise_email(value: str | None) -> str:
    """The address with its domain in lower case; raises ValidationError unless it is a valid address."""
    email = (value or "").strip()
    if not email:
        raise ValidationError("email", "Enter an e-mail address we can write to, or choose phone instead.")
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError("email", f"Keep the e-mail address to {EMAIL_MAX_LENGTH} characters or fewer.")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError("email", "Enter an e-mail address like name@example.com.") from None


def contact_detail_checked(contact_by: str, *, phone: str | None, email: str | None) -> tuple[str | None, str | None]:
    """The (phone, e-mail) kept for a request by ``contact_by``: the chosen way's detail, checked
    (ValidationError at its field), and None for the other."""
    if contact_by == ContactMethod.PHONE:
        return normalise_phone(phone), None
    if contact_by == ContactMethod.EMAIL:
        return None, normalise_email(email)
    return None, None


def tel_href(phone: str) -> str:
    """A phone number as a tel: link wants it: its digits, with a leading + kept."""
    phone = phone.strip()
    return ("+" if phone.startswith("+") else "") + "".join(ch for ch in phone if ch.isdigit())


def contact_request_create(session: Session, *, details: ContactDetails, requester: User | None) -> ContactRequest:
    """Record a request to be contacted and commit; raise ValidationError (with its field) on bad input.

    Only the detail for the chosen method is kept. A signed-in person's request is kept with
    their account (for /me/); ``attach_progress`` counts only for a learner's account.
    """
    if details.contact_by not in set(ContactMethod):
        raise ValidationError("contact_by", "Choose how you would like us to contact you.")
    if details.topic not in set(ContactTopic):
        raise ValidationError("topic", "Choose what it is about.")
    phone, email = contact_detail_checked(details.contact_by, phone=details.phone, email=details.email)
    request = ContactRequest(
        requester_id=requester.id if requester is not None else None,
        progress_attached=bool(details.attach_progress and requester is not None and requester.role == Role.LEARNER),
        contact_by=details.contact_by,
        phone=phone,
        email=email,
        name=_name(details.name),
        good_times=_trimmed(details.good_times, "good_times", GOOD_TIMES_MAX_LENGTH, "the times"),
        topic=details.topic,
        note=_trimmed(details.note, "note", NOTE_MAX_LENGTH, "the note"),
        status=ContactStatus.NEW,
    )
    session.add(request)
    session.commit()
    return request


def contact_emails_pending(session: Session, *, request_id: int, pending: bool = True) -> None:
    """Mark the request's e-mails as not queued yet (the queue could not be reached), or with
    ``pending=False`` as queued now; commits."""
    session.execute(
        update(ContactRequest)
        .where(ContactRequest.id == request_id)
        .values(emails_pending=pending)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def contact_emails_waiting(session: Session) -> list[int]:
    """The ids of the requests whose e-mails are still to be queued, oldest first."""
    return list(
        session.scalars(
            select(ContactRequest.id).where(ContactRequest.emails_pending.is_(True)).order_by(ContactRequest.id)
        )
    )


def _event(
    session: Session, request: ContactRequest, *, actor: User | None, action: str, to_status: str | None = None
) -> None:
    session.add(
        ContactRequestEvent(
            request_id=request.id,
            actor_id=actor.id if actor is not None else None,
            action=action,
            from_status=request.status if to_status else None,
            to_status=to_status,
        )
    )


def _staff_request(session: Session, staff: User, request_id: int) -> ContactRequest:
    """The request, locked for this change; LookupError if there is none, NotClinicStaff for anyone else."""
    if staff.role not in COUNSELLING_ROLES:
        raise NotClinicStaff("Only the clinic's counsellors and admins can work on requests.")
    request = session.scalar(select(ContactRequest).where(ContactRequest.id == request_id).with_for_update())
    if request is None:
        raise LookupError(request_id)
    if request.status == ContactStatus.WITHDRAWN:
        session.rollback()
        raise ContactRequestRefused("The person withdrew this request: it cannot be changed.")
    return request


CHANGED_MEANWHILE = "Someone else changed this request at the same moment, so your change was not made: look again."


def _commit_change(session: Session) -> None:
    """Commit a change to a request; ContactRequestRefused if another change to it was committed
    since it was read (its version moved on), with nothing of this one saved."""
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ContactRequestRefused(CHANGED_MEANWHILE) from None


def _take(session: Session, request: ContactRequest, staff: User, now: datetime) -> None:
    request.picked_up_by_id = staff.id
    request.picked_up_at = now
    _event(session, request, actor=staff, action="picked_up")


def contact_request_pick_up(session: Session, *, staff: User, request_id: int) -> ContactRequest:
    """Make ``staff`` the one who deals with the request, audited, and commit.

    Refused when someone already has it (they release it first), so two people do not both call.
    """
    request = _staff_request(session, staff, request_id)
    if request.picked_up_by_id is not None:
        holder = "you" if request.picked_up_by_id == staff.id else "someone else"
        session.rollback()
        raise ContactRequestRefused(f"This request is already picked up by {holder}.")
    _take(session, request, staff, utcnow())
    _commit_change(session)
    return request


def may_release(staff: User, request: ContactRequest) -> bool:
    """Whether ``staff`` may hand a picked-up request back to the queue: whoever has it, or an admin."""
    return request.picked_up_by_id is not None and (request.picked_up_by_id == staff.id or staff.role == Role.ADMIN)


def contact_request_release(session: Session, *, staff: User, request_id: int) -> ContactRequest:
    """Hand the request back to the queue, audited, and commit: by whoever has it, or an admin."""
    request = _staff_request(session, staff, request_id)
    if request.picked_up_by_id is None:
        session.rollback()
        raise ContactRequestRefused("Nobody has picked this request up.")
    if not may_release(staff, request):
        session.rollback()
        raise ContactRequestRefused("Only whoever picked it up, or an admin, can hand it back.")
    request.picked_up_by_id = None
    request.picked_up_at = None
    _event(session, request, actor=staff, action="released")
    _commit_change(session)
    return request


def may_change_status(staff: User, request: ContactRequest) -> bool:
    """Whether ``staff`` may mark the request new, contacted or closed: anyone on the staff while
    nobody has picked it up; once someone has, only they or an admin (as for handing it back)."""
    return request.picked_up_by_id is None or request.picked_up_by_id == staff.id or staff.role == Role.ADMIN


def _holder_name(request: ContactRequest) -> str:
    holder = request.picked_up_by
    return holder.display_name if holder is not None else "someone else"


def contact_request_set_status(session: Session, *, staff: User, request_id: int, status: str) -> ContactRequest:
    """Move the request to ``status`` (new, tried with no answer, contacted or closed), audited, and commit.

    Only its holder, or an admin, changes the status of a picked-up request (``may_change_status``):
    anyone else is refused, and may add a note instead. Marking it contacted, or tried with no
    answer, while nobody has it picks it up for ``staff``: whoever made contact, or tried to,
    holds it. "Tried, no answer" may be recorded again and again (each try is a line of the
    trail); any other status the request has already is refused. Closing starts the retention
    period; reopening stops it.
    """
    if status not in STAFF_STATUSES:
        raise ValidationError("status", "Choose new, tried with no answer, contacted or closed.")
    request = _staff_request(session, staff, request_id)
    if not may_change_status(staff, request):
        holder = _holder_name(request)
        session.rollback()
        raise ContactRequestRefused(
            f"{holder} has picked this request up: only they, or an admin, can change its status. "
            "You can add a note for them instead."
        )
    if request.status == status and status != ContactStatus.NO_ANSWER:
        session.rollback()
        raise ContactRequestRefused(f"This request is already {STATUS_LABELS[ContactStatus(status)].lower()}.")
    now = utcnow()
    if status in (ContactStatus.CONTACTED, ContactStatus.NO_ANSWER) and request.picked_up_by_id is None:
        _take(session, request, staff, now)
    _event(session, request, actor=staff, action="status", to_status=status)
    request.status = status
    request.status_changed_at = now
    request.ended_at = now if status == ContactStatus.CLOSED else None
    _commit_change(session)
    return request


def contact_requests_unhold(session: Session, *, holder_id: int, actor: User | None, action: str) -> int:
    """Hand every open request ``holder_id`` holds back to the queue, recording ``action`` (one of
    ``HOLDER_LEFT_ACTIONS``) by ``actor`` on each (None only for ``HOLDER_DELETED``: the holder
    deleted their own account); return how many. Does not commit: the account's deactivation,
    erasure or change of role commits it, so the two never disagree.

    Closed and withdrawn requests keep their holder, as the record of who dealt with them. One
    UPDATE decides which rows match and moves each one's version on, so a change the holder read
    before it (they click "Mark contacted" as they are deactivated) is refused rather than
    written over it.
    """
    if action not in HOLDER_LEFT_ACTIONS or (actor is None) != (action == HOLDER_DELETED):
        raise ValueError(action)
    unheld = list(
        session.scalars(
            update(ContactRequest)
            .where(ContactRequest.picked_up_by_id == holder_id, ContactRequest.status.in_(OPEN_STATUSES))
            .values(picked_up_by_id=None, picked_up_at=None, version=ContactRequest.version + 1)
            .returning(ContactRequest.id)
            .execution_options(synchronize_session=False)
        )
    )
    for request_id in sorted(unheld):
        session.add(ContactRequestEvent(request_id=request_id, actor_id=actor.id if actor else None, action=action))
    if unheld:
        # Rows this session holds were changed behind its back: read them afresh when next used.
        for request in session.identity_map.values():
            if isinstance(request, ContactRequest) and request.id in unheld:
                session.expire(request)
    return len(unheld)


def contact_requests_held(session: Session, *, holder_id: int) -> int:
    """How many open requests ``holder_id`` holds: those ``contact_requests_unhold`` would hand back."""
    return (
        session.scalar(
            select(func.count()).where(
                ContactRequest.picked_up_by_id == holder_id, ContactRequest.status.in_(OPEN_STATUSES)
            )
        )
        or 0
    )


def contact_requests_waiting(session: Session) -> int:
    """How many open requests nobody holds: people waiting for someone to pick theirs up (one query)."""
    return (
        session.scalar(
            select(func.count()).where(
                ContactRequest.status.in_(OPEN_STATUSES), ContactRequest.picked_up_by_id.is_(None)
            )
        )
        or 0
    )


def contact_request_add_note(session: Session, *, staff: User, request_id: int, text: str) -> ContactRequestNote:
    """Add a private note (never shown to the person) by ``staff`` to the request, audited, and commit.

    Anyone on the staff may add one to any request they can see, whoever holds it: adding loses
    nothing, as the notes already there stay as they are. ValidationError on ``staff_note`` when
    empty or too long; refused on a withdrawn request, or (SQLite) when the request changed
    meanwhile, so a note is never added to a request whose person has just withdrawn it.
    """
    value = (text or "").strip()
    if not value:
        raise ValidationError("staff_note", "Write the note to add.")
    if len(value) > STAFF_NOTE_MAX_LENGTH:
        raise ValidationError("staff_note", f"Keep the note to {STAFF_NOTE_MAX_LENGTH} characters or fewer.")
    request = _staff_request(session, staff, request_id)
    note = ContactRequestNote(request_id=request.id, author_id=staff.id, text=value, created_at=utcnow())
    session.add(note)
    _event(session, request, actor=staff, action="note_added")
    # Move the request's version on: a withdrawal committed since it was read (which SQLite does
    # not lock out) then refuses this note, rather than leaving it on the emptied request.
    flag_modified(request, "status")
    _commit_change(session)
    return note


def contact_request_withdraw(session: Session, *, requester: User, request_id: int) -> ContactRequest:
    """Withdraw the person's own request and commit: everything it said is erased at once.

    LookupError when it is not theirs (or not there), so ids cannot be probed.
    """
    request = session.scalar(
        select(ContactRequest)
        .where(ContactRequest.id == request_id, ContactRequest.requester_id == requester.id)
        .with_for_update()
    )
    if request is None:
        raise LookupError(request_id)
    if request.status == ContactStatus.WITHDRAWN:
        session.rollback()
        raise ContactRequestRefused("You have already withdrawn this request.")
    return _withdraw(session, request)


def contact_request_withdraw_by_link(session: Session, *, request_id: int, email: str) -> ContactRequest:
    """Withdraw a request from the link its acknowledgement mailed to ``email``, and commit.

    Anyone may type anyone's address into the contact form, and a visitor's request has no account
    to withdraw it from: the address's owner withdraws it here, and the clinic does not write to
    them about a request they never made. LookupError when no request with that id still holds that
    address (withdrawing erases it, so a second use finds nothing either).
    """
    request = session.scalar(_holding(request_id, email).with_for_update())
    if request is None:
        raise LookupError(request_id)
    return _withdraw(session, request)


# The purpose the withdrawal link's token is sealed for (app/services/sealing.py): its own key.
WITHDRAW_LINK_PURPOSE = "contact-request-withdraw"


def withdraw_link_token(request: ContactRequest, *, secret_key: str) -> str:
    """The token of the link that withdraws ``request``, for the address it gave: sealed, so the
    link in the e-mail (and in any log it passes through) shows neither the id nor the address."""
    return seal(f"{request.id}:{request.email}", secret_key=secret_key, purpose=WITHDRAW_LINK_PURPOSE)


def withdraw_link_holder(token: str, *, secret_key: str) -> tuple[int, str] | None:
    """The request id and address a withdrawal link's token names; None for anything else."""
    text = unseal(token, secret_key=secret_key, purpose=WITHDRAW_LINK_PURPOSE)
    request_id, _, email = (text or "").partition(":")
    return (int(request_id), email) if request_id.isdigit() and email else None


def contact_request_by_link(session: Session, *, request_id: int, email: str) -> ContactRequest | None:
    """The request a withdrawal link names, while it holds the address the link went to."""
    return session.scalar(_holding(request_id, email))


def _holding(request_id: int, email: str) -> Select[ContactRequest]:
    """The request with this id while it still holds ``email`` (withdrawing erases it)."""
    return select(ContactRequest).where(
        ContactRequest.id == request_id,
        ContactRequest.email == email,
        ContactRequest.status != ContactStatus.WITHDRAWN,
    )


def _open_requests_emailing(requester_id: int, email: str) -> tuple[ColumnElement[bool], ...]:
    """The WHERE of the person's open requests that ask to be e-mailed at ``email``.

    Compared as account addresses are (``accounts.normalise_email``: case aside), not as the form
    keeps them (its own ``normalise_email`` lowers only the domain): "Lee@example.org" given in the
    form is the account's "lee@example.org". lower() folds every letter on both databases
    (app/sqlite_text.py).
    """
    return (
        ContactRequest.requester_id == requester_id,
        ContactRequest.status.in_(OPEN_STATUSES),
        ContactRequest.contact_by == ContactMethod.EMAIL,
        func.lower(ContactRequest.email) == accounts.normalise_email(email),
    )


def contact_requests_emailing(session: Session, *, requester: User, email: str) -> int:
    """How many of ``requester``'s open requests (new or contacted) ask to be e-mailed at ``email``."""
    return session.scalar(select(func.count()).where(*_open_requests_emailing(requester.id, email))) or 0


def contact_requests_follow_address(session: Session, *, requester: User, old_email: str, new_email: str) -> int:
    """Move ``requester``'s open requests that ask to be e-mailed at ``old_email`` to ``new_email``,
    recording an "email_updated" event on each; return how many. Does not commit: the e-mail change
    commits it with the account's new address, so the two never disagree.

    Requests that gave another address, phone requests, and closed or withdrawn ones are left as
    they are. One UPDATE decides which rows match, so a request the staff close at the same moment
    is either moved and recorded or neither; it bumps each row's version, so a staff change read
    before it is refused (``CHANGED_MEANWHILE``) rather than write over it.
    """
    moved = list(
        session.scalars(
            update(ContactRequest)
            .where(*_open_requests_emailing(requester.id, old_email))
            .values(email=new_email, version=ContactRequest.version + 1)
            .returning(ContactRequest.id)
            .execution_options(synchronize_session=False)
        )
    )
    for request_id in sorted(moved):
        # Ids only: neither address goes into the trail. No actor, as for a withdrawal.
        session.add(ContactRequestEvent(request_id=request_id, actor_id=None, action=EMAIL_UPDATED))
    if moved:
        # Rows this session holds were changed behind its back: read them afresh when next used.
        for request in session.identity_map.values():
            if isinstance(request, ContactRequest) and request.id in moved:
                session.expire(request)
    return len(moved)


def _withdraw(session: Session, request: ContactRequest) -> ContactRequest:
    """Mark ``request`` withdrawn, erase what it said, record it and commit."""
    now = utcnow()
    # The person is never named as the actor: the record says only that they withdrew it.
    _event(session, request, actor=None, action="withdrawn", to_status=ContactStatus.WITHDRAWN)
    request.status = ContactStatus.WITHDRAWN
    request.status_changed_at = request.ended_at = now
    request.phone = request.email = request.name = request.good_times = request.topic = request.note = None
    session.execute(delete(ContactRequestNote).where(ContactRequestNote.request_id == request.id))
    request.progress_attached = False
    _commit_change(session)
    return request


def contact_requests_purge(session: Session, *, now: datetime, retention: timedelta = DEFAULT_RETENTION) -> int:
    """Delete the requests closed or withdrawn more than ``retention`` before ``now``; commit; return how many.

    Their staff notes go with them (ON DELETE CASCADE); their audit events stay, unlinked (ON
    DELETE SET NULL), and keep nothing of the request.
    """
    result = session.execute(
        delete(ContactRequest).where(
            ContactRequest.status.in_(ENDED_STATUSES),
            ContactRequest.ended_at.is_not(None),
            ContactRequest.ended_at < now - retention,
        )
    )
    session.commit()
    return result.rowcount  # type: ignore[attr-defined]


def requester_contact_requests(session: Session, *, requester: User) -> list[ContactRequest]:
    """The person's own requests, newest first, for /me/ (one query)."""
    return list(
        session.scalars(
            select(ContactRequest)
            .where(ContactRequest.requester_id == requester.id)
            .order_by(ContactRequest.created_at.desc(), ContactRequest.id.desc())
        )
    )


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a request's audit trail, as the staff read it."""

    at: datetime
    who: str
    action: str
    from_status: str | None
    to_status: str | None

    @property
    def text(self) -> str:
        if self.action == "status" and self.to_status == ContactStatus.NO_ANSWER:
            return "tried to reach them and got no answer"
        if self.action == "status" and self.to_status:
            return f"marked it {STATUS_LABELS[ContactStatus(self.to_status)].lower()}"
        return {
            "picked_up": "picked it up",
            HOLDER_DEACTIVATED: "deactivated the account that held it, which handed it back to the queue",
            HOLDER_NOT_STAFF: "took the staff role from the account that held it, which handed it back to the queue",
            HOLDER_ERASED: "erased the account that held it, which handed it back to the queue",
            HOLDER_DELETED: "deleted their account, which handed it back to the queue",
            "released": "handed it back to the queue",
            "note_added": "added a note",
            # Before notes were only ever added, each save replaced them.
            "noted": "changed the notes",
            "withdrawn": "withdrew it",
            EMAIL_UPDATED: "changed their e-mail address, and the request now uses the new one: write only to the "
            "address shown now, not one noted down before",
        }.get(self.action, self.action)


@dataclass(frozen=True)
class NoteEntry:
    """One staff note on a request, as the staff read it."""

    at: datetime
    # The author's name now; None for the notes carried over from before notes were kept apart.
    author: str | None
    text: str


@dataclass(frozen=True)
class QueueEntry:
    """A request as one staff member sees it in the queue."""

    request: ContactRequest
    picked_up_by_name: str | None
    # Set only when this viewer may open the learner's progress under the sharing rule.
    client_id: int | None
    client_name: str | None
    history: list[HistoryEntry]
    # The staff's notes, oldest first.
    notes: list[NoteEntry] = field(default_factory=list)
    # Whether this viewer may hand it back to the queue (``may_release``).
    can_release: bool = False
    # Whether this viewer may change its status (``may_change_status``).
    can_change_status: bool = False

    @property
    def phone_href(self) -> str:
        """The number the person gave, as a tel: link's digits (and a leading +)."""
        return tel_href(self.request.phone or "")

    @property
    def email_updated_at(self) -> datetime | None:
        """When the person's address on it last changed with their account's, or None if it never has."""
        return max((h.at for h in self.history if h.action == EMAIL_UPDATED), default=None)

    @property
    def tries_without_answer(self) -> int:
        """How many times someone tried to reach the person and got no answer."""
        return sum(1 for h in self.history if h.action == "status" and h.to_status == ContactStatus.NO_ANSWER)

    @property
    def returned_by_leaving(self) -> HistoryEntry | None:
        """The trail's line saying the request went back to the queue because its holder left the
        staff, while nobody has picked it up since; else None."""
        if self.request.picked_up_by_id is not None:
            return None
        for entry in reversed(self.history):
            if entry.action in HOLDER_LEFT_ACTIONS:
                return entry
            if entry.action in ("picked_up", "released"):
                return None
        return None

    @property
    def progress_hidden(self) -> bool:
        """Progress is attached but this viewer may not open it (no live sharing link to them)."""
        return self.request.progress_attached and self.client_id is None


@dataclass(frozen=True)
class QueuePage:
    entries: list[QueueEntry]
    view: str
    page: int
    has_more: bool
    counts: dict[str, int]
    # Open requests nobody holds (``contact_requests_waiting``), counted with the rest.
    waiting: int = 0


def _entries(session: Session, *, viewer: User, requests: list[ContactRequest]) -> list[QueueEntry]:
    """Names, audit trails, notes and client links for these requests, in four queries whatever their number."""
    ids = [r.id for r in requests]
    attached = {r.requester_id for r in requests if r.progress_attached and r.requester_id is not None}
    holders = {r.picked_up_by_id for r in requests if r.picked_up_by_id is not None}
    history: dict[int, list[HistoryEntry]] = {i: [] for i in ids}
    notes: dict[int, list[NoteEntry]] = {i: [] for i in ids}
    names: dict[int, str] = {}
    if ids:
        author = aliased(User)
        for note, author_name in session.execute(
            select(ContactRequestNote, author.display_name)
            .outerjoin(author, author.id == ContactRequestNote.author_id)
            .where(ContactRequestNote.request_id.in_(ids))
            .order_by(ContactRequestNote.created_at, ContactRequestNote.id)
        ):
            who = None if note.carried_over else author_name or "A removed account"
            notes[note.request_id].append(NoteEntry(note.created_at, who, note.text))
        actor = aliased(User)
        for event, actor_name in session.execute(
            select(ContactRequestEvent, actor.display_name)
            .outerjoin(actor, actor.id == ContactRequestEvent.actor_id)
            .where(ContactRequestEvent.request_id.in_(ids))
            .order_by(ContactRequestEvent.created_at, ContactRequestEvent.id)
        ):
            if event.action in REQUESTER_ACTIONS:
                who = "The person who asked"
            elif event.action == HOLDER_DELETED:
                who = "The person who held it"  # their own deletion: the account, and its name, are gone
            else:
                who = actor_name or "A removed account"
            history.setdefault(event.request_id or 0, []).append(
                HistoryEntry(event.created_at, who, event.action, event.from_status, event.to_status)
            )
    if holders or attached:
        # The holders' names, and which of the attached learners this viewer may see: the sharing rule.
        visible = visible_learner_ids(viewer).where(User.id.in_(attached))
        rows = session.execute(
            select(User.id, User.display_name, User.id.in_(visible).label("visible")).where(
                User.id.in_(holders | attached)
            )
        )
        clients: set[int] = set()
        for user_id, name, is_visible in rows:
            names[user_id] = name
            if is_visible:
                clients.add(user_id)
    else:
        clients = set()
    return [
        QueueEntry(
            request=r,
            picked_up_by_name=(names.get(r.picked_up_by_id) or "A removed account") if r.picked_up_by_id else None,
            client_id=r.requester_id if r.progress_attached and r.requester_id in clients else None,
            client_name=names.get(r.requester_id) if r.progress_attached and r.requester_id in clients else None,
            history=history[r.id],
            notes=notes[r.id],
            can_release=may_release(viewer, r),
            can_change_status=may_change_status(viewer, r),
        )
        for r in requests
    ]


def contact_queue(session: Session, *, viewer: User, view: str = "open", page: int = 1) -> QueuePage:
    """One page of the clinic's queue for ``viewer``: open requests (new first, oldest first), or ended ones
    (most recently ended first); with the number in each view. A fixed number of queries."""
    if viewer.role not in COUNSELLING_ROLES:
        raise NotClinicStaff("Only the clinic's counsellors and admins see the queue.")
    view = view if view in QUEUE_VIEWS else "open"
    statement = select(ContactRequest)
    if view == "open":
        # New first, then those tried with no answer (to try again), then those under way.
        rank = case(
            (ContactRequest.status == ContactStatus.NEW, 0),
            (ContactRequest.status == ContactStatus.NO_ANSWER, 1),
            else_=2,
        )
        statement = statement.where(ContactRequest.status.in_(OPEN_STATUSES)).order_by(
            rank, ContactRequest.created_at, ContactRequest.id
        )
    else:
        statement = statement.where(ContactRequest.status.in_(ENDED_STATUSES)).order_by(
            ContactRequest.ended_at.desc(), ContactRequest.id.desc()
        )
    page = max(page, 1)
    requests = list(session.scalars(statement.limit(QUEUE_PAGE_SIZE + 1).offset((page - 1) * QUEUE_PAGE_SIZE)))
    counts = {str(status): 0 for status in ContactStatus}
    waiting = 0
    for status, count, held in session.execute(
        select(ContactRequest.status, func.count(), func.count(ContactRequest.picked_up_by_id)).group_by(
            ContactRequest.status
        )
    ):
        counts[status] = count
        if status in OPEN_STATUSES:
            waiting += count - held
    return QueuePage(
        entries=_entries(session, viewer=viewer, requests=requests[:QUEUE_PAGE_SIZE]),
        view=view,
        page=page,
        has_more=len(requests) > QUEUE_PAGE_SIZE,
        counts=counts,
        waiting=waiting,
    )


def contact_queue_entry(session: Session, *, viewer: User, request_id: int) -> QueueEntry | None:
    """One request as ``viewer`` sees it in the queue, or None when there is no such request."""
    if viewer.role not in COUNSELLING_ROLES:
        raise NotClinicStaff("Only the clinic's counsellors and admins see the queue.")
    request = session.get(ContactRequest, request_id)
    if request is None:
        return None
    return _entries(session, viewer=viewer, requests=[request])[0]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def contact_requests_export(session: Session, *, user: User) -> dict[str, list[dict]]:
    """The contact-request sections of the person's data download.

    Their own requests as they gave them, with status (never the staff's private notes, as an
    invitation's label stays out of the client's export); the requests they picked up, the
    notes they added and what they did to requests, as staff: ids, statuses and times, never
    what the request or the note said (that is about the person who asked).
    """
    own = list(
        session.scalars(
            select(ContactRequest).where(ContactRequest.requester_id == user.id).order_by(ContactRequest.created_at)
        )
    )
    picked = list(
        session.scalars(
            select(ContactRequest)
            .where(ContactRequest.picked_up_by_id == user.id)
            .order_by(ContactRequest.picked_up_at)
        )
    )
    notes = list(
        session.scalars(
            select(ContactRequestNote)
            .where(ContactRequestNote.author_id == user.id)
            .order_by(ContactRequestNote.created_at, ContactRequestNote.id)
        )
    )
    events = list(
        session.scalars(
            select(ContactRequestEvent)
            .where(ContactRequestEvent.actor_id == user.id)
            .order_by(ContactRequestEvent.created_at, ContactRequestEvent.id)
        )
    )
    return {
        "contact_requests": [
            {
                "asked_at": _when(r.created_at),
                "contact_by": r.contact_by,
                "phone": r.phone,
                "email": r.email,
                "name": r.name,
                "good_times": r.good_times,
                "about": r.topic,
                "note": r.note,
                "progress_attached": r.progress_attached,
                "status": r.status,
                "status_changed_at": _when(r.status_changed_at),
            }
            for r in own
        ],
        "contact_requests_i_picked_up": [
            {"request": r.id, "picked_up_at": _when(r.picked_up_at), "status": r.status} for r in picked
        ],
        "contact_request_notes_i_added": [{"request": n.request_id, "added_at": _when(n.created_at)} for n in notes],
        "contact_request_actions_i_took": [
            {
                "request": e.request_id,
                "action": e.action,
                "from": e.from_status,
                "to": e.to_status,
                "at": _when(e.created_at),
            }
            for e in events
        ],
    }
