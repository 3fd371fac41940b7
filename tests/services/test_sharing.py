"""Invitations, consented links, the rule of who may see whom, and the audit of views."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update

from app.models import CounsellorLink, Invitation, ProgressView, Role, User
from app.models.types import utcnow
from app.services import sharing
from app.services.sharing import (
    InvitationUnusable,
    SharingNotAllowed,
    code_hash,
    counsellor_client_link,
    invitation_by_code,
    invitation_create,
    invitation_respond,
    learner_sharing_overview,
    link_end_by_counsellor,
    link_revoke,
    progress_view_record,
    shares_with_namesake,
    viewable_learner,
    visible_learner_ids,
    visible_learner_names,
)
from tests.conftest import create_user

SECRET = "test-secret-key"


@pytest.fixture
def counsellor(app) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def other_counsellor(app) -> int:
    return create_user(app, "robin@example.org", role=Role.COUNSELLOR, name="Robin Counsellor")


@pytest.fixture
def admin(app) -> int:
    return create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")


def invite(session, counsellor_id: int) -> tuple[Invitation, str]:
    return invitation_create(session, counsellor=session.get(User, counsellor_id), secret_key=SECRET)


def respond(session, code: str, learner_id: int, *, accept: bool = True):
    return invitation_respond(
        session, code=code, learner=session.get(User, learner_id), accept=accept, secret_key=SECRET
    )


def live_links(session, learner_id: int) -> list[CounsellorLink]:
    return list(
        session.scalars(
            select(CounsellorLink).where(CounsellorLink.learner_id == learner_id, CounsellorLink.revoked_at.is_(None))
        )
    )


def unusable_reason(session, code: str, learner_id: int) -> str:
    with pytest.raises(InvitationUnusable) as caught:
        respond(session, code, learner_id)
    return caught.value.reason


def test_code_is_eight_characters_shown_as_two_groups_of_four(session, counsellor):
    _, code = invite(session, counsellor)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)


def test_only_a_keyed_hash_of_the_code_is_stored(session, counsellor):
    invitation, code = invite(session, counsellor)
    plain = code.replace("-", "")
    assert invitation.code_hash == code_hash(code, SECRET)
    assert code_hash(code, SECRET) != code_hash(code, "another-key")
    rows = session.execute(text("SELECT * FROM invitations")).all()
    stored = " ".join(str(value) for row in rows for value in row).upper()
    assert plain not in stored and code not in stored


def test_invitation_expires_after_fourteen_days(session, counsellor, learner):
    invitation, code = invite(session, counsellor)
    created = invitation.created_at
    assert invitation.expires_at - created == timedelta(days=14)
    lookup = invitation_by_code(session, code=code, secret_key=SECRET, now=created + timedelta(days=13, hours=23))
    assert lookup.id == invitation.id
    with pytest.raises(InvitationUnusable) as caught:
        invitation_by_code(session, code=code, secret_key=SECRET, now=created + timedelta(days=14, seconds=1))
    assert caught.value.reason == "expired"


def test_an_expired_invitation_cannot_be_accepted(session, counsellor, learner):
    invitation, code = invite(session, counsellor)
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert unusable_reason(session, code, learner) == "expired"
    assert live_links(session, learner) == []


@pytest.mark.parametrize("change", [{"is_active": False}, {"role": Role.LEARNER}], ids=["deactivated", "demoted"])
def test_an_invitation_whose_counsellor_can_no_longer_counsel_cannot_be_accepted(session, counsellor, learner, change):
    """A deactivated counsellor's invitation still worked: the learner was told they were sharing
    their progress with an account nobody could use (or that was no longer a counsellor's)."""
    _, code = invite(session, counsellor)
    staff = session.get(User, counsellor)
    for name, value in change.items():
        setattr(staff, name, value)
    session.commit()
    assert unusable_reason(session, code, learner) == "withdrawn"
    assert live_links(session, learner) == []
    for name in change:  # restored: the same code works again, as it has not been used
        setattr(staff, name, True if name == "is_active" else Role.COUNSELLOR)
    session.commit()
    respond(session, code, learner)
    assert len(live_links(session, learner)) == 1


def test_an_invitation_can_be_accepted_only_once(session, counsellor, learner, other_learner):
    _, code = invite(session, counsellor)
    respond(session, code, learner)
    assert unusable_reason(session, code, learner) == "used"
    assert unusable_reason(session, code, other_learner) == "used"
    assert live_links(session, other_learner) == []


def test_declining_uses_the_invitation_up(session, counsellor, learner):
    _, code = invite(session, counsellor)
    assert respond(session, code, learner, accept=False) is None
    assert unusable_reason(session, code, learner) == "used"
    assert live_links(session, learner) == []


@pytest.mark.parametrize(
    "garbage", ["", "   ", "ABCD-EFG", "ABCD-EFGHJ", "ZZZZ-ZZZZ", "'; DROP TABLE x;--", "éééé-éééé"]
)
def test_unknown_or_garbage_codes_are_unknown(session, counsellor, learner, garbage):
    invite(session, counsellor)
    assert unusable_reason(session, garbage, learner) == "unknown"


@pytest.mark.parametrize("spell", [str.lower, lambda c: c.replace("-", ""), lambda c: f"  {c[:2]} {c[2:6]}-{c[6:]} "])
def test_case_spaces_and_dashes_do_not_matter(session, counsellor, learner, spell):
    invitation, code = invite(session, counsellor)
    assert invitation_by_code(session, code=spell(code), secret_key=SECRET).id == invitation.id
    assert respond(session, spell(code), learner) is not None


def test_accepting_makes_one_live_link(session, counsellor, learner):
    _, code = invite(session, counsellor)
    link = respond(session, code, learner)
    links = live_links(session, learner)
    assert [(x.id, x.counsellor_id, x.created_by_id) for x in links] == [(link.id, counsellor, learner)]


def test_accepting_a_second_counsellors_invitation_links_to_both(session, counsellor, other_counsellor, learner):
    respond(session, invite(session, counsellor)[1], learner)
    respond(session, invite(session, other_counsellor)[1], learner)
    assert {link.counsellor_id for link in live_links(session, learner)} == {counsellor, other_counsellor}


def test_accepting_again_from_the_same_counsellor_keeps_one_link(session, counsellor, learner):
    first = respond(session, invite(session, counsellor)[1], learner)
    second = respond(session, invite(session, counsellor)[1], learner)
    assert first.id == second.id
    assert len(live_links(session, learner)) == 1


@pytest.mark.parametrize("who", ["other_counsellor", "admin"])
def test_counsellors_and_admins_cannot_accept(session, request, counsellor, learner, who):
    user_id = request.getfixturevalue(who)
    _, code = invite(session, counsellor)
    with pytest.raises(SharingNotAllowed):
        respond(session, code, user_id)
    assert session.scalar(select(func.count()).select_from(CounsellorLink)) == 0
    assert respond(session, code, learner) is not None  # the code was not used up


def test_only_counsellors_and_admins_can_invite(session, learner):
    with pytest.raises(SharingNotAllowed):
        invite(session, learner)


def test_revoking_ends_the_link_at_once(session, counsellor, learner):
    link = respond(session, invite(session, counsellor)[1], learner)
    viewer = session.get(User, counsellor)
    assert viewable_learner(session, viewer=viewer, learner_id=learner).id == learner
    link_revoke(session, learner=session.get(User, learner), link_id=link.id)
    assert viewable_learner(session, viewer=viewer, learner_id=learner) is None
    assert live_links(session, learner) == []


def test_a_learner_cannot_revoke_someone_elses_link(session, counsellor, learner, other_learner):
    link = respond(session, invite(session, counsellor)[1], learner)
    with pytest.raises(LookupError):
        link_revoke(session, learner=session.get(User, other_learner), link_id=link.id)
    assert [x.id for x in live_links(session, learner)] == [link.id]


def test_a_revoked_link_cannot_be_revoked_again(session, counsellor, learner):
    link = respond(session, invite(session, counsellor)[1], learner)
    link_revoke(session, learner=session.get(User, learner), link_id=link.id)
    with pytest.raises(LookupError):
        link_revoke(session, learner=session.get(User, learner), link_id=link.id)


def test_a_namesake_is_one_of_the_learners_live_links_by_that_name(
    session, app, counsellor, other_counsellor, learner, other_learner
):
    namesake = create_user(app, "casey@elsewhere.example", role=Role.COUNSELLOR, name="Casey Counsellor")
    first = respond(session, invite(session, counsellor)[1], learner)
    respond(session, invite(session, other_counsellor)[1], learner)
    respond(session, invite(session, namesake)[1], other_learner)  # someone else's link counts for nothing

    assert shares_with_namesake(session, learner_id=learner, name="Casey Counsellor")
    assert not shares_with_namesake(session, learner_id=learner, name="Casey")
    link_revoke(session, learner=session.get(User, learner), link_id=first.id)
    assert not shares_with_namesake(session, learner_id=learner, name="Casey Counsellor")  # an ended link neither
    assert shares_with_namesake(session, learner_id=learner, name="Robin Counsellor")


def test_a_counsellor_who_stops_seeing_a_client_sees_nothing_of_them_from_then_on(
    session, counsellor, other_counsellor, learner
):
    mine = respond(session, invite(session, counsellor)[1], learner)
    theirs = respond(session, invite(session, other_counsellor)[1], learner)
    viewer = session.get(User, counsellor)

    ended = link_end_by_counsellor(session, counsellor=viewer, learner_id=learner)

    assert ended.id == mine.id
    session.expire_all()
    assert ended.revoked_at is not None and ended.ended_by_counsellor is True
    assert viewable_learner(session, viewer=viewer, learner_id=learner) is None
    assert counsellor_client_link(session, counsellor=viewer, learner_id=learner) is None
    # The learner's other counsellor goes on seeing them: only this link ended.
    assert [link.id for link in live_links(session, learner)] == [theirs.id]
    assert theirs.ended_by_counsellor is False


def test_a_learner_who_stops_sharing_is_recorded_as_having_ended_it(session, counsellor, learner):
    link = respond(session, invite(session, counsellor)[1], learner)
    link_revoke(session, learner=session.get(User, learner), link_id=link.id)
    session.expire_all()
    assert link.revoked_at is not None and link.ended_by_counsellor is False


def test_a_counsellor_can_end_only_their_own_live_link(session, counsellor, other_counsellor, admin, learner):
    respond(session, invite(session, counsellor)[1], learner)
    for someone_else in (other_counsellor, admin):  # an admin sees every learner, with no link to end
        with pytest.raises(LookupError):
            link_end_by_counsellor(session, counsellor=session.get(User, someone_else), learner_id=learner)
    link_end_by_counsellor(session, counsellor=session.get(User, counsellor), learner_id=learner)
    with pytest.raises(LookupError):  # ended already
        link_end_by_counsellor(session, counsellor=session.get(User, counsellor), learner_id=learner)


def test_a_client_who_stops_sharing_as_the_counsellor_ends_it_is_recorded_as_ending_it(
    session, counsellor, learner, monkeypatch
):
    """The client's stop lands between the counsellor's read of the link and their update: theirs stands."""
    link = respond(session, invite(session, counsellor)[1], learner)
    found = sharing.active_link(session, counsellor_id=counsellor, learner_id=learner)

    def found_then_stopped(session, **where):
        link_revoke(session, learner=session.get(User, learner), link_id=link.id)
        return found

    monkeypatch.setattr(sharing, "active_link", found_then_stopped)
    with pytest.raises(LookupError):
        link_end_by_counsellor(session, counsellor=session.get(User, counsellor), learner_id=learner)
    session.expire_all()
    assert link.revoked_at is not None and link.ended_by_counsellor is False


def test_a_counsellor_who_ends_the_link_as_the_client_stops_sharing_is_recorded_as_ending_it(
    session, counsellor, learner, monkeypatch
):
    """The counsellor's end lands between the client's read of the link and their update: it stands."""
    link = respond(session, invite(session, counsellor)[1], learner)
    real_scalar = session.scalar

    def read_then_ended(statement, *args, **kwargs):
        found = real_scalar(statement, *args, **kwargs)
        if isinstance(found, CounsellorLink):
            session.execute(
                update(CounsellorLink)
                .where(CounsellorLink.id == found.id)
                .values(revoked_at=utcnow(), ended_by_counsellor=True)
            )
            session.commit()  # the counsellor's request, done and committed first
        return found

    monkeypatch.setattr(session, "scalar", read_then_ended)
    with pytest.raises(LookupError):
        link_revoke(session, learner=session.get(User, learner), link_id=link.id)
    monkeypatch.undo()
    session.expire_all()
    assert link.revoked_at is not None and link.ended_by_counsellor is True


def visible(session, user_id: int) -> set[int]:
    return set(session.scalars(visible_learner_ids(session.get(User, user_id))))


def test_admin_sees_every_learner_but_no_staff(session, admin, counsellor, learner, other_learner):
    assert visible(session, admin) == {learner, other_learner}


def test_counsellor_sees_only_live_linked_learners(session, counsellor, other_counsellor, learner, other_learner, app):
    third = create_user(app, "third@example.org")
    respond(session, invite(session, counsellor)[1], learner)
    revoked = respond(session, invite(session, counsellor)[1], third)
    link_revoke(session, learner=session.get(User, third), link_id=revoked.id)
    respond(session, invite(session, other_counsellor)[1], other_learner)
    assert visible(session, counsellor) == {learner}
    assert viewable_learner(session, viewer=session.get(User, counsellor), learner_id=other_learner) is None
    assert viewable_learner(session, viewer=session.get(User, counsellor), learner_id=999999) is None


def test_a_learner_sees_nobody(session, counsellor, learner, other_learner):
    respond(session, invite(session, counsellor)[1], learner)
    assert visible(session, learner) == set()
    assert viewable_learner(session, viewer=session.get(User, learner), learner_id=learner) is None


def test_the_caseload_by_name_follows_the_same_rule(session, app, admin, counsellor, other_counsellor, learner):
    """visible_learner_names (the dashboard's count and name order) lets each viewer see exactly
    whom visible_learner_ids does, each once, with the lowercased name to sort by."""
    moved, revoked, theirs = (create_user(app, f"{n}@example.org", name=f"Zed {n.title()}") for n in ("m", "r", "t"))
    for someone in (learner, moved, revoked):
        respond(session, invite(session, counsellor)[1], someone)
    link_revoke(session, learner=session.get(User, revoked), link_id=live_links(session, revoked)[0].id)
    respond(session, invite(session, other_counsellor)[1], theirs)
    session.get(User, moved).role = Role.COUNSELLOR  # no longer a learner: no longer anyone's client
    session.commit()

    for viewer in (admin, counsellor, other_counsellor, learner):
        assert set(caseload(session, viewer)) == visible(session, viewer)
    assert caseload(session, counsellor) == {learner: session.get(User, learner).display_name.lower()}
    assert caseload(session, admin, search="ZED") == {revoked: "zed r", theirs: "zed t"}
    assert caseload(session, other_counsellor, search="zed t") == {theirs: "zed t"}
    assert caseload(session, other_counsellor, search="%") == {}  # taken literally


def caseload(session, viewer: int, search: str = "") -> dict[int, str]:
    clients = visible_learner_names(session.get(User, viewer), search=search)
    return dict(session.execute(select(clients.c.id, clients.c.name_key)).all())


def test_a_links_copy_of_its_clients_name_follows_renames_and_roles(session, app, counsellor, learner):
    """The database keeps each link's client name (app/models/caseload_names.py): whatever changes
    a name or a role, by the ORM or plain SQL, the counsellor's caseload shows it at once."""
    respond(session, invite(session, counsellor)[1], learner)
    assert caseload(session, counsellor) == {learner: session.get(User, learner).display_name.lower()}

    session.get(User, learner).display_name = "Ann McKay"
    session.commit()
    assert caseload(session, counsellor) == {learner: "ann mckay"}
    assert caseload(session, counsellor, search="ann") == caseload(session, counsellor)

    session.execute(text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": learner})
    session.commit()
    assert caseload(session, counsellor) == {}
    session.execute(text("UPDATE users SET role = 'learner', display_name = 'Bea' WHERE id = :id"), {"id": learner})
    session.commit()
    assert caseload(session, counsellor) == {learner: "bea"}


def record_views(session, learner_id: int, viewers: list[tuple[int, timedelta]]) -> None:
    for viewer_id, ago in viewers:
        progress_view_record(session, viewer=session.get(User, viewer_id), learner=session.get(User, learner_id))
        session.flush()
        newest = session.scalar(select(ProgressView).order_by(ProgressView.id.desc()).limit(1))
        newest.viewed_at = utcnow() - ago
    session.commit()


def test_view_log_says_who_in_what_role_and_when_newest_first(session, counsellor, admin, learner, other_learner):
    record_views(session, learner, [(counsellor, timedelta(days=2)), (admin, timedelta(hours=1))])
    record_views(session, other_learner, [(counsellor, timedelta(minutes=5))])
    log = learner_sharing_overview(session, learner=session.get(User, learner)).views
    assert [(r.viewer_name, r.viewer_role) for r in log] == [("Ada Admin", "admin"), ("Casey Counsellor", "counsellor")]
    assert log[0].viewed_at > log[1].viewed_at
    assert utcnow() - log[1].viewed_at > timedelta(days=1)


def test_a_deleted_viewer_shows_as_a_removed_account(session, counsellor, learner):
    record_views(session, learner, [(counsellor, timedelta(minutes=1))])
    session.execute(delete(User).where(User.id == counsellor))
    session.commit()
    session.expire_all()
    assert session.scalar(select(ProgressView.viewer_id)) is None
    [record] = learner_sharing_overview(session, learner=session.get(User, learner)).views
    assert (record.viewer_name, record.viewer_role) == ("A removed account", "counsellor")


def test_the_sharing_overview_lists_live_links_oldest_first(session, counsellor, admin, learner):
    from app.models import CounsellorLink

    session.add_all(
        [
            CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_at=utcnow() - timedelta(days=3)),
            CounsellorLink(
                counsellor_id=admin, learner_id=learner, created_at=utcnow() - timedelta(days=9), revoked_at=utcnow()
            ),
        ]
    )
    session.commit()
    overview = learner_sharing_overview(session, learner=session.get(User, learner))
    assert [link.counsellor_name for link in overview.links] == ["Casey Counsellor"]
    assert overview.views == []
