"""An admin's action on an account racing its owner's deletion, on PostgreSQL: the action must wait
on the account's row, then find it gone (``AccountGone``) rather than write a record pointing at
nobody. Shared by the erasure's and the data download's tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete
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
