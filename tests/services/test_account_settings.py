"""The account holder's own settings: a new password while logged in, and their name."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.models import ApiToken, Certificate, CounsellorLink, Role, User, UserSession
from app.services.accounts import (
    DISPLAY_NAME_MAX_LENGTH,
    HIDDEN_MARKS_MESSAGE,
    PasswordNotChangeable,
    display_name_change,
    password_change,
    password_reset_opened,
    password_reset_token,
    user_create,
)
from app.services.api_tokens import token_create
from app.services.certificates import certificates_issued_names
from app.services.errors import ValidationError
from app.services.user_sessions import SessionLimits, session_token_hash, user_session_start
from tests.conftest import PASSWORD, create_user

HASH = "scrypt:128:8:1"
NEW = "a brand new passphrase"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIMITS = SessionLimits(idle=timedelta(days=14), lifetime=timedelta(days=30), touch_every=timedelta(minutes=5))


@pytest.fixture
def user(app, session) -> User:
    return session.get(User, create_user(app, "learner@example.org", name="Lee Learner"))


def start(session, user, *, remember=False) -> str:
    return user_session_start(session, user=user, remember=remember, now=T0, limits=LIMITS)


def session_hashes(session, user_id: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(UserSession.token_hash).where(UserSession.user_id == user_id)))


def change(session, user, *, current=PASSWORD, new=NEW, keep=None, minimum=10):
    return password_change(
        session,
        user=user,
        current_password=current,
        new_password=new,
        keep_session_token=keep,
        hash_method=HASH,
        min_password_length=minimum,
    )


def test_a_change_sets_the_new_password_and_ends_every_other_session(app, session, user):
    other = session.get(User, create_user(app, "fred@example.org"))
    here = start(session, user)
    start(session, user, remember=True)
    start(session, other)

    change(session, user, keep=here)

    session.expire_all()
    assert check_password_hash(session.get(User, user.id).password_hash, NEW)
    assert not check_password_hash(session.get(User, user.id).password_hash, PASSWORD)
    assert session_hashes(session, user.id) == [session_token_hash(here)]  # this browser stays logged in
    assert len(session_hashes(session, other.id)) == 1  # nobody else's sessions are touched


def test_the_new_password_is_hashed_with_the_configured_method(session, user):
    change(session, user)
    session.expire_all()
    assert session.get(User, user.id).password_hash.startswith("scrypt:128:8:1$")


def test_a_change_revokes_the_accounts_api_tokens_and_says_how_many(session, user):
    token_create(session, user=user, name="One", scopes=["read:progress"])
    token_create(session, user=user, name="Two", scopes=["read:progress"])
    assert change(session, user) == 2
    assert session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all() == []


def test_a_reset_link_mailed_before_the_change_stops_working(app, session, user):
    token = password_reset_token(user, secret_key="k")
    assert password_reset_opened(session, token=token, secret_key="k", max_age=3600) is not None
    change(session, user)
    assert password_reset_opened(session, token=token, secret_key="k", max_age=3600) is None


def test_a_wrong_current_password_changes_nothing(session, user):
    here, there = start(session, user), start(session, user)
    token_create(session, user=user, name="Kept", scopes=["read:progress"])
    before = (user.password_hash, user.session_version)

    with pytest.raises(ValidationError) as refused:
        change(session, user, current="not my password", keep=here)

    assert refused.value.field == "current_password"
    session.rollback()
    session.expire_all()
    fresh = session.get(User, user.id)
    assert (fresh.password_hash, fresh.session_version) == before
    assert sorted(session_hashes(session, user.id)) == sorted(map(session_token_hash, [here, there]))
    assert len(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()) == 1


def test_the_new_password_follows_the_rule_registration_and_reset_use(session, user):
    with pytest.raises(ValidationError) as refused:
        change(session, user, new="short", minimum=10)
    assert refused.value.field == "password"
    assert refused.value.message == "Use at least 10 characters."
    with pytest.raises(ValidationError) as at_registration:
        user_create(session, email="n@example.org", display_name="N", password="short", min_password_length=10)
    assert at_registration.value.message == refused.value.message
    session.expire_all()
    assert check_password_hash(session.get(User, user.id).password_hash, PASSWORD)


def test_an_account_an_lms_made_has_no_password_to_change(session):
    lti = User(email=None, display_name="From the LMS", password_hash="scrypt:whatever", role=Role.LEARNER.value)
    session.add(lti)
    session.commit()
    with pytest.raises(PasswordNotChangeable):
        change(session, lti, current="")


def test_a_name_is_kept_trimmed(session, user):
    assert display_name_change(session, user=user, display_name="  Lee Corrected  ") == "Lee Corrected"
    session.expire_all()
    assert session.get(User, user.id).display_name == "Lee Corrected"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("   ", "Enter the name you would like us to use."),
        ("x" * (DISPLAY_NAME_MAX_LENGTH + 1), f"Keep the name to {DISPLAY_NAME_MAX_LENGTH} characters or fewer."),
        # A right-to-left override shows "Lee\u202eeeL" as another name; a line break splits a CSV's row.
        ("Lee\u202enroL", HIDDEN_MARKS_MESSAGE),
        ("Lee\u2066Learner", HIDDEN_MARKS_MESSAGE),
        ("Lee\nLearner", HIDDEN_MARKS_MESSAGE),
    ],
)
def test_an_empty_or_too_long_name_is_refused_and_nothing_changes(session, user, name, message):
    with pytest.raises(ValidationError) as refused:
        display_name_change(session, user=user, display_name=name)
    assert (refused.value.field, refused.value.message) == ("display_name", message)
    session.rollback()
    session.expire_all()
    assert session.get(User, user.id).display_name == "Lee Learner"


def test_a_name_of_the_longest_length_allowed_is_kept(session, user):
    longest = "x" * DISPLAY_NAME_MAX_LENGTH
    assert display_name_change(session, user=user, display_name=longest) == longest


def test_a_new_name_reaches_the_counsellors_caseload_order(app, session, user):
    """The database copies the name into each link (app/models/caseload_names.py): the dashboard sorts by it."""
    counsellor = create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    session.add(CounsellorLink(counsellor_id=counsellor, learner_id=user.id, created_by_id=user.id))
    session.commit()

    display_name_change(session, user=user, display_name="Zoe Renamed")

    session.expire_all()
    key = session.scalar(select(CounsellorLink.client_name_key).where(CounsellorLink.learner_id == user.id))
    assert key == "zoe renamed"


def test_a_certificate_keeps_the_name_it_was_issued_with(session, user, course):
    from app.models import Course

    course_row = session.scalar(select(Course))
    session.add(Certificate(user_id=user.id, course_id=course_row.id, code="c" * 32, name_at_issue="Lee Learner"))
    session.commit()

    display_name_change(session, user=user, display_name="Lee Renamed")

    [issued] = certificates_issued_names(session, learner_id=user.id)
    assert (issued.course_slug, issued.name_at_issue) == (course, "Lee Learner")
