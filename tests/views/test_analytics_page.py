"""The admins' analytics page: numbers, accessible charts, access and a fixed query count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Lesson, Role
from app.models.types import utcnow
from app.services.quizzes import quiz_questions
from tests.analytics_factories import add_learners_with_attempts
from tests.conftest import count_queries, create_user, lesson_slugs, login

URL = "/author/analytics"


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


def page_text(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_admin_sees_funnels_and_question_numbers(app, admin_client):
    # Six learners, all right first time, opened 8 days ago: all passed, none gave up.
    add_learners(app, 6, when=utcnow() - timedelta(days=8))
    question_id, correct = first_question(app)
    html = page_text(admin_client)
    assert "<h1>Question analytics</h1>" in html
    overview = html[html.index('id="overview-heading"') : html.index('class="lesson-stats"')]
    first_row = re.search(r"<tr>\s*<th scope=\"row\">.*?</tr>", overview, re.S).group(0)
    cells = re.findall(r'<td class="num" data-label="([^"]+)">([^<]+)</td>', first_row)
    assert cells[:4] == [("Started", "6"), ("Passed", "6"), ("Gave up", "0"), ("Still working", "0")]
    card = html[html.index(f'id="question-{question_id}"') :]
    card = card[: card.index("</article>")]
    assert "6 learners, 6 answers" in card
    assert "100% (6 of 6 first attempts)" in card
    assert "Not shown. Every first attempt got it right, so it cannot separate learners." in card
    assert "Easy</span> over 95% right first time" in card
    assert re.search(r">[A-Z] \(correct\): 6 picks \(100%\)</text>", card)
    assert correct[0] in card


def test_charts_are_accessible_svg(app, admin_client):
    add_learners(app, 3, right=lambda n, q: n == 0)
    html = page_text(admin_client)
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", html, re.S)
    assert svgs, "no charts rendered"
    for svg in svgs:
        chart_id = re.search(r'aria-labelledby="([^"]+)"', svg).group(1)
        assert 'role="img"' in svg
        assert re.search(rf'<title id="{chart_id}">[^<]*\d[^<]*</title>', svg), "the title gives the numbers"
        # Every bar has a text line with its number.
        assert len(re.findall(r"<text\b", svg)) == len(re.findall(r'class="chart-track"', svg))
    funnel = next(svg for svg in svgs if 'id="funnel-' in svg)
    assert ">Started: 3</text>" in funnel
    assert ">Passed: 1 (33%)</text>" in funnel
    assert ">Still working: 2 (67%)</text>" in funnel


def test_page_has_no_inline_styles_or_scripts(app, admin_client):
    add_learners(app, 2)
    html = page_text(admin_client)
    assert "style=" not in html
    assert "<style" not in html
    assert "<script" not in html
    assert re.search(r"/assets/css/analytics\.[0-9a-f]{10}\.css", html)


def test_page_with_no_history_says_so(admin_client):
    html = page_text(admin_client)
    assert "No learner has started this lesson yet." in html
    assert "Nobody has answered this question yet." in html


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


def test_page_queries_do_not_grow_with_learners(app, admin_client):
    pattern = {"right": lambda n, q: n % 2 == 0 or q != 1, "when": utcnow() - timedelta(days=8)}
    add_learners(app, 10, **pattern)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        assert admin_client.get(URL).status_code == 200
    add_learners(app, 290, **pattern)
    with count_queries(engine) as many:
        html = page_text(admin_client)
    assert few() == many() <= 12
    assert '<td class="num" data-label="Started">300</td>' in html


def test_a_fresh_snapshot_is_served_without_recalculating(app, admin_client):
    app.config["ANALYTICS_MAX_AGE"] = 600
    add_learners(app, 3, right=lambda n, q: True, when=utcnow())
    first = page_text(admin_client)
    assert '<td class="num" data-label="Started">3</td>' in first
    add_learners(app, 2, right=lambda n, q: True, when=utcnow())
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counted:
        cached = page_text(admin_client)
    assert counted() <= 3  # the user, the courses, the snapshot
    assert '<td class="num" data-label="Started">3</td>' in cached
    token = re.search(r'name="csrf_token" value="([^"]+)"', cached).group(1)
    assert admin_client.post(URL, data={"csrf_token": token}).status_code == 200
    assert '<td class="num" data-label="Started">5</td>' in page_text(admin_client)


def test_the_cli_recalculates_every_course(app, runner, admin_client):
    app.config["ANALYTICS_MAX_AGE"] = 600
    page_text(admin_client)
    add_learners(app, 4, right=lambda n, q: True, when=utcnow())
    result = runner.invoke(args=["analytics", "refresh"])
    assert result.exit_code == 0 and "Recalculated analytics for" in result.output
    assert '<td class="num" data-label="Started">4</td>' in page_text(admin_client)
