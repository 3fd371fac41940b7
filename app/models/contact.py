"""Requests to be contacted by the clinic, and the audit trail of what its staff did with them.

A request holds only what a call-back needs: how to reach the person (a phone number or an
e-mail address, their choice, and only the one they chose), an optional name to ask for, good
times, what it is about and a short note. A signed-in person's request is kept with their
account so they can see and withdraw it on /me/; the clinic sees the account only when the
person attached their course progress. The rules are in app/services/contact_requests.py.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow
from app.models.user import User


class ContactMethod(StrEnum):
    PHONE = "phone"
    EMAIL = "email"


class ContactTopic(StrEnum):
    ALCOHOL = "alcohol"
    OPIOIDS = "opioids"
    FAMILY = "family"
    OTHER = "other"


class ContactStatus(StrEnum):
    NEW = "new"
    # Someone tried to reach the person and got no answer: still open, and still its holder's to
    # try again (each try is a line of the trail).
    NO_ANSWER = "no_answer"
    CONTACTED = "contacted"
    CLOSED = "closed"
    # Set only by the person who asked; everything they wrote is erased at the same time.
    WITHDRAWN = "withdrawn"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class ContactRequest(Model):
    """One request to be contacted by the clinic."""

    __tablename__ = "contact_requests"
    __table_args__ = (
        CheckConstraint(_in("contact_by", ContactMethod), name="contact_by_known"),
        CheckConstraint(_in("topic", ContactTopic), name="topic_known"),
        CheckConstraint(_in("status", ContactStatus), name="status_known"),
        # The queue's order (status, then age) and the retention job's search.
        Index("ix_contact_requests_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The signed-in person who asked (None when asked without an account). CASCADE: erasing
    # the account erases its requests.
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # The person's choice to let the clinic's staff open their course progress, which they can
    # then do only as the sharing rule allows (app/services/sharing.py).
    progress_attached: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    contact_by: Mapped[str] = mapped_column(String(10))
    # Only the detail for the chosen method is kept; the other stays empty. All of these are
    # emptied when the person withdraws the request.
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    good_times: Mapped[str | None] = mapped_column(String(120), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=ContactStatus.NEW, server_default=ContactStatus.NEW.value)
    picked_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it was closed or withdrawn: the retention period counts from here.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Counts the changes: each UPDATE is made only if the row is still the version read. Staff
    # changes read the row locked (FOR UPDATE), which SQLite ignores; there this is what refuses
    # the second of two changes made at once (two people picking it up), where both were told
    # they had it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Its e-mails (the clinic's notice, the acknowledgement) could not be queued when it was made
    # (Redis down): the worker's ten-minute run queues them once the queue is back.
    emails_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    picked_up_by: Mapped[User | None] = relationship(foreign_keys=[picked_up_by_id])

    __mapper_args__ = {"version_id_col": version}


class ContactRequestNote(Model):
    """One of the staff's private notes on a request: never shown to the person, nor in their
    data download.

    Notes are only ever added, never edited or replaced, so one person's note cannot wipe out
    another's (a promised call-back lost without anyone noticing). CASCADE from the request: the
    notes go when it is deleted (retention, the requester's account erased); withdrawing deletes
    them at once (app/services/contact_requests.py).
    """

    __tablename__ = "contact_request_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("contact_requests.id", ondelete="CASCADE"), index=True)
    # SET NULL: an erased staff account leaves its notes, by "a removed account", as the clinic's record.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The notes a request held before each note was kept apart (migration a19000000034): one
    # text that anyone may have edited, so nobody is named as its author.
    carried_over: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ContactRequestEvent(Model):
    """Audit record: who picked a request up, changed its status or added a note, and when.

    Keeps ids and statuses only, never what the request said. SET NULL on both keys: a
    request deleted after its retention period, or an erased account, leaves an anonymous
    record of the staff's actions.
    """

    __tablename__ = "contact_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_requests.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # None for what the person who asked did (withdrew it, or moved their account, and so the
    # request, to a new e-mail address): they are never named here.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    # picked_up, released, status, note_added, withdrawn, email_updated, holder_deactivated,
    # holder_not_staff, holder_erased, holder_deleted (app/services/contact_requests.py; "noted":
    # the notes replaced, before notes were only ever added)
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
