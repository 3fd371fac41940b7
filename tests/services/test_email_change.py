"""Moving an account to a new e-mail address: the request's checks, the link, and the change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.models import User, UserSession
from app.services import email_change as email_change_module
from app.services.accounts import password_change, password_reset_opened, password_reset_token
from app.services.email_change import (
    EmailChange,
    EmailChangeTaken,
    EmailNotChangeable,
    email_change_check,
    email_change_confirm,
    email_change_from_link,
    email_change_offer,
    email_change_token,
)
from app.services.errors import ValidationError
from app.services.user_sessions import SessionLimits, session_token_hash, user_session_start
from tests.conftest import PASSWORD, create_user

KEY = "k"
DAY = 24 * 60 * 60
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIMITS = SessionLimits(idle=timedelta(days=14), lifetime=timedelta(days=30), touch_every=timedelta(minutes=5))


@pytest.fixture
def user(app, session) -> User:
    return session.get(User, create_user(app, "learner@example.org", name="Lee Learner"))


def opened(session, token: str, max_age: int = DAY) -> EmailChange | None:
    return email_change_from_link(session, token=token, secret_key=KEY, max_age=max_age)


def test_a_request_gives_the_new_address_as_kept_and_writes_nothing(session, user):
    assert email_change_check(user=user, current_password=PASSWORD, new_email=" Lee.New@Example.ORG ") == (
        "lee.new@example.org"
    )
    session.expire_all()
    assert session.get(User, user.id).email == "learner@example.org"


@pytest.mark.parametrize(
    ("password", "new_email", "field"),
    [
        ("not my password", "lee.new@example.org", "current_password"),
        (PASSWORD, "no-at-sign", "new_email"),
        (PASSWORD, "x" * 250 + "@e.org", "new_email"),
        (PASSWORD, "LEARNER@example.org", "new_email"),  # its own address already
    ],
)
def test_a_request_is_refused_beside_its_field(user, password, new_email, field):
    with pytest.raises(ValidationError) as refused:
        email_change_check(user=user, current_password=password, new_email=new_email)
    assert refused.value.field == field


def test_an_account_an_lms_signs_in_cannot_ask(session, user):
    user.email = None
    with pytest.raises(EmailNotChangeable):
        email_change_check(user=user, current_password=PASSWORD, new_email="lee.new@example.org")


def test_a_free_address_is_offered_a_link_and_a_taken_one_a_note_to_its_owner(app, session, user):
    free = email_change_offer(session, user_id=user.id, new_email="Lee.New@example.org", secret_key=KEY)
    assert free is not None and free.token and free.owner is None and free.new_email == "lee.new@example.org"
    fred = create_user(app, "fred@example.org")
    taken = email_change_offer(session, user_id=user.id, new_email="FRED@example.org", secret_key=KEY)
    assert taken is not None and taken.token is None and taken.owner is not None and taken.owner.id == fred


def test_a_deactivated_accounts_address_gets_nothing_and_a_deactivated_account_sends_nothing(app, session, user):
    fred = create_user(app, "fred@example.org")
    session.execute(update(User).where(User.id == fred).values(is_active=False))
    session.commit()
    offer = email_change_offer(session, user_id=user.id, new_email="fred@example.org", secret_key=KEY)
    assert offer is not None and offer.token is None and offer.owner is None
    user.is_active = False
    session.commit()
    assert email_change_offer(session, user_id=user.id, new_email="lee.new@example.org", secret_key=KEY) is None


def test_the_link_opens_the_change_it_was_made_for(session, user):
    change = opened(session, email_change_token(user, new_email="lee.new@example.org", secret_key=KEY))
    assert change == EmailChange(user=user, old_email="learner@example.org", new_email="lee.new@example.org")


def test_an_expired_forged_or_other_purpose_link_opens_nothing(session, user):
    token = email_change_token(user, new_email="lee.new@example.org", secret_key=KEY)
    assert opened(session, token, max_age=-1) is None
    assert email_change_from_link(session, token=token, secret_key="another key", max_age=DAY) is None
    assert opened(session, token[:-3] + "AAA") is None
    assert opened(session, password_reset_token(user, secret_key=KEY)) is None  # sealed for another purpose


def test_a_change_moves_the_account_ends_its_other_sessions_and_voids_its_links(app, session, user):
    here = user_session_start(session, user=user, remember=False, now=T0, limits=LIMITS)
    user_session_start(session, user=user, remember=True, now=T0, limits=LIMITS)
    fred = session.get(User, create_user(app, "fred@example.org"))
    user_session_start(session, user=fred, remember=False, now=T0, limits=LIMITS)
    reset = password_reset_token(user, secret_key=KEY)
    token = email_change_token(user, new_email="lee.new@example.org", secret_key=KEY)
    other = email_change_token(user, new_email="lee.other@example.org", secret_key=KEY)

    email_change_confirm(session, change=opened(session, token), keep_session_token=here)

    session.expire_all()
    assert session.get(User, user.id).email == "lee.new@example.org"
    kept = session.scalars(select(UserSession.token_hash).where(UserSession.user_id == user.id)).all()
    assert kept == [session_token_hash(here)]
    assert len(session.scalars(select(UserSession.id).where(UserSession.user_id == fred.id)).all()) == 1
    assert opened(session, token) is None  # used
    assert opened(session, other) is None  # superseded: the account has moved on
    assert password_reset_opened(session, token=reset, secret_key=KEY, max_age=3600) is None  # mailed to the old one


def test_a_new_password_voids_a_link_mailed_before(session, user):
    token = email_change_token(user, new_email="lee.new@example.org", secret_key=KEY)
    password_change(
        session,
        user=user,
        current_password=PASSWORD,
        new_password="a brand new passphrase",
        keep_session_token=None,
        hash_method="scrypt:128:8:1",
    )
    assert opened(session, token) is None


def test_an_address_taken_since_the_link_was_sent_changes_nothing(app, session, user):
    change = opened(session, email_change_token(user, new_email="lee.new@example.org", secret_key=KEY))
    create_user(app, "lee.new@example.org")
    with pytest.raises(EmailChangeTaken) as refused:
        email_change_confirm(session, change=change, keep_session_token=None)
    assert refused.value.field == "new_email"
    session.expire_all()
    assert session.get(User, user.id).email == "learner@example.org"


def test_an_address_taken_between_the_check_and_the_commit_changes_nothing(app, session, user, monkeypatch):
    """The database's unique address decides a race the check before it lost."""
    user_session_start(session, user=user, remember=False, now=T0, limits=LIMITS)
    change = opened(session, email_change_token(user, new_email="lee.new@example.org", secret_key=KEY))
    create_user(app, "lee.new@example.org")
    monkeypatch.setattr(email_change_module, "email_change_address_free", lambda session, change: True)
    with pytest.raises(EmailChangeTaken):
        email_change_confirm(session, change=change, keep_session_token=None)
    session.expire_all()
    fresh = session.get(User, user.id)
    assert (fresh.email, fresh.session_version) == ("learner@example.org", 0)
    assert len(session.scalars(select(UserSession.id).where(UserSession.user_id == user.id)).all()) == 1
