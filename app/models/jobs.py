"""Background jobs: the record of each job that gave up after its last try."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow


class JobFailure(Model):
    """A job that failed on every try. Its arguments are never kept: they may hold e-mail addresses."""

    __tablename__ = "job_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(64))
    tries: Mapped[int]
    error_type: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(500))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
