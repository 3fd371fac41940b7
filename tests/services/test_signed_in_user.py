"""The signed-in user, from the login session a cookie names (app/services/signed_in_user.py)."""

from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import User, UserSession
from app.models.types import utcnow
from app.services.signed_in_user import signed_in_user
from app.services.user_sessions import SessionLimits, user_session_start

LIMITS = SessionLimits(idle=timedelta(days=14), lifetime=timedelta(days=30), touch_every=timedelta(minutes=5))


def log_in(session, user_id: int, *, remember: bool = False, at=None) -> str:
    token = user_session_start(
        session, user=session.get(User, user_id), remember=remember, now=at or utcnow(), limits=LIMITS
    )
    session.remove()
    return token


def last_seen(session):
    session.remove()
    return session.scalar(select(UserSession.last_seen_at))


def test_a_live_session_gives_its_user_in_the_orm_session(session, learner):
    token = log_in(session, learner)

    signed_in = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS)

    assert signed_in is not None and not signed_in.touched
    assert signed_in.user.id == learner and signed_in.user.session_token == token
    assert signed_in.user in session()  # changes to it are saved like any loaded row's
    signed_in.user.display_name = "Renamed"
    session.commit()
    session.remove()
    assert session.get(User, learner).display_name == "Renamed"


def test_an_unknown_token_an_idle_session_or_a_deactivated_account_gives_no_one(session, learner):
    assert signed_in_user(session, token="no-such-token", now=utcnow(), limits=LIMITS) is None

    started = utcnow() - timedelta(days=15)
    idle = log_in(session, learner, at=started)
    assert signed_in_user(session, token=idle, now=utcnow(), limits=LIMITS) is None

    remembered = log_in(session, learner, remember=True, at=started)
    assert signed_in_user(session, token=remembered, now=utcnow(), limits=LIMITS) is not None
    session.remove()

    session.execute(update(User).values(is_active=False))
    session.commit()
    assert signed_in_user(session, token=remembered, now=utcnow(), limits=LIMITS) is None


def test_a_stale_last_seen_time_is_written_and_committed(session, learner):
    started = utcnow() - timedelta(hours=1)
    token = log_in(session, learner, at=started)
    now = utcnow()

    signed_in = signed_in_user(session, token=token, now=now, limits=LIMITS)

    assert signed_in.touched
    assert last_seen(session) == now


def test_with_work_under_way_the_touch_waits_for_that_work(session, learner):
    started = utcnow() - timedelta(hours=1)
    token = log_in(session, learner, at=started)
    session.get(User, learner).display_name = "Unsaved"  # a change the request has not saved

    signed_in = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS)
    assert signed_in.touched
    session.rollback()  # the request's work fails: the touch goes with it

    assert last_seen(session) == started
    assert db.session.get(User, learner).display_name != "Unsaved"
