"""The limits on guessing a password, one count for every form that checks one.

Logging in, changing the password or the e-mail address while logged in and deleting the
account each check a password. Limited separately, each gave a guesser the whole allowance again (a session left
open on a shared computer could try the login's allowance on /me/password, then more). So they
share two counts (Flask-Limiter's shared limits): one per address (RATELIMIT_LOGIN) and one per
account, whichever address it comes from (RATELIMIT_LOGIN_ACCOUNT): the account typed at the
login form, or the account signed in.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request
from flask_login import current_user

from app.extensions import limiter
from app.services.accounts import normalise_email


def keyed_hash(text: str) -> str:
    """A keyed hash of ``text`` for a rate-limit key: the counters' store (Redis, for the limit's
    window) never holds an address or a phone number, only this."""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), text.encode(), hashlib.sha256).hexdigest()


def account_key(email: str) -> str:
    """Rate-limit key for an e-mail address (normalised as accounts keep them), never the address."""
    return f"account:{keyed_hash(normalise_email(email))}"


def submitted_account() -> str:
    """Rate-limit key for the account typed into a form, whichever address it comes from."""
    return account_key(request.form.get("email", ""))


def submitted_mailbox() -> str:
    """Rate-limit key for the mailbox a form's address reaches: its ``+tag`` left out, since
    ``someone+1@`` and ``someone+2@`` land in the same inbox, so tags cannot multiply the count."""
    local, at, domain = normalise_email(request.form.get("email", "")).partition("@")
    return f"mailbox:{keyed_hash(local.split('+', 1)[0] + at + domain)}"


def guessed_account() -> str:
    """Rate-limit key for the account whose password is being tried: typed, or signed in."""
    if current_user.is_authenticated:
        return account_key(current_user.email) if current_user.email else f"user:{current_user.id}"
    return submitted_account()


per_address = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN"], scope="password-guess", methods=["POST"]
)
per_account = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"],
    scope="password-guess-account",
    key_func=guessed_account,
    methods=["POST"],
)
