"""Publication history: every publication of a course, and restoring an earlier one.

Each publication keeps the course it published (``CoursePublication.data``: course data with
row ids, as the draft keeps it) and its list of changes. Restoring an earlier version publishes
that data again, as a NEW publication, through ``publish_data`` (the same checks and import as
any publish), so the history is never rewritten and can itself be rolled back.

What a restore does and does not touch:

- Rows are matched as a draft's are: lessons and modules by slug, questions and choices by row
  id. A lesson, question or choice retired since is brought back (``retired_at`` cleared, the
  same rows learners answered); one deleted since (nobody had used it) is created anew; a
  misconception is matched by its code. Whatever the restored version lacks is retired or
  deleted by the usual rule.
- Learners' past attempts keep their own snapshots (attempt_answers), so they read exactly as
  before. Progress rows are never touched: a learner who had completed a lesson before it was
  retired has it completed again when it comes back; everyone else meets it like a new lesson.
- The version's review comes back with it (``review``: its date, the next review, and the day
  its words changed since, if they had), as it was published: those dates describe exactly the
  words restored. A newer review is not kept, since it covered other words; and the restore
  records no change day of its own (``publish_data`` without ``marks_unreviewed_changes``), so
  restoring the reviewed version before an unreviewed change takes the lessons' note away.
- An unpublished draft blocks a restore (CannotRestore). The draft names rows by id and holds
  edits made against the current course; publishing it after a restore would silently undo
  the restore, and replacing it would throw away someone's work. The admin publishes or
  discards it first, and decides which.

Publications made before versions were kept (migration a15000000003) have no data: they are
listed, with the changes their summary recorded, but cannot be restored.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Course, CoursePublication, User
from app.services.authoring.draft import DraftData, draft_get, published_data
from app.services.authoring.publishing import NothingToPublish, PublishPreview, data_preview, publish_data
from app.services.errors import DomainError
from app.timefmt import format_datetime

NO_SNAPSHOT = (
    "This version was published before the platform kept a copy of each version, so it cannot be restored. "
    "Its list of changes is all that was recorded."
)
DRAFT_IN_THE_WAY = (
    "There are unpublished changes in the draft. Publish or discard them first: restoring an earlier "
    "version replaces the whole course, and publishing the draft afterwards would undo the restore."
)
ALREADY_LIVE = "Learners already see this version: restoring it would change nothing."


class CannotRestore(DomainError):
    """This version cannot be restored now; the message says why and what to do."""


@dataclass
class PublicationEntry:
    """One publication as the history page lists it."""

    id: int
    published_at: datetime
    # The publisher's name; None when the account has been deleted (or none was recorded).
    published_by: str | None
    changes: list[str]
    has_snapshot: bool
    restored_from_id: int | None
    # Imported from the course's files on the server, not published from a draft by anybody.
    from_files: bool = False
    # When it restored an earlier publication: when that one was published (None if unknown).
    restored_from_at: datetime | None = None
    # Learners see this version now: the newest publication when the live course matches its
    # copy, and the version that one restored (the same course, published again).
    is_live: bool = False
    # Its place in the course's history, the first publication 1: two published within the same
    # minute are told apart by it.
    number: int = 0

    @property
    def restorable(self) -> bool:
        """Whether the page offers "Restore this version": it has a copy and is not what learners see."""
        return self.has_snapshot and not self.is_live


@dataclass
class PublicationHistory:
    """A course's publications, newest first, and whether a draft is waiting."""

    entries: list[PublicationEntry]
    has_draft: bool
    # False when the course changed since its newest publication (an import from files, say),
    # or the newest has no copy to compare: then no entry is marked as what learners see.
    newest_is_live: bool = False


@dataclass
class RestorePreview:
    """What restoring a publication would change, or why it cannot be restored now."""

    publication: CoursePublication
    refusal: str = ""
    preview: PublishPreview = field(default_factory=lambda: PublishPreview(has_draft=False))

    @property
    def can_restore(self) -> bool:
        """Whether the confirm button is offered."""
        return not self.refusal and self.preview.can_publish


def _changes(changes: list[str] | None, summary: str) -> list[str]:
    """The publication's list of changes; older ones recorded it only as "- " lines of the summary."""
    if changes is not None:
        return list(changes)
    return [line[2:] for line in summary.splitlines() if line.startswith("- ")]


def publication_history(session: Session, *, course: Course) -> PublicationHistory:
    """Every publication of the course, newest first, each with who, when and what changed.

    A fixed number of queries whatever the length of the history: one for the list (with the
    publishers' names), one for the draft, and, to tell whether learners still see the newest
    version, its copy and the live course.
    """
    rows = session.execute(
        select(
            CoursePublication.id,
            CoursePublication.published_at,
            User.display_name,
            CoursePublication.changes,
            CoursePublication.summary,
            CoursePublication.data.is_not(None),
            CoursePublication.restored_from_id,
            CoursePublication.from_files,
        )
        .outerjoin(User, User.id == CoursePublication.published_by_id)
        .where(CoursePublication.course_id == course.id)
        .order_by(CoursePublication.published_at.desc(), CoursePublication.id.desc())
    ).all()
    entries = [
        PublicationEntry(
            id=row[0],
            published_at=row[1],
            published_by=row[2],
            changes=_changes(row[3], row[4]),
            has_snapshot=bool(row[5]),
            restored_from_id=row[6],
            from_files=bool(row[7]),
        )
        for row in rows
    ]
    for place, entry in enumerate(reversed(entries), start=1):
        entry.number = place
    when = {entry.id: entry.published_at for entry in entries}
    for entry in entries:
        if entry.restored_from_id is not None:
            entry.restored_from_at = when.get(entry.restored_from_id)
    history = PublicationHistory(entries=entries, has_draft=draft_get(session, course) is not None)
    if entries and entries[0].has_snapshot:
        newest = session.scalar(select(CoursePublication.data).where(CoursePublication.id == entries[0].id))
        history.newest_is_live = entries[0].is_live = newest == published_data(session, course)
        for entry in entries[1:]:
            entry.is_live = history.newest_is_live and entry.id == entries[0].restored_from_id
    return history


def publication_get(session: Session, *, course: Course, publication_id: int) -> CoursePublication | None:
    """The course's publication with this id; None for an unknown id or another course's publication."""
    return session.scalar(
        select(CoursePublication).where(
            CoursePublication.id == publication_id, CoursePublication.course_id == course.id
        )
    )


def _refusal(session: Session, course: Course, publication: CoursePublication) -> str:
    """Why the publication cannot be restored now ("" if nothing stops it before the checks)."""
    if publication.data is None:
        return NO_SNAPSHOT
    if draft_get(session, course) is not None:
        return DRAFT_IN_THE_WAY
    return ""


def restore_preview(session: Session, *, course: Course, publication: CoursePublication) -> RestorePreview:
    """What restoring ``publication`` would change (a dry run, as the publish preview), or why it cannot.

    Leaves the caller's session as it was.
    """
    refusal = _refusal(session, course, publication)
    if refusal:
        return RestorePreview(publication, refusal)
    preview = data_preview(session, course=course, data=cast(DraftData, copy.deepcopy(publication.data)))
    if not preview.problems and not preview.changes:
        return RestorePreview(publication, ALREADY_LIVE, preview)
    return RestorePreview(publication, preview=preview)


def restore_headline(publication: CoursePublication, zone: ZoneInfo) -> str:
    """The first line of a restore's summary: "Restored the version of 19 Nov 2026, 2:02pm"."""
    return f"Restored the version of {format_datetime(publication.published_at, zone)}"


def publication_restore(
    session: Session, *, course: Course, publication: CoursePublication, user_id: int | None, zone: ZoneInfo
) -> CoursePublication:
    """Publish ``publication``'s copy of the course again, as a new publication; return the new one.

    One transaction, as ``publish``: checks, imports, records and commits once. Raises
    CannotRestore (no copy kept, or a draft in the way), DraftInvalid (the version breaks a
    rule that holds today) or NothingToPublish (learners already see it); on any error the
    session is rolled back, so the database is as it was.
    """
    try:
        refusal = _refusal(session, course, publication)
        if refusal:
            raise CannotRestore(refusal)
        data = cast(DraftData, copy.deepcopy(publication.data))
        headline = restore_headline(publication, zone)
        try:
            restored = publish_data(
                session,
                course=course,
                data=data,
                user_id=user_id,
                headline=headline + ".",
                restored_from_id=publication.id,
            )
        except NothingToPublish:
            raise NothingToPublish(ALREADY_LIVE) from None
        session.commit()
    except Exception:
        session.rollback()
        raise
    return restored
