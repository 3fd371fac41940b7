"""The analytics page's date range, its caution for too few answers, its links to the editor, and
its CSV download (/author/analytics.csv): the page's figures, only for admins, safe in a spreadsheet."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AnalyticsSnapshot, Lesson, Question, Role
from app.models.types import utcnow
from app.services import authoring
from app.services.analytics import question_statistics
from app.services.progress import course_by_slug
from tests.conftest import count_queries, create_user, csrf_token, lesson_slugs, login
from tests.views import test_analytics_page as page_tests
from tests.views.test_analytics_page import (
    URL,
    add_learners,
    cells_of,
    first_question,
    page_text,
    question_row,
    refresh,
)

CSV_URL = "/author/analytics.csv"


@pytest.fixture
def admin_client(app, client, course):
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


@pytest.fixture
def enqueued(monkeypatch):
    """Record the refreshes the page enqueues instead of running them inline."""
    calls: list[int] = []
    monkeypatch.setattr(page_tests.page, "refresh_course_analytics", calls.append)  # "Recalculate now"
    monkeypatch.setattr(page_tests.analytics_jobs, "refresh_course_analytics", calls.append)  # no figures yet
    return calls


def download(client, url: str = CSV_URL) -> tuple[object, list[list[str]]]:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs to read UTF-8
    return response, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def recent_and_old(app, course):
    """Four learners tried lesson 1's quiz last week, all right; three 60 days ago, all wrong."""
    add_learners(app, 4, right=lambda n, q: True, when=utcnow() - timedelta(days=7))
    add_learners(app, 3, right=lambda n, q: False, when=utcnow() - timedelta(days=60))
    refresh(app)


# --- the date range ---------------------------------------------------------------------------------


def test_the_range_in_the_query_string_chooses_the_figures(app, admin_client, recent_and_old):
    question_id, _ = first_question(app)

    everything = page_text(admin_client)
    recent = page_text(admin_client, f"{URL}?range=30d")

    assert cells_of(question_row(everything, question_id))["First tries"] == "7"
    assert cells_of(question_row(recent, question_id))["First tries"] == "4"
    assert cells_of(question_row(recent, question_id))["% right"] == "100%"
    assert '<option value="30d" selected>Last 30 days</option>' in recent
    assert re.search(r"<strong>Last 30 days</strong> \(since <time datetime=", recent)
    assert "<strong>All time</strong>." in everything  # no start date for all time


def test_an_empty_range_is_all_time(admin_client, recent_and_old):
    assert "<strong>All time</strong>." in page_text(admin_client, f"{URL}?range=")


@pytest.mark.parametrize("url", [f"{URL}?range=7d", f"{URL}?range=ALL", f"{CSV_URL}?range=forever"])
def test_an_unknown_range_is_a_400_that_names_the_ranges(admin_client, recent_and_old, url):
    response = admin_client.get(url)
    assert response.status_code == 400
    text = html_lib.unescape(response.get_data(as_text=True))
    assert "There is no such date range." in text and "last 30 days (30d)" in text and "all time (all)" in text


def test_recalculate_now_comes_back_to_the_same_range(app, admin_client, enqueued, course):
    refresh(app)
    token = csrf_token(admin_client, f"{URL}?range=90d")
    response = admin_client.post(f"{URL}?course={course}&range=90d", data={"csrf_token": token})
    assert response.headers["Location"] == f"{URL}?course={course}&range=90d"


def test_a_snapshot_from_before_ranges_shows_all_time_and_asks_for_the_others(app, admin_client, enqueued):
    add_learners(app, 2)
    refresh(app)
    with app.app_context():
        snapshot = db.session.scalar(select(AnalyticsSnapshot))
        snapshot.data = format_1(snapshot.data)
        db.session.commit()
        db.session.remove()

    assert '<td class="num" data-label="Started">2</td>' in page_text(admin_client)
    assert enqueued == []
    assert "The figures are being prepared" in page_text(admin_client, f"{URL}?range=30d")
    assert len(enqueued) == 1  # the recalculation that adds the ranges


def format_1(data: dict) -> dict:
    """The snapshot data as the version before date ranges kept it (all time only)."""
    return {
        "format": 1,
        "lessons": [
            {
                **item,
                "funnel": item["funnel"]["all"],
                "questions": [
                    {
                        **{k: q[k] for k in ("question_id", "number", "prompt", "kind")},
                        **{k: v for k, v in q["figures"]["all"].items() if k != "picks"},
                        "answered": q["figures"]["all"]["first_attempts"],
                        "choices": [
                            {**choice, "picks": picks}
                            for choice, picks in zip(q["choices"], q["figures"]["all"]["picks"], strict=True)
                        ],
                    }
                    for q in item["questions"]
                ],
            }
            for item in data["lessons"]
        ],
    }


# --- the caution -------------------------------------------------------------------------------------


def test_the_page_gives_the_threshold_and_why(app, admin_client, recent_and_old):
    question_id, _ = first_question(app)
    html = html_lib.unescape(page_text(admin_client))
    assert "Fewer than 30 first-try answers: too few to judge; with a handful of answers one learner moves" in html
    assert "moves the figure by a lot." in html
    row = question_row(html, question_id)
    assert "Too few to judge" in row and "review-flag" not in row


def test_the_threshold_is_one_constant_the_page_reads(app, admin_client, recent_and_old, monkeypatch):
    """Lowered to 5, the seven first tries (57% right) are judged and the caution names 5."""
    monkeypatch.setattr(question_statistics, "MIN_ANSWERS_TO_JUDGE", 5)
    question_id, _ = first_question(app)
    html = html_lib.unescape(page_text(admin_client))
    assert "Fewer than 5 first-try answers: too few to judge" in html
    row = question_row(html, question_id)
    assert "Too few to judge" not in row
    # Right first time by the learners who did well on the rest: a strongly discriminating question.
    assert cells_of(row)["Discrimination"] == "100%"
    # In the last 30 days only four: too few again.
    assert "Too few to judge" in question_row(page_text(admin_client, f"{URL}?range=30d"), question_id)


# --- links to the editor -----------------------------------------------------------------------------


def test_each_question_links_to_its_editor(app, admin_client, recent_and_old, course):
    question_id, _ = first_question(app)
    first = lesson_slugs(app)[0]
    row = question_row(page_text(admin_client), question_id)
    assert f'href="/author/courses/{course}/lessons/{first}/questions/1/edit"' in row
    assert admin_client.get(f"/author/courses/{course}/lessons/{first}/questions/1/edit").status_code == 200


def test_a_question_retired_since_the_figures_says_so(app, admin_client, recent_and_old, course):
    question_id, _ = first_question(app)
    with app.app_context():
        authoring.question_remove(
            db.session, course=course_by_slug(db.session, course), lesson_slug=lesson_slugs(app)[0], position=1
        )
        draft_row = question_row(page_text(admin_client), question_id)
        authoring.publish(db.session, course=course_by_slug(db.session, course))
        db.session.remove()
    assert "Removed in the draft" in draft_row and "/questions/1/edit" not in draft_row
    row = question_row(page_text(admin_client), question_id)  # the figures still hold it until recalculated
    assert "Retired" in row and "/edit" not in row


# --- the CSV -----------------------------------------------------------------------------------------


def test_the_csv_is_an_attachment_named_for_the_course_range_and_day(app, admin_client, recent_and_old, course):
    response, rows = download(admin_client, f"{CSV_URL}?range=90d")
    with app.app_context():
        day = db.session.scalar(select(AnalyticsSnapshot.computed_at)).strftime("%Y-%m-%d")
        db.session.remove()
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{course}-analytics-90d-{day}.csv"'
    assert rows[0][:5] == ["Lesson", "Lesson title", "Question", "Prompt", "Kind"]


@pytest.mark.parametrize("query", ["", "?range=30d"])
def test_the_csv_has_the_pages_figures(app, admin_client, recent_and_old, query):
    html = page_text(admin_client, f"{URL}{query}")
    _, rows = download(admin_client, f"{CSV_URL}{query}")
    header, body = rows[0], rows[1:]
    with app.app_context():
        questions = db.session.scalars(
            select(Question).join(Lesson).where(Question.retired_at.is_(None)).order_by(Lesson.id, Question.position)
        ).all()
        prompts = {q.prompt: q.id for q in questions}
        db.session.remove()
    assert len(body) == len(prompts)
    for row in body:
        cells = dict(zip(header, row, strict=True))
        page = cells_of(question_row(html, prompts[cells["Prompt"]]))
        assert cells["Answers"] == page["Answers"] and cells["First tries"] == page["First tries"]
        assert (cells["% right"] + "%" if cells["% right"] else "") == page["% right"]
        assert (cells["Discrimination (%)"] + "%" if cells["Discrimination (%)"] else "") == page["Discrimination"]
        assert bool(cells["Caution"]) == ("Too few to judge" in question_row(html, prompts[cells["Prompt"]]))


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(app, admin_client, course):
    with app.app_context():
        question = db.session.scalar(select(Question).order_by(Question.id))
        question.prompt = '=HYPERLINK("http://example.org/x")'
        db.session.get(Lesson, question.lesson_id).title = "+SUM(A1)"
        db.session.commit()
        db.session.remove()
    add_learners(app, 3, right=lambda n, q: n == 0)
    refresh(app)

    _, rows = download(admin_client)

    assert rows[1][:4] == ["1", "'+SUM(A1)", "1", '\'=HYPERLINK("http://example.org/x")']
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_negative_figures_stay_numbers_in_the_csv(app, admin_client, course, monkeypatch):
    """A negative discrimination is "-100", a number a spreadsheet reads, not "'-100"."""
    monkeypatch.setattr(question_statistics, "MIN_ANSWERS_TO_JUDGE", 2)
    # Learners who get question 1 right get the rest wrong, and the other way round.
    add_learners(app, 4, right=lambda n, q: (n % 2 == 0) == (q == 0))
    refresh(app)
    _, rows = download(admin_client)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Discrimination (%)"] == "-100"
    assert first["Review flags"] == "Negative discrimination"


def test_the_csv_before_any_figures_starts_them_and_says_to_come_back(app, admin_client, enqueued):
    response = admin_client.get(CSV_URL)
    assert response.status_code == 404
    assert "being calculated now. Please try the download again in a minute." in response.get_data(as_text=True)
    assert len(enqueued) == 1  # queued, not computed in the request


def test_where_jobs_run_inline_the_first_download_has_the_figures(app, admin_client):
    add_learners(app, 2)
    _, rows = download(admin_client)
    assert rows[1][rows[0].index("Answers")] == "2"


def test_the_csv_of_an_unknown_course_is_404(admin_client, recent_and_old):
    assert admin_client.get(f"{CSV_URL}?course=nope").status_code == 404


@pytest.mark.parametrize(("role", "status"), [(Role.LEARNER, 403), (Role.COUNSELLOR, 403)])
def test_only_admins_may_download_the_csv(app, client, course, role, status):
    create_user(app, "someone@example.org", role=role)  # before the bulk learners, who take ids by hand
    add_learners(app, 3)
    refresh(app)
    assert login(client, "someone@example.org").status_code == 302
    assert client.get(CSV_URL).status_code == status


def test_anonymous_csv_is_sent_to_log_in(client, recent_and_old):
    response = client.get(f"{CSV_URL}?range=30d")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"] and "analytics.csv" in response.headers["Location"]


def test_csv_queries_do_not_grow_with_learners(app, admin_client, course):
    add_learners(app, 5)
    refresh(app)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        download(admin_client)
    add_learners(app, 200)
    refresh(app)
    with count_queries(engine) as many:
        _, rows = download(admin_client)
    assert few() == many() <= 3  # the signed-in user, the courses, the snapshot
    assert rows[1][rows[0].index("Answers")] == "205"
