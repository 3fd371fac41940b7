"""A signed-in account moving to a new e-mail address, confirmed from a link sent to that address.

Asking changes nothing (``email_change_check``): the request's mail job (app/jobs/mail.py) seals a
link for the new address (``email_change_offer``), or, when an account already uses it, writes its
owner a note instead, so the form cannot tell anyone which addresses have accounts. Opening the
link while logged in to the same account (``email_change_from_link``) and pressing its button
(``email_change_confirm``) moves the account.

A link works once and only while nothing it was made from has changed: it carries the account's
id and when it was made, its session version (a new password or address bumps it) and the
address it moves from. So a used link, one made before a password change, and one superseded by
another change already made all stop working.

Confirming also moves the person's open contact requests that asked to be e-mailed at the old
address to the new one (``contact_requests_follow_address``), in the same commit: someone else
may read the old inbox, and the clinic must not keep writing there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from app.models import User
from app.services.accounts import account_link_opened, account_link_token, normalise_email, user_by_email
from app.services.contact_requests import contact_requests_follow_address
from app.services.errors import ValidationError
from app.services.user_sessions import user_sessions_end_others

EMAIL_CHANGE_SALT = "email-change"
EMAIL_MAX_LENGTH = 254  # the users.email column


class EmailNotChangeable(ValidationError):
    """The account has no address of its own here: an LMS signs it in (LTI)."""


class EmailChangeTaken(ValidationError):
    """Another account took the new address after the link was sent."""


@dataclass(frozen=True)
class EmailChangeOffer:
    """What to mail the new address: a ``token`` for the link, or, when the active account ``owner``
    already uses it, a note to that owner. Neither for an address a deactivated account holds."""

    user: User
    new_email: str
    owner: User | None
    token: str | None


@dataclass(frozen=True)
class EmailChange:
    """A link's change that may still be made: ``user`` from ``old_email`` (their address now) to ``new_email``."""

    user: User
    old_email: str
    new_email: str


def email_change_check(*, user: User, current_password: str, new_email: str) -> str:
    """Check a request to move ``user`` to ``new_email``; the new address as it would be kept.

    Nothing is written and nothing is said about other accounts: whether the address is free is
    for the mail job to find out. Raises EmailNotChangeable (field ``current_password``) for an
    account an LMS signs in, ValidationError on ``current_password`` when it is wrong, and on
    ``new_email`` for an address that is not one or is the account's own already.
    """
    if not user.signs_in_with_password:
        raise EmailNotChangeable(
            "current_password", "You sign in through your learning platform (LMS): change your address there."
        )
    if not check_password_hash(user.password_hash, current_password):
        raise ValidationError("current_password", "That is not your current password.")
    address = normalise_email(new_email)
    if "@" not in address or len(address) > EMAIL_MAX_LENGTH:
        raise ValidationError("new_email", "Enter an e-mail address, like name@example.org.")
    if address == user.email:
        raise ValidationError("new_email", "That is your address already.")
    return address


def email_change_token(user: User, *, new_email: str, secret_key: str) -> str:
    """The token of a link that moves ``user`` from their address now to ``new_email``, sealed
    (app/services/sealing.py): the link travels in e-mail and browser history, and carries both addresses."""
    return account_link_token(
        user, purpose=EMAIL_CHANGE_SALT, secret_key=secret_key, **{"from": user.email, "to": normalise_email(new_email)}
    )


def email_change_offer(session: Session, *, user_id: int, new_email: str, secret_key: str) -> EmailChangeOffer | None:
    """What the request's mail job sends the new address; None once the account is gone,
    deactivated or signed in by an LMS. Called by the job, never by the request (see the module)."""
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.email is None:
        return None
    address = normalise_email(new_email)
    holder = user_by_email(session, address)
    if holder is not None:
        owner = holder if holder.is_active and holder.id != user.id else None
        return EmailChangeOffer(user=user, new_email=address, owner=owner, token=None)
    token = email_change_token(user, new_email=address, secret_key=secret_key)
    return EmailChangeOffer(user=user, new_email=address, owner=None, token=token)


def email_change_from_link(session: Session, *, token: str, secret_key: str, max_age: int) -> EmailChange | None:
    """The change a link is for, or None if it is forged, expired, used or superseded: its account
    gone or deactivated, its password or address changed since the link was made."""
    found = account_link_opened(session, token=token, secret_key=secret_key, purpose=EMAIL_CHANGE_SALT, max_age=max_age)
    if found is None:
        return None
    user, data = found
    if user.email is None or data.get("from") != user.email or not isinstance(data.get("to"), str):
        return None
    return EmailChange(user=user, old_email=user.email, new_email=data["to"])


def email_change_address_free(session: Session, *, change: EmailChange) -> bool:
    """Whether no account uses the link's new address (one may have taken it since the link was sent)."""
    return user_by_email(session, change.new_email) is None


def email_change_confirm(session: Session, *, change: EmailChange, keep_session_token: str | None) -> int:
    """Move the account to the new address and end its other login sessions, in one commit; return
    how many of the person's open contact requests moved with it (those that asked to be e-mailed
    at the old address: ``contact_requests_follow_address``).

    Bumping the session version makes this link, any other change link and any reset link mailed
    to the old address stop working. The session ``keep_session_token`` names (the browser that
    confirmed) stays logged in. Raises EmailChangeTaken (field ``new_email``), changing nothing,
    when another account has taken the address since the link was sent.
    """
    taken = EmailChangeTaken(
        "new_email", "Another account now uses that address, so your address has not been changed."
    )
    if not email_change_address_free(session, change=change):
        raise taken
    user = change.user
    user.email = change.new_email
    user.session_version += 1
    try:
        # Ending the sessions flushes the new address first: the unique address may refuse it there.
        user_sessions_end_others(session, user=user, keep_token=keep_session_token)
        moved = contact_requests_follow_address(
            session, requester=user, old_email=change.old_email, new_email=change.new_email
        )
        session.commit()
    except IntegrityError:  # taken between the check and the commit
        session.rollback()
        raise taken from None
    return moved
