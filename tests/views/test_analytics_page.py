"""The admins' analytics page: figures from the snapshot, accessible charts, access, a fixed query count."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import template_rendered
from sqlalchemy import select

from app.author import analytics as page
from app.author.analytics import age_in_words
from app.extensions import db
from app.jobs import analytics as analytics_jobs
from app.models import AnalyticsSnapshot, Course, Lesson, Role
from app.models.types import utcnow
from app.services import authoring
from app.services.analytics.snapshots import snapshot_refresh
from app.services.progress import course_by_slug
from app.services.quizzes import quiz_questions
from tests.analytics_factories import add_learners_with_attempts
from tests.conftest import count_queries, create_user, csrf_token, inline_scripts, lesson_slugs, login

URL = "/author/analytics"
REPORT_BODY = "author/_analytics_report.html"  # the tables and charts, drawn once per figures


@pytest.fixture
def admin_client(app, client, course):
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


def add_learners(app, count: int, **pattern) -> None:
    with app.app_context():
        first = db.session.scalar(select(Lesson).where(Lesson.slug == lesson_slugs(app)[0]))
        add_learners_with_attempts(db.session, first, count, **pattern)
        db.session.remove()


def first_question(app):
    with app.app_context():
        first = db.session.scalar(select(Lesson).where(Lesson.slug == lesson_slugs(app)[0]))
        question = quiz_questions(db.session, first)[0]
        correct = [c.text for c in question.live_choices if c.is_correct]
        db.session.remove()
        return question.id, correct


def refresh(app) -> None:
    """Recalculate every course's figures, as the hourly job does."""
    with app.app_context():
        for course_id in db.session.scalars(select(Course.id)).all():
            assert snapshot_refresh(db.session, course_id=course_id)
        db.session.remove()


def snapshot_computed_at(app):
    with app.app_context():
        computed_at = db.session.scalar(select(AnalyticsSnapshot.computed_at))
        db.session.remove()
        return computed_at


@pytest.fixture
def enqueued(monkeypatch):
    """Record the refreshes the page enqueues instead of running them inline."""
    calls: list[int] = []
    monkeypatch.setattr(page, "refresh_course_analytics", calls.append)  # "Recalculate now"
    monkeypatch.setattr(analytics_jobs, "refresh_course_analytics", calls.append)  # no figures yet
    return calls


def page_text(client, url: str = URL) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def question_row(html: str, question_id: int) -> str:
    """The question's row in its lesson's table."""
    row = html[html.index(f'<tr id="question-{question_id}">') :]
    return row[: row.index("</tr>")]


def cells_of(row: str) -> dict[str, str]:
    """The row's number cells by their label, as text."""
    return dict(re.findall(r'<td class="num" data-label="([^"]+)">([^<]*)', row))


def test_admin_sees_funnels_and_question_numbers(app, admin_client):
    # Six learners, all right first time, opened 8 days ago: all passed, none gave up.
    add_learners(app, 6, when=utcnow() - timedelta(days=8))
    refresh(app)
    question_id, correct = first_question(app)
    html = page_text(admin_client)
    assert "<h1>Question analytics</h1>" in html
    overview = html[html.index('id="overview-heading"') : html.index('class="lesson-stats"')]
    first_row = re.search(r"<tr>\s*<th scope=\"row\">.*?</tr>", overview, re.S).group(0)
    cells = re.findall(r'<td class="num" data-label="([^"]+)">([^<]+)</td>', first_row)
    assert cells[:4] == [("Started", "6"), ("Passed", "6"), ("Gave up", "0"), ("Still working", "0")]
    row = question_row(html, question_id)
    assert cells_of(row) == {"Answers": "6", "First tries": "6", "% right": "100%", "Discrimination": ""}
    assert "Every first try got it right, so it cannot separate learners." in row
    assert re.search(r">[A-Z] \(correct\): 6 picks \(100%\)</text>", row)  # the choices' chart, folded
    assert correct[0] in row
    assert "Too few to judge" in row  # 6 first tries


def test_charts_are_accessible_svg(app, admin_client):
    add_learners(app, 3, right=lambda n, q: n == 0)
    refresh(app)
    html = page_text(admin_client)
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", html, re.S)
    assert svgs, "no charts rendered"
    for svg in svgs:
        chart_id = re.search(r'aria-labelledby="([^"]+)"', svg).group(1)
        assert 'role="img"' in svg
        assert re.search(rf'<title id="{chart_id}">[^<]*\d[^<]*</title>', svg), "the title gives the numbers"
        # Every bar has a text line with its number.
        assert len(re.findall(r"<text\b", svg)) == len(re.findall(r'class="chart-track"', svg))
    passed = next(svg for svg in svgs if 'id="passed-by-lesson' in svg)
    assert ">Lesson 1: 1 of 3 passed (33%)</text>" in passed
    assert ">Lesson 2: nobody started</text>" in passed


def test_page_has_no_inline_styles_or_scripts(app, admin_client):
    add_learners(app, 2)
    refresh(app)
    html = page_text(admin_client)
    assert "style=" not in html
    assert "<style" not in html
    assert not inline_scripts(html)
    assert re.search(r"/assets/css/analytics\.[0-9a-f]{10}\.css", html)


def test_page_with_no_history_says_so(app, admin_client):
    refresh(app)
    html = page_text(admin_client)
    assert ">Lesson 1: nobody started</text>" in html
    assert re.search(r"Choices picked: </span>\s*No answers yet\s*</summary>", html)
    assert "Every question has enough" not in html


def test_unknown_course_is_404(admin_client):
    assert admin_client.get(f"{URL}?course=nope").status_code == 404


def test_learner_is_forbidden(app, client, course):
    create_user(app, "learner@example.org")
    login(client, "learner@example.org")
    assert client.get(URL).status_code == 403


def test_counsellor_is_forbidden(app, client, course):
    create_user(app, "counsellor@example.org", role=Role.COUNSELLOR)
    login(client, "counsellor@example.org")
    assert client.get(URL).status_code == 403


def test_anonymous_is_sent_to_log_in(client, course):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("with_draft", [False, True], ids=["published", "with-a-draft"])
def test_page_queries_do_not_grow_with_learners(app, admin_client, course, with_draft):
    pattern = {"right": lambda n, q: n % 2 == 0 or q != 1, "when": utcnow() - timedelta(days=8)}
    add_learners(app, 10, **pattern)
    refresh(app)
    if with_draft:
        with app.app_context():
            authoring.question_move(
                db.session,
                course=course_by_slug(db.session, course),
                lesson_slug=lesson_slugs(app)[0],
                position=1,
                direction="down",
            )
            db.session.remove()
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        assert admin_client.get(f"{URL}?range=30d").status_code == 200
    add_learners(app, 290, **pattern)
    refresh(app)
    with count_queries(engine) as many:
        html = page_text(admin_client, f"{URL}?range=30d")
    # The signed-in user, the courses, the snapshot; the live questions and the draft, for the editor links;
    # the header's count of contact requests waiting (app/staff_nav.py).
    assert few() == many() <= 6
    assert '<td class="num" data-label="Started">300</td>' in html


def test_a_get_never_computes(app, admin_client, enqueued):
    add_learners(app, 3, right=lambda n, q: True, when=utcnow())
    refresh(app)
    computed_at = snapshot_computed_at(app)
    add_learners(app, 2, right=lambda n, q: True, when=utcnow())

    html = page_text(admin_client)

    assert '<td class="num" data-label="Started">3</td>' in html  # the snapshot's figures, not today's
    assert snapshot_computed_at(app) == computed_at and enqueued == []


def test_the_page_renders_the_stored_figures(app, admin_client):
    """What is shown comes from the snapshot's data, whatever the attempts say now."""
    refresh(app)
    with app.app_context():
        snapshot = db.session.scalar(select(AnalyticsSnapshot))
        data = copy.deepcopy(snapshot.data)
        data["lessons"][0]["funnel"]["all"] = {"started": 4242, "passed": 4000, "gave_up": 42}
        snapshot.data = data
        db.session.commit()
        db.session.remove()

    html = page_text(admin_client)

    assert '<td class="num" data-label="Started">4242</td>' in html
    assert '<td class="num" data-label="Still working">200</td>' in html  # worked out when rendered
    assert ">Lesson 1: 4000 of 4242 passed (94%)</text>" in html


def test_the_figures_are_drawn_once_until_they_are_recalculated(app, admin_client):
    """The tables and charts are drawn on the first view of a snapshot's figures and kept for the
    next; recalculated figures are drawn afresh, and shown at once."""
    add_learners(app, 3)
    refresh(app)
    drawn: list[str] = []

    def record(sender, template, context, **extra):
        drawn.append(template.name)

    template_rendered.connect(record, app)
    try:
        first, again = page_text(admin_client), page_text(admin_client)
        assert drawn.count(REPORT_BODY) == 1
        add_learners(app, 2)
        refresh(app)
        recalculated = page_text(admin_client)
    finally:
        template_rendered.disconnect(record, app)
    assert drawn.count(REPORT_BODY) == 2
    assert '<td class="num" data-label="Started">3</td>' in first and first.count("<svg") == again.count("<svg") > 1
    assert '<td class="num" data-label="Started">5</td>' in recalculated


def test_the_page_says_how_old_the_figures_are(app, admin_client):
    refresh(app)
    three_hours_ago = datetime(2026, 12, 4, 9, 5, tzinfo=UTC)
    with app.app_context():
        db.session.scalar(select(AnalyticsSnapshot)).computed_at = three_hours_ago
        db.session.commit()
        db.session.remove()
    page.utcnow, real = (lambda: three_hours_ago + timedelta(hours=3, minutes=20)), page.utcnow
    try:
        html = page_text(admin_client)
    finally:
        page.utcnow = real
    assert "Figures from 3 hours ago" in html
    assert '<time datetime="2026-12-04T09:05:00+00:00">4 Dec 2026, 9:05am</time>' in html
    assert "Recalculate now" in html


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "less than a minute ago"),
        (59, "less than a minute ago"),
        (60, "1 minute ago"),
        (3599, "59 minutes ago"),
        (3600, "1 hour ago"),
        (3 * 3600 + 1200, "3 hours ago"),
        (86400, "1 day ago"),
        (50 * 3600, "2 days ago"),
        (-30, "less than a minute ago"),  # a worker's clock a little ahead
    ],
)
def test_age_in_words(seconds, words):
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert age_in_words(now - timedelta(seconds=seconds), now) == words


def test_without_figures_the_page_says_they_are_being_prepared(app, admin_client, enqueued):
    html = page_text(admin_client)

    assert "The figures are being prepared" in html
    assert "Lessons at a glance" not in html
    with app.app_context():
        course_id = db.session.scalar(select(Course.id))
        db.session.remove()
    assert enqueued == [course_id]


def test_while_a_refresh_runs_the_page_enqueues_no_other(app, admin_client, enqueued):
    with app.app_context():
        course_id = db.session.scalar(select(Course.id))
        db.session.add(AnalyticsSnapshot(course_id=course_id, refreshing_since=utcnow()))
        db.session.commit()
        db.session.remove()

    assert "The figures are being prepared" in page_text(admin_client)
    refresh_running = snapshot_computed_at(app) is None
    assert enqueued == [] and refresh_running


def test_where_jobs_run_inline_the_first_visit_shows_the_figures(app, admin_client):
    """In tests (immediate mode) the enqueued refresh has run by the time the page reads again."""
    add_learners(app, 2)
    assert '<td class="num" data-label="Started">2</td>' in page_text(admin_client)


def test_recalculate_now_enqueues_a_refresh_and_comes_back(app, admin_client, enqueued, course):
    refresh(app)
    token = csrf_token(admin_client, URL)
    with app.app_context():
        course_id, slug = db.session.execute(select(Course.id, Course.slug)).one()
        db.session.remove()

    response = admin_client.post(f"{URL}?course={slug}", data={"csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"] == f"{URL}?course={slug}"
    assert enqueued == [course_id]
    assert "Recalculating: refresh the page in a minute." in page_text(admin_client)


def test_recalculate_now_needs_the_csrf_token(app, admin_client, enqueued):
    refresh(app)
    assert admin_client.post(URL, data={}).status_code == 400
    assert enqueued == []


def test_recalculate_now_runs_the_job(app, admin_client):
    """With the real job (inline here): the next visit shows the new figures."""
    add_learners(app, 3, right=lambda n, q: True, when=utcnow())
    refresh(app)
    add_learners(app, 2, right=lambda n, q: True, when=utcnow())
    token = csrf_token(admin_client, URL)

    assert admin_client.post(URL, data={"csrf_token": token}).status_code == 302

    assert '<td class="num" data-label="Started">5</td>' in page_text(admin_client)


def test_recalculate_now_for_an_unknown_course_is_404(app, admin_client, enqueued):
    refresh(app)
    token = csrf_token(admin_client, URL)
    assert admin_client.post(f"{URL}?course=nope", data={"csrf_token": token}).status_code == 404
    assert enqueued == []


def test_the_cli_recalculates_every_course(app, runner, admin_client):
    refresh(app)
    page_text(admin_client)
    add_learners(app, 4, right=lambda n, q: True, when=utcnow())
    result = runner.invoke(args=["analytics", "refresh"])
    assert result.exit_code == 0 and "Recalculated analytics for" in result.output
    assert '<td class="num" data-label="Started">4</td>' in page_text(admin_client)


def test_the_cli_skips_a_course_being_recalculated(app, runner, course):
    with app.app_context():
        course_id = db.session.scalar(select(Course.id))
        db.session.add(AnalyticsSnapshot(course_id=course_id, refreshing_since=utcnow()))
        db.session.commit()
        db.session.remove()
    result = runner.invoke(args=["analytics", "refresh"])
    assert result.exit_code == 0 and "being recalculated already" in result.output
    assert snapshot_computed_at(app) is None
