"""The lesson editor's live preview over HTTP, CSRF on: the server's own Markdown pipeline and
sanitiser render what the form holds, for admins only, and save nothing."""

from __future__ import annotations

import re

import pytest

from app.models import Role
from tests.conftest import create_user, csrf_token, login
from tests.views.test_author_routes import BASE, EDIT_FIRST, FIRST, LEARNER_FIRST, article, draft, lesson_form
from tests.views.test_query_counts import queries_for

LIVE = f"{BASE}/lessons/preview"
LIVE_FIRST = f"{LIVE}?lesson={FIRST}"


@pytest.fixture
def admin(app, client, course):
    """A client logged in as an admin, with the factory course published."""
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


@pytest.fixture
def learner(app, course):
    """Another client, logged in as a learner."""
    learner_client = app.test_client()
    create_user(app, "learner@example.org")
    assert login(learner_client).status_code == 302
    return learner_client


def test_the_editor_points_its_script_at_the_live_preview(admin):
    page = admin.get(EDIT_FIRST).get_data(as_text=True)

    assert f'data-live-preview="{LIVE_FIRST}"' in page
    assert re.search(r'<script src="/assets/js/author-preview\.\w+\.js"></script>', page)
    # Without script the saved lesson's preview is there, beside the form, with a status line for updates.
    section = re.search(r'<section class="preview editor-preview" id="preview-section"[^>]*>', page).group(0)
    assert 'aria-labelledby="preview-heading"' in section and "hidden" not in section
    assert '<p class="visually-hidden" role="status" id="preview-status"></p>' in page


def test_a_new_lessons_editor_keeps_an_empty_hidden_place_for_the_preview(admin):
    page = admin.get(f"{BASE}/lessons/new").get_data(as_text=True)

    assert f'data-live-preview="{LIVE}"' in page
    assert re.search(r'id="preview-section"[^>]*hidden>', page)
    assert '<article class="lesson">' not in page


def test_an_admin_gets_the_typed_lesson_as_learners_would_see_it(admin, app):
    form = lesson_form(admin, title="A typed title", body="## Typed heading\n\nSome **bold** words.")

    response = admin.post(LIVE_FIRST, data=form)

    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert fragment.lstrip().startswith('<article class="lesson">')  # a fragment, not a page
    assert "<html" not in fragment and "<form" not in fragment
    assert "<h1>A typed title</h1>" in fragment and "Lesson 1 of 3" in fragment
    assert "<h2>Typed heading</h2>" in fragment and "<strong>bold</strong>" in fragment
    assert draft(app) is None  # nothing saved


def test_it_is_exactly_the_no_script_preview(admin):
    form = lesson_form(admin, body="## Same\n\nA [link](https://example.org) and a phone: 0300 123 1110.")

    live = admin.post(LIVE_FIRST, data=form).get_data(as_text=True)
    full_page = admin.post(EDIT_FIRST, data={**form, "preview": "Preview"}).get_data(as_text=True)

    assert article(live) == article(full_page)


def test_script_and_html_are_stripped(admin):
    body = (
        "Hello <script>alert('body')</script> **there** <img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(2)) <iframe src='https://example.org'></iframe>"
    )
    form = lesson_form(admin, title="<script>alert('title')</script>Title", body=body)

    fragment = admin.post(LIVE_FIRST, data=form).get_data(as_text=True)

    assert "<strong>there</strong>" in fragment
    for unsafe in ("<script", "<img", "onerror", "javascript:", "<iframe", "alert('body')"):
        assert unsafe not in fragment, unsafe
    # The title is text: shown escaped, never as markup.
    assert "&lt;script&gt;" in fragment


def test_a_new_lesson_is_numbered_after_the_last(admin):
    form = lesson_form(admin, body="Words.")

    fragment = admin.post(LIVE, data=form).get_data(as_text=True)

    assert "Lesson 4 of 4" in fragment


@pytest.mark.parametrize(
    ("query", "status"),
    [("?lesson=no-such-lesson", 404), ("?lesson=%00", 400)],
)
def test_an_unknown_lesson_is_refused(admin, query, status):
    assert admin.post(LIVE + query, data=lesson_form(admin)).status_code == status


def test_a_text_longer_than_the_editor_takes_is_413(admin, app):
    response = admin.post(LIVE_FIRST, data=lesson_form(admin, body="x" * 100_001))

    assert response.status_code == 413
    assert "That was too large" in response.get_data(as_text=True)


def test_a_request_over_the_sites_limit_is_413(admin):
    response = admin.post(LIVE_FIRST, data=lesson_form(admin, body="x" * (1024 * 1024 + 1)))

    assert response.status_code == 413


def test_no_text_is_400(admin):
    assert admin.post(LIVE_FIRST, data={"csrf_token": csrf_token(admin, EDIT_FIRST)}).status_code == 400


def test_without_the_csrf_token_it_is_refused(admin):
    form = lesson_form(admin, body="Words.")
    del form["csrf_token"]

    assert admin.post(LIVE_FIRST, data=form).status_code == 400


def test_a_get_is_not_allowed(admin):
    assert admin.get(LIVE_FIRST).status_code == 405


@pytest.mark.parametrize("role", [Role.LEARNER, Role.COUNSELLOR])
def test_only_admins_get_a_preview(app, client, course, role):
    create_user(app, "someone@example.org", role=role)
    assert login(client, "someone@example.org").status_code == 302
    token = csrf_token(client, "/me/")

    response = client.post(LIVE_FIRST, data={"csrf_token": token, "title": "T", "minutes": "3", "body": "Words."})

    assert response.status_code == 403
    assert "Words." not in response.get_data(as_text=True)


def test_a_visitor_is_sent_to_log_in(client, course):
    token = csrf_token(client, "/auth/login")

    response = client.post(LIVE_FIRST, data={"csrf_token": token, "body": "Words."})

    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_learners_never_see_a_previewed_text(admin, learner):
    admin.post(LIVE_FIRST, data=lesson_form(admin, body="## Only previewed"))

    assert "Only previewed" not in learner.get(LEARNER_FIRST).get_data(as_text=True)


def test_a_preview_runs_the_same_few_queries_for_any_text(admin, app):
    # The signed-in user and session, the course, its draft (or the published course) and its images.
    short = lesson_form(admin, body="Words.")
    long = lesson_form(
        admin,
        body="\n\n".join(f"## Part {n}\n\nMore **words** with a [link](https://example.org)." for n in range(300)),
    )

    counts = [queries_for(app, lambda form=form: admin.post(LIVE_FIRST, data=form)) for form in (short, long)]

    assert counts[0] == counts[1] <= 12, counts
