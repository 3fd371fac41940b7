"""Jobs that gave up: recording one, and counting and listing the recent ones for admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.jobs import JobFailure
from app.services.mail import without_addresses

MESSAGE_LENGTH = 500  # the column's length; longer messages are cut, with an ellipsis
NAME_LENGTH = 200


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def failure_record(session: Session, *, job_name: str, task_id: str, tries: int, error: BaseException) -> JobFailure:
    """Add the record of a job that failed on its last try: the error's type and a short message, no arguments."""
    failure = JobFailure(
        job_name=_cut(job_name, NAME_LENGTH),
        task_id=task_id[:64],
        tries=tries,
        error_type=_cut(type(error).__qualname__, NAME_LENGTH),
        # The first line only: tracebacks and multi-line reprs can carry data the record must not keep.
        message=_cut(without_addresses((str(error).strip().splitlines() or [""])[0]), MESSAGE_LENGTH),
    )
    session.add(failure)
    return failure


def failed_since(session: Session, since: datetime) -> int:
    """How many jobs gave up at or after ``since`` (one query)."""
    return session.scalar(select(func.count(JobFailure.id)).where(JobFailure.failed_at >= since)) or 0


def failures_since(session: Session, since: datetime) -> list[JobFailure]:
    """The jobs that gave up at or after ``since``, newest first."""
    query = select(JobFailure).where(JobFailure.failed_at >= since).order_by(JobFailure.failed_at.desc(), JobFailure.id)
    return list(session.scalars(query))
