"""Learner pages' reads run on plans PostgreSQL keeps, not planned afresh on every request.

psycopg prepares a statement on the server from its sixth run on a connection, and PostgreSQL
then plans it once for every run ("generic"), unless it judges a plan for each run's values
("custom") cheaper. For the signed-in read of a learner page, planning costs several times what
running it does (measured at 1,000 learners: a lesson's read 0.37 ms of PostgreSQL's CPU when
planned every time, against 0.09 ms on the kept plan; /me/'s 1.1 ms against 0.24). A change
that tipped a read to custom plans would add a third to its page's time, and no other test
would notice; this one fails.
"""

import pytest

from app.extensions import db
from app.services import read_connections
from tests.conftest import learner_page_urls, lesson_slugs

PAGES = ["lesson", "quiz page", "overview", "my page"]
# psycopg runs a statement five times unprepared and prepares it on the sixth; PostgreSQL plans
# the prepared statement's first five runs for their values and, from its sixth (the eleventh
# in all), keeps a generic plan if that is no dearer.
RUNS = 14
KEPT_PLAN_FROM = 11


def prepared_statements(app) -> list[tuple[str, int, int]]:
    """(statement, generic plans run, custom plans run) of each statement prepared on the reads' kept connection."""
    with app.app_context():
        engine = db.engine
        kept = read_connections.take(engine)
        assert kept is not None
        try:
            return kept.connection.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            ).fetchall()
        finally:
            read_connections.give_back(engine, kept)


@pytest.mark.parametrize("page", PAGES)
def test_a_learner_pages_read_runs_on_a_kept_plan(learner_client, app, page, course):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("prepared statements and their plans are PostgreSQL's")
        # Counted from a new connection: the tests before leave theirs, with their statements prepared.
        db.engine.dispose()
    url = learner_page_urls(course, lesson_slugs(app)[0])[page]
    for _ in range(RUNS):
        assert learner_client.get(url).status_code == 200

    # The page's read finds the user by their login session's token: it is the one run RUNS times.
    reads = [row for row in prepared_statements(app) if "token_hash" in row[0]]
    assert reads, "the page's read was never prepared"
    for statement, generic, custom in reads:
        assert generic == RUNS - KEPT_PLAN_FROM + 1, (generic, custom, statement[:200])
