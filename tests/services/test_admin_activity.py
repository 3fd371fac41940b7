"""The site-wide activity log: audit records and publications merged newest first, paged by cursor,
filtered by kind, with names read at display time (a deleted account reads as one)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Course, CoursePublication, LtiPlatform, ProgressView, Role, User
from app.services.admin_activity import KINDS, Cursor, UnknownKind, activity_page
from tests.conftest import count_queries

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.fixture
def people(session):
    """An admin who acts, a second admin, a learner and a counsellor."""
    made = {
        key: User(email=f"{key}@example.org", display_name=name, password_hash="x", role=role)
        for key, name, role in [
            ("sam", "Sam Admin", Role.ADMIN),
            ("ada", "Ada Admin", Role.ADMIN),
            ("jo", "Jo Learner", Role.LEARNER),
            ("cam", "Cam Counsellor", Role.COUNSELLOR),
        ]
    }
    session.add_all(made.values())
    session.commit()
    return made


@pytest.fixture
def course_id(session, course) -> int:
    return session.scalar(select(Course.id).where(Course.slug == course))


def event(session, actor: User, action: str, at: datetime, subject: User | None = None, **details) -> AuditEvent:
    row = AuditEvent(
        actor_id=actor.id, subject_id=subject.id if subject else None, action=action, details=details, created_at=at
    )
    session.add(row)
    session.commit()
    return row


def publication(session, course_id: int, at: datetime, by: User | None = None, **columns) -> CoursePublication:
    row = CoursePublication(
        course_id=course_id, published_at=at, published_by_id=by.id if by else None, summary="", **columns
    )
    session.add(row)
    session.commit()
    return row


def view(session, viewer: User, learner: User, at: datetime) -> ProgressView:
    row = ProgressView(viewer_id=viewer.id, learner_id=learner.id, viewer_role=viewer.role, viewed_at=at)
    session.add(row)
    session.commit()
    return row


def test_records_and_publications_merge_newest_first_in_words_ready_for_the_page(session, people, course_id):
    sam, jo, cam = people["sam"], people["jo"], people["cam"]
    publication(session, course_id, minutes(0), from_files=True, changes=["x", "y"])
    first = publication(session, course_id, minutes(1), by=sam, changes=["a", "b", "c"])
    event(session, sam, "role_changed", minutes(2), subject=jo, **{"from": "learner", "to": "counsellor"})
    publication(session, course_id, minutes(3), by=sam, changes=["d"], restored_from_id=first.id)
    event(session, sam, "link_created", minutes(4), subject=jo, counsellor_id=cam.id)
    event(session, sam, "learners_downloaded", minutes(5), course_id=course_id, flag="struggling")
    view(session, sam, jo, minutes(6))
    view(session, cam, jo, minutes(7))  # a counsellor's look at a client is theirs, not an admin's action

    entries = activity_page(session).entries

    assert [entry.action for entry in entries] == [
        "viewed",
        "learners_downloaded",
        "link_created",
        "restored",
        "role_changed",
        "published",
        "imported",
    ]
    viewed, download, link, restored, role, published, imported = entries
    assert (viewed.actor.name, viewed.subject.name, viewed.kind) == ("Sam Admin", "Jo Learner", "views")
    title = session.get(Course, course_id).title
    assert download.course_title == title and download.details["flag"] == "struggling"
    assert download.subject is None and download.kind == "downloads"
    assert (link.subject.name, link.counsellor.name) == ("Jo Learner", "Cam Counsellor")
    assert restored.restored_from_at == minutes(1) and restored.changes == 1
    assert (role.actor.name, role.subject.id, role.kind) == ("Sam Admin", jo.id, "accounts")
    assert published.changes == 3 and published.course_title == title
    assert imported.actor is None and imported.changes == 2  # the server imported it: nobody did


def test_pages_meet_without_a_gap_or_a_repeat_even_at_one_instant(session, people, course_id):
    """Entries at the very same time, from every source, are cut by (time, source, id)."""
    sam = people["sam"]
    for _ in range(3):
        event(session, sam, "reset_link_sent", T0, subject=people["jo"])
        publication(session, course_id, T0, by=sam)
        view(session, sam, people["jo"], T0)
    page = activity_page(session, limit=4)
    pages = [page]
    while page.older:
        page = activity_page(session, before=Cursor.parse(page.older), limit=4)
        pages.append(page)
    seen = [entry.cursor for page in pages for entry in page.entries]
    assert [len(page.entries) for page in pages] == [4, 4, 1]
    assert len(seen) == len(set(seen)) == 9
    actions = [entry.action for page in pages for entry in page.entries]
    assert actions == ["viewed"] * 3 + ["reset_link_sent"] * 3 + ["published"] * 3  # by source at one instant
    # And back again, newer page by newer page, to the first.
    back = activity_page(session, after=Cursor.parse(pages[2].newer), limit=4)
    assert [e.cursor for e in back.entries] == [e.cursor for e in pages[1].entries]
    assert pages[0].is_first and pages[0].newer is None and pages[2].older is None


def test_newer_goes_back_a_page_and_from_the_second_page_to_the_first(session, people, course_id):
    sam = people["sam"]
    for n in range(9):
        event(session, sam, "deactivated", minutes(n), subject=people["jo"])
    first = activity_page(session, limit=4)  # 8 7 6 5
    second = activity_page(session, before=Cursor.parse(first.older), limit=4)  # 4 3 2 1
    third = activity_page(session, before=Cursor.parse(second.older), limit=4)  # 0
    assert [e.at for e in second.entries] == [minutes(n) for n in (4, 3, 2, 1)]
    assert third.older is None and [e.at for e in third.entries] == [minutes(0)]
    back = activity_page(session, after=Cursor.parse(third.newer), limit=4)
    assert [e.cursor for e in back.entries] == [e.cursor for e in second.entries]
    assert back.newer is not None and back.older is not None and not back.is_first
    # Newer than the second page is only the first page's four: shown as the first page is.
    top = activity_page(session, after=Cursor.parse(second.newer), limit=4)
    assert top.is_first and top.newer is None and [e.cursor for e in top.entries] == [e.cursor for e in first.entries]


def test_a_kind_shows_only_its_own_actions(session, people, course_id):
    sam = people["sam"]
    event(session, sam, "created", minutes(1), subject=people["jo"], role="learner")
    event(session, sam, "lti_platform_registered", minutes(2), platform_id=99, issuer="https://lms.example.org")
    event(session, sam, "learners_downloaded", minutes(3), course_id=course_id)
    event(session, sam, "api_token_created", minutes(4), token_id=5, scopes=["read:clients", "write:draft"])
    publication(session, course_id, minutes(5), by=sam)
    publication(session, course_id, minutes(0), from_files=True)
    view(session, sam, people["jo"], minutes(6))
    view(session, people["cam"], people["jo"], minutes(7))
    kinds = {kind: [e.action for e in activity_page(session, kind=kind).entries] for kind in KINDS}
    assert kinds == {
        "accounts": ["created"],
        "publications": ["published", "imported"],
        "lms": ["lti_platform_registered"],
        "downloads": ["learners_downloaded"],
        "tokens": ["api_token_created"],
        "views": ["viewed"],
    }
    token = activity_page(session, kind="tokens").entries[0]
    assert token.scopes == ["read every learner's progress", "change and publish the course draft"]
    with pytest.raises(UnknownKind):
        activity_page(session, kind="everything")


def test_a_deleted_account_and_a_removed_platform_read_as_gone(session, people, course_id):
    sam, ada, jo = people["sam"], people["ada"], people["jo"]
    platform = LtiPlatform(
        name="Moodle test",
        issuer="https://moodle.example.org",
        client_id="c",
        auth_login_url="https://moodle.example.org/auth",
        auth_token_url="https://moodle.example.org/token",
        key_set_url="https://moodle.example.org/jwks",
        deployment_ids="1",
    )
    session.add(platform)
    session.commit()
    event(session, ada, "lti_platform_registered", minutes(1), platform_id=platform.id, issuer=platform.issuer)
    event(session, ada, "role_changed", minutes(2), subject=jo, **{"from": "learner", "to": "admin"})
    publication(session, course_id, minutes(3), by=ada)
    event(session, sam, "lti_platform_removed", minutes(4), platform_id=12345, issuer="https://gone.example.org")
    registered = activity_page(session, kind="lms").entries[1]
    assert registered.platform_name == "Moodle test"
    session.delete(ada)
    session.delete(jo)
    session.commit()

    removed, registered = activity_page(session, kind="lms").entries
    assert removed.platform_name is None and removed.details["issuer"] == "https://gone.example.org"
    assert registered.actor.id is None and registered.actor.name is None  # the record stays, anonymous
    role = activity_page(session, kind="accounts").entries[0]
    assert role.actor.name is None and role.subject.name is None and role.subject.id is None
    published = activity_page(session, kind="publications").entries[0]
    assert published.action == "published" and published.actor.name is None


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1-3-3", "1-1-0", "1-1-2147483648", "-1-1-1", "1-1-1-1", "9" * 19 + "-1-1", "1.5-1-1", "１-1-1"],
)
def test_a_cursor_this_site_did_not_make_is_none(text):
    assert Cursor.parse(text) is None


def test_a_cursor_reads_back_as_written():
    cursor = Cursor(datetime(2031, 2, 3, 4, 5, 6, 789012, tzinfo=UTC), 1, 42)
    assert Cursor.parse(str(cursor)) == cursor


def test_the_page_runs_the_same_queries_for_a_few_entries_or_many(app, session, people, course_id):
    sam = people["sam"]

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            event(session, sam, "link_created", minutes(i), subject=people["jo"], counsellor_id=people["cam"].id)
            event(session, sam, "learners_downloaded", minutes(i), course_id=course_id)
            event(session, sam, "lti_platform_removed", minutes(i), platform_id=i, issuer="https://x.example.org")
            publication(session, course_id, minutes(i), by=sam, changes=["x"])
            view(session, sam, people["jo"], minutes(i))

    def queries(**cursor) -> int:
        session.expire_all()
        with count_queries(session.get_bind()) as counted:
            activity_page(session, **cursor)
        return counted()

    add(2, 0)
    few = queries()
    add(60, 10)
    many = queries()
    older = queries(before=Cursor.parse(activity_page(session).older))
    assert few == many == older == 4  # the page, then the counsellors, courses and platforms it names
