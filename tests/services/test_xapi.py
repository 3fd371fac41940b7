"""xAPI statements (app/services/xapi.py): what each event queues, who the actor is, and sending
them once, with a fake store here (tests/test_xapi_ralph.py uses the real one)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, select

from app.models import Lesson, User, XapiActor, XapiStatement
from app.services.personal_data import account_delete, personal_data_export
from app.services.progress import course_by_slug, course_outline, lesson_record_completion, lesson_record_opened
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.services.xapi import (
    StoreUnavailable,
    xapi_outbox_status,
    xapi_retry_refused,
    xapi_send_pending,
    xapi_store,
)
from tests.conftest import PASSWORD
from tests.queued_jobs import enqueued, queued

ENDPOINT = "http://lrs.example.org/xAPI/"
VERB = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
def store_on(app):
    app.config.update(XAPI_ENDPOINT=ENDPOINT, XAPI_USERNAME="site", XAPI_PASSWORD="secret")
    return xapi_store(app.config)


@pytest.fixture
def held(app, tmp_path):
    """Jobs held in a queue instead of run: the tests below send with a fake store."""
    with queued(app, tmp_path):
        yield


@pytest.fixture
def me(session, course, learner):
    return session.get(User, learner)


def first_lesson(session) -> Lesson:
    return session.scalar(select(Lesson).order_by(Lesson.id))


def statements(session) -> list[dict]:
    rows = session.scalars(select(XapiStatement).order_by(XapiStatement.created_at, XapiStatement.id))
    return [row.statement for row in rows]


def submit(session, learner, lesson, *, right: bool):
    questions = quiz_questions(session, lesson)
    answers = {
        q.id: [c.id for c in q.live_choices if c.is_correct]
        if right
        else [next(c.id for c in q.live_choices if not c.is_correct)]
        for q in questions
    }
    quiz_submit_attempt(
        session,
        learner=learner,
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    return questions, answers


def open_lesson(session, learner, course_slug):
    outline = course_outline(session, course=course_by_slug(session, course_slug), learner=learner)
    lesson_record_opened(session, learner=learner, entry=outline.entries[0])


def test_nothing_is_queued_when_no_store_is_configured(session, me, course):
    open_lesson(session, me, course)
    submit(session, me, first_lesson(session), right=True)
    assert session.scalar(select(func.count()).select_from(XapiStatement)) == 0


def test_opening_a_lesson_queues_experienced_once_and_a_send_after_the_commit(session, me, course, store_on, held):
    open_lesson(session, me, course)
    open_lesson(session, me, course)  # opened before: not a new statement
    [statement] = statements(session)
    lesson = first_lesson(session)
    assert statement["verb"]["id"] == VERB + "experienced"
    assert statement["object"]["id"] == f"http://localhost/courses/{course}/lessons/{lesson.slug}"
    assert statement["object"]["definition"]["name"] == {"en": lesson.title}
    assert statement["context"]["contextActivities"]["parent"][0]["id"] == f"http://localhost/courses/{course}/"
    assert "actor" not in statement  # added when sent, from the pseudonym
    assert [name for name, _, _ in enqueued()] == ["send_statements"]


def test_a_quiz_queues_answered_per_question_as_interactions_and_its_result(session, me, course, store_on, held):
    lesson = first_lesson(session)
    questions, answers = submit(session, me, lesson, right=False)
    queued_now = statements(session)
    answered = [s for s in queued_now if s["verb"]["id"] == VERB + "answered"]
    assert len(answered) == len(questions)
    by_question = {s["object"]["id"].rsplit("-", 1)[1]: s for s in answered}
    for question in questions:
        statement = by_question[str(question.id)]
        definition = statement["object"]["definition"]
        assert definition["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
        assert definition["interactionType"] == "choice"
        assert [c["id"] for c in definition["choices"]] == [f"choice-{c.id}" for c in question.live_choices]
        right = sorted(c.id for c in question.live_choices if c.is_correct)
        assert definition["correctResponsesPattern"] == ["[,]".join(f"choice-{i}" for i in right)]
        assert statement["result"] == {
            "response": "[,]".join(f"choice-{i}" for i in sorted(answers[question.id])),
            "success": False,
        }
    [result] = [s for s in queued_now if s["verb"]["id"] != VERB + "answered"]
    assert result["verb"]["id"] == VERB + "failed"
    assert result["object"]["id"] == f"http://localhost/courses/{course}/lessons/{lesson.slug}/quiz"
    assert result["result"]["score"] == {"scaled": 0, "raw": 0, "min": 0, "max": len(questions)}
    assert result["result"]["success"] is False


def test_passing_every_quiz_queues_passed_each_time_and_completed_once(session, me, course, store_on, held):
    lessons = session.scalars(select(Lesson).order_by(Lesson.id)).all()
    for lesson in lessons:
        submit(session, me, lesson, right=True)
    lesson_record_completion(session, learner=me, lesson=lessons[-1])  # again: no second completion
    session.commit()
    verbs = [s["verb"]["id"].removeprefix(VERB) for s in statements(session) if "answered" not in s["verb"]["id"]]
    assert verbs.count("passed") == len(lessons)
    assert verbs.count("completed") == 1
    [completed] = [s for s in statements(session) if s["verb"]["id"] == VERB + "completed"]
    assert completed["object"]["id"] == f"http://localhost/courses/{course}/"


class FakeStore:
    """Answers like Ralph: 204 for a new id or the same statement again, 409 for the same id."""

    def __init__(self, status: int | None = None):
        self.status = status
        self.received: dict[str, dict] = {}
        self.calls = 0

    def put(self, store, statement_id, statement):
        self.calls += 1
        if self.status == 0:
            raise StoreUnavailable("refused")
        if self.status:
            return self.status, "no"
        assert store.endpoint == ENDPOINT and (store.username, store.password) == ("site", "secret")
        assert statement["id"] == statement_id
        self.received.setdefault(statement_id, statement)
        return 204, ""


def test_sending_adds_the_pseudonymous_actor_and_empties_the_outbox(session, me, course, store_on, held):
    open_lesson(session, me, course)
    submit(session, me, first_lesson(session), right=True)
    waiting = session.scalar(select(func.count()).select_from(XapiStatement))
    fake = FakeStore()
    report = xapi_send_pending(session, store_on, put=fake.put)
    assert (report.sent, report.waiting) == (waiting, 0)
    name = session.get(XapiActor, me.id).name
    assert len(name) == 32 and name not in (str(me.id), me.email, me.display_name)
    for statement in fake.received.values():
        assert statement["actor"] == {"objectType": "Agent", "account": {"homePage": "http://localhost", "name": name}}
        text = repr(statement)
        assert me.email not in text and me.display_name not in text
    assert session.scalar(select(func.count()).select_from(XapiStatement)) == 0


def test_a_store_that_is_down_keeps_every_statement_for_later(session, me, course, store_on, held):
    open_lesson(session, me, course)
    with pytest.raises(StoreUnavailable):
        xapi_send_pending(session, store_on, put=FakeStore(status=0).put)
    with pytest.raises(StoreUnavailable):
        xapi_send_pending(session, store_on, put=FakeStore(status=503).put)
    row = session.scalars(select(XapiStatement)).one()
    assert row.attempts == 2 and row.last_error.startswith("HTTP 503")
    fake = FakeStore()
    assert xapi_send_pending(session, store_on, put=fake.put).sent == 1
    assert list(fake.received) == [row.id]


def test_a_statement_the_store_has_already_counts_as_sent(session, me, course, store_on, held):
    open_lesson(session, me, course)
    assert xapi_send_pending(session, store_on, put=FakeStore(status=409).put).sent == 1
    assert session.scalar(select(func.count()).select_from(XapiStatement)) == 0


def test_a_statement_the_store_refuses_is_kept_and_the_rest_still_go(session, me, course, store_on, held):
    open_lesson(session, me, course)
    submit(session, me, first_lesson(session), right=True)
    refused = session.scalars(select(XapiStatement).order_by(XapiStatement.created_at)).first().id
    fake = FakeStore()

    def refuse_one(store, statement_id, statement):
        return (400, "bad") if statement_id == refused else fake.put(store, statement_id, statement)

    report = xapi_send_pending(session, store_on, put=refuse_one)
    assert report.waiting == 0 and refused not in fake.received and report.sent == len(fake.received)
    kept = session.get(XapiStatement, refused)
    assert kept is not None and kept.refused_at is not None and kept.last_error == "HTTP 400: bad"


def test_refused_statements_never_hold_back_the_ones_after_them(session, me, course, store_on, held, monkeypatch):
    """Refused statements are the oldest: once they filled a batch, nothing newer was ever sent."""
    from app.services import xapi as rules

    monkeypatch.setattr(rules, "BATCH", 2)
    open_lesson(session, me, course)
    submit(session, me, first_lesson(session), right=True)
    ordered = list(session.scalars(select(XapiStatement.id).order_by(XapiStatement.created_at, XapiStatement.id)))
    assert len(ordered) > 2
    bad, fake = set(ordered[:2]), FakeStore()

    def refuse_the_oldest(store, statement_id, statement):
        return (400, "bad") if statement_id in bad else fake.put(store, statement_id, statement)

    for _ in range(len(ordered)):
        xapi_send_pending(session, store_on, put=refuse_the_oldest)

    assert set(fake.received) == set(ordered[2:])
    status = xapi_outbox_status(session)
    assert (status.waiting, status.refused, status.reasons) == (0, 2, [("HTTP 400: bad", 2)])

    assert xapi_retry_refused(session) == 2  # the store was fixed: they go again
    bad.clear()
    assert xapi_send_pending(session, store_on, put=refuse_the_oldest).sent == 2
    assert xapi_outbox_status(session).refused == 0 and set(fake.received) == set(ordered)


def test_a_statement_another_run_sent_meanwhile_fails_nothing(session, me, course, store_on, held):
    """Two runs at once: the other deletes a row this one is sending; its failure note is a no-op."""
    open_lesson(session, me, course)
    [only] = session.scalars(select(XapiStatement.id)).all()

    def the_other_run_sent_it_first(store, statement_id, statement):
        session.execute(delete(XapiStatement).where(XapiStatement.id == statement_id))
        session.commit()
        return 400, "bad"

    report = xapi_send_pending(session, store_on, put=the_other_run_sent_it_first)
    assert (report.sent, report.waiting) == (0, 0)


def test_the_pseudonym_stays_the_same_and_differs_between_learners(session, me, course, store_on, held, other_learner):
    other = session.get(User, other_learner)
    open_lesson(session, me, course)
    open_lesson(session, other, course)
    xapi_send_pending(session, store_on, put=FakeStore().put)
    first = session.get(XapiActor, me.id).name
    submit(session, me, first_lesson(session), right=True)
    xapi_send_pending(session, store_on, put=FakeStore().put)
    assert session.get(XapiActor, me.id).name == first != session.get(XapiActor, other.id).name


def test_the_download_shows_the_pseudonym_and_deleting_the_account_forgets_it(session, me, course, store_on, held):
    open_lesson(session, me, course)
    xapi_send_pending(session, store_on, put=FakeStore().put)
    submit(session, me, first_lesson(session), right=True)
    data = personal_data_export(session, user=me)
    name = session.get(XapiActor, me.id).name
    assert data["learning_record_store_id"][0]["account_name"] == name
    assert {row["verb"] for row in data["learning_record_store_waiting"]} >= {"answered", "passed"}
    account_delete(session, user=me, password=PASSWORD)
    assert session.scalar(select(func.count()).select_from(XapiActor)) == 0
    assert session.scalar(select(func.count()).select_from(XapiStatement)) == 0
    fake = FakeStore()
    assert xapi_send_pending(session, store_on, put=fake.put).sent == 0 and fake.calls == 0
