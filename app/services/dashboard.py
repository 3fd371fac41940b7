"""The counsellor's dashboard: one row per visible client, filtered, sorted and paged in SQL.

Every figure is an aggregate in the database, so the page runs the same queries for 5
clients as for 500.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Literal, cast

from sqlalchemy import (
    BindParameter,
    CursorResult,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.models import ApiToken, Course, Lesson, LessonProgress, QuizAttempt, ReviewAnswer, Role, User
from app.models.types import utcnow
from app.permissions import can_author
from app.services.audit import audit_record
from app.services.client_identity import identity_columns, namesakes_on_page
from app.services.client_report import holds_safety_critical_misconception
from app.services.course_content import LessonView, course_content
from app.services.progress import lesson_states, live_lesson_ids
from app.services.sharing import caseload_names
from app.services.text_search import containing

PAGE_SIZE = 50
# A client is inactive with nothing done in the course for longer than this. Analytics' "gave
# up" (services/analytics/drop_out.py, GAVE_UP_AFTER) is another rule: per lesson, not per person.
INACTIVE_AFTER = timedelta(days=7)
STRUGGLING_FAILS = 3
# Worked out from progress: the dashboard filters and sorts by them. "safety": the client holds a
# safety-critical misconception still present, by the client page's rule (client_report's
# holds_safety_critical_misconception), so the two pages never disagree.
FLAGS = ("safety", "inactive", "struggling", "finished")
# Not worked out from progress but an admin's decision about the account (user_admin.user_deactivate):
# the client cannot log in, yet stays listed (their history and consent stay, and it can be undone),
# so the row says it beside the flags, for a counsellor not to chase someone who cannot sign in.
DEACTIVATED = "deactivated"


def filter_labels() -> dict[str, str]:
    """Each flag the dashboard filters by (FLAGS) in its words, in the order it shows them."""
    # "Over": the query flags nothing done for longer than INACTIVE_AFTER (seen < now - INACTIVE_AFTER).
    # A safety concern first: it is the one to talk about before anything else.
    return {
        "safety": "Safety concern",
        "struggling": "Struggling",
        "inactive": f"Inactive over {INACTIVE_AFTER.days} days",
        "finished": "Finished",
    }


def flag_labels() -> dict[str, str]:
    """Each flag a client's row may carry in the words the dashboard shows it (its download and the
    client page too), in the order it shows them: a deactivated account first, as it changes how to
    read the rest."""
    return {DEACTIVATED: "Account deactivated", **filter_labels()}


SORTS = ("name", "progress", "current_lesson", "last_active", "quiz_average", "flags")
# Never-active learners sort as if last active at the dawn of time.
_NEVER = datetime(1970, 1, 1)


@dataclass
class ClientRow:
    """One client on the dashboard."""

    learner_id: int
    name: str
    completed: int
    total: int
    last_active: datetime | None
    quiz_average: float | None
    flags: set[str] = field(default_factory=set)  # names from FLAGS, and DEACTIVATED
    current_lesson: str | None = None
    # What tells clients of one name apart (app/services/client_identity.py): the viewer's label
    # for the client, since when they share, and whether another client of theirs has this name.
    label: str | None = None
    sharing_since: datetime | None = None
    namesake: bool = False

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0


class FlagRules:
    """The flags' thresholds and words, for a page that shows flags (the dashboard, a client's
    status) to state the numbers the queries use; read when asked, so they follow the rules."""

    @property
    def inactive_days(self) -> int:
        return INACTIVE_AFTER.days

    @property
    def struggling_fails(self) -> int:
        return STRUGGLING_FAILS

    @property
    def flag_labels(self) -> dict[str, str]:
        return flag_labels()

    @property
    def filter_labels(self) -> dict[str, str]:
        return filter_labels()


@dataclass
class DashboardPage(FlagRules):
    rows: list[ClientRow]
    total: int
    page: int
    pages: int

    @property
    def any_deactivated(self) -> bool:
        """Whether a client on this page has a deactivated account: the page's key then says what that means."""
        return any(DEACTIVATED in row.flags for row in self.rows)


@dataclass(frozen=True)
class DashboardQuery:
    """What the counsellor asked for: search, flag filter, sort and page."""

    search: str = ""
    flag: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1


def _greatest(*values):
    """Portable GREATEST over non-null values (SQLite has no GREATEST)."""
    result = values[0]
    for value in values[1:]:
        result = case((value > result, value), else_=result)
    return result


# Figures that combine several subqueries: sorting or filtering by them needs the fence below.
_COMBINED_SORTS = ("last_active", "flags")


@dataclass(frozen=True)
class _Shape:
    """What the SQL of the dashboard's statements depends on. Everything else is a bound
    parameter (``_parameters``), so each shape's statements are built once (the functions below
    are cached) and SQLAlchemy keeps each one's cache key: built and keyed again on every view,
    they had been a third of the view's CPU (docs/performance.md, round twenty-three)."""

    role: str  # the viewer's: whom they see (sharing.caseload_names)
    searching: bool
    flag: str  # one of FLAGS, or "" for none
    sort: str  # one of SORTS
    descending: bool
    lessons: bool  # whether the course has live lessons (without any, nobody has finished it)

    @classmethod
    def of(cls, viewer: User, query: DashboardQuery, lesson_count: int) -> _Shape:
        return cls(
            role=viewer.role,
            searching=bool(query.search.strip()),
            flag=query.flag if query.flag in FLAGS else "",
            sort=query.sort if query.sort in SORTS else "name",  # an unknown sort falls back to name
            descending=query.descending,
            lessons=lesson_count > 0,
        )


def _parameters(viewer: User, course: Course, query: DashboardQuery, lesson_count: int, now: datetime) -> dict:
    """The values of the statements' parameters but the page's ``offset`` (and ``only``: ids)."""
    return {
        "viewer_id": viewer.id,
        "course_id": course.id,
        "lesson_count": lesson_count,
        "inactive_before": now - INACTIVE_AFTER,
        "search": containing(query.search.strip()),
    }


def _offset(page: int) -> int:
    return (page - 1) * PAGE_SIZE


_COURSE_ID: BindParameter[int] = bindparam("course_id", type_=Integer)
_VIEWER_ID: BindParameter[int] = bindparam("viewer_id", type_=Integer)
_OFFSET = bindparam("offset", type_=Integer)


def _clients(shape: _Shape) -> Subquery:
    """The viewer's clients matching the search, if any, as (id, name_key): read from the caseload alone."""
    return caseload_names(shape.role, bindparam("viewer_id"), bindparam("search") if shape.searching else None)


def _name_order(column, descending: bool):
    key = func.lower(column)
    return key.desc() if descending else key.asc()


def _page_by_name(shape: _Shape) -> Select:
    """The ids of one page of clients in name order: choosing them needs no figures, nor any other user."""
    clients = _clients(shape)
    key = clients.c.name_key
    return (
        select(clients.c.id)
        .order_by(key.desc() if shape.descending else key.asc(), clients.c.id)
        .limit(PAGE_SIZE)
        .offset(_OFFSET)
    )


def _per_client(shape: _Shape, only: Literal["page", "listed"] | None = None, *, every: bool = False):
    """Each visible client's raw figures, each a correlated subquery the planner can use indexes for.

    ``only`` limits the rows to some clients: ``"page"``, one page of them in name order;
    ``"listed"``, those whose ids are the parameter ``only``.
    The flags and sort keys are built on top of these columns. The subquery is fenced
    (``OFFSET 0`` stops PostgreSQL merging it into the outer query) so that each figure is
    computed once per client: merged, the expressions combining them (last active, the flags)
    repeated every subquery several times per client (2.5-4.4 s for 3,356 clients sorted by
    flags, 0.2-0.32 s fenced; 36 subqueries a row instead of 7; bench/PLANS.md). Only a sort
    by a single figure, without a flag filter, is left unfenced: PostgreSQL then computes the
    figures for the rows of the page alone. ``every`` (the CSV export, which reads every row, so
    has no page to gain from) fences it whatever the sort: unfenced, its default sort by name
    took 3-5 times as long (20 s against 6 s for 100,000 learners).

    What is complete and what the client is stuck on count the live lessons only, as the
    course page does; activity and quiz scores count every lesson the course has had, since
    work on a lesson retired later was still done.
    """
    course_lessons = select(Lesson.id).where(Lesson.course_id == _COURSE_ID).scalar_subquery()
    live = live_lesson_ids(_COURSE_ID).scalar_subquery()
    mine = and_(LessonProgress.user_id == User.id, LessonProgress.lesson_id.in_(course_lessons))
    floor = literal(_NEVER)
    my_attempts = and_(QuizAttempt.user_id == User.id, QuizAttempt.lesson_id.in_(course_lessons))
    completed_lessons = (
        select(LessonProgress.lesson_id)
        .where(LessonProgress.user_id == User.id, LessonProgress.completed_at.is_not(None))
        .correlate(User)
    )
    struggling = (
        select(QuizAttempt.lesson_id)
        .where(
            QuizAttempt.user_id == User.id,
            QuizAttempt.lesson_id.in_(live),
            QuizAttempt.passed.is_(False),
            QuizAttempt.lesson_id.not_in(completed_lessons),
        )
        .group_by(QuizAttempt.lesson_id)
        .having(func.count() >= STRUGGLING_FAILS)
        .exists()
    )
    columns: tuple[Any, ...] = (
        User.id.label("id"),
        User.display_name.label("display_name"),
        User.created_at.label("created_at"),
        User.is_active.label("is_active"),
        select(func.count(LessonProgress.id))
        .where(
            LessonProgress.user_id == User.id,
            LessonProgress.lesson_id.in_(live),
            LessonProgress.completed_at.is_not(None),
        )
        .scalar_subquery()
        .label("completed"),
        select(func.coalesce(func.max(LessonProgress.opened_at), floor)).where(mine).scalar_subquery().label("opened"),
        select(func.coalesce(func.max(LessonProgress.completed_at), floor)).where(mine).scalar_subquery().label("done"),
        select(func.coalesce(func.max(QuizAttempt.submitted_at), floor))
        .where(my_attempts)
        .scalar_subquery()
        .label("attempted"),
        # A review of their mistakes is work in the course too (it was not counted: someone who
        # only reviewed was flagged inactive).
        select(func.coalesce(func.max(ReviewAnswer.answered_at), floor))
        .where(ReviewAnswer.user_id == User.id, ReviewAnswer.course_id == _COURSE_ID)
        .scalar_subquery()
        .label("reviewed"),
        select(func.avg(QuizAttempt.score)).where(my_attempts).scalar_subquery().label("quiz_average"),
        struggling.label("struggling"),
        holds_safety_critical_misconception(User.id, lessons=live, course=_COURSE_ID).label("safety"),
        *identity_columns(shape.role, _VIEWER_ID, User.id),
    )
    if only == "page":
        stmt = select(*columns).where(User.id.in_(_page_by_name(shape)))
    elif only == "listed":
        stmt = select(*columns).where(User.id.in_(bindparam("only", expanding=True)))
    else:
        clients = _clients(shape)
        stmt = select(*columns).join(clients, clients.c.id == User.id)
    if every or only is not None or shape.flag or shape.sort in _COMBINED_SORTS:
        stmt = stmt.offset(0)
    return stmt.subquery("client")


@cache
def _client_select(shape: _Shape, only: Literal["page", "listed"] | None = None, *, every: bool = False) -> Select:
    """Each client's figures and flags, in the shape's order and filtered by its flag (``_per_client``'s ``only``)."""
    client = _per_client(shape, only, every=every)
    floor = literal(_NEVER)
    last_active = _greatest(client.c.opened, client.c.done, client.c.attempted, client.c.reviewed)
    finished = client.c.completed >= bindparam("lesson_count") if shape.lessons else literal(False)
    seen = case((last_active > floor, last_active), else_=client.c.created_at)  # never active: since joining
    inactive = and_(seen < bindparam("inactive_before"), ~finished)
    columns = {"safety": client.c.safety, "struggling": client.c.struggling, "finished": finished, "inactive": inactive}
    stmt = select(
        client.c.id,
        client.c.display_name,
        client.c.is_active,
        client.c.completed,
        last_active.label("last_active"),
        client.c.quiz_average,
        client.c.struggling,
        client.c.safety,
        finished.label("finished"),
        inactive.label("inactive"),
        client.c.label,
        client.c.sharing_since,
        client.c.namesake,
    )
    if shape.flag:
        stmt = stmt.where(columns[shape.flag])
    if shape.sort == "name":
        return stmt.order_by(_name_order(client.c.display_name, shape.descending), client.c.id)
    sort_column = {
        "progress": client.c.completed,
        # Lessons are taken in order, so how many are complete places the current lesson.
        "current_lesson": client.c.completed,
        "last_active": last_active,
        # Most in need of attention first when descending: a safety concern, then struggling, then
        # inactive, then finished.
        "flags": case((client.c.safety, 4), (client.c.struggling, 3), (inactive, 2), (finished, 1), else_=0),
        "quiz_average": func.coalesce(client.c.quiz_average, -1.0),
    }[shape.sort]
    order = sort_column.desc() if shape.descending else sort_column.asc()
    return stmt.order_by(order, func.lower(client.c.display_name), client.c.id)


def _row(record, lesson_count: int) -> ClientRow:
    last_active = record.last_active
    if isinstance(last_active, str):  # SQLite returns CASE results over timestamps as text
        last_active = datetime.fromisoformat(last_active)
    if last_active is not None and last_active.tzinfo is None:
        last_active = last_active.replace(tzinfo=UTC)
    flags = {name for name in FLAGS if getattr(record, name)}
    if not record.is_active:
        flags.add(DEACTIVATED)
    return ClientRow(
        learner_id=record.id,
        name=record.display_name,
        completed=record.completed,
        total=lesson_count,
        last_active=None if last_active is None or last_active.year <= _NEVER.year else last_active,
        quiz_average=None if record.quiz_average is None else float(record.quiz_average),
        flags=flags,
        label=record.label,
        sharing_since=record.sharing_since,
        namesake=bool(record.namesake),
    )


def _course_lessons(session: Session, course: Course) -> tuple[LessonView, ...]:
    """The course's live lessons in order, from the per-version cache the learner pages read
    (no query once it holds this version; the outline's rows had cost a query and a fifth of the
    page's CPU)."""
    content = course_content(session, course.id, course.content_version)
    return content.lessons if content is not None else ()


_COMPLETED = select(LessonProgress.user_id, LessonProgress.lesson_id).where(
    LessonProgress.user_id.in_(bindparam("user_ids", expanding=True)),
    LessonProgress.lesson_id.in_(bindparam("lesson_ids", expanding=True)),
    LessonProgress.completed_at.is_not(None),
)


def _add_current_lessons(session: Session, rows: list[ClientRow], lessons: Sequence[LessonView]) -> None:
    """Name each client's current lesson: the first one they have not completed (1 query)."""
    if not rows:
        return
    completed: dict[int, set[int]] = {row.learner_id: set() for row in rows}
    ids = {"user_ids": list(completed), "lesson_ids": [lesson.id for lesson in lessons]}
    for user_id, lesson_id in session.execute(_COMPLETED, ids):
        completed[user_id].add(lesson_id)
    for row in rows:
        states = lesson_states(lessons, completed[row.learner_id])
        current = next((lesson for lesson, state in zip(lessons, states, strict=True) if state == "available"), None)
        row.current_lesson = current.title if current else None


@cache
def _page_select(shape: _Shape) -> Select:
    """One page of clients with their figures (1 query).

    In name order without a flag filter (the usual view), the page's clients are chosen by name
    first and the figures worked out for those rows alone, each once. Sorted by one figure,
    PostgreSQL computes that one for every client and the others for the page's rows. (Filtered
    by a flag or sorted by combined figures, dashboard_page chooses the rows first: ``_chosen``.)
    """
    if not shape.flag and shape.sort == "name":
        return _client_select(shape, "page")
    return _client_select(shape).limit(PAGE_SIZE).offset(_OFFSET)


@cache
def _counted_clients(shape: _Shape) -> Select:
    """How many visible clients match the search, counted without any figures (1 query)."""
    return select(func.count()).select_from(_clients(shape))


@cache
def _counted_matches(shape: _Shape) -> Select:
    """How many clients match the search and the flag (1 query)."""
    return select(func.count()).select_from(_client_select(shape).order_by(None).subquery())


@cache
def _chosen(shape: _Shape) -> Select:
    """The ids of one page of clients in the query's order, each with how many match it (1 query).

    Choosing them needs only the figures the filter and the sort are made of (PostgreSQL leaves
    out the ones nobody reads); the page's 50 rows then get all of theirs.
    """
    chosen = (
        _client_select(shape)
        .add_columns(func.count().over().label("matching"))  # over every match: taken before the LIMIT
        .limit(PAGE_SIZE)
        .offset(_OFFSET)
        .subquery()
    )
    return select(chosen.c.id, chosen.c.matching)


def dashboard_page(session: Session, *, viewer: User, course: Course, query: DashboardQuery) -> DashboardPage:
    """Load one page of the viewer's clients with their progress figures and flags."""
    lessons = _course_lessons(session, course)
    count = len(lessons)
    shape = _Shape.of(viewer, query, count)
    values = _parameters(viewer, course, query, count, utcnow())
    if not shape.flag and shape.sort not in _COMBINED_SORTS:
        # By name, or by one figure (computed for every client, the others for the page's rows
        # only): every visible client matching the search, counted without any figures.
        total = session.scalar(_counted_clients(shape), values) or 0
        page = min(max(1, query.page), max(1, math.ceil(total / PAGE_SIZE)))
        records = session.execute(_page_select(shape), {**values, "offset": _offset(page)}).all()
    else:
        # Filtered by a flag or sorted by figures that combine several: the page's clients are
        # chosen first, with only the figures that takes, and counted in the same pass; then the
        # chosen get all their figures. Asked past the last page, the choice finds none: count,
        # then choose from the last page.
        page = max(1, query.page)
        chosen = session.execute(_chosen(shape), {**values, "offset": _offset(page)}).all()
        total = chosen[0].matching if chosen else 0
        if not chosen and page > 1:
            total = session.scalar(_counted_matches(shape), values) or 0
            page = max(1, math.ceil(total / PAGE_SIZE))
            chosen = session.execute(_chosen(shape), {**values, "offset": _offset(page)}).all()
        only = [row.id for row in chosen]
        records = session.execute(_client_select(shape, "listed"), {**values, "only": only}).all() if only else []
    rows = [_row(record, count) for record in records]
    if viewer.role == Role.ADMIN:
        # Every learner is an admin's: tell apart those whose names clash on this page, not everyone.
        namesakes_on_page(rows)
    _add_current_lessons(session, rows, lessons)
    return DashboardPage(rows=rows, total=total, page=page, pages=max(1, math.ceil(total / PAGE_SIZE)))


def client_row(
    session: Session, *, viewer: User, course: Course, learner_id: int, lesson_count: int
) -> ClientRow | None:
    """One client's dashboard row, for their own page: the same figures and flags, by the same rules (1 query).

    The caller has already checked that ``viewer`` may see this learner; ``lesson_count`` is how
    many live lessons the course has (the client page's outline holds them). ``current_lesson``
    is left unset: the client page names it from its outline. None when there is no such user.
    """
    values = _parameters(viewer, course, DashboardQuery(), lesson_count, utcnow())
    stmt = _client_select(_Shape.of(viewer, DashboardQuery(), lesson_count), "listed")
    record = session.execute(stmt, {**values, "only": [learner_id]}).one_or_none()
    return None if record is None else _row(record, lesson_count)


def dashboard_export_rows(
    session: Session, *, viewer: User, course: Course, query: DashboardQuery
) -> Iterator[ClientRow]:
    """Every client matching the query (all pages), streamed in batches for the CSV export.

    The query is made now, while the caller's session holds ``viewer`` and ``course``; the rows
    are read as the response streams them, after the request's session has ended.
    """
    lessons = _course_lessons(session, course)
    shape = _Shape.of(viewer, query, len(lessons))
    values = _parameters(viewer, course, query, len(lessons), utcnow())
    return _export_batches(session, _client_select(shape, every=True), values, lessons)


def _export_batches(session: Session, stmt: Select, values: dict, lessons: Sequence[LessonView]) -> Iterator[ClientRow]:
    batch: list[ClientRow] = []
    for record in session.execute(stmt, values, execution_options={"yield_per": 500}):
        batch.append(_row(record, len(lessons)))
        if len(batch) == 500:
            _add_current_lessons(session, batch, lessons)
            yield from batch
            batch = []
    _add_current_lessons(session, batch, lessons)
    yield from batch


def dashboard_export_audit(session: Session, *, viewer: User, course: Course, query: DashboardQuery) -> None:
    """Record an admin's download of the learners' list (``learners_downloaded``) and commit,
    before the first row goes out; a counsellor's download of their own clients is not an admin
    action and records nothing.

    The record keeps the course's id and the flag filtered by; a name search only as the fact
    that there was one, never its text (it may be someone's name).
    """
    if not can_author(viewer):
        return
    details: dict[str, Any] = {"course_id": course.id}
    if query.flag in FLAGS:
        details["flag"] = query.flag
    if query.search.strip():
        details["searched"] = True
    audit_record(session, actor=viewer, action="learners_downloaded", details=details)
    session.commit()


def api_listing_audit(session: Session, *, token: ApiToken, course: Course, today: date) -> None:
    """Record an admin's token reading the list of learners through the API (``learners_listed``),
    once a day per token, and commit; a counsellor's token reading their own clients records
    nothing, as their CSV does not.

    The list is the CSV's, page by page, so an admin reading it is recorded as a download is; once
    a day, since a dashboard may read it every minute. The record keeps the token's id and the course's.
    """
    if not can_author(token.user) or token.learners_listed_on == today:
        return
    # One record a day however many requests come at once: the first to change the day records it.
    claimed = session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token.id,
            or_(ApiToken.learners_listed_on.is_(None), ApiToken.learners_listed_on != today),
        )
        .values(learners_listed_on=today)
    )
    if cast(CursorResult, claimed).rowcount:
        details = {"course_id": course.id, "token_id": token.id}
        audit_record(session, actor=token.user, action="learners_listed", details=details)
    session.commit()
