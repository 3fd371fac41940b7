"""LTI 1.3: the platforms (LMSs) that may launch the course and the people they launch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import NEVER_REUSED_IDS, UTCDateTime, utcnow
from app.models.user import User


class LtiPlatform(Model):
    """A platform an admin registered at /author/lti: who it is and where its endpoints are."""

    __tablename__ = "lti_platforms"
    # Never reused on SQLite: audit records name a platform by id, so a removed platform's id given
    # to a new one would put the new one's name on the old record.
    __table_args__ = (UniqueConstraint("issuer", "client_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    issuer: Mapped[str] = mapped_column(String(255))
    # The client id the platform gave this tool: the audience of its id_tokens.
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(500))
    auth_token_url: Mapped[str] = mapped_column(String(500))
    key_set_url: Mapped[str] = mapped_column(String(500))
    # The deployment ids a launch may name, one per line; a handful at most.
    deployment_ids: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def deployment_list(self) -> list[str]:
        """The deployment ids, in the order the admin gave them."""
        return [line.strip() for line in self.deployment_ids.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"<LtiPlatform {self.id} {self.issuer}>"


class LtiIdentity(Model):
    """The account a platform's user (the id_token's ``sub``) signs in to."""

    __tablename__ = "lti_identities"
    __table_args__ = (UniqueConstraint("platform_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The name the platform last sent (``name``, else ``given_name``), so that a name changed there
    # is followed here, unless the person has since chosen another here (app/services/lti/identities.py).
    # NULL: the platform sent none, or the link was made before this was kept.
    lms_name: Mapped[str | None] = mapped_column(String(80), nullable=True)

    platform: Mapped[LtiPlatform] = relationship()
    user: Mapped[User] = relationship()


class LtiLaunchState(Model):
    """One OIDC login initiation: its state and nonce, used once by the launch that follows."""

    __tablename__ = "lti_launch_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LtiGradeTarget(Model):
    """Where a person's score for a course, or one lesson of it, goes: a platform's line item."""

    __tablename__ = "lti_grade_targets"
    __table_args__ = (UniqueConstraint("identity_id", "lineitem_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("lti_identities.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    # None: the whole course (the share of its lessons complete); else that lesson's quiz.
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), nullable=True)
    lineitem_url: Mapped[str] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The last score the platform accepted for this line item, and when: a score the person has
    # now that differs (or none sent yet) is one the platform still lacks, and is sent again
    # (app/jobs/lti.py), whatever lost it (the platform down past the job's retries, the queue down).
    sent_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    identity: Mapped[LtiIdentity] = relationship()
