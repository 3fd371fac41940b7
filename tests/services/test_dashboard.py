"""The counsellor's dashboard: figures, flags, filters, sorting, paging and a fixed query count."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import CounsellorLink, LessonProgress, QuizAttempt, Role, User
from app.models.types import utcnow
from app.services.course_content import CACHE_KEY as CONTENT_CACHE_KEY
from app.services.course_content import course_content
from app.services.dashboard import PAGE_SIZE, DashboardQuery, dashboard_export_rows, dashboard_page
from app.services.progress import course_by_slug, course_outline
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.services.sharing import link_revoke
from tests.attempt_factories import review_answer
from tests.conftest import count_queries, create_user


@pytest.fixture
def counsellor(app, course) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def lessons(session, course):
    outline = course_outline(session, course=course_by_slug(session, course), learner=None)
    return [entry.lesson for entry in outline.entries]


def add_clients(session, counsellor_id: int | None, names: list[str], *, days_old: int = 0) -> list[int]:
    """Insert learners in one statement (and their links in another); return their ids in order."""
    created, tag = utcnow() - timedelta(days=days_old), uuid.uuid4().hex[:8]
    rows = [
        dict(email=f"{tag}-{i}@x.org", display_name=n, password_hash="x", created_at=created)
        for i, n in enumerate(names)
    ]
    ids = list(session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows))
    if counsellor_id is not None:
        session.execute(insert(CounsellorLink), [{"counsellor_id": counsellor_id, "learner_id": i} for i in ids])
    session.commit()
    return ids


def take_quiz(session, user_id: int, lesson, *, right: bool, times: int = 1) -> None:
    questions = quiz_questions(session, lesson)
    if right:
        answers = {q.id: [c.id for c in q.choices if c.is_correct] for q in questions}
    else:
        answers = {q.id: [next(c.id for c in q.choices if not c.is_correct)] for q in questions}
    submit = dict(
        learner=session.get(User, user_id), lesson=lesson, questions=questions, answers=answers, pass_mark=0.8
    )
    for _ in range(times):
        quiz_submit_attempt(session, submission_key=uuid.uuid4().hex, **submit)


def set_last_active(session, user_id: int, *, days_ago: float):
    """Move all of a learner's activity (and their account's creation) into the past."""
    when = utcnow() - timedelta(days=days_ago)
    session.execute(update(QuizAttempt).where(QuizAttempt.user_id == user_id).values(submitted_at=when))
    progress = update(LessonProgress).where(LessonProgress.user_id == user_id)
    session.execute(progress.values(opened_at=when))
    session.execute(progress.where(LessonProgress.completed_at.is_not(None)).values(completed_at=when))
    session.execute(update(User).where(User.id == user_id).values(created_at=when - timedelta(days=30)))
    session.commit()
    return when


def page_for(session, viewer_id: int, course: str, **query):
    viewer, course_row = session.get(User, viewer_id), course_by_slug(session, course)
    return dashboard_page(session, viewer=viewer, course=course_row, query=DashboardQuery(**query))


def names(session, viewer_id: int, course: str, **query) -> list[str]:
    return [row.name for row in page_for(session, viewer_id, course, **query).rows]


def flags_of(session, viewer_id: int, course: str) -> dict[str, set[str]]:
    return {row.name: row.flags for row in page_for(session, viewer_id, course).rows}


def test_row_shows_progress_current_lesson_last_active_and_quiz_average(session, course, counsellor, lessons):
    [lee] = add_clients(session, counsellor, ["Lee"])
    take_quiz(session, lee, lessons[0], right=False)
    take_quiz(session, lee, lessons[0], right=True)
    take_quiz(session, lee, lessons[1], right=True)
    when = set_last_active(session, lee, days_ago=2)
    [row] = page_for(session, counsellor, course).rows
    assert (row.completed, row.total, row.percent) == (2, len(lessons), round(200 / len(lessons)))
    assert row.current_lesson == lessons[2].title
    assert abs(row.last_active - when) < timedelta(seconds=1)
    assert row.quiz_average == pytest.approx(2 / 3)


def test_a_new_client_has_no_activity_and_starts_at_the_first_lesson(session, course, counsellor, lessons):
    add_clients(session, counsellor, ["Nia"])
    [row] = page_for(session, counsellor, course).rows
    assert (row.completed, row.percent, row.last_active, row.quiz_average) == (0, 0, None, None)
    assert row.current_lesson == lessons[0].title
    assert row.flags == set()


@pytest.mark.parametrize(("fails", "then_pass", "struggling"), [(2, False, False), (3, False, True), (3, True, False)])
def test_struggling_is_three_failed_attempts_on_a_quiz_not_yet_passed(
    session, course, counsellor, lessons, fails, then_pass, struggling
):
    [lee] = add_clients(session, counsellor, ["Lee"])
    take_quiz(session, lee, lessons[0], right=False, times=fails)
    if then_pass:
        take_quiz(session, lee, lessons[0], right=True)
    assert ("struggling" in flags_of(session, counsellor, course)["Lee"]) is struggling


def test_failed_attempts_are_counted_per_quiz(session, course, counsellor, lessons):
    [lee] = add_clients(session, counsellor, ["Lee"])
    take_quiz(session, lee, lessons[0], right=False, times=2)
    take_quiz(session, lee, lessons[1], right=False, times=2)
    assert "struggling" not in flags_of(session, counsellor, course)["Lee"]


# "Over 7 days", as the badge says: an hour short of a week is not yet inactive, an hour past it is.
@pytest.mark.parametrize(("days", "inactive"), [(6, False), (7 - 1 / 24, False), (7 + 1 / 24, True), (8, True)])
def test_inactive_is_no_activity_for_more_than_seven_days(session, course, counsellor, lessons, days, inactive):
    [lee] = add_clients(session, counsellor, ["Lee"])
    take_quiz(session, lee, lessons[0], right=True)
    set_last_active(session, lee, days_ago=days)
    assert ("inactive" in flags_of(session, counsellor, course)["Lee"]) is inactive


def reviewed(session, user_id: int, course: str, *, days_ago: float):
    """One review answer by the learner, ``days_ago``: a review of their mistakes."""
    when = utcnow() - timedelta(days=days_ago)
    session.add(review_answer(user_id, course_by_slug(session, course).id, when=when))
    session.commit()
    return when


def test_reviewing_mistakes_is_activity(session, course, counsellor, lessons):
    """Someone who only did their reviews, as the reminders ask, was flagged inactive."""
    [lee] = add_clients(session, counsellor, ["Lee"])
    take_quiz(session, lee, lessons[0], right=False)
    set_last_active(session, lee, days_ago=9)
    # The first quiz's wrong answers include a safety-critical one.
    assert flags_of(session, counsellor, course)["Lee"] == {"inactive", "safety"}
    when = reviewed(session, lee, course, days_ago=1)
    [row] = page_for(session, counsellor, course).rows
    assert row.flags == {"safety"} and abs(row.last_active - when) < timedelta(seconds=1)
    [exported] = [
        r
        for r in dashboard_export_rows(
            session,
            viewer=session.get(User, counsellor),
            course=course_by_slug(session, course),
            query=DashboardQuery(),
        )
    ]
    assert abs(exported.last_active - when) < timedelta(seconds=1)


def test_a_never_active_client_is_inactive_once_the_account_is_a_week_old(session, course, counsellor):
    add_clients(session, counsellor, ["Old"], days_old=8)
    add_clients(session, counsellor, ["Young"], days_old=6)
    assert flags_of(session, counsellor, course) == {"Old": {"inactive"}, "Young": set()}


def finish(session, user_id: int, lessons) -> None:
    for lesson in lessons:
        take_quiz(session, user_id, lesson, right=True)


def test_finished_is_every_lesson_complete_and_never_inactive(session, course, counsellor, lessons):
    done, almost = add_clients(session, counsellor, ["Done", "Almost"])
    finish(session, done, lessons)
    finish(session, almost, lessons[:-1])
    set_last_active(session, done, days_ago=30)
    rows = {row.name: row for row in page_for(session, counsellor, course).rows}
    assert rows["Done"].flags == {"finished"}
    assert (rows["Done"].percent, rows["Done"].current_lesson) == (100, None)
    assert rows["Almost"].flags == set()


@pytest.fixture
def one_of_each(session, course, counsellor, lessons):
    stuck, quiet, done, fine = add_clients(session, counsellor, ["Stuck", "Quiet", "Done", "Fine"])
    take_quiz(session, stuck, lessons[0], right=False, times=3)
    take_quiz(session, quiet, lessons[0], right=True)
    set_last_active(session, quiet, days_ago=9)
    finish(session, done, lessons)
    take_quiz(session, fine, lessons[0], right=True)


ALL_FOUR = ["Done", "Fine", "Quiet", "Stuck"]


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("struggling", ["Stuck"]), ("inactive", ["Quiet"]), ("finished", ["Done"]), ("", ALL_FOUR), ("x", ALL_FOUR)],
)
def test_filter_by_flag(session, course, counsellor, one_of_each, flag, expected):
    assert names(session, counsellor, course, flag=flag) == expected
    assert page_for(session, counsellor, course, flag=flag).total == len(expected)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ann", ["Ann Smith", "JOANNA"]),
        ("  SMITH ", ["Ann Smith"]),
        ("%", ["100% sure"]),
        ("_", ["under_score"]),
        ("under_s", ["under_score"]),
        ("\\", ["back\\slash"]),
    ],
)
def test_search_by_name_is_case_insensitive_and_literal(session, course, counsellor, search, expected):
    add_clients(session, counsellor, ["Ann Smith", "JOANNA", "Bob", "100% sure", "under_score", "underXscore"])
    add_clients(session, counsellor, ["back\\slash", "1000 sure"])
    assert names(session, counsellor, course, search=search) == expected


@pytest.mark.parametrize(("search", "expected"), [("å", ["Zoë Ångström"]), ("ZOË", ["Zoë Ångström"]), ("Ş", ["şule"])])
def test_search_folds_the_case_of_every_letter_not_only_ascii(session, course, counsellor, search, expected):
    """PostgreSQL's lower() folds every letter; SQLite's only ASCII, until the app gave it Python's."""
    add_clients(session, counsellor, ["Zoë Ångström", "şule", "Zed"])
    assert names(session, counsellor, course, search=search) == expected


def test_names_sort_by_their_letters_whatever_their_case(session, course, counsellor):
    add_clients(session, counsellor, ["Éb", "éa"])  # folded by ASCII only, "É" sorted before every "é"
    assert names(session, counsellor, course) == ["éa", "Éb"]


@pytest.fixture
def four_to_sort(session, course, counsellor, lessons):
    """alan: 0 done, avg 0, 3 days; Bea: 2 done, avg 1, 1 day; Cy: 1 done, avg .5, 10 days; Dee: never active."""
    alan, bea, cy, _dee = add_clients(session, counsellor, ["alan", "Bea", "Cy", "Dee"])
    take_quiz(session, alan, lessons[0], right=False)
    set_last_active(session, alan, days_ago=3)
    finish(session, bea, lessons[:2])
    set_last_active(session, bea, days_ago=1)
    take_quiz(session, cy, lessons[0], right=False)
    take_quiz(session, cy, lessons[0], right=True)
    set_last_active(session, cy, days_ago=10)


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [
        ("name", ["alan", "Bea", "Cy", "Dee"]),
        ("progress", ["alan", "Dee", "Cy", "Bea"]),
        ("last_active", ["Dee", "Cy", "alan", "Bea"]),
        ("quiz_average", ["Dee", "alan", "Cy", "Bea"]),
    ],
)
def test_sort_by_each_column_both_ways(session, course, counsellor, four_to_sort, sort, ascending):
    assert names(session, counsellor, course, sort=sort) == ascending
    # alan and Dee tie on progress, so they stay in name order either way.
    descending = ["Bea", "Cy", "alan", "Dee"] if sort == "progress" else ascending[::-1]
    assert names(session, counsellor, course, sort=sort, descending=True) == descending


def test_fifty_a_page_and_the_second_page_has_the_rest(session, course, counsellor):
    add_clients(session, counsellor, [f"Client {i:03}" for i in range(PAGE_SIZE + 5)])
    first, second = (page_for(session, counsellor, course, page=n) for n in (1, 2))
    assert PAGE_SIZE == 50
    assert (len(first.rows), len(second.rows), first.total, first.pages) == (50, 5, 55, 2)
    assert [r.name for r in first.rows + second.rows] == [f"Client {i:03}" for i in range(55)]


@pytest.mark.parametrize("asked", [3, 999999, 0, -1])
def test_a_page_out_of_range_shows_the_nearest_page(session, course, counsellor, asked):
    add_clients(session, counsellor, [f"Client {i:03}" for i in range(PAGE_SIZE + 5)])
    page = page_for(session, counsellor, course, page=asked)
    assert page.page == (2 if asked > 1 else 1)
    assert len(page.rows) == (5 if asked > 1 else 50)


@pytest.mark.parametrize("asked", [1, 2, 3, 999999, 0, -1])
def test_a_flag_filter_counts_its_matches_and_keeps_to_the_nearest_page(session, course, counsellor, asked):
    """Filtered by a flag, the page's own query counts the matches: out of range, the last page."""
    add_clients(session, counsellor, [f"Client {i:03}" for i in range(PAGE_SIZE + 5)], days_old=30)  # inactive
    add_clients(session, counsellor, ["Active one"])

    page = page_for(session, counsellor, course, flag="inactive", page=asked)

    assert (page.total, page.pages, page.page) == (55, 2, 2 if asked > 1 else 1)
    assert [r.name for r in page.rows] == [f"Client {i:03}" for i in range(55)][(page.page - 1) * 50 :][:50]


def test_a_flag_filter_sorted_by_a_figure_counts_and_pages_too(session, course, counsellor, one_of_each):
    page = page_for(session, counsellor, course, flag="inactive", sort="flags", descending=True, page=7)
    assert (page.total, page.pages, page.page, [r.name for r in page.rows]) == (1, 1, 1, ["Quiet"])
    page = page_for(session, counsellor, course, flag="finished", sort="progress")
    assert (page.total, [r.name for r in page.rows], page.rows[0].flags) == (1, ["Done"], {"finished"})


@pytest.mark.parametrize("sort", ["last_active", "flags"])
def test_a_sort_by_combined_figures_counts_every_client_and_keeps_to_the_nearest_page(
    session, course, counsellor, sort
):
    add_clients(session, counsellor, [f"Client {i:03}" for i in range(PAGE_SIZE + 5)])
    for asked, shown, rows in ((1, 1, 50), (2, 2, 5), (999, 2, 5)):
        page = page_for(session, counsellor, course, sort=sort, page=asked)
        assert (page.total, page.pages, page.page, len(page.rows)) == (55, 2, shown, rows)


def test_a_flag_filter_matching_nobody_is_one_empty_page(session, course, counsellor):
    add_clients(session, counsellor, ["Active one"])
    for asked in (1, 5):
        page = page_for(session, counsellor, course, flag="inactive", page=asked)
        assert (page.rows, page.total, page.pages, page.page) == ([], 0, 1, 1)


def test_a_counsellor_sees_only_their_own_clients(session, app, course, counsellor):
    other = create_user(app, "robin@example.org", role=Role.COUNSELLOR)
    add_clients(session, counsellor, ["Mine"])
    add_clients(session, other, ["Theirs"])
    add_clients(session, None, ["Nobody's"])
    assert names(session, counsellor, course) == ["Mine"]
    assert names(session, other, course) == ["Theirs"]


def test_revoked_clients_vanish(session, course, counsellor):
    kept, gone = add_clients(session, counsellor, ["Kept", "Gone"])
    link = session.scalar(select(CounsellorLink).where(CounsellorLink.learner_id == gone))
    link_revoke(session, learner=session.get(User, gone), link_id=link.id)
    assert names(session, counsellor, course) == ["Kept"]


def add_history(session, user_ids: list[int], lessons) -> None:
    """Give each learner two completed lessons and three attempts, in two bulk inserts."""
    now = utcnow()
    progress, attempts = [], []
    for n, user_id in enumerate(user_ids):
        progress += [dict(user_id=user_id, lesson_id=x.id, opened_at=now, completed_at=now) for x in lessons[:2]]
        mine = dict(user_id=user_id, lesson_id=lessons[2 if n % 3 else 1].id, submitted_at=now - timedelta(days=n % 12))
        attempts += [
            dict(mine, submission_key=uuid.uuid4().hex, question_count=5, pass_mark=0.8, passed=ok)
            | dict(correct_count=5 if ok else 1, score=1.0 if ok else 0.2)
            for ok in (False, True, n % 2 == 0)
        ]
    session.execute(insert(LessonProgress), progress)
    session.execute(insert(QuizAttempt), attempts)
    session.commit()


def counted_page(app, counsellor_id: int, course: str, *, lessons_kept: bool = True, **query):
    with app.app_context():
        viewer = db.session.get(User, counsellor_id)
        course_row = course_by_slug(db.session, course)
        # Counted as every view but the first after a publish runs: the course's lessons kept.
        app.extensions.pop(CONTENT_CACHE_KEY, None)
        if lessons_kept:
            course_content(db.session, course_row.id, course_row.content_version)
        with count_queries(db.engine) as counted:
            page = dashboard_page(db.session, viewer=viewer, course=course_row, query=DashboardQuery(**query))
        db.session.remove()
    return counted(), page


def test_page_runs_the_same_queries_for_five_clients_as_for_many(app, session, course, counsellor, lessons):
    add_history(session, add_clients(session, counsellor, [f"Few {i}" for i in range(5)]), lessons)
    few, small = counted_page(app, counsellor, course)
    add_history(session, add_clients(session, counsellor, [f"Many {i:03}" for i in range(115)], days_old=9), lessons)
    many, large = counted_page(app, counsellor, course)
    assert (len(small.rows), len(large.rows), large.total) == (5, 50, 120)
    assert few == many, (few, many)
    assert counted_page(app, counsellor, course, sort="last_active", descending=True, page=2)[0] == few


def test_the_page_reads_the_lessons_the_learner_pages_keep(app, session, course, counsellor, lessons):
    """The course's lessons come from the per-version cache: a query only when it lacks this version."""
    add_history(session, add_clients(session, counsellor, ["Ann"]), lessons)
    kept, page = counted_page(app, counsellor, course)
    not_kept, same = counted_page(app, counsellor, course, lessons_kept=False)
    assert not_kept == kept + 1
    assert page.rows[0].total == same.rows[0].total == len(lessons)
    assert page.rows[0].current_lesson == same.rows[0].current_lesson


def test_export_yields_every_matching_client_across_pages(session, course, counsellor, lessons):
    ids = add_clients(session, counsellor, [f"Client {i:04}" for i in range(520)])
    add_history(session, ids[:10], lessons)
    viewer, course_row = session.get(User, counsellor), course_by_slug(session, course)
    rows = list(dashboard_export_rows(session, viewer=viewer, course=course_row, query=DashboardQuery(page=2)))
    assert [row.name for row in rows] == [f"Client {i:04}" for i in range(520)]
    assert all(row.current_lesson for row in rows)
    assert rows[0].current_lesson == lessons[2].title and rows[-1].current_lesson == lessons[0].title
    searched = dashboard_export_rows(
        session, viewer=viewer, course=course_row, query=DashboardQuery(search="client 000")
    )
    assert [row.name for row in searched] == [f"Client {i:04}" for i in range(10)]


def subplan_count(node: dict) -> int:
    return bool(node.get("Subplan Name")) + sum(subplan_count(child) for child in node.get("Plans", []))


@pytest.mark.parametrize(
    ("sort", "flag"),
    [
        ("name", ""),
        ("flags", ""),
        ("last_active", ""),
        ("name", "inactive"),
        ("flags", "struggling"),
        ("name", "safety"),
    ],
)
def test_each_figure_is_computed_once_per_client_on_the_page(session, course, counsellor, sort, flag):
    """The flags and last active combine several per-client subqueries; PostgreSQL must run
    each once per client (nine figures, thirteen subplans in all, and four more for what tells
    clients of one name apart: the label, since when, and a namesake in two, the client's name key
    then another link with it), not once per mention (36-81 before the fence). Sorted or filtered
    by them, the query choosing the page runs each it needs once, and no more: never those four.

    Every statement also plans the safety concern's two CTEs (four subplans: the choices' indexes
    with the longest count of choices, and the picks that reveal a safety-critical misconception
    with their JSON check), worked out once per statement, not per client, and only when read."""
    from sqlalchemy import text

    from app.services.dashboard import _chosen, _client_select, _page_select, _parameters, _Shape

    if db.engine.dialect.name != "postgresql":
        pytest.skip("the plan shape is PostgreSQL's; SQLite has no EXPLAIN (FORMAT JSON)")
    ann, bob = add_clients(session, counsellor, ["Ann", "Bob"])
    viewer, row = session.get(User, counsellor), course_by_slug(session, course)
    query = DashboardQuery(sort=sort, flag=flag)
    shape = _Shape.of(viewer, query, 6)
    values = {**_parameters(viewer, row, query, 6, utcnow()), "offset": 0, "only": [ann, bob]}

    def subplans(stmt) -> int:
        sql = stmt.params(values).compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        return subplan_count(session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar()[0]["Plan"])

    once_per_statement = 4
    if sort == "name" and not flag:
        assert subplans(_page_select(shape)) == 17 + once_per_statement
    else:
        # Last active is four figures (last opened, completed, attempted, reviewed: two subplans,
        # its max read off the index on (user_id, answered_at) by an InitPlan of its own); inactive
        # adds the lessons complete; the flags add struggling (two subplans: it reads the completed
        # lessons in one of its own) and the safety concern (four: the client's answers, the
        # versions whose picks can reveal one, the picks of the quiz answers not corrected since,
        # the choices of the review answers not corrected since). The quiz average is never needed.
        needed = {
            ("flags", ""): 12,
            ("last_active", ""): 5,
            ("name", "inactive"): 6,
            ("flags", "struggling"): 12,
            ("name", "safety"): 4,
        }
        assert subplans(_chosen(shape)) == needed[(sort, flag)] + once_per_statement
        assert subplans(_client_select(shape, "listed")) == 17 + once_per_statement
    # The CSV export reads every client: each figure once per client in every sort, not only where
    # the page's query needs it (unfenced, sorted by name, it was 78 subplans and 3-5 times as slow).
    assert subplans(_client_select(shape, every=True)) == 17 + once_per_statement


@pytest.mark.parametrize(
    ("query", "mine", "theirs"),
    [
        ({}, ["Ann", "Cara"], ["Bea", "Dana"]),
        ({"sort": "flags"}, ["Ann", "Cara"], ["Bea", "Dana"]),
        ({"flag": "inactive"}, ["Ann", "Cara"], ["Bea", "Dana"]),
        ({"search": "N"}, ["Ann"], ["Dana"]),
    ],
)
def test_statements_built_once_take_each_views_own_values(app, session, course, counsellor, query, mine, theirs):
    """The statements are built once per shape of query and shared by every view
    (``_Shape``): two counsellors' views, one after the other, each show their own clients, and
    the second builds nothing."""
    from app.services import dashboard

    other = create_user(app, "robin@example.org", role=Role.COUNSELLOR, name="Robin Counsellor")
    add_clients(session, counsellor, ["Ann", "Cara"], days_old=30)
    add_clients(session, other, ["Bea", "Dana"], days_old=30)
    built = [dashboard._client_select, dashboard._page_select, dashboard._chosen, dashboard._counted_clients]
    assert names(session, counsellor, course, **query) == mine
    before = [function.cache_info().misses for function in built]
    assert names(session, other, course, **query) == theirs
    assert [function.cache_info().misses for function in built] == before
