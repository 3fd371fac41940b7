"""Images uploaded to a course, stored in the database beside the course they belong to.

The bytes live in the row (``data``) rather than on a disk: every app process serves every
request from the one PostgreSQL (DESIGN.md, "Storage"), so a file written by one process on its
own disk would be missing for the others; at a few images of at most a couple of megabytes per
course the database carries them easily. Why in docs/course-format.md ("Images").
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.course import Course


class CourseMedia(Model):
    """One image of a course, named as lessons refer to it (``media/<name>``)."""

    __tablename__ = "course_media"
    __table_args__ = (
        UniqueConstraint("course_id", "name"),
        CheckConstraint("content_type IN ('image/png', 'image/jpeg', 'image/webp')", name="content_type_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    # A safe file name (lower-case letters, digits, '-', '_', one '.' before the extension),
    # unique in its course: it is both the path in the files format and the URL's last part.
    name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(20))
    # SHA-256 of ``data``, hex: part of the serving URL, so a replaced image gets a new URL and
    # the old one can be cached for a year.
    sha256: Mapped[str] = mapped_column(String(64))
    # Deferred: listing a course's images never loads their bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who uploaded it; the image is course content and outlives the account (SET NULL).
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )

    # For an import that adds a new course and its images in one go (the course has no id yet).
    course: Mapped[Course] = relationship()

    def __repr__(self) -> str:
        return f"<CourseMedia {self.id} course {self.course_id} {self.name}>"
