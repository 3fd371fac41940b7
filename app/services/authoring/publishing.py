"""Publishing the draft: what it would change (a dry run), and doing it.

Publishing is an import of the draft (course_import), which retires rather than deletes anything
learners have used. Learners only ever read the published rows.

The preview runs the import inside a SAVEPOINT and rolls that back, so it leaves the caller's
transaction, and anything pending in it, as it was. ``publish`` owns its transaction: it
validates, writes, and commits once; on any error it rolls back and raises, so a publish that
fails leaves the database as it was.

Each publication keeps the course it published (``CoursePublication.data``, read back from the
database after the import, so new rows have their ids) and its list of changes, so an earlier
version can be restored (app/services/authoring/history.py) through the same ``publish_data``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from app.models import Course, CourseDraft, CoursePublication, User
from app.models.types import utcnow
from app.services.authoring.draft import (
    DraftData,
    DraftError,
    DraftInvalid,
    draft_copy,
    draft_data,
    draft_get,
    draft_lesson_order,
    draft_modules,
    draft_review,
    published_data,
)
from app.services.authoring.learner_impact import learner_impact
from app.services.authoring.places import in_authors_words
from app.services.course_export import course_to_data
from app.services.course_files import CourseSpec, ReviewSpec, parse_course_data
from app.services.course_import import ImportReport, course_import_unsaved
from app.services.course_media import media_names
from app.services.course_quality import course_warnings, review_changed_since, review_predates_changes
from app.services.errors import CourseInvalid, Problem


class NothingToPublish(DraftError):
    """The draft does not differ from the published course."""


@dataclass
class PublishPreview:
    """What publishing the draft would change, or what stops it."""

    has_draft: bool
    changes: list[str] = field(default_factory=list)
    summary: str = ""
    problems: list[Problem] = field(default_factory=list)
    spec: CourseSpec | None = field(default=None, repr=False)
    # Quality warnings (app/services/course_quality.py): shown, never blocking.
    warnings: list[Problem] = field(default_factory=list)
    # What learners will notice (app/services/authoring/learner_impact.py), in sentences.
    for_learners: list[str] = field(default_factory=list)
    # Whether anything changes but the review's own details (ImportReport.content_changed).
    content_changed: bool = False

    @property
    def can_publish(self) -> bool:
        """Whether there is a valid draft that changes something."""
        return self.has_draft and bool(self.changes) and not self.problems


# --- what changed ------------------------------------------------------------------------------


def _relative_order(before: Sequence[object], after: Sequence[object]) -> bool:
    """Whether the items both lists hold come in a different order."""
    kept = set(before) & set(after)
    return [item for item in before if item in kept] != [item for item in after if item in kept]


def order_changes(published: DraftData, draft: DraftData) -> list[str]:
    """Moves the import report does not describe: lessons, questions and choices put in a new order."""
    changes = []
    old_module = {slug: m["slug"] for m in published["course"]["modules"] for slug in m["lessons"]}
    titles = {m["slug"]: m["title"] for m in draft_modules(draft)}
    for module in draft_modules(draft):
        old_lessons = [slug for slug in draft_lesson_order(published) if old_module.get(slug) == module["slug"]]
        for slug in module["lessons"]:
            if slug in old_module and old_module[slug] != module["slug"]:
                title = draft["lessons"][slug]["front"].get("title", slug)
                changes.append(f"Lesson “{title}” moved to module “{titles[module['slug']]}”")
        if _relative_order(old_lessons, module["lessons"]):
            changes.append(f"Module “{module['title']}”: lessons reordered")
    for slug in draft_lesson_order(draft):
        if slug not in published["lessons"]:
            continue
        title = draft["lessons"][slug]["front"].get("title", slug)
        old_quiz = {q["id"]: q for q in published["lessons"][slug]["front"].get("quiz", [])}
        new_quiz = [q for q in draft["lessons"][slug]["front"].get("quiz", []) if q.get("id") in old_quiz]
        if _relative_order(list(old_quiz), [q["id"] for q in new_quiz]):
            changes.append(f"Lesson “{title}”: questions reordered")
        for question in new_quiz:
            old_ids = [c["id"] for c in old_quiz[question["id"]]["choices"]]
            if _relative_order(old_ids, [c.get("id") for c in question["choices"]]):
                changes.append(f"Lesson “{title}”, question “{question['prompt']}”: choices reordered")
    return changes


def _summary(report: ImportReport, moves: list[str]) -> str:
    """One line for the publication record: the import's summary, and how many items moved."""
    summary = report.summary() if report.changed else f"{report.course_slug}:"
    if moves:
        summary = summary.rstrip(".:") + ("; " if report.changed else " ") + f"reordered {len(moves)} item(s)."
    return summary


@contextmanager
def _rolled_back(session: Session) -> Iterator[None]:
    """Run the block inside a SAVEPOINT that is always rolled back.

    What the block wrote is undone; the caller's transaction, and what it had pending (flushed
    when the savepoint starts), stay as they were, and the session stays usable.
    """
    # SQLite needs no pysqlite "BEGIN" workaround for this: since Python 3.6 the sqlite3 module
    # asks SQLite whether a transaction is open instead of guessing, so a SAVEPOINT inside its
    # transaction, or one that opens it, rolls back correctly. The remaining hazard (RELEASE of
    # a savepoint that opened the transaction commits it) cannot arise: this one is only ever
    # rolled back. tests/services/test_authoring_transactions.py checks it on both databases.
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


# --- preview and publish -----------------------------------------------------------------------


def _spec(session: Session, course: Course, data: DraftData) -> CourseSpec:
    """Check ``data`` by the course files' rules (row ids allowed); raise CourseInvalid with every problem."""
    # Its lessons may show only images the course has (app/services/course_media.py).
    spec = parse_course_data(cast(dict, data), allow_ids=True, media_names=media_names(session, course))
    if spec.slug != course.slug:
        # The importer finds its course by slug: other data would change (or create) another course.
        raise CourseInvalid([Problem("course.yaml", "slug", f"must be “{course.slug}”, the course being published")])
    return spec


def publish_preview(session: Session, *, course: Course) -> PublishPreview:
    """Work out what publishing the draft would change, or what stops it.

    The import is dry-run inside a savepoint that is rolled back: the caller's session, with
    anything pending in it, is left as it was.
    """
    draft = draft_get(session, course)
    if draft is None:
        return PublishPreview(has_draft=False)
    reviewed_before = course.reviewed_on  # as learners see it now
    data = draft_copy(draft)
    preview = data_preview(session, course=course, data=data)
    if preview.can_publish and preview.content_changed and preview.spec is not None:
        stale_review = review_predates_changes(preview.spec, reviewed_before=reviewed_before, marks_on=utcnow().date())
        preview.warnings[:0] = in_authors_words([stale_review], data) if stale_review else []
    return preview


def data_preview(session: Session, *, course: Course, data: DraftData) -> PublishPreview:
    """Work out what publishing ``data`` (course data with row ids) would change, or what stops it.

    The draft's preview, and an earlier version's before it is restored. Dry-runs the import in
    a savepoint that is rolled back, leaving the caller's session as it was.
    """
    try:
        spec = _spec(session, course, data)
    except CourseInvalid as invalid:
        return PublishPreview(has_draft=True, problems=in_authors_words(invalid.problems, data))
    published = published_data(session, course)
    moves = order_changes(published, data)
    for_learners = learner_impact(session, course=course, published=published, coming=data)
    with _rolled_back(session):
        report = course_import_unsaved(session, spec)
    return PublishPreview(
        has_draft=True,
        changes=report.changes + moves,
        summary=_summary(report, moves),
        spec=spec,
        warnings=in_authors_words(course_warnings(spec), data),
        for_learners=for_learners,
        content_changed=report.content_changed or bool(moves),
    )


PUBLISHED_MEANWHILE = "These changes were published, or discarded, a moment ago: there is nothing left to publish."


def publish(session: Session, *, course: Course, user_id: int | None = None) -> CoursePublication:
    """Publish the draft: import it, record the publication and drop the draft, in one transaction.

    Validates the draft, then writes, then commits once. Raises NothingToPublish when there is
    no draft or it changes nothing, DraftInvalid when it breaks a rule; on any error the session
    is rolled back, so the database (the draft included) is as it was.
    """
    try:
        draft = draft_get(session, course)
        if draft is None:
            raise NothingToPublish("There are no unpublished changes.")
        data = draft_copy(draft)
        # Claim the draft before writing anything: a second publish of it at the same moment (a
        # double click, another admin) waits here for this one, then finds it gone. Deleted later,
        # it failed at the commit instead, a 500.
        claimed = cast("CursorResult[Any]", session.execute(delete(CourseDraft).where(CourseDraft.id == draft.id)))
        if claimed.rowcount != 1:
            raise NothingToPublish(PUBLISHED_MEANWHILE)
        publication = publish_data(session, course=course, data=data, user_id=user_id, marks_unreviewed_changes=True)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return publication


def publish_data(
    session: Session,
    *,
    course: Course,
    data: DraftData,
    user_id: int | None,
    headline: str = "",
    restored_from_id: int | None = None,
    marks_unreviewed_changes: bool = False,
) -> CoursePublication:
    """Import ``data`` (course data with row ids) as the published course and record the publication.

    Neither commits nor rolls back, for a caller that owns the transaction (``publish``, and
    restoring an earlier version). Raises DraftInvalid when the data breaks a rule and
    NothingToPublish when it changes nothing, leaving what it wrote for the caller to roll back.
    ``headline`` starts the summary (a restore says which version it brought back).
    ``marks_unreviewed_changes`` (publishing a draft): content that changes under the review date
    learners saw is recorded as changed today (``_record_change_since_review``). A restore brings
    back the version as it was published, its record of unreviewed changes included.
    """
    try:
        spec = _spec(session, course, data)
    except CourseInvalid as invalid:
        raise DraftInvalid(invalid.problems, other=[str(problem) for problem in invalid.problems]) from None
    moves = order_changes(published_data(session, course), data)
    reviewed_before = course.reviewed_on  # as learners saw it, before the import changes it
    report = course_import_unsaved(session, spec)
    changes = report.changes + moves
    if not changes:
        raise NothingToPublish("There are no unpublished changes.")
    if marks_unreviewed_changes:
        _record_change_since_review(
            session,
            course,
            spec,
            reviewed_before=reviewed_before,
            content_changed=report.content_changed or bool(moves),
        )
    # The snapshot is read back from the rows just written (flushed), so rows the import created
    # carry their new ids. Loaded objects are expired first: collections loaded before the import
    # (the live questions order_changes read, a deleted misconception) would otherwise be stale.
    session.expire_all()
    publication = CoursePublication(
        course_id=course.id,
        published_by_id=user_id,
        summary="".join(f"{line}\n" for line in (headline, _summary(report, moves)) if line)
        + "".join(f"- {change}\n" for change in changes),
        data=cast(dict, published_data(session, course)),
        changes=changes,
        restored_from_id=restored_from_id,
    )
    session.add(publication)
    return publication


def _record_change_since_review(
    session: Session, course: Course, spec: CourseSpec, *, reviewed_before: date | None, content_changed: bool
) -> None:
    """Record on the just-imported course the day its content changed without a new review.

    So the lessons never claim a review of text nobody reviewed, without the author having to
    remember: they say it changed that day and that the changes await the clinical review (the
    publish page's warning says so beforehand). Dating the review again clears it
    (``review_changed_since``).
    """
    if spec.review is None:
        return
    day = review_changed_since(
        reviewed_on=spec.review.reviewed_on,
        reviewed_before=reviewed_before,
        recorded=spec.review.changed_since_review_on,
        content_changed_on=utcnow().date() if content_changed else None,
    )
    if day != course.changed_since_review_on:
        course.changed_since_review_on = day
        session.flush()  # before the snapshot expires and reads back the course


def review_once_edited(data: DraftData, *, course: Course) -> ReviewSpec | None:
    """The draft's review as lessons will show it once content edited in it is published.

    For the lesson editor's preview, which shows a lesson exactly as learners will see it:
    publishing a content change under the review date learners see now records it as changed
    that day (``_record_change_since_review``), and the lesson says so.
    """
    review = draft_review(data)
    if review is None:
        return None
    review.changed_since_review_on = review_changed_since(
        reviewed_on=review.reviewed_on,
        reviewed_before=course.reviewed_on,
        recorded=review.changed_since_review_on,
        content_changed_on=utcnow().date(),
    )
    return review


IMPORTED_HEADLINE = "Imported from the course files."


class DraftInTheWay(DraftError):
    """The course has unpublished edits, and importing over them would be undone by publishing them."""


IMPORT_DRAFT_IN_THE_WAY = (
    "The course “{slug}” has unpublished changes in its draft. Publish or discard them first (at /author/), "
    "or import with --discard-draft: the draft was made from the course as it is now, so publishing it "
    "after the import would put back everything the import changed."
)


class PublishedInTheWay(DraftError):
    """Importing the files would undo, without a word, what an admin published (from a draft, or
    by restoring a version) since the files were last imported."""


IMPORT_PUBLISHED_IN_THE_WAY = (
    "The course “{slug}” was last published by {who} on {when}, and these files would undo what admins "
    "changed since the files were last imported: {parts}. Write the published course out (flask courses "
    "export {slug} PATH), bring those changes into the files, then import again; or import with "
    "--overwrite-published to replace them with the files as they are (they stay in the course's history)."
)


def _without_ids(value: Any) -> Any:
    """Course data with its row ids taken out: what the files can say, and nothing else."""
    if isinstance(value, dict):
        return {key: _without_ids(item) for key, item in value.items() if key != "id"}
    if isinstance(value, list):
        return [_without_ids(item) for item in value]
    return value


def _parts(data: Mapping[str, Any]) -> dict[str, Any]:
    """Course data cut into the parts an admin edits apart, each named as the message names it."""
    course = dict(data["course"])
    modules = course.pop("modules", None)
    misconceptions = course.pop("misconceptions", None) or {}
    parts: dict[str, Any] = {"the course's details": course, "the modules": modules}
    parts |= {f"misconception “{code}”": item for code, item in misconceptions.items()}
    parts |= {f"lesson “{slug}”": lesson for slug, lesson in data["lessons"].items()}
    return parts


def admin_changes_undone(
    last_import: Mapping[str, Any], published: Mapping[str, Any], files: Mapping[str, Any]
) -> list[str]:
    """The parts an admin changed since the files were last imported (``last_import`` differs from
    ``published`` there) that ``files`` would change again (it differs from ``published`` there):
    what the import would undo. A three-way comparison, so files that took the admins' changes in
    (exported, merged) import without a word, and so do files after an admin restored their version.
    """
    base, now, new = (_parts(_without_ids(data)) for data in (last_import, published, files))
    names = base.keys() | now.keys() | new.keys()
    return sorted(name for name in names if base.get(name) != now.get(name) and new.get(name) != now.get(name))


def _last_import(session: Session, course: Course) -> CoursePublication | None:
    """The course's latest publication from its files that kept what it published, if any."""
    return session.scalar(
        select(CoursePublication)
        .where(
            CoursePublication.course_id == course.id,
            CoursePublication.from_files.is_(True),
            CoursePublication.data.is_not(None),
        )
        .order_by(CoursePublication.id.desc())
        .limit(1)
    )


def _refuse_undoing_admins(session: Session, course: Course, published: Mapping[str, Any] | None) -> None:
    """Raise PublishedInTheWay if the import just made (not committed) undoes an admin's changes.

    ``published``: the course as learners saw it before the import. With no import on record to
    compare with (a course imported before imports kept their data), any change over an admin's
    latest publication is refused: nothing tells which parts were theirs.
    """
    latest = last_publication(session, course=course)
    if published is None or latest is None or latest.from_files:
        return  # nothing published by an admin since the last import
    base = _last_import(session, course)
    session.expire_all()  # read back what the import wrote
    files = published_data(session, course)
    undone = admin_changes_undone(base.data, published, files) if base is not None and base.data else ["the course"]
    if undone:
        publisher = session.get(User, latest.published_by_id) if latest.published_by_id else None
        raise PublishedInTheWay(
            IMPORT_PUBLISHED_IN_THE_WAY.format(
                slug=course.slug,
                who=publisher.display_name if publisher else "an admin",
                when=latest.published_at.date().isoformat(),
                parts=", ".join(undone),
            )
        )


def import_from_files(
    session: Session, spec: CourseSpec, *, discard_draft: bool = False, overwrite_published: bool = False
) -> ImportReport:
    """Import a course from its files (``flask courses import``) and record it in the course's
    publication history, as publishing a draft does; commits, or rolls back on any error.

    A draft in the way (unpublished edits) stops an import that changes the course
    (DraftInTheWay), unless ``discard_draft``: then it is thrown away in the same transaction.
    So does a publication an admin made since the files were last imported (PublishedInTheWay),
    unless ``overwrite_published``: the files would otherwise silently undo what they published.

    Recorded when the import changed the course, and also when the history has no version an
    admin could restore (a new course, or one imported before imports were recorded): so the
    version learners see is always in the history, and the first publication from a draft can
    be undone by restoring the imported one.
    """
    try:
        existing = session.scalars(select(Course).where(Course.slug == spec.slug)).first()
        # The course as learners see it now, to tell which admins' changes the files would undo.
        published = published_data(session, existing) if existing is not None and not overwrite_published else None
        reviewed_before = existing.reviewed_on if existing is not None else None  # before the import changes it
        recorded_before = existing.changed_since_review_on if existing is not None else None
        report = course_import_unsaved(session, spec)
        course = session.scalars(select(Course).where(Course.slug == spec.slug)).one()
        if report.changed and draft_get(session, course) is not None:
            if not discard_draft:  # an import that changes nothing leaves the draft as true as it was
                raise DraftInTheWay(IMPORT_DRAFT_IN_THE_WAY.format(slug=spec.slug))
            session.execute(delete(CourseDraft).where(CourseDraft.course_id == course.id))
        if report.changed:
            _refuse_undoing_admins(session, course, published)
        if report.content_changed:
            stale_review = review_predates_changes(
                spec, reviewed_before=reviewed_before, recorded_before=recorded_before
            )
            report.warnings.extend([stale_review] if stale_review else [])
        restorable = session.scalar(
            select(CoursePublication.id)
            .where(CoursePublication.course_id == course.id, CoursePublication.data.is_not(None))
            .limit(1)
        )
        if report.changed or restorable is None:
            session.expire_all()  # read back what the import wrote, new rows with their ids (as publish_data)
            session.add(
                CoursePublication(
                    course_id=course.id,
                    published_by_id=None,
                    from_files=True,
                    summary=f"{IMPORTED_HEADLINE}\n{_summary(report, [])}\n"
                    + "".join(f"- {change}\n" for change in report.changes),
                    data=cast(dict, published_data(session, course)),
                    changes=report.changes,
                )
            )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return report


def quality_warnings(session: Session, *, course: Course, preview: PublishPreview) -> list[Problem]:
    """The quality warnings of the valid draft in ``preview``, or else of the published course."""
    if preview.spec is not None:
        return preview.warnings
    if preview.problems:
        return []  # the draft's problems come first; its warnings follow once it is valid
    data = course_to_data(session, course)
    try:
        return in_authors_words(course_warnings(parse_course_data(data)), data)
    except CourseInvalid:
        return []


def last_publication(session: Session, *, course: Course) -> CoursePublication | None:
    """The course's most recent publication, if any."""
    return session.scalar(
        select(CoursePublication)
        .where(CoursePublication.course_id == course.id)
        .order_by(CoursePublication.published_at.desc(), CoursePublication.id.desc())
        .limit(1)
    )


@dataclass
class CourseOverview:
    """One course as its draft stands: what the authoring home shows for it."""

    slug: str
    data: DraftData
    preview: PublishPreview
    last: CoursePublication | None
    warnings: list[Problem]


def course_overviews(session: Session) -> list[CourseOverview]:
    """Every course by title, each with its draft, what publishing would change, its last
    publication and its quality warnings."""
    overviews = []
    for course in session.scalars(select(Course).order_by(Course.title)):
        preview = publish_preview(session, course=course)
        overviews.append(
            CourseOverview(
                slug=course.slug,
                data=draft_data(session, course),
                preview=preview,
                last=last_publication(session, course=course),
                warnings=quality_warnings(session, course=course, preview=preview),
            )
        )
    return overviews
