"""Helpers for the JSON API's tests: tokens for accounts, and the header that carries one."""

from __future__ import annotations

from app.extensions import db
from app.models import User
from app.services.api_tokens import token_create


def make_token(app, user_id: int, *scopes: str, name: str = "Test") -> str:
    """Make a token for the account through the service (as /me/tokens does); return it."""
    with app.app_context():
        _, text = token_create(db.session, user=db.session.get(User, user_id), name=name, scopes=list(scopes))
        db.session.remove()
    return text


def bearer(token: str) -> dict[str, str]:
    """The request headers that send ``token``."""
    return {"Authorization": f"Bearer {token}"}
