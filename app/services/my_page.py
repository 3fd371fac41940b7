"""What /me/ shows beside the course outline, read in one query.

The learner's page lists whom they share their progress with and who has looked at it, their
requests to the clinic, and, per lesson, how their quiz attempts went (how many, the best, the
latest). Each was its own query; here they are one UNION ALL, run as a Read (one round trip
outside any transaction, app/services/reads.py). Every row carries every part's columns, the
other parts' typed NULLs, and a first column naming its part.

The attempts come summarised by the database (window functions): two rows per lesson at most,
whatever the history, where the page once read every attempt with the outline and drew them
all (a learner who retakes quizzes has hundreds). The full history of a lesson stays on its
lesson and quiz pages, which /me/ links to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from app.models import ContactRequest, Lesson, QuizAttempt
from app.services.attempt_history import AttemptSummary, LessonAttemptsSummary, summary_columns
from app.services.reads import Read, read_rows
from app.services.sharing import SharingOverview, sharing_overview_from_rows, sharing_overview_selects


@dataclass(frozen=True)
class MyContactRequest:
    """One of the person's requests to the clinic, as /me/ describes it (erased fields are None)."""

    id: int
    status: str
    topic: str | None
    contact_by: str
    phone: str | None
    email: str | None
    progress_attached: bool
    created_at: datetime


@dataclass(frozen=True)
class MyPage:
    """The parts of /me/ beside the outline."""

    sharing: SharingOverview
    contact_requests: list[MyContactRequest]
    # Per lesson id of the course, how the learner's attempts at its quiz went; no key before the first.
    attempts: dict[int, LessonAttemptsSummary]


_CONTACT_COLUMNS: tuple[Any, ...] = (  # model attributes, read as columns
    ContactRequest.id,
    ContactRequest.status,
    ContactRequest.topic,
    ContactRequest.contact_by,
    ContactRequest.phone,
    ContactRequest.email,
    ContactRequest.progress_attached,
    ContactRequest.created_at,
)


def _ranked_attempts(learner_id, course_id):
    """Each of the learner's attempts in the course, with its lesson's count and two ranks.

    ``newest`` 1 is the latest (the later id when two share a time, as attempts_by_lesson
    orders them); ``best`` 1 is the most right answers as a share of the questions asked, the
    earliest of equals (attempt_history.summarise's rule, which the tests hold this to).
    """
    share = case(
        (QuizAttempt.question_count > 0, cast(QuizAttempt.correct_count, Float) / QuizAttempt.question_count),
        else_=0.0,
    )
    by_lesson = QuizAttempt.lesson_id
    return (
        select(
            *summary_columns(),
            func.count().over(partition_by=by_lesson).label("attempts"),
            func.row_number(type_=Integer)
            .over(partition_by=by_lesson, order_by=(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc()))
            .label("newest"),
            func.row_number(type_=Integer)
            .over(partition_by=by_lesson, order_by=(share.desc(), QuizAttempt.submitted_at, QuizAttempt.id))
            .label("best"),
        )
        .join(Lesson, Lesson.id == QuizAttempt.lesson_id)
        .where(QuizAttempt.user_id == learner_id, Lesson.course_id == course_id)
        .subquery("ranked")
    )


def _ranked_columns(ranked) -> tuple[Any, ...]:
    """The columns of _ranked_attempts' rows a summary is made from, in _summaries' order."""
    return (
        ranked.c.id,
        ranked.c.lesson_id,
        ranked.c.submitted_at,
        ranked.c.correct_count,
        ranked.c.question_count,
        ranked.c.passed,
        ranked.c.attempts,
        ranked.c.newest,
        ranked.c.best,
    )


def my_page_selects(learner_id: ColumnElement[int], course_id: ColumnElement[int]) -> list[Select]:
    """The SELECTs to UNION ALL (in this order): sharing links, views and handover requests, contact requests, then
    the attempt summaries of ``learner_id`` in ``course_id`` (each a bound parameter or an
    expression: signed_in_user.py reads them with the user, by the login session's token).

    Each row has the same columns: the part's name, then every part's own columns in turn,
    the other parts' typed NULLs. A ``view_limit`` parameter caps the views listed.
    """
    sharing = sharing_overview_selects(learner_id)
    ranked = _ranked_attempts(learner_id, course_id)
    attempt_columns = _ranked_columns(ranked)
    sharing_types = [column.type for column in sharing[0].selected_columns]
    contact_types = [column.type for column in _CONTACT_COLUMNS]
    attempt_types = [column.type for column in attempt_columns]

    def padded(kind: str, part: Select, own: Sequence[ColumnElement], before: list, after: list) -> Select:
        """``part`` with its ``own`` columns between typed NULLs for the parts before and after it."""
        nulls_before = [cast(null(), kind_).label(f"before_{i}") for i, kind_ in enumerate(before)]
        nulls_after = [cast(null(), kind_).label(f"after_{i}") for i, kind_ in enumerate(after)]
        return part.with_only_columns(literal(kind).label("part"), *nulls_before, *own, *nulls_after)

    sharing_parts = [
        padded("sharing", part, list(part.selected_columns), [], contact_types + attempt_types) for part in sharing
    ]
    contact = padded(
        "contact",
        select(*_CONTACT_COLUMNS).where(ContactRequest.requester_id == learner_id),
        _CONTACT_COLUMNS,
        sharing_types,
        attempt_types,
    )
    attempts = padded(
        "attempt",
        select(*attempt_columns).where(or_(ranked.c.newest == 1, ranked.c.best == 1)),
        attempt_columns,
        sharing_types + contact_types,
        [],
    )
    return [*sharing_parts, contact, attempts]


def _statement():
    """my_page_selects for bound ``learner_id`` and ``course_id``, as one UNION ALL."""
    learner_id: BindParameter[int] = bindparam("learner_id")
    course_id: BindParameter[int] = bindparam("course_id")
    # A UNION ALL keeps no order: my_page sorts the contact requests, sharing_overview_from_rows the rest.
    return union_all(*my_page_selects(learner_id, course_id))


_MY_PAGE = Read(_statement())  # built once: /me/ runs it on every visit
VIEW_LIMIT = 100  # the views of the learner's progress /me/ lists, newest first
_SHARING_WIDTH = 6  # the sharing part's columns (sharing_overview_selects)
_CONTACT_WIDTH = len(_CONTACT_COLUMNS)


def my_page(
    session: Session,
    *,
    learner_id: int,
    course_id: int | None,
    view_limit: int = VIEW_LIMIT,
    rows: list[tuple] | None = None,
) -> MyPage:
    """Whom the learner shares with and who looked, their requests to the clinic, and their
    attempts at the course's quizzes summarised per lesson (1 query; none given ``rows``).

    ``course_id``: the course whose attempts to summarise (None: no course, no attempts).
    ``rows``: the rows of my_page_selects, already read (with the signed-in user).
    """
    if rows is None:
        params = {
            "learner_id": learner_id,
            "course_id": -1 if course_id is None else course_id,
            "view_limit": view_limit,
        }
        rows = read_rows(session, _MY_PAGE, params)
    return my_page_from_rows(rows)


def my_page_from_rows(rows: list[tuple]) -> MyPage:
    """The parts of /me/ from the rows of my_page_selects, in the page's order."""
    sharing_rows, requests, attempt_rows = [], [], []
    contact_start = 1 + _SHARING_WIDTH
    attempt_start = contact_start + _CONTACT_WIDTH
    for row in rows:
        if row[0] == "sharing":
            sharing_rows.append(tuple(row[1:contact_start]))
        elif row[0] == "contact":
            requests.append(MyContactRequest(*row[contact_start:attempt_start]))
        else:
            attempt_rows.append(row[attempt_start:])
    requests.sort(key=lambda request: (request.created_at, request.id), reverse=True)
    return MyPage(
        sharing=sharing_overview_from_rows(sharing_rows),
        contact_requests=requests,
        attempts=_summaries(attempt_rows),
    )


def _summaries(rows: Sequence[Sequence]) -> dict[int, LessonAttemptsSummary]:
    """Per lesson id, the summary from _ranked_attempts' rows of the newest and the best attempts."""
    newest, best, counts = {}, {}, {}
    for attempt_id, lesson_id, submitted_at, correct, questions, passed, count, is_newest, is_best in rows:
        attempt = AttemptSummary(attempt_id, lesson_id, submitted_at, correct, questions, bool(passed))
        counts[lesson_id] = count
        if is_newest == 1:
            newest[lesson_id] = attempt
        if is_best == 1:
            best[lesson_id] = attempt
    return {
        lesson_id: LessonAttemptsSummary(count=counts[lesson_id], best=best[lesson_id], latest=newest[lesson_id])
        for lesson_id in counts
    }


def lesson_attempt_summaries(session: Session, *, learner_id: int, course_id: int) -> dict[int, LessonAttemptsSummary]:
    """Per lesson of the course the learner has tried, how many attempts, the best and the latest.

    One query of two rows a lesson at most, whatever the history: the window /me/ reads with
    its other parts (the API's progress reads it alone).
    """
    ranked = _ranked_attempts(learner_id, course_id)
    statement = select(*_ranked_columns(ranked)).where(or_(ranked.c.newest == 1, ranked.c.best == 1))
    return _summaries(session.execute(statement).all())
