"""Personal access tokens: how a script or another system uses the JSON API as a person."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow
from app.models.user import User


class ApiToken(Model):
    """A token its owner made on /me/tokens, with the scopes it grants.

    Only the SHA-256 of the token is stored (app/services/api_tokens.py says why a fast hash
    is enough), so the table cannot be replayed as tokens. Revoking deletes the row.
    """

    __tablename__ = "api_tokens"
    # One token per form sent: a double-click or a reload sends the same form twice, and the
    # second must not make a token whose text nobody saw. Older rows have no key (NULLs differ).
    __table_args__ = (UniqueConstraint("user_id", "form_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # Space-separated scope names (app/services/api_tokens.py SCOPES); a handful at most.
    scopes: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most every LAST_USED_EVERY, not on every request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The key of the /me/tokens form that made it (32 hex digits); none for a token made otherwise.
    form_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The last day (UTC) an admin's token read the list of learners, which is audited once a day.
    learners_listed_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    user: Mapped[User] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        """The scopes this token grants."""
        return frozenset(self.scopes.split())

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user {self.user_id}>"
