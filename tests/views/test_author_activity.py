"""/author/activity over HTTP, with CSRF on: the site-wide log of admin actions, in words, paged and
filtered; only admins see it, and a bad filter or page link is a clean 400."""

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Course, CoursePublication, ProgressView, Role, User
from app.services.audit import ACTIONS
from app.services.user_admin import user_data_download, user_role_change
from tests.conftest import count_queries, create_user, csrf_token, factory_course_spec, login, visible_text

URL = "/author/activity"
SAM = "sam@example.org"
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def sam(app) -> int:
    return create_user(app, SAM, role=Role.ADMIN, name="Sam Admin")


@pytest.fixture
def jo(app) -> int:
    return create_user(app, "jo@example.org", name="Jo Learner")


@pytest.fixture
def admin_client(client, sam):
    assert login(client, SAM).status_code == 302
    return client


def add_events(app, actor_id: int, n: int, *, start: int = 0, **details) -> None:
    """``n`` downloads of learners, a minute apart from ``start`` minutes after T0."""
    with app.app_context():
        db.session.add_all(
            AuditEvent(
                actor_id=actor_id,
                action="learners_downloaded",
                details=details,
                created_at=T0 + timedelta(minutes=start + i),
            )
            for i in range(n)
        )
        db.session.commit()


def publish(app, course: str, *, by: int | None, changes: list[str], from_files: bool = False) -> None:
    with app.app_context():
        course_id = db.session.scalar(select(Course.id).where(Course.slug == course))
        db.session.add(
            CoursePublication(
                course_id=course_id, published_by_id=by, summary="", changes=changes, from_files=from_files
            )
        )
        db.session.commit()


def link_with(page: str, parameter: str) -> str:
    """The address of the page's link whose query names ``parameter`` (Older: before, Newer: after)."""
    found = re.search(rf'href="({URL}\?[^"]*\b{parameter}=[^"]*)"', page)
    assert found, f"no link with {parameter}="
    return html.unescape(found.group(1))


def page_text(client, url: str = URL) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return visible_text(response.get_data(as_text=True))


def test_each_line_says_who_did_what_to_what(app, admin_client, sam, jo, course):
    publish(app, course, by=None, changes=["a", "b"], from_files=True)
    with app.app_context():
        user_role_change(db.session, actor=db.session.get(User, sam), user=db.session.get(User, jo), role="counsellor")
    publish(app, course, by=sam, changes=["a", "b", "c"])
    token = csrf_token(admin_client, "/author/lti")
    form = {
        "name": "Moodle test",
        "client_id": "c",
        "deployment_ids": "1",
        "csrf_token": token,
        **{
            field: f"https://moodle.example.org/{field}"
            for field in ("issuer", "auth_login_url", "auth_token_url", "key_set_url")
        },
    }
    assert admin_client.post("/author/lti", data=form).status_code == 302
    title = factory_course_spec().title

    response = admin_client.get(URL)
    page = response.get_data(as_text=True)
    said = visible_text(page)
    lines = [
        "Sam Admin registered the LMS platform ‘Moodle test’.",
        f"Sam Admin published {title} (3 changes).",
        "Sam Admin made Jo Learner a counsellor (was a learner).",
        f"The server imported {title} from its files (2 changes).",
    ]
    assert all(line in said for line in lines), said
    assert [said.index(line) for line in lines] == sorted(said.index(line) for line in lines)  # newest first
    assert f'<a href="/author/users/{jo}">Jo Learner</a>' in page  # the account's admin page
    assert "<title>Activity log" in page and '<a href="/author/">Authoring</a>' in page


def test_a_removed_platform_and_a_deleted_account_read_as_gone(app, admin_client, sam, jo):
    other = create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    with app.app_context():
        db.session.add_all(
            [
                AuditEvent(
                    actor_id=sam, action="lti_platform_removed", details={"platform_id": 9, "issuer": "https://x.org"}
                ),
                AuditEvent(actor_id=other, subject_id=jo, action="deactivated"),
            ]
        )
        db.session.commit()
        db.session.delete(db.session.get(User, other))
        db.session.delete(db.session.get(User, jo))
        db.session.commit()
    said = page_text(admin_client)
    assert "An account since erased deactivated an account since erased: the account could no longer log in." in said
    assert "Sam Admin removed the LMS platform at https://x.org." in said
    assert "None" not in said


def test_older_and_newer_pages_50_a_page(app, admin_client, sam, course):
    add_events(app, sam, 55, course_id=1)
    first = admin_client.get(URL).get_data(as_text=True)
    assert first.count("downloaded the list of learners") == 50 and "Newer" not in first
    second = admin_client.get(link_with(first, "before")).get_data(as_text=True)
    assert second.count("downloaded the list of learners") == 5 and "Older" not in second
    # The title says which page this is, for a screen reader and a tab's name.
    assert "<title>Activity log ·" in first and "<title>Activity log (older actions) ·" in second
    back = admin_client.get(link_with(second, "after")).get_data(as_text=True)
    assert back.count("downloaded the list of learners") == 50 and "Newer" not in back


def test_the_filter_is_a_labelled_get_form_and_keeps_to_its_kind(app, admin_client, sam, jo, course):
    add_events(app, sam, 2, course_id=1)
    with app.app_context():
        user_role_change(db.session, actor=db.session.get(User, sam), user=db.session.get(User, jo), role="admin")
    page = admin_client.get(URL).get_data(as_text=True)
    assert (
        '<form method="get" class="filters activity-filter"' in page
        and '<label class="label" for="kind">Show</label>' in page
    )
    accounts = page_text(admin_client, f"{URL}?kind=accounts")
    assert "made Jo Learner an admin" in accounts and "downloaded" not in accounts
    downloads = page_text(admin_client, f"{URL}?kind=downloads")
    assert downloads.count("downloaded the list of learners") == 2 and "Jo Learner" not in downloads
    with app.app_context():
        user_data_download(db.session, actor=db.session.get(User, sam), user=db.session.get(User, jo))
    # One person's data downloaded for them: an account action, and a download too.
    assert "Jo Learner" in page_text(admin_client, f"{URL}?kind=downloads")
    assert "Jo Learner" in page_text(admin_client, f"{URL}?kind=accounts")
    assert "No action of this kind has been recorded yet." in page_text(admin_client, f"{URL}?kind=lms")


@pytest.mark.parametrize(
    "query",
    [
        "?kind=everything",
        "?before=yesterday",
        "?after=1-1-0",
        "?before=",
        "?before=1-1-1&after=1-1-1",
        "?after=" + "9" * 30,
    ],
)
def test_a_bad_filter_or_page_link_is_a_clean_400(admin_client, query):
    response = admin_client.get(URL + query)
    assert response.status_code == 400
    said = visible_text(response.get_data(as_text=True))
    assert "activity log" in said and "Traceback" not in said


def test_a_made_up_but_well_formed_cursor_shows_what_is_older(app, admin_client, sam):
    add_events(app, sam, 3)
    said = page_text(admin_client, f"{URL}?before=1-1-1")  # 1970: nothing is older
    assert "There are no older actions." in said and "Newest" in said


@pytest.mark.parametrize(("email", "role"), [("lee@example.org", Role.LEARNER), ("cas@example.org", Role.COUNSELLOR)])
def test_only_admins_see_it(app, client, email, role):
    assert client.get(URL).status_code == 302  # anonymous: to the login page
    create_user(app, email, role=role)
    login(client, email)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}?kind=nope").status_code == 403  # refused before the query string is read


def test_the_authoring_home_links_to_it(admin_client, course):
    assert f'<a href="{URL}">Activity log</a>' in admin_client.get("/author/").get_data(as_text=True)


def test_the_page_runs_the_same_queries_for_a_few_entries_or_many(app, admin_client, sam, jo, course):
    def spread(n: int, start: int) -> None:
        add_events(app, sam, n, start=start, course_id=1)
        with app.app_context():
            db.session.add_all(
                AuditEvent(
                    actor_id=sam,
                    subject_id=jo,
                    action="link_created",
                    details={"counsellor_id": sam},
                    created_at=T0 + timedelta(minutes=start + i),
                )
                for i in range(n)
            )
            db.session.add_all(
                AuditEvent(
                    actor_id=sam,
                    action="lti_platform_registered",
                    details={"platform_id": i},
                    created_at=T0 + timedelta(minutes=start + i),
                )
                for i in range(n)
            )
            db.session.add_all(
                ProgressView(
                    viewer_id=sam, learner_id=jo, viewer_role="admin", viewed_at=T0 + timedelta(minutes=start + i)
                )
                for i in range(n)
            )
            db.session.commit()
        publish(app, course, by=sam, changes=["x"])

    def queries(url: str = URL) -> int:
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as counted:
            assert admin_client.get(url).status_code == 200
        return counted()

    spread(2, 0)
    admin_client.get(URL)
    few = queries()
    spread(40, 100)
    many = queries()
    assert few == many
    assert queries(link_with(admin_client.get(URL).get_data(as_text=True), "before")) == many


def test_an_admin_opening_a_learners_progress_is_in_the_log(app, admin_client, sam, jo, course):
    """Admins may open any learner's page (the learner sees each view on /me/); the log lists the
    admins' views among their other actions, under a kind of their own. (A counsellor's views of
    their own clients are left out: tests/services/test_admin_activity.py.)"""
    assert admin_client.get(f"/counsel/clients/{jo}").status_code == 200
    said = page_text(admin_client)
    assert "Sam Admin opened the progress of Jo Learner" in said
    assert page_text(admin_client, f"{URL}?kind=views").count("opened the progress of") == 1
    assert "opened the progress" not in page_text(admin_client, f"{URL}?kind=accounts")


def test_every_audited_action_has_a_sentence_of_its_own():
    """Not the fallback's "Sam Admin: account erased": each action app/services/audit.py names is worded."""
    template = (Path(__file__).parents[2] / "app/templates/author/activity.html").read_text()
    assert {action for action in ACTIONS if f'action == "{action}"' not in template} == set()
