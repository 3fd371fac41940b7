"""The signed-in user of a request, found from the login session its cookie names.

Every page needs this, so it is one read, outside the session's transaction when nothing is
under way (app/services/reads.py): the user's row and their login session's row together.
The user then joins the ORM session as if the session had loaded it, so views and services
can change and save it as usual. The rules on when a login session ends are
app/services/user_sessions.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, bindparam, cast, null, select, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.attributes import instance_state

from app.models import Course, Lesson, User, UserSession
from app.services.default_course import default_course_id
from app.services.json_parts import PartReader, json_part
from app.services.live_questions import learner_cards_select
from app.services.my_page import VIEW_LIMIT, my_page_selects
from app.services.progress import outline_selects
from app.services.reads import Read, dialect_name, read_rows
from app.services.user_sessions import (
    SessionLimits,
    session_token_hash,
    user_session_is_live,
    user_session_needs_touch,
    user_session_touch,
)

# The user's attributes, in the order of the table's columns (which the query selects).
_USER_COLUMNS = [User.__mapper__.get_property_by_column(column).key for column in User.__table__.columns]
_USER_MAPPER = User.__mapper__
_USER_MANAGER = _USER_MAPPER.class_manager
_SIGNED_IN = [
    *User.__table__.columns,
    UserSession.id.label("login_session_id"),
    UserSession.remember,
    UserSession.last_seen_at,
    UserSession.expires_at,
]
# Built once: every signed-in request runs it. Checking the login session costs no extra round trip.
_USER_BY_SESSION = Read(
    select(*_SIGNED_IN)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)


# The page's own rows a learner page can ask to read with the user and its course (OutlineWanted.own).
MY_PAGE = "my page"  # /me/'s lists: my_page.my_page_selects
CARDS = "cards"  # a quiz submission's: the learner's review cards for the lesson's live questions


def _user_with_outline(
    *,
    first_course: bool,
    with_attempts: bool,
    one_lesson: bool = False,
    with_reviews_due: bool = False,
    own: str | None = None,
) -> Read:
    """The user of the login session and a learner page's course rows (progress.outline_selects), in one query.

    A UNION ALL: first the user's row (none for an unknown token), then the course's rows for
    the session's user, then the page's ``own`` rows for them: ``MY_PAGE``, /me/'s other rows
    (the first course's); ``CARDS``, their review cards for the live questions of the lesson
    whose slug is the bound ``lesson_slug`` (live_questions.learner_cards_select). Each row
    carries every set of columns, the others NULL, every NULL typed so that each database gives
    every column the type of its values.
    """
    learner_id = _learner_id(own)
    signed_in_nulls = [cast(null(), column.type).label(f"signed_in_{index}") for index, column in enumerate(_SIGNED_IN)]
    selects = outline_selects(
        first_course=first_course,
        with_learner=True,
        with_attempts=with_attempts,
        one_lesson=one_lesson,
        with_reviews_due=with_reviews_due,
        learner_id=learner_id.scalar_subquery(),
        leading=signed_in_nulls,
    )
    outline_types = [column.type for column in selects[0].selected_columns][len(_SIGNED_IN) :]
    outline_nulls = [cast(null(), kind).label(f"outline_{index}") for index, kind in enumerate(outline_types)]
    mine = _own_selects(own, learner_id.scalar_subquery(), first_course=first_course)
    mine_nulls = (
        [cast(null(), column.type).label(f"mine_{index}") for index, column in enumerate(mine[0].selected_columns)]
        if mine
        else []
    )
    user_row = (
        select(*_SIGNED_IN, *outline_nulls, *mine_nulls)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == bindparam("token_hash"))
    )
    selects = [part.add_columns(*mine_nulls) for part in selects]
    mine = [part.with_only_columns(*signed_in_nulls, *outline_nulls, *part.selected_columns) for part in mine]
    return Read(union_all(user_row, *selects, *mine))


def _learner_id(own: str | None) -> Select:
    """The SELECT of the id of the login session's user, for the parts of a read with ``own`` rows."""
    learner_id = select(UserSession.user_id).where(UserSession.token_hash == bindparam("token_hash"))
    if own == MY_PAGE:  # asked for in six places: found once (a CTE PostgreSQL does not inline), not six times
        found = learner_id.cte("signed_in_learner").prefix_with("MATERIALIZED", dialect="postgresql")
        learner_id = select(found.c.user_id)
    return learner_id


@dataclass(frozen=True)
class _OneRow:
    """A read of _user_with_outline's as PostgreSQL runs it for /me/: the user's row with each
    of the UNION ALL's other parts as a JSON column (json_parts.py); ``outline`` and ``own``
    read those columns back into the course's rows and the page's own."""

    read: Read
    outline: tuple[PartReader, ...]
    own: tuple[PartReader, ...]


# The one row reads the user and login session under names of their own, so that no part's
# subquery (the sharing part joins users, say) is taken as correlated with them.
_SIGNED_USER = User.__table__.alias("signed_user")
_SIGNED_SESSION = UserSession.__table__.alias("signed_session")


def _my_page_one_row() -> _OneRow:
    """/me/'s read (_user_with_outline's with ``MY_PAGE``) as one row, for PostgreSQL.

    Its seven parts as a UNION ALL cost PostgreSQL about 60 us more a page than as JSON columns
    of one row, measured alone; /me/ served about 8% more requests a second, before and after
    measured in one run. The other pages' reads have two or three parts: as one row they saved
    nothing measurable, and cost Python 10-30 us more (JSON, timestamps parsed from text), so
    they stay a UNION ALL (docs/performance.md, round eight of issue 19).
    """
    learner_id = _learner_id(MY_PAGE).scalar_subquery()
    outline = outline_selects(first_course=True, with_learner=True, with_reviews_due=True, learner_id=learner_id)
    own = _own_selects(MY_PAGE, learner_id, first_course=True)
    parts = [json_part(part).label(f"part_{index}") for index, part in enumerate([*outline, *own])]
    statement = (
        select(
            *_SIGNED_USER.columns,
            _SIGNED_SESSION.c.id.label("login_session_id"),
            _SIGNED_SESSION.c.remember,
            _SIGNED_SESSION.c.last_seen_at,
            _SIGNED_SESSION.c.expires_at,
            *parts,
        )
        .select_from(_SIGNED_USER.join(_SIGNED_SESSION, _SIGNED_SESSION.c.user_id == _SIGNED_USER.c.id))
        .where(_SIGNED_SESSION.c.token_hash == bindparam("token_hash"))
    )
    dialect = postgresql.dialect()
    return _OneRow(
        Read(statement),
        tuple(PartReader(part, dialect) for part in outline),
        tuple(PartReader(part, dialect) for part in own),
    )


def _own_selects(own: str | None, learner_id: ColumnElement[int], *, first_course: bool) -> list[Select]:
    """The SELECTs of the page's ``own`` rows for ``learner_id`` (see _user_with_outline); none for None.

    Each row's first column is never NULL (a part's name, a card's id): it tells them from the rest.
    """
    if own == MY_PAGE:
        return my_page_selects(learner_id, default_course_id())
    if own == CARDS:
        # A course's lesson slugs are unique, retired lessons' included (a constraint of lessons).
        course_id = default_course_id() if first_course else _COURSE_BY_SLUG
        lesson_id = select(Lesson.id).where(Lesson.course_id == course_id, Lesson.slug == bindparam("lesson_slug"))
        return [learner_cards_select(learner_id, lesson_id.scalar_subquery())]
    return []


_COURSE_BY_SLUG = select(Course.id).where(Course.slug == bindparam("slug")).scalar_subquery()

# Learner pages' one query: (the first course rather than a slug, with the learner's attempts,
# only one lesson's attempts, with the count of reviews due, the page's own rows) -> Read.
_USER_WITH_OUTLINE: dict[tuple[bool, bool, bool, bool, str | None], Read] = {
    (first_course, with_attempts, one_lesson, with_reviews_due, None): _user_with_outline(
        first_course=first_course, with_attempts=with_attempts, one_lesson=one_lesson, with_reviews_due=with_reviews_due
    )
    for first_course in (False, True)
    for with_attempts, one_lesson, with_reviews_due in (
        (False, False, False),
        (False, False, True),
        (True, False, False),
        (True, True, False),
    )
}
# /me/'s: the first course's rows with the count due, and the page's other rows.
_USER_WITH_OUTLINE[(True, False, False, True, MY_PAGE)] = _user_with_outline(
    first_course=True, with_attempts=False, with_reviews_due=True, own=MY_PAGE
)
# A quiz submission's: the course's rows and the learner's cards for the lesson's questions.
for _first_course in (False, True):
    _USER_WITH_OUTLINE[(_first_course, False, False, False, CARDS)] = _user_with_outline(
        first_course=_first_course, with_attempts=False, own=CARDS
    )
# PostgreSQL's form of /me/'s, by the same key (see _my_page_one_row).
_ONE_ROW: dict[tuple[bool, bool, bool, bool, str | None], _OneRow] = {
    (True, False, False, True, MY_PAGE): _my_page_one_row()
}
# Where the page's own columns start in a row of a UNION ALL (after the user's and the course's).
_MINE_START = len(_USER_WITH_OUTLINE[(True, False, False, False, None)].statement.selected_columns)


def _as_loaded(session: Session, values: dict) -> User:
    """The user's row as the session's persistent User, unchanged, as if the session had loaded it.

    Built as SQLAlchemy's loading builds one (no attribute events, no history), then added:
    about half what a constructed User merged costs. A session that holds this user already
    (a request that loaded them before) gets the row merged into its own, as before.
    """
    user = _as_detached(values)
    identity = instance_state(user).key
    if identity is None or identity in session.identity_map:
        return session.merge(user, load=False)
    session.add(user)
    return user


def _as_detached(values: dict) -> User:
    """The user's row as a detached User: the values of a loaded one, in no session.

    Reading it needs no session (User has no relationships to load); a session it is added
    to (directly or by a cascade) takes it as persistent, unchanged, without reading it again.
    """
    user = _USER_MANAGER.new_instance()
    state = instance_state(user)
    state.dict.update(values)  # loaded values: no attribute events, no history
    # What make_transient_to_detached does for a new instance: its identity becomes the row's.
    # The rest of that function undoes an earlier life (changes, expired attributes, a delete)
    # that a new instance has not had (15 us in a page, measured in issue 19).
    state.key = _USER_MAPPER.identity_key_from_primary_key((values["id"],))
    return user


@dataclass(frozen=True)
class OutlineWanted:
    """The course rows a learner page will need: its course's slug (None: the first course), and attempts or not.

    ``attempts_of``: with attempts, only those at the lesson of this slug (a lesson or quiz page's own).
    ``with_reviews_due``: and the count of the learner's questions due for review (the overview's).
    ``with_my_page``: and /me/'s other rows (my_page.my_page_selects'), for the first course with
    the count due and no attempts, as /me/ asks.
    ``cards_of``: and the learner's review cards for the live questions of the lesson of this
    slug, with no attempts or count due, as a quiz submission asks.
    """

    slug: str | None
    with_attempts: bool
    attempts_of: str | None = None
    with_reviews_due: bool = False
    with_my_page: bool = False
    cards_of: str | None = None

    @property
    def own(self) -> str | None:
        """Which of the page's own rows are read with the course's (MY_PAGE, CARDS or None)."""
        return MY_PAGE if self.with_my_page else CARDS if self.cards_of is not None else None


@dataclass(frozen=True)
class SignedIn:
    """The user of a live login session; ``touched``: its last-seen time was just written.

    ``outline_rows``: the course rows asked for with ``outline`` (progress.course_outline_by_slug's
    ``rows``), None when not asked for; ``own_rows`` likewise the page's own rows asked for
    (/me/'s other rows: my_page.my_page's ``rows``; review cards: live_questions.learner_cards_from_rows').
    """

    user: User
    touched: bool
    outline_rows: list[tuple] | None = None
    own_rows: list[tuple] | None = None


def signed_in_user(
    session: Session | scoped_session,
    *,
    token: str,
    now: datetime,
    limits: SessionLimits,
    outline: OutlineWanted | None = None,
    attach: bool = True,
) -> SignedIn | None:
    """The active user whose live login session ``token`` names, or None.

    An ended, expired or idle session, or a deactivated account, gives None: the request is
    logged out. The session's last-seen time is written at most every ``limits.touch_every``;
    committed at once when the ORM session holds no other work, else saved with that work.
    With ``outline``, the same query also reads that course's rows for the user (a learner
    page's second read, saved).

    The user is in the ORM session, to be changed and saved like any loaded row; with
    ``attach=False`` it is a detached value instead, for a request that only reads it (a
    learner page): adding it to the session cost 8% of a lesson page's CPU, and a
    commit would expire it, so the page would read it again.
    """
    started: Session | None = session if isinstance(session, Session) else None
    if isinstance(session, scoped_session) and session.registry.has():
        started = session()  # one not started yet holds nothing; asking it would start it (reads.py starts none)
    nothing_under_way = started is None or not (started.in_transaction() or started.new or started.dirty)
    params: dict[str, str | datetime | int] = {"token_hash": session_token_hash(token)}
    outline_rows = own_rows = None
    if outline is None:
        rows = read_rows(session, _USER_BY_SESSION, params)
    else:
        if outline.slug is not None:
            params["slug"] = outline.slug
        one_lesson = outline.with_attempts and outline.attempts_of is not None
        if one_lesson and outline.attempts_of is not None:
            params["lesson_slug"] = outline.attempts_of
        if outline.cards_of is not None:
            params["lesson_slug"] = outline.cards_of
        if outline.with_reviews_due:
            params["now"] = now
        if outline.with_my_page:
            params["view_limit"] = VIEW_LIMIT
        key = (outline.slug is None, outline.with_attempts, one_lesson, outline.with_reviews_due, outline.own)
        one_row = _ONE_ROW.get(key)
        if one_row is not None and dialect_name(session) == "postgresql":
            rows, outline_rows, own_rows = _read_one_row(session, one_row, params)
        else:
            rows, outline_rows, own_rows = _read_union(session, _USER_WITH_OUTLINE[key], params)
        if outline.own is None:
            own_rows = None
    if not rows:
        return None
    *user_values, login_session_id, remember, last_seen_at, expires_at = rows[0]
    values = dict(zip(_USER_COLUMNS, user_values, strict=True))
    if not values["is_active"] or not user_session_is_live(
        remember=remember, last_seen_at=last_seen_at, expires_at=expires_at, now=now, limits=limits
    ):
        return None
    touched = user_session_needs_touch(last_seen_at=last_seen_at, now=now, limits=limits)
    if touched:
        user_session_touch(session, session_id=login_session_id, now=now, commit=nothing_under_way)
    if not attach:
        user = _as_detached(values)
    else:
        user = _as_loaded(session() if isinstance(session, scoped_session) else session, values)
    user.session_token = token
    return SignedIn(user=user, touched=touched, outline_rows=outline_rows, own_rows=own_rows)


def _read_union(session: Session | scoped_session, read: Read, params: dict) -> tuple[list, list, list]:
    """The user's row (or none), the course's rows and the page's own rows, read as a UNION ALL."""
    every = read_rows(session, read, params)
    signed, mine = len(_SIGNED_IN), _MINE_START
    users = [row[:signed] for row in every if row[signed - 4] is not None]  # login_session_id: the user's row
    # The rest: the course's rows, then (asked for) the page's own, whose first column is never NULL.
    rest = [row for row in every if row[signed - 4] is None]
    outline_rows = [row[signed:mine] for row in rest if len(row) == mine or row[mine] is None]
    own_rows = [row[mine:] for row in rest if len(row) > mine and row[mine] is not None]
    return users, outline_rows, own_rows


def _read_one_row(session: Session | scoped_session, one_row: _OneRow, params: dict) -> tuple[list, list, list]:
    """The same as _read_union's, read as one row (none for an unknown token)."""
    found = read_rows(session, one_row.read, params)
    if not found:
        return [], [], []
    row, signed = found[0], len(_SIGNED_IN)
    outline_values, own_values = row[signed : signed + len(one_row.outline)], row[signed + len(one_row.outline) :]
    outline_rows = [
        values for part, value in zip(one_row.outline, outline_values, strict=True) for values in part.rows(value)
    ]
    own_rows = [values for part, value in zip(one_row.own, own_values, strict=True) for values in part.rows(value)]
    return [row[:signed]], outline_rows, own_rows
