"""Races on row locks, shared by the tests that stage them.

An admin's action on an account racing its owner's deletion, on PostgreSQL: the action must wait
on the account's row, then find it gone (``AccountGone``) rather than write a record pointing at
nobody (the erasure's and the data download's tests). And a wait for a statement blocked on
another transaction's lock, for tests that must know the second one is waiting, not guess it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, text
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
        time.sleep(0.3)
        assert not waiting.done()  # blocked on the account's row
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
