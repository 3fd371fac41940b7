"""Authoring: the admins' working draft of a course and the record of each publication."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow


class CourseDraft(Model):
    """Unpublished edits to a course, kept as course data (the file format, with row ids).

    Learners only ever see the published rows; publishing validates this draft with the same
    rules as the course files and imports it.
    """

    __tablename__ = "course_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), unique=True)
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # Counts the saves: each UPDATE is made only if the row is still the version read, so of two
    # edits saved at once one is refused, not silently lost (SQLAlchemy's version counter).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class CoursePublication(Model):
    """One publication of a course: when, by whom, what changed, and the course it published.

    Publications made before versions were kept (migration a15000000003) have no ``data`` and
    no ``changes``: they are listed in the history but cannot be restored.
    """

    __tablename__ = "course_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    summary: Mapped[str] = mapped_column(Text)
    # The course as this publication left it: course data with row ids, as the draft keeps it, so
    # an admin can restore this version later. Deferred: a list of publications never loads it.
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True, deferred=True)
    # What it changed, one sentence an item: the publish preview's list.
    changes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # The earlier publication this one restored, if it was a rollback.
    restored_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_publications.id", ondelete="SET NULL"), nullable=True
    )
    # Imported from the course's files on the server (``flask courses import``), not published
    # from a draft by an admin: nobody published it, which a NULL ``published_by_id`` alone
    # (also left by a deleted account) cannot say.
    from_files: Mapped[bool] = mapped_column(default=False, server_default=false())


class AnalyticsSnapshot(Model):
    """The last computed analytics figures of a course, kept so the page stays fast at any size.

    Aggregating every attempt takes seconds at 100,000 learners, so no request does it: a job
    (hourly, and on "Recalculate now") or `flask analytics refresh` computes the figures and
    keeps them here as data, and the page renders them on every request. The row also guards
    the refresh: ``refreshing_since`` is set while one runs, so a second one skips.
    """

    __tablename__ = "analytics_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), unique=True)
    # None until the first refresh has finished.
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The figures (report_data in app/services/analytics/snapshot_data.py), None until the first
    # refresh has finished.
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # When the running refresh started; None when none runs.
    refreshing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
