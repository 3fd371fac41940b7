"""xAPI: what learners do, told to the site's learning record store (LRS), under a pseudonym.

When a site configures a store (XAPI_ENDPOINT, with XAPI_USERNAME and XAPI_PASSWORD: the
store's key and secret), four events become statements:

- ``experienced`` a lesson, the first time the learner opens it (or its quiz);
- ``answered`` each question of a quiz attempt, as a ``cmi.interaction`` of the choice type with
  the response and whether it was right;
- ``passed`` or ``failed`` the lesson's quiz, with the score;
- ``completed`` the course, when its last lesson is completed.

The actor is never the person: it is an account on the site (``homePage``) whose ``name`` is a
random id kept in ``xapi_actors`` (made when the first statement is sent), so the store learns
nothing a learner typed about themselves. Deleting the account deletes that id and every
statement not yet sent (CASCADE): from then on nothing links the store's statements to anyone.

Reliability is an outbox: each statement is a row of ``xapi_statements`` written in the same
transaction as its event, with the statement id chosen then. After the commit a job sends what
is waiting (app/jobs/xapi.py), each statement by PUT with its id, and deletes the rows the store
accepted. A store that is down leaves the rows for the retries and the periodic run; one that
already has a statement (a resend after a crash) answers 204 or 409, which both mean "stored".
With no store configured nothing is written at all, so the learner pages run no extra query.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import secrets
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from flask import current_app, has_app_context
from sqlalchemy import CursorResult, delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import Course, Lesson, XapiActor, XapiStatement
from app.models.types import as_utc, utcnow
from app.urls import external_url

logger = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
VERBS = {
    name: {"id": f"http://adlnet.gov/expapi/verbs/{name}", "display": {"en": name}}
    for name in ("experienced", "answered", "passed", "failed", "completed")
}
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "assessment": "http://adlnet.gov/expapi/activities/assessment",
    "interaction": "http://adlnet.gov/expapi/activities/cmi.interaction",
}
# Sent per run of the job; the rest wait for the next run (queued right after each event).
BATCH = 200


@dataclass(frozen=True)
class XapiStore:
    """Where statements go: the store's xAPI base URL and the credentials it gave the site."""

    endpoint: str
    username: str
    password: str
    timeout: float = 10

    @property
    def statements_url(self) -> str:
        """The store's Statements resource."""
        return self.endpoint.rstrip("/") + "/statements"


def xapi_store(config: Mapping[str, Any]) -> XapiStore | None:
    """The store the site's configuration names, or None: statements are off."""
    endpoint = (config.get("XAPI_ENDPOINT") or "").strip()
    if not endpoint:
        return None
    if urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
        # A typo must not turn learners' pages into errors: statements stay off, and the log says why.
        logger.error("XAPI_ENDPOINT is not an http(s) URL; xAPI statements are off: %r", endpoint)
        return None
    return XapiStore(
        endpoint=endpoint,
        username=config.get("XAPI_USERNAME") or "",
        password=config.get("XAPI_PASSWORD") or "",
        timeout=float(config.get("XAPI_TIMEOUT") or 10),
    )


def _store() -> XapiStore | None:
    return xapi_store(current_app.config) if has_app_context() else None


def xapi_records() -> bool:
    """Whether statements are queued for a learning record store (one is configured)."""
    return _store() is not None


def _activity(activity_id: str, kind: str, name: str, **definition: Any) -> dict:
    return {
        "objectType": "Activity",
        "id": activity_id,
        "definition": {"type": ACTIVITY_TYPES[kind], "name": {"en": name}, **definition},
    }


@dataclass(frozen=True)
class _Place:
    """The course and lesson activities a statement about one lesson refers to."""

    course: dict
    lesson: dict
    quiz: dict


def _place(session: Session, lesson_id: int) -> _Place:
    course_slug, course_title, lesson_slug, lesson_title = session.execute(
        select(Course.slug, Course.title, Lesson.slug, Lesson.title)
        .join(Lesson, Lesson.course_id == Course.id)
        .where(Lesson.id == lesson_id)
    ).one()
    lesson_url = external_url("learn.lesson", course_slug=course_slug, lesson_slug=lesson_slug)
    quiz_url = external_url("learn.quiz", course_slug=course_slug, lesson_slug=lesson_slug)
    return _Place(
        course=_activity(external_url("learn.course", course_slug=course_slug), "course", course_title),
        lesson=_activity(lesson_url, "lesson", lesson_title),
        quiz=_activity(quiz_url, "assessment", f"Quiz: {lesson_title}"),
    )


def _queue(session: Session, *, user_id: int, verb: str, obj: dict, when: datetime, **parts: Any) -> str:
    """Add one statement (without its actor) to the outbox, in the caller's transaction."""
    statement_id = str(uuid.uuid4())
    statement = {"id": statement_id, "verb": VERBS[verb], "object": obj, "timestamp": when.isoformat(), **parts}
    session.add(XapiStatement(id=statement_id, user_id=user_id, statement=statement, created_at=when))
    session.info["xapi_queued"] = True
    return statement_id


def xapi_lesson_opened(session: Session, *, learner_id: int, lesson_id: int, when: datetime) -> None:
    """Queue ``experienced`` for the lesson if a store is configured; the caller commits."""
    if _store() is None:
        return
    place = _place(session, lesson_id)
    _queue(
        session,
        user_id=learner_id,
        verb="experienced",
        obj=place.lesson,
        when=when,
        context={"contextActivities": {"parent": [place.course]}},
    )


class _Choice(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def is_correct(self) -> bool: ...


class _Question(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def prompt(self) -> str: ...
    @property
    def live_choices(self) -> Sequence[_Choice]: ...


def _response(choice_ids: Iterable[int]) -> str:
    # The xAPI form of a choice interaction's response: choice ids joined by "[,]".
    return "[,]".join(f"choice-{choice_id}" for choice_id in sorted(choice_ids))


def xapi_quiz_submitted(
    session: Session,
    *,
    learner_id: int,
    lesson_id: int,
    questions: Sequence[_Question],
    chosen: Mapping[int, Iterable[int]],
    results: Mapping[int, bool],
    correct_count: int,
    passed: bool,
    when: datetime,
) -> None:
    """Queue ``answered`` per question and ``passed`` or ``failed`` for the quiz; the caller commits.

    ``chosen`` and ``results`` map each question's id to the choice ids picked and whether that
    was right. Nothing is queued when no store is configured.
    """
    if _store() is None:
        return
    place = _place(session, lesson_id)
    context = {"contextActivities": {"parent": [place.quiz], "grouping": [place.lesson, place.course]}}
    for question in questions:
        interaction = _activity(
            f"{place.quiz['id']}#question-{question.id}",
            "interaction",
            question.prompt,
            description={"en": question.prompt},
            interactionType="choice",
            choices=[{"id": f"choice-{c.id}", "description": {"en": c.text}} for c in question.live_choices],
            correctResponsesPattern=[_response(c.id for c in question.live_choices if c.is_correct)],
        )
        result = {"response": _response(chosen.get(question.id, ())), "success": bool(results[question.id])}
        _queue(session, user_id=learner_id, verb="answered", obj=interaction, when=when, result=result, context=context)
    total = len(questions)
    _queue(
        session,
        user_id=learner_id,
        verb="passed" if passed else "failed",
        obj=place.quiz,
        when=when,
        result={
            "score": {"scaled": round(correct_count / total, 4), "raw": correct_count, "min": 0, "max": total},
            "success": passed,
            "completion": True,
        },
        context={"contextActivities": {"parent": [place.lesson], "grouping": [place.course]}},
    )


def xapi_course_completed(session: Session, *, learner_id: int, lesson_id: int, when: datetime) -> None:
    """Queue ``completed`` for the course of the lesson just completed (its last); the caller commits."""
    if _store() is None:
        return
    place = _place(session, lesson_id)
    _queue(session, user_id=learner_id, verb="completed", obj=place.course, when=when, result={"completion": True})


def _after_commit(session: Session) -> None:
    # Statements are read by the job in a session of its own: only committed rows are worth a job.
    if session.info.pop("xapi_queued", False):
        from app.jobs.xapi import send_statements  # the job module imports this one

        try:
            send_statements()
        except (
            Exception
        ):  # the queue is unreachable (Redis down): raised here, it failed a request whose work was saved
            # The statements wait in their table; the five-minute run (send_statements_regularly) sends them.
            logger.warning("xAPI statements wait for the next run: the queue is unreachable.")


def _after_rollback(session: Session) -> None:
    session.info.pop("xapi_queued", None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", lambda session, previous: _after_rollback(session))


def xapi_actor_name(session: Session, *, user_id: int) -> str:
    """The learner's pseudonym in the store, made now if they have none; the caller commits."""
    name = session.scalar(select(XapiActor.name).where(XapiActor.user_id == user_id))
    if name is not None:
        return name
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Two jobs may make it at once: the first one's id stays and both read it back.
    values = {"user_id": user_id, "name": secrets.token_hex(16), "created_at": utcnow()}
    session.execute(insert(XapiActor).values(**values).on_conflict_do_nothing(index_elements=["user_id"]))
    return session.scalars(select(XapiActor.name).where(XapiActor.user_id == user_id)).one()


def xapi_actor(name: str) -> dict:
    """The statement actor for a pseudonym: an account on this site, nothing else."""
    return {"objectType": "Agent", "account": {"homePage": current_app.config["PUBLIC_URL"], "name": name}}


class StoreUnavailable(Exception):
    """The store did not take the statements (down, timed out, or answered with an error)."""


# What sending one statement needs: (store, statement id, statement) -> (HTTP status, body).
Put = Callable[[XapiStore, str, dict], tuple[int, str]]


def put_statement(store: XapiStore, statement_id: str, statement: dict) -> tuple[int, str]:
    """PUT one statement under its id; the store's status and body (raises StoreUnavailable if
    it cannot be reached). The standard library is enough for one JSON request; http.client
    speaks only HTTP and HTTPS, whatever the configured URL says."""
    url = urllib.parse.urlsplit(store.statements_url)
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    credentials = base64.b64encode(f"{store.username}:{store.password}".encode()).decode()
    path = (url.path or "/") + "?" + urllib.parse.urlencode({"statementId": statement_id})
    connection = connection_class(url.netloc, timeout=store.timeout)
    try:
        connection.request(
            "PUT",
            path,
            body=json.dumps(statement).encode(),
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/json",
                "X-Experience-API-Version": XAPI_VERSION,
            },
        )
        response = connection.getresponse()
        return response.status, response.read(1000).decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:  # refused, timed out, reset, garbled
        raise StoreUnavailable(f"The learning record store is unreachable: {error}") from error
    finally:
        connection.close()


@dataclass(frozen=True)
class SendReport:
    """What one run sent, and how many statements still wait."""

    sent: int
    waiting: int


def xapi_send_pending(session: Session, store: XapiStore, *, put: Put = put_statement) -> SendReport:
    """Send the oldest waiting statements to the store, deleting each once it is stored; commits.

    Raises StoreUnavailable when the store cannot be reached or answers with a server error
    (the rows stay, with their attempt count and the reason, for the next try). A statement the
    store rejects as malformed (400, 413) is logged and set aside (``refused_at``): it leaves the
    send order, so refused statements can never fill a batch and hold back the ones after them
    (`flask xapi status` counts them, `flask xapi retry-refused` puts them back); the others go on.
    """
    # Plain values, not ORM rows: another run sending at the same time may delete a row under
    # this one, and a deleted ORM row raises when read again after a commit (ObjectDeletedError).
    oldest_first = (
        select(XapiStatement.id, XapiStatement.user_id, XapiStatement.statement)
        .where(XapiStatement.refused_at.is_(None))
        .order_by(XapiStatement.created_at, XapiStatement.id)
    )
    rows = session.execute(oldest_first.limit(BATCH)).all()
    names: dict[int, str] = {}
    sent = 0
    for statement_id, user_id, stored in rows:
        if user_id not in names:
            names[user_id] = xapi_actor_name(session, user_id=user_id)
        statement = {**stored, "actor": xapi_actor(names[user_id])}
        try:
            status, body = put(store, statement_id, statement)
        except StoreUnavailable as error:
            _note_failure(session, statement_id, str(error))
            raise
        # 204: stored now; 409: the store has a statement with this id already (sent before).
        if status in (200, 204, 409):
            session.execute(delete(XapiStatement).where(XapiStatement.id == statement_id))
            session.commit()
            sent += 1
            continue
        if status in (400, 413):
            logger.error("The learning record store refused statement %s: %s", statement_id, body[:500])
            _note_failure(session, statement_id, f"HTTP {status}: {body[:150]}", refused=True)
            continue
        _note_failure(session, statement_id, f"HTTP {status}: {body[:150]}")
        raise StoreUnavailable(f"The learning record store answered {status}.")
    waiting = session.scalar(select(func.count()).where(XapiStatement.refused_at.is_(None))) or 0
    session.commit()
    return SendReport(sent=sent, waiting=waiting)


def _note_failure(session: Session, statement_id: str, reason: str, *, refused: bool = False) -> None:
    """Count a failed send and keep its reason (a statement another run deleted meanwhile: nothing); commits."""
    values: dict[str, Any] = {"attempts": XapiStatement.attempts + 1, "last_error": reason[:200]}
    if refused:
        values["refused_at"] = utcnow()
    session.execute(
        update(XapiStatement)
        .where(XapiStatement.id == statement_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


@dataclass(frozen=True)
class OutboxStatus:
    """The outbox in brief, for the operator: how many wait, how many the store refused, the
    oldest waiting and the latest reasons the store gave."""

    waiting: int
    refused: int
    oldest_waiting: datetime | None
    reasons: list[tuple[str, int]]  # (the store's answer, how many statements got it), most first


def xapi_outbox_status(session: Session) -> OutboxStatus:
    """What ``flask xapi status`` prints (three queries)."""
    waiting_rows = XapiStatement.refused_at.is_(None)
    waiting, oldest = session.execute(
        select(func.count(), func.min(XapiStatement.created_at)).where(waiting_rows)
    ).one()
    refused = session.scalar(select(func.count()).where(XapiStatement.refused_at.is_not(None))) or 0
    reasons = session.execute(
        select(XapiStatement.last_error, func.count())
        .where(XapiStatement.last_error.is_not(None))
        .group_by(XapiStatement.last_error)
        .order_by(func.count().desc(), XapiStatement.last_error)
        .limit(5)
    ).all()
    return OutboxStatus(
        waiting=waiting or 0,
        refused=refused,
        oldest_waiting=as_utc(oldest) if oldest is not None else None,
        reasons=[(reason or "", count) for reason, count in reasons],
    )


def xapi_retry_refused(session: Session) -> int:
    """Put every refused statement back in the send order (once the store or the app is fixed);
    how many; commits."""
    statement = (
        update(XapiStatement)
        .where(XapiStatement.refused_at.is_not(None))
        .values(refused_at=None)
        .execution_options(synchronize_session=False)
    )
    count = cast("CursorResult[Any]", session.execute(statement)).rowcount or 0
    session.commit()
    return count


def xapi_export(session: Session, *, user_id: int) -> dict:
    """The person's part of the xAPI tables, for their data download: their pseudonym (empty
    when none was ever made) and the statements still waiting to be sent (what, about which
    activity, when)."""
    actor = session.get(XapiActor, user_id)
    waiting = session.scalars(
        select(XapiStatement).where(XapiStatement.user_id == user_id).order_by(XapiStatement.created_at)
    )
    return {
        "learning_record_store_id": (
            [{"account_name": actor.name, "since": actor.created_at.isoformat()}] if actor is not None else []
        ),
        "learning_record_store_waiting": [
            {
                "statement_id": row.id,
                "verb": row.statement["verb"]["display"]["en"],
                "activity": row.statement["object"]["id"],
                "at": row.created_at.isoformat(),
            }
            for row in waiting
        ],
    }
