"""The site-wide activity log for admins: every audited admin action (``AuditEvent``), every
course publication (published, restored, imported from files) and every time an admin opened
one learner's progress (``ProgressView``, which the learner also sees on /me/), newest first,
merged in time order, a page at a time.

Pages are cut by a cursor (the last entry's time, source and id), not by page number: an
auditor reading older pages while admins keep working sees each entry once, and a deep page
costs what the first does. Names (of people, courses, platforms) are read at display time, so
the log itself keeps ids only; an account erased since reads as "an account since erased".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ColumnElement, Integer, Select, String, Text, and_, cast, literal_column, null, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import AuditEvent, Course, CoursePublication, LtiPlatform, ProgressView, Role, User
from app.models.types import UTCDateTime
from app.services.audit import ACCOUNT_ACTIONS, DOWNLOAD_ACTIONS, LTI_ACTIONS, TOKEN_ACTIONS

PAGE_SIZE = 50

# The kinds of action the page filters by, in the order its menu offers them: label, and the
# audit actions of the kind (publications are rows of their own table, not audit records).
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "accounts": ("Accounts", ACCOUNT_ACTIONS),
    "publications": ("Course publications", ()),
    "lms": ("LMS platforms (LTI)", LTI_ACTIONS),
    # One person's data, downloaded for them, is an account action and a download: under both.
    "downloads": ("Downloads of people's data", (*DOWNLOAD_ACTIONS, "data_downloaded")),
    "tokens": ("API tokens", TOKEN_ACTIONS),
    "views": ("Learners' progress opened", ()),
}
# The kinds whose entries are rows of their own table, not audit records.
_OWN_TABLES = ("publications", "views")
# What an API token's scope lets it do, as a clause of a sentence (app/services/api_tokens.py SCOPES).
SCOPE_WORDS = {
    "read:progress": "read its owner's own progress",
    "read:clients": "read every learner's progress",
    "read:course": "read the course draft",
    "read:analytics": "read the question analytics",
    "write:draft": "change and publish the course draft",
}

# Where an entry comes from; at the same instant they sort in this order, newest first.
PUBLICATION, AUDIT, VIEW = 0, 1, 2
_CURSOR = re.compile(r"([0-9]{1,18})-([012])-([0-9]{1,10})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """A place in the log: the entry at this time, from this source, with this id."""

    at: datetime
    source: int
    id: int

    def __str__(self) -> str:
        micros = (self.at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.source}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """The cursor ``text`` spells (as ``str`` wrote it), or None if it is not one."""
        match = _CURSOR.fullmatch(text)
        if match is None:
            return None
        micros, source, ident = int(match[1]), int(match[2]), int(match[3])
        if not 1 <= ident <= 2**31 - 1 or micros > (_LATEST - _EPOCH) // timedelta(microseconds=1):
            return None
        return cls(_EPOCH + timedelta(microseconds=micros), source, ident)


@dataclass(frozen=True)
class Person:
    """An account an entry names: its id and name, both None once the account is deleted."""

    id: int | None
    name: str | None


@dataclass(frozen=True)
class ActivityEntry:
    """One admin action as the page says it."""

    at: datetime
    # An audit action (app/services/audit.py), "published", "restored", "imported" or "viewed".
    action: str
    kind: str
    # Who did it; None when nobody did (the server imported the course from its files).
    actor: Person | None
    # The account it was on (account actions, and the learner whose progress was opened).
    subject: Person | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # The course it was about (publications and downloads); None if removed since.
    course_title: str | None = None
    # The platform it was about (LMS actions), by its name now; None if removed since.
    platform_name: str | None = None
    # The counsellor a learner was linked to (``link_created``).
    counsellor: Person | None = None
    # A publication's number of changes, and for a restore when the restored version was published.
    changes: int = 0
    restored_from_at: datetime | None = None
    # What each scope of a token lets it do, in words.
    scopes: list[str] = field(default_factory=list)
    cursor: str = ""


@dataclass(frozen=True)
class ActivityPage:
    """A page of the log, newest first, with the cursors of the pages either side (None: none)."""

    entries: list[ActivityEntry]
    kind: str
    older: str | None
    newer: str | None
    # The newest entries (no cursor): the page to go back to from any other.
    is_first: bool = False


class UnknownKind(ValueError):
    """The filter names a kind of action the log does not have."""


def kind_of(action: str) -> str:
    """The kind (a key of KINDS) an action belongs to; "" for one the app no longer records."""
    if action in ("published", "restored", "imported"):
        return "publications"
    if action == "viewed":
        return "views"
    return next((kind for kind, (_, actions) in KINDS.items() if action in actions), "")


def _beyond(at: Any, ident: Any, source: int, cursor: Cursor, *, older: bool) -> ColumnElement[bool]:
    """Rows of one source past ``cursor`` in the log's order (time, source, id), as a condition
    on that source's own columns, so each table's index on its time serves it."""
    if source != cursor.source:
        # The other source's rows at the very same instant sort wholly before or after the cursor.
        if (source < cursor.source) == older:
            return at <= cursor.at if older else at >= cursor.at
        return at < cursor.at if older else at > cursor.at
    if older:
        return or_(at < cursor.at, and_(at == cursor.at, ident < cursor.id))
    return or_(at > cursor.at, and_(at == cursor.at, ident > cursor.id))


def _audit_rows(actions: tuple[str, ...] | None, cursor: Cursor | None, older: bool) -> Select:
    actor, subject = aliased(User), aliased(User)
    stmt = (
        select(
            literal_column(str(AUDIT), Integer).label("source"),
            AuditEvent.id.label("id"),
            AuditEvent.created_at.label("at"),
            AuditEvent.action.label("action"),
            AuditEvent.actor_id.label("actor_id"),
            actor.display_name.label("actor_name"),
            AuditEvent.subject_id.label("subject_id"),
            subject.display_name.label("subject_name"),
            AuditEvent.details.label("details"),
            cast(null(), String).label("course_title"),
            cast(null(), Text).label("summary"),
            cast(null(), UTCDateTime).label("restored_from_at"),
            cast(null(), Integer).label("from_files"),
        )
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(subject, subject.id == AuditEvent.subject_id)
    )
    if actions is not None:
        stmt = stmt.where(AuditEvent.action.in_(actions))
    if cursor is not None:
        stmt = stmt.where(_beyond(AuditEvent.created_at, AuditEvent.id, AUDIT, cursor, older=older))
    return stmt


def _publication_rows(cursor: Cursor | None, older: bool) -> Select:
    restored = aliased(CoursePublication)
    stmt = (
        select(
            literal_column(str(PUBLICATION), Integer).label("source"),
            CoursePublication.id.label("id"),
            CoursePublication.published_at.label("at"),
            cast(null(), String).label("action"),
            CoursePublication.published_by_id.label("actor_id"),
            User.display_name.label("actor_name"),
            cast(null(), Integer).label("subject_id"),
            cast(null(), String).label("subject_name"),
            CoursePublication.changes.label("details"),
            Course.title.label("course_title"),
            CoursePublication.summary.label("summary"),
            restored.published_at.label("restored_from_at"),
            cast(CoursePublication.from_files, Integer).label("from_files"),
        )
        .join(Course, Course.id == CoursePublication.course_id)
        .outerjoin(User, User.id == CoursePublication.published_by_id)
        .outerjoin(restored, restored.id == CoursePublication.restored_from_id)
    )
    if cursor is not None:
        stmt = stmt.where(
            _beyond(CoursePublication.published_at, CoursePublication.id, PUBLICATION, cursor, older=older)
        )
    return stmt


def _view_rows(cursor: Cursor | None, older: bool) -> Select:
    """Admins' openings of one learner's progress (a counsellor's are their own clients', and
    not an admin's action); by ``ix_progress_views_role_viewed``."""
    viewer, learner = aliased(User), aliased(User)
    stmt = (
        select(
            literal_column(str(VIEW), Integer).label("source"),
            ProgressView.id.label("id"),
            ProgressView.viewed_at.label("at"),
            cast(literal_column("'viewed'"), String).label("action"),
            ProgressView.viewer_id.label("actor_id"),
            viewer.display_name.label("actor_name"),
            ProgressView.learner_id.label("subject_id"),
            learner.display_name.label("subject_name"),
            cast(null(), JSON).label("details"),
            cast(null(), String).label("course_title"),
            cast(null(), Text).label("summary"),
            cast(null(), UTCDateTime).label("restored_from_at"),
            cast(null(), Integer).label("from_files"),
        )
        .outerjoin(viewer, viewer.id == ProgressView.viewer_id)
        .outerjoin(learner, learner.id == ProgressView.learner_id)
        .where(ProgressView.viewer_role == Role.ADMIN.value)
    )
    if cursor is not None:
        stmt = stmt.where(_beyond(ProgressView.viewed_at, ProgressView.id, VIEW, cursor, older=older))
    return stmt


def _rows(session: Session, *, kind: str, cursor: Cursor | None, older: bool, limit: int) -> list[Any]:
    """Up to ``limit`` rows past the cursor, nearest it first: older ones newest first, newer ones oldest first."""
    branches: list[Select] = []
    if kind in ("", "publications"):
        branches.append(_publication_rows(cursor, older))
    if kind in ("", "views"):
        branches.append(_view_rows(cursor, older))
    if kind not in _OWN_TABLES:
        branches.append(_audit_rows(KINDS[kind][1] if kind else None, cursor, older))
    log = (branches[0].union_all(*branches[1:]) if len(branches) > 1 else branches[0]).subquery()
    keys = (log.c.at, log.c.source, log.c.id)
    order = [key.desc() for key in keys] if older else [key.asc() for key in keys]
    return list(session.execute(select(log).order_by(*order).limit(limit)).all())


def _changes(changes: Any, summary: str | None) -> int:
    """How many changes a publication made; older ones recorded them only as "- " lines of the summary."""
    if isinstance(changes, list):
        return len(changes)
    return sum(1 for line in (summary or "").splitlines() if line.startswith("- "))


def _id_in(details: dict[str, Any], key: str) -> int | None:
    value = details.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _named(session: Session, key: Any, name: Any, ids: set[int]) -> dict[int, str]:
    """The names of these rows by id, in one query (none for no ids)."""
    if not ids:
        return {}
    return {row_id: row_name for row_id, row_name in session.execute(select(key, name).where(key.in_(ids)))}


def _entries(session: Session, rows: list[Any]) -> list[ActivityEntry]:
    """The rows as entries, with the names their details point at: at most three queries (the
    counsellors linked to, the courses downloaded from, the platforms), whatever the number."""
    audit_details = [row.details if isinstance(row.details, dict) else {} for row in rows if row.source == AUDIT]
    counsellor_ids = {i for d in audit_details if (i := _id_in(d, "counsellor_id")) is not None}
    course_ids = {i for d in audit_details if (i := _id_in(d, "course_id")) is not None}
    platform_ids = {i for d in audit_details if (i := _id_in(d, "platform_id")) is not None}
    names = _named(session, User.id, User.display_name, counsellor_ids)
    titles = _named(session, Course.id, Course.title, course_ids)
    platforms = _named(session, LtiPlatform.id, LtiPlatform.name, platform_ids)
    entries = []
    for row in rows:
        cursor = str(Cursor(row.at, row.source, row.id))
        if row.source == PUBLICATION:
            if row.from_files:
                action, actor = "imported", None
            else:
                action = "restored" if row.restored_from_at is not None else "published"
                actor = Person(row.actor_id, row.actor_name)
            entries.append(
                ActivityEntry(
                    at=row.at,
                    action=action,
                    kind="publications",
                    actor=actor,
                    course_title=row.course_title,
                    changes=_changes(row.details, row.summary),
                    restored_from_at=row.restored_from_at,
                    cursor=cursor,
                )
            )
            continue
        if row.source == VIEW:
            entries.append(
                ActivityEntry(
                    at=row.at,
                    action="viewed",
                    kind="views",
                    actor=Person(row.actor_id, row.actor_name),
                    subject=Person(row.subject_id, row.subject_name),
                    cursor=cursor,
                )
            )
            continue
        details = row.details if isinstance(row.details, dict) else {}
        counsellor_id = _id_in(details, "counsellor_id")
        course_id = _id_in(details, "course_id")
        platform_id = _id_in(details, "platform_id")
        listed = details.get("scopes")
        scopes: list[Any] = listed if isinstance(listed, list) else []
        entries.append(
            ActivityEntry(
                at=row.at,
                action=row.action,
                kind=kind_of(row.action),
                actor=Person(row.actor_id, row.actor_name),
                subject=Person(row.subject_id, row.subject_name) if row.action in ACCOUNT_ACTIONS else None,
                details=details,
                course_title=titles.get(course_id) if course_id is not None else None,
                platform_name=platforms.get(platform_id) if platform_id is not None else None,
                counsellor=Person(counsellor_id, names.get(counsellor_id)) if counsellor_id is not None else None,
                scopes=[SCOPE_WORDS.get(scope, scope) for scope in scopes if isinstance(scope, str)],
                cursor=cursor,
            )
        )
    return entries


def activity_page(
    session: Session,
    *,
    kind: str = "",
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> ActivityPage:
    """One page of the log, newest first: the newest entries, those just older than ``before``,
    or those just newer than ``after``; only those of ``kind`` when one is named (a key of KINDS).

    At most four queries (the page, then the names its entries point at), whatever the size of
    the log; five when ``after`` reaches the newest entries, which then show as the first page
    does, a full page. Raises UnknownKind for a kind the log does not have.
    """
    if kind and kind not in KINDS:
        raise UnknownKind(kind)
    if after is not None:
        rows = _rows(session, kind=kind, cursor=after, older=False, limit=limit + 1)
        if len(rows) <= limit:
            return activity_page(session, kind=kind, limit=limit)  # nothing newer beyond: the first page
        rows = rows[:limit][::-1]
        entries = _entries(session, rows)
        # The entry at ``after`` is older than this page, so an older page exists.
        return ActivityPage(entries=entries, kind=kind, older=entries[-1].cursor, newer=entries[0].cursor)
    rows = _rows(session, kind=kind, cursor=before, older=True, limit=limit + 1)
    more = len(rows) > limit
    entries = _entries(session, rows[:limit])
    return ActivityPage(
        entries=entries,
        kind=kind,
        older=entries[-1].cursor if more else None,
        # Reached from a newer page (``before``): that page is there to go back to. (A page with
        # no entries at all, from a made-up cursor, offers the newest entries instead.)
        newer=entries[0].cursor if before is not None and entries else None,
        is_first=before is None,
    )
