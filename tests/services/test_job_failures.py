"""Failed jobs: the record written when a job gives up, and the counts admins see."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.jobs import job
from app.models import JobFailure, Role, User
from app.models.types import utcnow
from app.services.job_failures import MESSAGE_LENGTH, failed_since, failure_record, failures_since

ATTEMPTS: list[str] = []


@job(retries=2, retry_delay=0)
def always_fails(email: str) -> None:
    ATTEMPTS.append("always_fails")
    raise ConnectionRefusedError(f"could not reach the mail server for {email}\nsecond line with more detail")


@job(retries=2, retry_delay=0)
def fails_once(label: str) -> None:
    ATTEMPTS.append(label)
    if ATTEMPTS.count(label) == 1:
        raise RuntimeError("first try fails")


@job(retries=0)
def writes_then_fails(email: str) -> None:
    # The job's own session is rolled back; the failure record is written in another transaction.
    db.session.add(User(email=email, display_name="Never Kept", password_hash="x", role=Role.LEARNER))
    db.session.flush()
    raise ValueError("gave up after writing")


def _failure(session, **overrides) -> JobFailure:
    values = {"job_name": "mail", "task_id": "t-1", "tries": 6, "error": RuntimeError("boom")}
    failure = failure_record(session, **{**values, **overrides})
    session.commit()
    return failure


def test_a_record_keeps_the_error_type_and_first_line_never_the_arguments_or_addresses(session):
    error = OSError("550 rejected <bob@example.org> by the server\nTraceback with internals")

    failure = _failure(session, error=error, task_id="abc")

    assert (failure.job_name, failure.task_id, failure.tries, failure.error_type) == ("mail", "abc", 6, "OSError")
    assert failure.message == "550 rejected <[address]> by the server"
    assert failure.failed_at > utcnow() - timedelta(minutes=1)


def test_a_long_message_is_cut_to_the_column(session):
    failure = _failure(session, error=RuntimeError("x" * 2000))

    assert len(failure.message) == MESSAGE_LENGTH and failure.message.endswith("…")


def test_failed_since_counts_only_the_period_in_one_query(session, app):
    _failure(session)
    _failure(session, task_id="t-2")
    old = _failure(session, task_id="t-3")
    old.failed_at = utcnow() - timedelta(days=2)
    session.commit()
    from tests.conftest import count_queries

    with count_queries(db.engine) as counted:
        assert failed_since(session, utcnow() - timedelta(days=1)) == 2
    assert counted() == 1
    assert failed_since(session, utcnow() - timedelta(days=3)) == 3


def test_failures_since_lists_the_newest_first(session):
    first = _failure(session, task_id="first")
    first.failed_at = utcnow() - timedelta(hours=2)
    _failure(session, task_id="second")
    session.commit()

    assert [f.task_id for f in failures_since(session, utcnow() - timedelta(days=1))] == ["second", "first"]


def test_a_job_failing_every_try_is_recorded_once_with_its_tries(ctx, session):
    ATTEMPTS.clear()

    always_fails("someone@example.org")  # immediate mode in tests: runs, and retries, inline

    assert ATTEMPTS == ["always_fails"] * 3
    [failure] = failures_since(session, utcnow() - timedelta(days=1))
    assert (failure.job_name, failure.tries, failure.error_type) == ("always_fails", 3, "ConnectionRefusedError")
    assert "someone@example.org" not in failure.message and "[address]" in failure.message


def test_a_job_that_succeeds_on_a_retry_is_not_recorded(ctx, session):
    ATTEMPTS.clear()

    fails_once("flaky")

    assert ATTEMPTS == ["flaky", "flaky"]
    assert failed_since(session, utcnow() - timedelta(days=1)) == 0


def test_the_record_survives_the_failed_jobs_rolled_back_session(ctx, session):
    writes_then_fails("kept-out@example.org")

    assert session.scalar(select(func.count(User.id))) == 0
    assert failed_since(session, utcnow() - timedelta(days=1)) == 1
