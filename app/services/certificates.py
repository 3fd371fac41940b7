"""Certificates of completion: issued once on completing a course, checked by anyone with the code.

The rules, in one place:

- Completing every live lesson of a course issues one certificate, in the transaction that
  records the completion (``certificate_issue_if_complete``, called by
  ``progress.lesson_record_completion``). Completing again (a retaken quiz) issues nothing: a
  learner who has ever had a certificate for the course gets another only by asking for a fresh
  one (``certificate_reissue``), which revokes the old. The database holds at most one live
  certificate per learner and course (a partial unique index), so two requests at once cannot
  make two.
- The code is ``secrets.token_urlsafe(CODE_BYTES)``: 192 random bits, unguessable.
- The holder's name is frozen at issue; the learner chooses what of it the certificate shows
  (full, initials or none) and whether its code verifies at all (``public``, off by default).
- ``certificate_public_view`` is all a stranger may learn: valid or revoked, the course, the
  date and the name as chosen, and no name at all once revoked (a learner replaces a
  certificate whose code went somewhere they did not want, and the old code must not go on
  tying their name to the course). An unknown code, a private certificate and one whose account
  was deleted (erased with it) look the same: None.
- A fresh certificate keeps the date of the one it replaces: the date the course was completed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import Certificate, Course, Lesson, LessonProgress, NameDisplay, User
from app.models.types import utcnow
from app.services.errors import ValidationError
from app.services.progress import live_lesson_ids
from app.urls import external_url

CODE_BYTES = 24  # 192 bits; token_urlsafe writes them as 32 characters
# What a code can look like: anything else is refused before any query (and answers as unknown).
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class PublicCertificate:
    """What the verification page shows, and nothing more."""

    code: str
    course_title: str
    issued_at: datetime
    revoked_at: datetime | None
    holder_name: str | None  # None: the learner chose to show no name, or it is revoked

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None


def initials(name: str) -> str:
    """The initials of a name, "Ada King Lovelace" -> "A. K. L." (letters only; empty if none)."""
    letters = [next((ch for ch in part if ch.isalpha()), "") for part in re.split(r"[\s\-]+", name)]
    return " ".join(f"{letter.upper()}." for letter in letters if letter)


def shown_name(name: str, display: str) -> str | None:
    """The holder's name as the learner chose to show it; None for no name."""
    if display == NameDisplay.FULL:
        return name
    if display == NameDisplay.INITIALS:
        return initials(name) or None
    return None


def name_choices(name: str) -> list[tuple[str, str, str | None]]:
    """The three ways a certificate can show ``name``: (choice, label, how it reads), for the settings form."""
    return [
        (NameDisplay.FULL.value, "Full name", shown_name(name, NameDisplay.FULL)),
        (NameDisplay.INITIALS.value, "Initials only", shown_name(name, NameDisplay.INITIALS)),
        (NameDisplay.NONE.value, "No name", None),
    ]


def _is_course_complete(session: Session, *, learner_id: int, course_id: int) -> bool:
    """Whether the learner has completed every live lesson of the course (1 query).

    The same rule as ``CourseOutline.is_complete``: a course with no live lesson is never complete.
    """
    total, done = session.execute(
        select(func.count(Lesson.id), func.count(LessonProgress.completed_at))
        .select_from(Lesson)
        .outerjoin(LessonProgress, and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == learner_id))
        .where(Lesson.id.in_(live_lesson_ids(course_id)))
    ).one()
    return total > 0 and done == total


def _insert_live(session: Session, values: dict) -> None:
    """Insert a certificate unless the learner already has a live one for the course (then nothing)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Certificate)
        .values(code=secrets.token_urlsafe(CODE_BYTES), **values)
        .on_conflict_do_nothing(index_elements=["user_id", "course_id"], index_where=text("revoked_at IS NULL"))
    )


def _live(session: Session, *, learner_id: int, course_id: int) -> Certificate | None:
    return session.scalar(
        select(Certificate).where(
            Certificate.user_id == learner_id, Certificate.course_id == course_id, Certificate.revoked_at.is_(None)
        )
    )


def certificate_issue_if_complete(
    session: Session, *, learner: User, course_id: int, when: datetime | None = None
) -> Certificate | None:
    """Issue the learner's certificate if they have completed the course and never had one.

    Part of the caller's transaction (it does not commit). Returns the certificate issued now,
    or None when nothing was issued (course not complete, or a certificate, live or revoked,
    exists already).
    """
    if not _is_course_complete(session, learner_id=learner.id, course_id=course_id):
        return None
    already = session.scalar(
        select(func.count(Certificate.id)).where(Certificate.user_id == learner.id, Certificate.course_id == course_id)
    )
    if already:
        return None
    issued = {"issued_at": when or utcnow(), "name_at_issue": learner.display_name}
    _insert_live(session, {"user_id": learner.id, "course_id": course_id} | issued)
    return _live(session, learner_id=learner.id, course_id=course_id)


def certificate_for(session: Session, *, learner: User, course_id: int) -> Certificate | None:
    """The learner's certificate for the course: the live one, else the latest revoked one, else None."""
    return session.scalar(
        select(Certificate)
        .where(Certificate.user_id == learner.id, Certificate.course_id == course_id)
        .order_by(Certificate.revoked_at.is_not(None), Certificate.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class IssuedName:
    """A live certificate of the learner's and the name it was issued with (for the name page)."""

    course_slug: str
    course_title: str
    name_at_issue: str
    name_display: str  # what of it the certificate shows (NameDisplay)


def certificates_issued_names(session: Session, *, learner_id: int) -> list[IssuedName]:
    """The learner's live certificates, each with the name frozen on it at issue and what of it
    it shows (1 query)."""
    rows = session.execute(
        select(Course.slug, Course.title, Certificate.name_at_issue, Certificate.name_display)
        .join(Course, Course.id == Certificate.course_id)
        .where(Certificate.user_id == learner_id, Certificate.revoked_at.is_(None))
        .order_by(Course.title, Course.id)
    ).all()
    return [IssuedName(*row) for row in rows]


def certificate_by_code(session: Session, code: str) -> Certificate | None:
    """Any certificate by its code, public or not, live or revoked (for the site's own checks)."""
    if not CODE_PATTERN.fullmatch(code or ""):
        return None
    return session.scalar(select(Certificate).where(Certificate.code == code))


def certificate_public_view(session: Session, code: str) -> PublicCertificate | None:
    """What anyone may see of a certificate by its code; None if unknown, private or erased (1 query)."""
    if not CODE_PATTERN.fullmatch(code or ""):
        return None
    row = session.execute(
        select(
            Certificate.code,
            Course.title,
            Certificate.issued_at,
            Certificate.revoked_at,
            Certificate.name_at_issue,
            Certificate.name_display,
        )
        .join(Course, Course.id == Certificate.course_id)
        .where(Certificate.code == code, Certificate.public.is_(True))
    ).one_or_none()
    if row is None:
        return None
    code, title, issued_at, revoked_at, name, display = row
    holder = None if revoked_at is not None else shown_name(name, display)
    return PublicCertificate(code, title, issued_at, revoked_at, holder)


def certificate_revoke(session: Session, *, learner: User, course_id: int) -> bool:
    """Revoke the learner's live certificate for the course, and commit; return whether it was
    public (anyone opening its link is told). LookupError if there is none."""
    revoked = session.execute(
        update(Certificate)
        .where(Certificate.user_id == learner.id, Certificate.course_id == course_id, Certificate.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(Certificate.public)
    ).all()
    if not revoked:
        session.rollback()
        raise LookupError("no live certificate")
    session.commit()
    return bool(revoked[0].public)


def certificate_reissue(session: Session, *, learner: User, course_id: int) -> Certificate:
    """Revoke the learner's certificate (if live) and issue a fresh one with a new code; commit.

    Only for a learner who has had one (the proof they completed the course, even if lessons
    were added since). The fresh one keeps their choices and its date (when the course was
    completed, which a new code does not change) and takes their current display name.
    Raises LookupError if they never had a certificate for the course.
    """
    previous = certificate_for(session, learner=learner, course_id=course_id)
    if previous is None:
        raise LookupError("no certificate to reissue")
    kept = {"name_display": previous.name_display, "public": previous.public, "issued_at": previous.issued_at}
    now = utcnow()
    session.execute(
        update(Certificate)
        .where(Certificate.user_id == learner.id, Certificate.course_id == course_id, Certificate.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    # Two "fresh one" clicks at once: the second insert finds the first's live row and does nothing.
    _insert_live(
        session,
        {"user_id": learner.id, "course_id": course_id, "name_at_issue": learner.display_name} | kept,
    )
    fresh = _live(session, learner_id=learner.id, course_id=course_id)  # ours, or the racing request's
    session.commit()
    if fresh is None:  # the other request revoked it again in between: nothing live to show
        raise LookupError("no live certificate")
    return fresh


def certificate_settings_update(
    session: Session, *, learner: User, course_id: int, name_display: str, public: bool
) -> Certificate:
    """Set what the learner's live certificate shows and whether it is public; commit.

    Raises LookupError if there is no live certificate, then ValidationError for an unknown name choice.
    """
    certificate = _live(session, learner_id=learner.id, course_id=course_id)
    if certificate is None:
        raise LookupError("no live certificate")
    if name_display not in {choice.value for choice in NameDisplay}:
        raise ValidationError("name_display", "Choose full name, initials or no name.")
    certificate.name_display = name_display
    certificate.public = public
    session.commit()
    return certificate


def verification_url(code: str) -> str:
    """The absolute address of a certificate's public check page, ``/certificates/<code>``.

    Printed on PDFs and written into credentials already handed out, so it is a promise: the
    path must never move (a test pins it), and it is built from PUBLIC_URL, never a request.
    """
    return external_url("certificates.verify", certificate_code=code)
