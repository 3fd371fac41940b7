"""Races on row locks, shared by the tests that stage them.

An admin's action on an account racing its owner's deletion, on PostgreSQL: the action must wait
on the account's row, then find it gone (``AccountGone``) rather than write a record pointing at
nobody (the erasure's and the data download's tests). Waits for a statement blocked on another
transaction's lock (any, or one session's), for tests that must know the second one is waiting,
not guess it with a sleep that a loaded machine outlasts. And a session's rollbacks, counted, to
tell a race settled by waiting from one the code recovered from by trying again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, event, text
from sqlalchemy.orm import Session

from app.models import User
from app.services.user_admin import AccountGone


def owner_deletes_while_admin_acts(session: Session, action: Callable, *, admin: int, learner: int) -> None:
    """Run ``action(admins_session, actor=admin, user=learner)`` while the owner's DELETE of the
    account is under way in another session: it must block on the row, then raise AccountGone
    once the deletion commits. Skips on SQLite, which serialises writers anyway."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the row locks matter on PostgreSQL")
    engine = session.get_bind()
    with Session(engine) as owner, Session(engine) as admins, ThreadPoolExecutor(1) as pool:
        actor, target = admins.get(User, admin), admins.get(User, learner)
        admins.commit()
        owner.execute(delete(User).where(User.id == learner))  # /me/delete's statement, not yet committed
        waiting = pool.submit(action, admins, actor=actor, user=target)
        wait_until_blocked(engine, waiting, behind=owner, what="the admin's action")
        owner.commit()
        with pytest.raises(AccountGone):
            waiting.result(timeout=10)


BLOCKED = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")


def wait_for_a_blocked_statement(engine, timeout: float = 30, what: str = "the other transaction") -> None:
    """Wait until a statement of this database (PostgreSQL) waits on another transaction's lock.

    Polls rather than sleeping a guessed time: on a loaded machine the other thread may take
    seconds to get there, and the long ``timeout`` costs time only when it never does.
    """
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.scalar(BLOCKED):
                return
            connection.rollback()
            time.sleep(0.02)
    raise AssertionError(f"{what} never waited on the row lock")


BLOCKED_BEHIND = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    " AND :holder = ANY(pg_blocking_pids(pid))"
)


def wait_until_blocked(engine, waiting: Future, *, behind: Session, what: str, timeout: float = 30) -> None:
    """Wait until ``waiting`` (a call running in another thread) is blocked on a lock that the
    transaction of ``behind`` holds (PostgreSQL).

    Polls rather than sleeping a guessed time, as ``wait_for_a_blocked_statement`` does, and
    fails at once if the call finishes first: then it never waited on the lock at all.
    """
    holder = behind.scalar(text("SELECT pg_backend_pid()"))  # in its open transaction: ends nothing
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            if waiting.done():
                failed = waiting.exception()
                raise AssertionError(f"{what} finished without waiting on the lock: {failed or waiting.result()!r}")
            if connection.scalar(BLOCKED_BEHIND, {"holder": holder}):
                return
            connection.rollback()
            time.sleep(0.01)
    raise AssertionError(f"{what} never waited on the lock")


@contextmanager
def rollbacks_of(session: Session) -> Iterator[list[None]]:
    """One item per rollback of ``session``'s transaction meanwhile, from any thread.

    For a race the database must settle by waiting (an ON CONFLICT behind another insert's
    uncommitted row): the code's fallback for a unique violation, a rollback and a look for the
    winner's row or a second try, gives the same outcome, so only its rollback tells them apart.
    """
    rolled_back: list[None] = []

    def note(session_) -> None:
        rolled_back.append(None)

    event.listen(session, "after_rollback", note)
    try:
        yield rolled_back
    finally:
        event.remove(session, "after_rollback", note)
