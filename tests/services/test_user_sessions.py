"""Login sessions on the server: when a session is live, and what ends them."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import Role, User, UserSession
from app.services.accounts import password_reset_opened, password_reset_token, password_set
from app.services.personal_data import account_delete
from app.services.user_admin import user_deactivate, user_reactivate
from app.services.user_sessions import (
    SessionLimits,
    session_token_hash,
    user_log_out_everywhere,
    user_session_end,
    user_session_is_live,
    user_session_needs_touch,
    user_session_start,
    user_session_touch,
)
from tests.conftest import PASSWORD, create_user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIMITS = SessionLimits(idle=timedelta(days=14), lifetime=timedelta(days=30), touch_every=timedelta(minutes=5))


def live(*, remember=False, last_seen_at=T0, expires_at=T0 + timedelta(days=30), now) -> bool:
    return user_session_is_live(
        remember=remember, last_seen_at=last_seen_at, expires_at=expires_at, now=now, limits=LIMITS
    )


def test_a_session_not_remembered_ends_after_the_idle_time():
    assert live(now=T0 + timedelta(days=14) - timedelta(seconds=1))
    assert not live(now=T0 + timedelta(days=14))


def test_use_keeps_a_session_alive_but_never_past_its_end():
    used = T0 + timedelta(days=25)
    assert live(last_seen_at=used, now=T0 + timedelta(days=29))
    assert not live(last_seen_at=used, now=T0 + timedelta(days=30))


def test_a_remembered_session_has_no_idle_limit_only_its_end():
    assert live(remember=True, now=T0 + timedelta(days=29))
    assert not live(remember=True, now=T0 + timedelta(days=30))


def test_last_seen_is_written_at_most_every_few_minutes():
    assert not user_session_needs_touch(last_seen_at=T0, now=T0 + timedelta(minutes=4, seconds=59), limits=LIMITS)
    assert user_session_needs_touch(last_seen_at=T0, now=T0 + timedelta(minutes=5), limits=LIMITS)


def test_the_limits_come_from_the_configuration(app):
    limits = SessionLimits.from_config(app.config)
    assert limits.idle == timedelta(days=14) == app.config["PERMANENT_SESSION_LIFETIME"]
    assert limits.lifetime == timedelta(days=30) == app.config["REMEMBER_COOKIE_DURATION"]


@pytest.fixture
def user(app, session) -> User:
    return session.get(User, create_user(app, "learner@example.org"))


def start(session, user, *, remember=False, now=T0) -> str:
    return user_session_start(session, user=user, remember=remember, now=now, limits=LIMITS)


def rows(session, user_id=None) -> list[UserSession]:
    session.expire_all()
    query = select(UserSession).order_by(UserSession.id)
    return list(session.scalars(query if user_id is None else query.where(UserSession.user_id == user_id)))


def test_starting_stores_only_a_hash_of_the_token(session, user):
    token = start(session, user, remember=True)
    [row] = rows(session)
    assert len(token) >= 40 and token not in row.token_hash
    assert row.token_hash == session_token_hash(token)
    assert (row.user_id, row.remember, row.created_at, row.last_seen_at) == (user.id, True, T0, T0)
    assert row.expires_at == T0 + timedelta(days=30)
    assert start(session, user) != token  # every login gets its own token


def test_starting_clears_out_the_accounts_ended_sessions(session, user):
    start(session, user, now=T0)  # idle from T0 + 14 days
    start(session, user, remember=True, now=T0)  # ends at T0 + 30 days
    start(session, user, now=T0 + timedelta(days=15))
    assert [r.created_at for r in rows(session)] == [T0, T0 + timedelta(days=15)]


def test_a_touch_moves_last_seen(session, user):
    start(session, user)
    row_id = rows(session)[0].id
    user_session_touch(session, session_id=row_id, now=T0 + timedelta(minutes=6), commit=True)
    assert rows(session)[0].last_seen_at == T0 + timedelta(minutes=6)


def test_ending_one_session_leaves_the_others(app, session, user):
    other = session.get(User, create_user(app, "fred@example.org"))
    token = start(session, user)
    kept = start(session, user)
    start(session, other)
    user_session_end(session, token=token)
    assert [r.token_hash for r in rows(session, user.id)] == [session_token_hash(kept)]
    assert len(rows(session, other.id)) == 1


def test_logging_out_everywhere_ends_every_session_of_the_account_only(app, session, user):
    other = session.get(User, create_user(app, "fred@example.org"))
    start(session, user)
    start(session, user, remember=True)
    start(session, other)
    user_log_out_everywhere(session, user=user)
    assert rows(session, user.id) == [] and len(rows(session, other.id)) == 1


def reset_link_works(session, user, token: str) -> bool:
    return password_reset_opened(session, token=token, secret_key="k", max_age=3600) is not None


def test_logging_out_everywhere_spends_the_links_already_mailed(session, user):
    """Its comment said so; the code left a reset link in a mailbox working, for whoever reads it."""
    token = password_reset_token(user, secret_key="k")
    assert reset_link_works(session, user, token)
    user_log_out_everywhere(session, user=user)
    assert not reset_link_works(session, user, token)


def test_the_last_login_outlives_the_session_it_started(session, user):
    assert user.last_login_at is None
    user_session_start(session, user=user, remember=False, now=T0, limits=LIMITS)
    token = user_session_start(session, user=user, remember=False, now=T0 + timedelta(days=2), limits=LIMITS)
    assert user.last_login_at == T0 + timedelta(days=2)
    user_session_end(session, token=token)
    user_log_out_everywhere(session, user=user)
    session.expire_all()
    assert rows(session, user.id) == []
    assert session.get(User, user.id).last_login_at == T0 + timedelta(days=2)


def test_a_new_password_ends_every_session(session, user):
    start(session, user)
    start(session, user, remember=True)
    password_set(session, user=user, password="a brand new passphrase", hash_method="scrypt:128:8:1")
    assert rows(session, user.id) == []


@pytest.fixture
def admin(app, session) -> User:
    return session.get(User, create_user(app, "ada@example.org", role=Role.ADMIN))


def test_deactivation_ends_every_session(session, admin, user):
    start(session, user, remember=True)
    start(session, admin)
    assert user_deactivate(session, actor=admin, user=user)
    assert rows(session, user.id) == [] and len(rows(session, admin.id)) == 1


def test_a_link_mailed_before_deactivation_does_not_work_again_after_reactivation(session, admin, user):
    token = password_reset_token(user, secret_key="k")
    assert user_deactivate(session, actor=admin, user=user)
    assert user_reactivate(session, actor=admin, user=user)
    assert not reset_link_works(session, user, token)
    assert reset_link_works(session, user, password_reset_token(user, secret_key="k"))  # a new one works


def test_reactivation_ends_any_session_left_from_before(session, admin, user):
    start(session, user, remember=True)
    user.is_active = False  # deactivated by hand, so its sessions were not ended then
    session.commit()
    assert user_reactivate(session, actor=admin, user=user)
    assert rows(session, user.id) == []


def test_deleting_the_account_erases_its_sessions(session, user):
    start(session, user)
    account_delete(session, user=user, password=PASSWORD)
    assert session.scalar(select(func.count()).select_from(UserSession)) == 0
