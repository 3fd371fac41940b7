"""`flask demo`: demo accounts for development, with clients at different stages, created once."""

from sqlalchemy import func, select

from app import create_app
from app.devdata import demo
from app.devdata.demo import DEMO_ADMIN, DEMO_CLIENTS, DEMO_COUNSELLOR, DEMO_PASSWORD
from app.extensions import db
from app.models import AttemptAnswer, CounsellorLink, LessonProgress, QuizAttempt, Role, ShownQuestion, User
from app.services.dashboard import DashboardQuery, dashboard_page
from app.services.progress import course_by_slug
from tests.conftest import login, make_test_config

LINKED = {"Sam Finished", "Alex Struggling", "Jo Quiet", "Priya New"}


def invoke_demo(app):
    return app.test_cli_runner().invoke(args=["demo"])


def run_demo(app):
    result = invoke_demo(app)
    assert result.exit_code == 0, result.output
    return result


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        found = tuple(
            db.session.scalar(select(func.count()).select_from(model)) for model in (User, CounsellorLink, QuizAttempt)
        )
        db.session.remove()
    return found


def dashboard_rows(app, course: str) -> dict:
    with app.app_context():
        counsellor = db.session.scalar(select(User).where(User.email == DEMO_COUNSELLOR))
        page = dashboard_page(
            db.session, viewer=counsellor, course=course_by_slug(db.session, course), query=DashboardQuery()
        )
        db.session.remove()
    return {row.name: row for row in page.rows}


def test_demo_creates_an_admin_a_counsellor_and_clients(app, course):
    result = run_demo(app)
    assert DEMO_PASSWORD in result.output
    with app.app_context():
        roles = {email: role for email, role in db.session.execute(select(User.email, User.role))}
        db.session.remove()
    assert roles[DEMO_ADMIN] == Role.ADMIN
    assert roles[DEMO_COUNSELLOR] == Role.COUNSELLOR
    assert {roles[client.email] for client in DEMO_CLIENTS} == {Role.LEARNER}
    assert len(roles) == 2 + len(DEMO_CLIENTS)


def test_demo_counsellor_sees_exactly_the_linked_clients_with_their_flags(app, course):
    run_demo(app)
    rows = dashboard_rows(app, course)
    assert {name: row.flags for name, row in rows.items()} == {
        "Sam Finished": {"finished"},
        "Alex Struggling": {"struggling"},
        "Jo Quiet": {"inactive"},
        "Priya New": set(),
    }
    assert set(rows) == LINKED
    assert rows["Priya New"].completed == 0 and rows["Sam Finished"].percent == 100
    assert rows["Alex Struggling"].completed == 2 and rows["Jo Quiet"].completed == 1


def test_the_unlinked_demo_client_exists_with_progress_but_is_not_shared(app, course):
    run_demo(app)
    with app.app_context():
        chris = db.session.scalar(select(User).where(User.display_name == "Chris Private"))
        links = db.session.scalar(
            select(func.count()).select_from(CounsellorLink).where(CounsellorLink.learner_id == chris.id)
        )
        attempts = db.session.scalar(
            select(func.count()).select_from(QuizAttempt).where(QuizAttempt.user_id == chris.id)
        )
        db.session.remove()
    assert (links, attempts) == (0, 3)


def test_demo_accounts_can_log_in(app, course):
    run_demo(app)
    client = app.test_client()
    assert login(client, DEMO_COUNSELLOR, DEMO_PASSWORD).status_code == 302
    assert client.get("/counsel/").status_code == 200


def test_running_demo_twice_creates_nothing_more(app, course):
    run_demo(app)
    before = counts(app)
    result = run_demo(app)
    assert "already exist" in result.output
    assert counts(app) == before


def test_demo_refuses_a_production_like_configuration(app, course, database_url):
    secure = create_app(make_test_config(database_url, SESSION_COOKIE_SECURE=True))
    try:
        result = invoke_demo(secure)
        assert result.exit_code != 0
        assert "Refusing" in result.output
        assert counts(secure) == (0, 0, 0)
    finally:
        with secure.app_context():
            db.engine.dispose()


def test_demo_needs_an_imported_course(app):
    result = invoke_demo(app)
    assert result.exit_code != 0
    assert counts(app) == (0, 0, 0)


def test_a_failure_half_way_leaves_nothing_behind_and_the_next_run_builds_the_demo(app, course, monkeypatch):
    """The demo is one transaction: a failure after the accounts, links and histories were
    written rolls all of them back, so the next run starts again instead of finding the
    counsellor and skipping a half-built demo for good."""
    write = demo.histories_write

    def write_then_fail(*args, **kwargs):
        write(*args, **kwargs)
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(demo, "histories_write", write_then_fail)
    failed = invoke_demo(app)
    assert failed.exit_code != 0 and isinstance(failed.exception, RuntimeError)
    with app.app_context():
        left = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (User, CounsellorLink, LessonProgress, QuizAttempt, AttemptAnswer, ShownQuestion)
        }
        db.session.remove()
    assert set(left.values()) == {0}, left

    monkeypatch.undo()
    run_demo(app)
    users, links, attempts = counts(app)
    assert users == 2 + len(DEMO_CLIENTS) and links == len(LINKED) and attempts > 0
