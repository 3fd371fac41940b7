"""GET /counsel/clients.csv: the dashboard as a streamed CSV, safe to open in a spreadsheet."""

import csv
import io
import uuid

import pytest
from flask import request_finished
from sqlalchemy import select

from app.extensions import db
from app.models import CounsellorLink, Lesson, Role, User
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.spreadsheet import neutralise
from tests.conftest import create_user, lesson_slugs, login

HEADER = [
    "Name",
    "Lessons complete",
    "Percent complete",
    "Current lesson",
    "Last active (UTC)",
    "Quiz average (%)",
    "Flags",
    "Your label",
    "Sharing since (UTC)",
    "Client ID",
]
RISKY_NAMES = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"]


def add_client(app, counsellor_id: int, name: str) -> int:
    learner_id = create_user(app, f"{uuid.uuid4().hex[:10]}@example.org", name=name)
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner_id, created_by_id=learner_id))
        db.session.commit()
        db.session.remove()
    return learner_id


def fail_quiz(app, learner_id: int, lesson_slug: str, times: int) -> None:
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == lesson_slug))
        questions = quiz_questions(db.session, lesson)
        answers = {q.id: [next(c.id for c in q.choices if not c.is_correct)] for q in questions}
        for _ in range(times):
            quiz_submit_attempt(
                db.session,
                learner=db.session.get(User, learner_id),
                lesson=lesson,
                questions=questions,
                answers=answers,
                submission_key=uuid.uuid4().hex,
                pass_mark=0.8,
            )
        db.session.remove()


@pytest.fixture
def counsellor(app, course) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def clients(app, counsellor) -> dict[str, int]:
    ids = {name: add_client(app, counsellor, name) for name in ["Ann Smith", "Bob Jones", "Cat Smith"]}
    fail_quiz(app, ids["Bob Jones"], lesson_slugs(app)[0], 3)
    # Someone else's client, who must never appear.
    other = create_user(app, "robin@example.org", role=Role.COUNSELLOR)
    add_client(app, other, "Dan Hidden")
    return ids


@pytest.fixture
def counsellor_client(client, counsellor):
    assert login(client, "casey@example.org").status_code == 302
    return client


def rows_of(response) -> list[list[str]]:
    """The rows, read as a spreadsheet reads them: the byte-order mark says UTF-8."""
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_export_is_a_csv_attachment(counsellor_client, clients, course):
    response = counsellor_client.get("/counsel/clients.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="{course}-clients.csv"' in disposition


def app_responses(app, client, url: str) -> list:
    """The responses the app itself returned (the test client's wrapper always looks streamed)."""
    seen = []

    def record(sender, response, **extra):
        seen.append(response)

    with request_finished.connected_to(record, app), client.get(url) as response:
        response.get_data()
    return seen


def test_export_streams(counsellor_client, clients, app):
    [exported] = app_responses(app, counsellor_client, "/counsel/clients.csv")
    assert exported.is_streamed
    [page] = app_responses(app, counsellor_client, "/counsel/")
    assert not page.is_streamed  # so the check above can tell the difference


def test_export_has_a_header_and_one_row_per_client(counsellor_client, clients):
    rows = rows_of(counsellor_client.get("/counsel/clients.csv"))
    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == ["Ann Smith", "Bob Jones", "Cat Smith"]
    assert all(len(row) == len(HEADER) for row in rows)


def test_export_rows_carry_the_dashboard_figures(counsellor_client, clients, app):
    rows = {row[0]: row for row in rows_of(counsellor_client.get("/counsel/clients.csv"))[1:]}
    total = len(lesson_slugs(app))
    assert rows["Bob Jones"][1:3] == [f"0 of {total}", "0"]
    # In the page's words: his wrong answers include the first quiz's safety-critical one.
    assert rows["Bob Jones"][5:7] == ["0", "Safety concern; Struggling"]
    assert rows["Ann Smith"][4:7] == ["Not started", "", ""]
    assert [rows[name][-1] for name in ("Ann Smith", "Bob Jones", "Cat Smith")] == [
        str(clients[name]) for name in ("Ann Smith", "Bob Jones", "Cat Smith")
    ]


def test_excel_reads_accented_names_as_written(counsellor_client, app, counsellor):
    """Excel takes a CSV without a byte-order mark for the local code page: "Zoë" became "ZoÃ«"."""
    add_client(app, counsellor, "Zoë Ångström")
    body = counsellor_client.get("/counsel/clients.csv").get_data()
    assert body.startswith(b"\xef\xbb\xbfName,")
    assert rows_of(counsellor_client.get("/counsel/clients.csv"))[1][0] == "Zoë Ångström"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("flag=struggling", ["Bob Jones"]),
        ("q=smith", ["Ann Smith", "Cat Smith"]),
        ("q=smith&flag=struggling", []),
        ("sort=name&dir=desc", ["Cat Smith", "Bob Jones", "Ann Smith"]),
    ],
)
def test_export_honours_the_dashboard_filters(counsellor_client, clients, query, expected):
    rows = rows_of(counsellor_client.get(f"/counsel/clients.csv?{query}"))
    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == expected


def test_export_includes_every_page(counsellor_client, app, counsellor):
    with app.app_context():
        names = [f"Client {i:02}" for i in range(55)]
        db.session.add_all(
            User(email=f"c{i}@example.org", display_name=name, password_hash="x") for i, name in enumerate(names)
        )
        db.session.flush()
        ids = db.session.scalars(select(User.id).where(User.display_name.in_(names)))
        db.session.add_all(CounsellorLink(counsellor_id=counsellor, learner_id=i) for i in ids)
        db.session.commit()
        db.session.remove()
    rows = rows_of(counsellor_client.get("/counsel/clients.csv?page=1"))
    assert [row[0] for row in rows[1:]] == names


@pytest.mark.parametrize("name", RISKY_NAMES)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(counsellor_client, app, counsellor, name):
    add_client(app, counsellor, name)
    [_, row] = rows_of(counsellor_client.get("/counsel/clients.csv"))
    assert row[0] == "'" + name


def test_a_lesson_title_a_spreadsheet_would_run_is_neutralised_too(counsellor_client, app, course, counsellor):
    """Titles are an admin's words, shown in the "Current lesson" column of every client not done."""
    add_client(app, counsellor, "Nell")
    first_slug = lesson_slugs(app)[0]
    with app.app_context():
        first = db.session.scalar(select(Lesson).where(Lesson.slug == first_slug))
        first.title = "=HYPERLINK(1)"
        db.session.commit()
        db.session.remove()
    [header, row] = rows_of(counsellor_client.get("/counsel/clients.csv"))
    assert row[header.index("Current lesson")] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_neutralise_disarms_every_prefix_a_spreadsheet_reads_as_a_formula(prefix):
    assert neutralise(prefix + "1+1") == "'" + prefix + "1+1"
    assert neutralise("1+1") == "1+1" and neutralise(None) == "" and neutralise(3) == "3"


def test_ordinary_names_are_left_alone(counsellor_client, app, counsellor):
    add_client(app, counsellor, "Mary-Jane O'Neil = 1")
    [_, row] = rows_of(counsellor_client.get("/counsel/clients.csv"))
    assert row[0] == "Mary-Jane O'Neil = 1"


def test_a_learner_cannot_export(client, app, course, learner):
    assert login(client).status_code == 302
    assert client.get("/counsel/clients.csv").status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client, course):
    response = client.get("/counsel/clients.csv")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_the_dashboards_title_says_which_page_it_is(counsellor_client, app, counsellor):
    """A screen reader reads the title first, and a tab shows it: page 2 said "Your clients" as page 1 did."""
    for i in range(51):
        add_client(app, counsellor, f"Client {i:02}")
    first = counsellor_client.get("/counsel/").get_data(as_text=True)
    second = counsellor_client.get("/counsel/?page=2").get_data(as_text=True)
    assert "<title>Your clients (page 1 of 2) ·" in first
    assert "<title>Your clients (page 2 of 2) ·" in second
