"""xAPI: who a learner is to the learning record store, and the statements not yet sent to it.

See app/services/xapi.py for the rules: statements are written here in the transaction of the
event they report, and a job sends them (app/jobs/xapi.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow


class XapiActor(Model):
    """A learner's pseudonym in the store: a random id, never derived from who they are.

    Made the first time a statement about them is sent; deleting the account deletes it
    (CASCADE), so nothing left here can tie the store's statements back to a person.
    """

    __tablename__ = "xapi_actors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # 32 hex digits from secrets.token_hex(16): the account name in every statement's actor.
    name: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<XapiActor user {self.user_id}>"


class XapiStatement(Model):
    """One statement waiting for the store (the outbox), deleted once the store has it.

    ``id`` is the statement's own id, chosen when the event happened: sending it again after a
    crash or a timeout is then a no-op for the store. ``statement`` holds everything but the
    actor, which the sending job adds from ``XapiActor``.
    """

    __tablename__ = "xapi_statements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    statement: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Failed sends so far, and the last reason (shown by `flask xapi status`, for the admin).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # When the store refused it as malformed (400, 413): set aside, out of the send order, so the
    # oldest statements cannot block every later one; `flask xapi retry-refused` puts them back.
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"<XapiStatement {self.id} user {self.user_id}>"
