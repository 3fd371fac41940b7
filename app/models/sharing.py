"""Consented sharing: a counsellor's invitations, the links learners accept, and the audit
log of every time someone looked at a learner's progress."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Table, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.caseload_names import attach as attach_caseload_names
from app.models.types import UTCDateTime, utcnow
from app.models.user import User


class Invitation(Model):
    """A single-use invitation from a counsellor; only a keyed hash of its code is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set once, when the learner accepts or declines: the code then cannot be used again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted: Mapped[bool | None] = mapped_column(nullable=True)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # The counsellor's private note of whom the invitation is for; never shown to the client.
    label: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # Set when the counsellor cancels an unused invitation: the code then answers "cancelled".
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])


class HandoverRequest(Model):
    """A request, addressed to one client's account, to share their progress with a colleague of
    the counsellor who has been seeing it (a caseload handed over: app/services/handover.py).

    Nothing is shared until the client accepts; accepting makes the link as accepting an
    invitation does. It expires, and is purged, as invitations are.
    """

    __tablename__ = "handover_requests"
    __table_args__ = (
        # The client's requests waiting on /me/, and whether one to this colleague waits already.
        Index("ix_handover_requests_learner_counsellor", "learner_id", "counsellor_id"),
        # The page where the handover was started lists its requests by the counsellor it is from.
        Index("ix_handover_requests_from_counsellor_id", "from_counsellor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The client asked, and the colleague they would share with: the request means nothing without either.
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The counsellor whose caseload it was, and who started it (they, or an admin): the client's
    # answer stays a record when either account goes.
    from_counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set once, when the client accepts or declines.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted: Mapped[bool | None] = mapped_column(nullable=True)

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])


class CounsellorLink(Model):
    """A learner's consent to share progress with one counsellor, until revoked."""

    __tablename__ = "counsellor_links"
    __table_args__ = (
        # One live link per pair; revoked links stay as a record of past sharing.
        Index(
            "uq_counsellor_links_active_pair",
            "counsellor_id",
            "learner_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
        Index("ix_counsellor_links_learner_id", "learner_id"),
        # A counsellor's caseload in name order, counted and paged from here alone (app/models/caseload_names.py).
        Index(
            "ix_counsellor_links_caseload_by_name",
            "counsellor_id",
            "client_name_key",
            "learner_id",
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Who ended it: the learner stopping sharing (False), or the counsellor no longer seeing their
    # progress (True: a client discharged or moved on; app/services/sharing.py, link_end_by_counsellor).
    ended_by_counsellor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The counsellor's private label for this client, kept from the invitation the client accepted
    # (Invitation.label), since invitations are deleted 30 days after they end; never shown to the
    # client. It tells two clients of one name apart on the counsellor's pages; cleared when the
    # link ends, as the invitation's is when its learner's account goes.
    label: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # Who made the link: the learner through an invitation, or an admin on their behalf.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # The learner's lowercased name while they are a learner, else NULL: written by the database's
    # triggers only (app/models/caseload_names.py), never by the app.
    client_name_key: Mapped[str | None] = mapped_column(String(80), nullable=True)

    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])
    learner: Mapped[User] = relationship(foreign_keys=[learner_id])


attach_caseload_names(cast(Table, CounsellorLink.__table__))


class ProgressView(Model):
    """Audit record: someone other than the learner viewed the learner's progress."""

    __tablename__ = "progress_views"
    __table_args__ = (
        Index("ix_progress_views_learner_viewed", "learner_id", "viewed_at"),
        # The admins' views, newest first, for the site-wide activity log (/author/activity).
        Index("ix_progress_views_role_viewed", "viewer_role", "viewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL, not CASCADE: an erased account leaves an anonymous audit trail.
    viewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    viewer_role: Mapped[str] = mapped_column(String(20))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    viewer: Mapped[User | None] = relationship(foreign_keys=[viewer_id])


class AuditEvent(Model):
    """Audit record of an admin's action (app/services/audit.py): on an account (role change,
    deactivation, a link made on a learner's behalf), or on no one account (an LMS platform, a
    download of learners' data, an API token; ``subject_id`` NULL). Keeps ids only, never
    personal data."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject_created", "subject_id", "created_at"),
        # The site-wide activity log (/author/activity), newest first, a page at a time.
        Index("ix_audit_events_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    # Non-personal details, e.g. {"from": "learner", "to": "counsellor"} or {"counsellor_id": 7}.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
