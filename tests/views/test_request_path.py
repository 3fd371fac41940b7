"""The learner pages' request path stays correct when its per-request work is skipped or remembered.

Links come from a remembered ``url_for`` (app/template_urls.py), and Flask-Limiter's check runs
only where a limit applies (app/extensions.py): neither may change a link or let a request
past a limit.
"""

import re
import time
from datetime import UTC, datetime

import pytest
from flask import g, render_template_string, url_for

from app import create_app
from app.extensions import db, limiter
from app.learn.attempt_rows import attempt_rows
from app.services.attempt_history import AttemptSummary
from app.timefmt import current_zone, format_datetime
from tests.conftest import lesson_slugs, make_test_config, quiz_form, submit_quiz


def test_remembered_links_are_flasks_own(app, course):
    template = "{{ url_for('learn.lesson', course_slug=c, lesson_slug='one') }}|{{ url_for('me.home') }}"
    with app.test_request_context("/"):
        expected = f"{url_for('learn.lesson', course_slug=course, lesson_slug='one')}|{url_for('me.home')}"
        first = render_template_string(template, c=course)
        again = render_template_string(template, c=course)
    assert first == again == expected


def test_a_link_under_another_script_root_is_built_for_it(app, course):
    template = "{{ url_for('learn.course', course_slug=c) }}"
    with app.test_request_context("/"):
        at_root = render_template_string(template, c=course)
    with app.test_request_context("/", base_url="http://localhost/school/"):
        mounted = render_template_string(template, c=course)
        assert mounted == url_for("learn.course", course_slug=course)
    assert at_root == f"/courses/{course}/"
    assert mounted == f"/school/courses/{course}/"


def test_links_with_options_or_other_values_are_built_each_time(app, course):
    with app.test_request_context("/"):
        anchored = render_template_string("{{ url_for('learn.course', course_slug=c, _anchor='top') }}", c=course)
    assert anchored == f"/courses/{course}/#top"


def test_a_value_of_none_is_left_out_of_a_remembered_link(app, course):
    """Werkzeug leaves a None value out of the link; so does the key the link is remembered by
    (the counsellor's dashboard passes its unused filters as None)."""
    remembered = app.jinja_env.globals["url_for"]
    with app.test_request_context("/"):
        plain = render_template_string("{{ url_for('learn.course', course_slug=c) }}", c=course)
        hits = remembered.cache_info().hits
        with_none = render_template_string("{{ url_for('learn.course', course_slug=c, next=None) }}", c=course)
        assert remembered.cache_info().hits == hits + 1
    assert with_none == plain == f"/courses/{course}/"


def test_links_filled_in_from_the_request_are_not_remembered(app, course):
    """Authoring pages name their course from ``g`` (a url_defaults function): each request's own."""
    template = "{{ url_for('author.publications') }}"

    class Course:
        def __init__(self, slug):
            self.slug = slug

    with app.test_request_context("/"):
        g.course = Course("first-course")
        first = render_template_string(template)
    with app.test_request_context("/"):
        g.course = Course("second-course")
        second = render_template_string(template)
    assert "first-course" in first
    assert "second-course" in second


def test_every_attempt_in_the_history_links_to_its_own_result(learner_client, app, course):
    first = lesson_slugs(app)[0]
    results = [
        submit_quiz(learner_client, first, quiz_form(app, first, right=False)).headers["Location"] for _ in range(3)
    ]
    page = learner_client.get(f"/courses/{course}/lessons/{first}").get_data(as_text=True)
    for result in results:
        attempt_id = int(result.rstrip("/").rsplit("/", 1)[1])
        with app.test_request_context("/"):
            expected = url_for("learn.attempt", course_slug=course, lesson_slug=first, attempt_id=attempt_id)
        assert f'href="{expected}"' in page
        assert learner_client.get(expected).status_code == 200


@pytest.fixture
def limited(database_url, app):
    """Build an app with rate limits on, given settings; emptied after the test through ``app``."""
    made = []

    def make(**overrides):
        limited_app = create_app(make_test_config(database_url, RATELIMIT_ENABLED=True, **overrides))
        with limited_app.app_context():
            db.create_all()
        made.append(limited_app)
        return limited_app

    yield make
    # Flask-Limiter keeps the first app's default limits on its one (global) extension object.
    limiter.limit_manager.set_default_limits([])
    for each in made:
        with each.app_context():
            db.engine.dispose()


def test_an_app_wide_default_limit_still_covers_the_learner_pages(limited, course):
    client = limited(RATELIMIT_DEFAULT="3 per minute").test_client()
    statuses = [client.get(f"/courses/{course}/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_limited_route_is_still_counted_after_unlimited_pages(limited, course):
    client = limited(RATELIMIT_LOGIN="2 per minute").test_client()
    for _ in range(3):
        assert client.get(f"/courses/{course}/").status_code == 200  # no limit: not counted
    statuses = []
    for _ in range(3):
        token = client.get("/auth/login").get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
        token = token.split('"')[0]
        form = {"email": "nobody@example.org", "password": "wrong password!", "csrf_token": token}
        statuses.append(client.post("/auth/login", data=form).status_code)
    assert statuses == [400, 400, 429]


def test_a_limited_route_still_says_its_limit_and_unlimited_pages_do_not(limited, course):
    """Flask-Limiter's headers hook and teardown are skipped only where no limit was checked."""
    client = limited(RATELIMIT_LOGIN="5 per minute").test_client()
    for _ in range(2):
        page = client.get(f"/courses/{course}/")
        assert page.status_code == 200 and "X-RateLimit-Limit" not in page.headers
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    form = {"email": "nobody@example.org", "password": "wrong password!", "csrf_token": token}
    counted = client.post("/auth/login", data=form)
    # The limit that is nearest to running out (per address or per account), one try used.
    assert int(counted.headers["X-RateLimit-Remaining"]) == int(counted.headers["X-RateLimit-Limit"]) - 1
    assert "X-RateLimit-Limit" not in client.get(f"/courses/{course}/").headers  # nothing left over


def test_attempt_rows_show_each_attempt_newest_first_with_escaped_values(app):
    when = datetime(2026, 12, 1, 19, 15, tzinfo=UTC)
    attempts = [
        AttemptSummary(id=12, lesson_id=1, submitted_at=when, correct_count=3, question_count=3, passed=True),
        AttemptSummary(id=7, lesson_id=1, submitted_at=when, correct_count=0, question_count=3, passed=False),
    ]
    with app.test_request_context("/"):
        html = str(attempt_rows(attempts, '/courses/a"b/lessons/c/quiz/attempts/'))
        local = format_datetime(when, current_zone())
    newest, oldest = html.strip().split("\n")
    assert f'<time datetime="{when.isoformat()}">{local}</time>' in newest
    assert "<td>3 of 3</td>" in newest and "✓</span> Passed" in newest
    assert 'href="/courses/a&#34;b/lessons/c/quiz/attempts/12"' in newest  # escaped, never raw
    assert "of attempt 2</span>" in newest and "of attempt 1</span>" in oldest
    assert "<td>0 of 3</td>" in oldest and "Not passed" in oldest and "/attempts/7" in oldest


CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def test_a_session_keeps_one_signed_csrf_token_and_it_is_accepted(learner_client, client, app, course):
    """Pages sign a session's CSRF secret once; the token still logs out, and another session's is its own."""
    first = lesson_slugs(app)[0]
    pages = [f"/courses/{course}/", f"/courses/{course}/lessons/{first}", f"/courses/{course}/lessons/{first}/quiz"]
    tokens = set()
    for url in pages:
        tokens.add(CSRF_FIELD.search(learner_client.get(url).get_data(as_text=True)).group(1))
        time.sleep(1.1)  # a token signed afresh would carry a later time
    assert len(tokens) == 1
    with app.test_request_context("/"):
        anonymous = render_template_string("{{ csrf_token() }}")
    assert anonymous not in tokens
    response = learner_client.post("/auth/logout", data={"csrf_token": tokens.pop()})
    assert response.status_code == 302
    assert learner_client.get(f"/courses/{course}/lessons/{first}").status_code == 302  # logged out
