"""Personal access tokens: who may give which scope, only a hash kept, and when a token stops working."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import ApiToken, AuditEvent, Role, User
from app.models.types import utcnow
from app.services import api_tokens
from app.services.accounts import password_set
from app.services.api_tokens import (
    LAST_USED_EVERY,
    TOKEN_PREFIX,
    TOKENS_PER_ACCOUNT,
    TokenAlreadyMade,
    looks_like_token,
    scopes_for,
    token_allows,
    token_authenticate,
    token_create,
    token_hash,
    token_revoke,
    tokens_of,
)
from app.services.errors import ValidationError
from app.services.user_admin import user_deactivate, user_reactivate, user_role_change
from tests.conftest import create_user


@pytest.fixture
def people(app, session):
    """A learner, a counsellor and an admin."""
    return {
        role: session.get(User, create_user(app, f"{role.value}@example.org", role=role))
        for role in (Role.LEARNER, Role.COUNSELLOR, Role.ADMIN)
    }


def test_each_role_may_give_only_the_scopes_of_what_it_may_do(people):
    assert [s.name for s in scopes_for(people[Role.LEARNER])] == ["read:progress"]
    assert [s.name for s in scopes_for(people[Role.COUNSELLOR])] == ["read:clients"]
    assert [s.name for s in scopes_for(people[Role.ADMIN])] == [
        "read:clients",
        "read:course",
        "read:analytics",
        "write:draft",
    ]


def test_a_learner_cannot_make_a_token_that_reads_clients(session, people):
    with pytest.raises(ValidationError) as refused:
        token_create(session, user=people[Role.LEARNER], name="Mine", scopes=["read:progress", "read:clients"])
    assert refused.value.field == "scopes"
    assert session.scalar(select(ApiToken)) is None


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [("", ["read:progress"], "name"), ("x" * 81, ["read:progress"], "name"), ("Mine", [], "scopes")],
)
def test_a_token_needs_a_name_and_a_scope(session, people, name, scopes, field):
    with pytest.raises(ValidationError) as refused:
        token_create(session, user=people[Role.LEARNER], name=name, scopes=scopes)
    assert refused.value.field == field


def test_only_the_hash_is_kept_and_the_token_is_recognisable(session, people):
    token, text = token_create(session, user=people[Role.ADMIN], name=" Clinic ", scopes=["write:draft", "read:course"])
    assert text.startswith(TOKEN_PREFIX) and looks_like_token(text)
    stored = session.get(ApiToken, token.id)
    assert stored.token_hash == token_hash(text) != text
    assert text not in {stored.name, stored.scopes, stored.token_hash}
    assert stored.name == "Clinic"
    assert stored.scopes == "read:course write:draft"  # in the scopes' own order


def test_tokens_are_different_each_time(session, people):
    texts = {
        token_create(session, user=people[Role.LEARNER], name=f"T{n}", scopes=["read:progress"])[1] for n in range(5)
    }
    assert len(texts) == 5


def test_an_account_may_hold_only_so_many_tokens(session, people):
    for n in range(TOKENS_PER_ACCOUNT):
        token_create(session, user=people[Role.LEARNER], name=f"T{n}", scopes=["read:progress"])
    with pytest.raises(ValidationError, match="revoke one"):
        token_create(session, user=people[Role.LEARNER], name="One more", scopes=["read:progress"])


def test_a_form_makes_one_token_however_often_it_is_sent(session, people):
    learner, admin = people[Role.LEARNER], people[Role.ADMIN]
    key = "0123456789abcdef" * 2
    token_create(session, user=learner, name="Dash", scopes=["read:progress"], form_key=key)
    with pytest.raises(TokenAlreadyMade):
        token_create(session, user=learner, name="Dash", scopes=["read:progress"], form_key=key)
    # The key is the form's, within one account: another account's form may carry the same one.
    token_create(session, user=admin, name="Dash", scopes=["read:course"], form_key=key)
    owners = sorted((t.user_id, t.form_key) for t in session.scalars(select(ApiToken)))
    assert owners == sorted([(learner.id, key), (admin.id, key)])


@pytest.mark.parametrize("role", [Role.LEARNER, Role.ADMIN])
def test_two_requests_from_one_form_at_once_make_one_token(session, people, monkeypatch, role):
    """A double-click: both requests pass the check before either commits; the unique key lets one in.
    (An admin's token is audited, so its row is flushed before the commit: that clash is caught too.)"""
    user, scope = people[role], scopes_for(people[role])[-1].name
    key = "fedcba9876543210" * 2
    token_create(session, user=user, name="First", scopes=[scope], form_key=key)
    audits = session.scalar(select(func.count()).select_from(AuditEvent))
    real_check, checks = api_tokens._made_from, []

    def checked_too_early(*args):
        """The second request's first check ran before the first request committed; later ones see it."""
        checks.append(args)
        return len(checks) > 1 and real_check(*args)

    monkeypatch.setattr(api_tokens, "_made_from", checked_too_early)
    with pytest.raises(TokenAlreadyMade):
        token_create(session, user=user, name="Second", scopes=[scope], form_key=key)
    assert [t.name for t in session.scalars(select(ApiToken))] == ["First"]
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audits  # nothing half-recorded
    token_create(session, user=user, name="Third", scopes=[scope])  # the session is usable after


def test_another_refusal_by_the_database_is_not_taken_for_a_token_already_made(session, people, monkeypatch):
    """Only the form key's clash means "made already": the account erased meanwhile is another error."""
    from sqlalchemy.exc import IntegrityError

    learner = people[Role.LEARNER]
    real_commit = session.commit

    def refused_commit():
        session.rollback()
        raise IntegrityError("INSERT INTO api_tokens", {}, Exception("FOREIGN KEY constraint failed"))

    monkeypatch.setattr(session, "commit", refused_commit)
    with pytest.raises(IntegrityError):
        token_create(session, user=learner, name="Dash", scopes=["read:progress"], form_key="ab" * 16)
    monkeypatch.setattr(session, "commit", real_commit)
    assert session.scalar(select(ApiToken)) is None


def test_a_token_finds_its_owner_and_anything_else_finds_nobody(session, people):
    token, text = token_create(session, user=people[Role.COUNSELLOR], name="Dash", scopes=["read:clients"])
    found = token_authenticate(session, text=text)
    assert found.id == token.id and found.user.id == people[Role.COUNSELLOR].id
    for wrong in ["", text[:-1], text + "x", text.replace(TOKEN_PREFIX, "abc_"), TOKEN_PREFIX + "!" * 43]:
        assert token_authenticate(session, text=wrong) is None
    unknown = TOKEN_PREFIX + "A" * 43
    assert looks_like_token(unknown) and token_authenticate(session, text=unknown) is None


def test_last_use_is_written_at_most_every_minute(session, people):
    token, text = token_create(session, user=people[Role.LEARNER], name="T", scopes=["read:progress"])
    start = utcnow()
    token_authenticate(session, text=text, now=start)
    assert session.get(ApiToken, token.id).last_used_at == start
    token_authenticate(session, text=text, now=start + LAST_USED_EVERY - timedelta(seconds=1))
    assert session.get(ApiToken, token.id).last_used_at == start
    later = start + LAST_USED_EVERY
    token_authenticate(session, text=text, now=later)
    session.expire_all()
    assert session.get(ApiToken, token.id).last_used_at == later


def test_a_deactivated_accounts_tokens_stop_working_at_once_and_never_come_back(session, people):
    _, text = token_create(session, user=people[Role.LEARNER], name="T", scopes=["read:progress"])
    _, counsellors = token_create(session, user=people[Role.COUNSELLOR], name="C", scopes=["read:clients"])
    user_deactivate(session, actor=people[Role.ADMIN], user=people[Role.LEARNER])
    assert token_authenticate(session, text=text) is None
    user_reactivate(session, actor=people[Role.ADMIN], user=people[Role.LEARNER])
    assert token_authenticate(session, text=text) is None  # revoked, as its sessions ended
    assert tokens_of(session, user=people[Role.LEARNER]) == []
    assert token_authenticate(session, text=counsellors) is not None  # nobody else's


def test_a_new_password_revokes_every_token_of_the_account_and_says_how_many(session, people):
    learner = people[Role.LEARNER]
    texts = [token_create(session, user=learner, name=f"T{n}", scopes=["read:progress"])[1] for n in range(2)]
    _, counsellors = token_create(session, user=people[Role.COUNSELLOR], name="C", scopes=["read:clients"])

    assert password_set(session, user=learner, password="a brand new passphrase", hash_method="pbkdf2:sha256:1") == 2

    assert [token_authenticate(session, text=text) for text in texts] == [None, None]
    assert token_authenticate(session, text=counsellors) is not None
    assert password_set(session, user=learner, password="another new passphrase", hash_method="pbkdf2:sha256:1") == 0


def test_a_scope_works_only_while_its_owner_may_still_do_it(session, people):
    counsellor = people[Role.COUNSELLOR]
    _, text = token_create(session, user=counsellor, name="Dash", scopes=["read:clients"])
    assert token_allows(token_authenticate(session, text=text), "read:clients")
    user_role_change(session, actor=people[Role.ADMIN], user=counsellor, role=Role.LEARNER)
    token = token_authenticate(session, text=text)
    assert token is not None and not token_allows(token, "read:clients")
    assert not token_allows(token, "read:progress")  # a scope the token never had
    assert not token_allows(token, "no:such-scope")


def test_revoking_deletes_only_ones_own_token(session, people):
    mine, text = token_create(session, user=people[Role.LEARNER], name="Mine", scopes=["read:progress"])
    theirs, _ = token_create(session, user=people[Role.COUNSELLOR], name="Theirs", scopes=["read:clients"])
    with pytest.raises(LookupError):
        token_revoke(session, user=people[Role.LEARNER], token_id=theirs.id)
    assert token_revoke(session, user=people[Role.LEARNER], token_id=mine.id).name == "Mine"
    assert token_authenticate(session, text=text) is None
    assert [t.name for t in tokens_of(session, user=people[Role.COUNSELLOR])] == ["Theirs"]
    assert tokens_of(session, user=people[Role.LEARNER]) == []
