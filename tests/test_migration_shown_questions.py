"""The migrations a19000000001-3: every answer's snapshot becomes a pointer at its question as
shown, and every past attempt reads exactly as before, on the page and in the data download."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, func, select

from app import create_app
from app.extensions import db
from app.models import AttemptAnswer, ShownQuestion, User
from app.services.personal_data import personal_data_export
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url, insert_one_lesson_course, learner_row  # noqa: F401 - a fixture

BEFORE = "a18000000002"
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def choice(choice_id, text, *, correct=False, chosen=False, code=None, safety=False, legacy=False) -> dict:
    """One choice of an old snapshot; ``legacy`` ones predate misconception texts and safety marks."""
    shown = {
        "choice_id": choice_id,
        "text": text,
        "correct": correct,
        "chosen": chosen,
        "feedback": f"Feedback on {text}.",
        "misconception": code,
    }
    if not legacy:
        shown |= {"misconception_text": f"Why {text} misleads." if code else None, "safety_critical": safety}
    return shown


def q1(prompt: str, order: list[int], chosen: int, *, legacy=False) -> dict:
    """Question 1's snapshot with its three choices in ``order`` (choice ids 1-3)."""
    every = {
        1: dict(text="Right", correct=True),
        2: dict(text="Boost", code="blocks-are-boosts"),
        3: dict(text="Drink", code="alcohol-is-fine", safety=True),
    }
    return {
        "question_id": 1,
        "kind": "single",
        "prompt": prompt,
        "explanation": "It blocks opioids.",
        "is_correct": chosen == 1,
        "choices_shown": [choice(i, **every[i], chosen=i == chosen, legacy=legacy) for i in order],
    }


# (answer id, attempt id, position, snapshot): ids leave gaps so the conversion runs several batches.
ANSWERS = [
    (1, 1, 1, q1("What does it do?", [1, 2, 3], chosen=2)),  # shown as written
    (2, 1, 2, q1("What does it do?", [3, 1, 2], chosen=3)),  # the same version, shuffled, dangerous pick
    (5_003, 2, 1, q1("What does it do?", [2, 3, 1], chosen=1)),  # the same version again, another order
    (5_004, 2, 2, q1("What does naltrexone do?", [2, 1, 3], chosen=2)),  # an edited prompt: a second version
    (12_001, 3, 1, q1("What does it do?", [1, 3, 2], chosen=3, legacy=True)),  # before safety marks
    (
        12_002,
        3,
        2,
        {  # a question deleted since: its answers' question_id was set NULL, its choices are gone
            "question_id": None,
            "kind": "multiple",
            "prompt": "Which are side effects?",
            "explanation": "Both can happen.",
            "is_correct": True,
            "choices_shown": [
                choice(22, "Nausea", correct=True, chosen=True),
                choice(21, "Headache", correct=True, chosen=True),
                choice(23, "Flying", chosen=False),
            ],
        },
    ),
]


def seed_old_schema(app) -> dict[str, list[dict]]:
    """Write learners, attempts and old-format answers (with their selections) at revision BEFORE."""
    upgrade(revision=BEFORE)
    tables = MetaData()
    tables.reflect(db.engine)
    t = tables.tables
    with db.engine.begin() as connection:
        for user_id in (1, 2):
            connection.execute(t["users"].insert(), learner_row(user_id, f"u{user_id}@example.org", "U", NOW))
        insert_one_lesson_course(connection, t, NOW)
        connection.execute(
            t["questions"].insert(),
            {"id": 1, "lesson_id": 1, "position": 1, "kind": "single", "prompt": "What?", "explanation": "E"},
        )
        connection.execute(
            t["choices"].insert(),
            [
                {"id": i, "question_id": 1, "position": i, "text": f"C{i}", "is_correct": i == 1, "feedback": "F"}
                for i in (1, 2, 3)
            ],
        )
        connection.execute(
            t["quiz_attempts"].insert(),
            [
                {
                    "id": attempt_id,
                    "user_id": 1 if attempt_id < 3 else 2,
                    "lesson_id": 1,
                    "submission_key": f"{attempt_id:032x}",
                    "submitted_at": NOW + timedelta(minutes=attempt_id),
                    "question_count": 2,
                    "correct_count": 1,
                    "score": 0.5,
                    "pass_mark": 0.8,
                    "passed": False,
                }
                for attempt_id in (1, 2, 3)
            ],
        )
        selection_id = 1
        for answer_id, attempt_id, position, snapshot in ANSWERS:
            connection.execute(
                t["attempt_answers"].insert(),
                {"id": answer_id, "attempt_id": attempt_id, "position": position} | snapshot,
            )
            for shown_at, picked in enumerate(snapshot["choices_shown"], start=1):
                if picked["chosen"]:
                    connection.execute(
                        t["answer_selections"].insert(),
                        {
                            "id": selection_id,
                            "answer_id": answer_id,
                            "choice_id": picked["choice_id"] if snapshot["question_id"] else None,
                            "position": shown_at,
                            "is_correct": picked["correct"],
                            "misconception_code": picked["misconception"],
                        },
                    )
                    selection_id += 1
    return old_rows(t)


def old_rows(t) -> dict[str, list[dict]]:
    """The old tables' rows, as they are (ids of selections aside: a downgrade numbers them anew)."""
    with db.engine.connect() as connection:
        answers = [dict(row._mapping) for row in connection.execute(select(t["attempt_answers"]).order_by("id"))]
        selections = sorted(
            tuple(row[1:])
            for row in connection.execute(select(t["answer_selections"]).order_by("answer_id", "position"))
        )
    return {"answers": answers, "selections": selections}


FEEDBACK = '{% from "_macros/answers.html" import answer_feedback %}{{ answer_feedback(answer, 1) }}'


def page_html(app, answer) -> str:
    """What the attempt page shows of one answer (the answers macro every history page uses)."""
    return app.jinja_env.from_string(FEEDBACK).render(answer=answer)


def expected_views(app, rows: list[dict]) -> tuple[dict[int, str], dict[int, list[dict]]]:
    """Each old row's rendering and its data-download entries per learner, from the old columns."""
    html = {row["id"]: page_html(app, SimpleNamespace(**row)) for row in rows}
    by_learner: dict[int, list[dict]] = {1: [], 2: []}
    for row in sorted(rows, key=lambda row: (row["attempt_id"], row["position"])):
        entry = {"question": row["prompt"], "right": row["is_correct"], "choices": row["choices_shown"]}
        by_learner[1 if row["attempt_id"] < 3 else 2].append(entry)
    return html, by_learner


def download_answers(user_id: int) -> list[dict]:
    export = personal_data_export(db.session, user=db.session.get(User, user_id))
    return [answer for attempt in export["quiz_attempts"] for answer in attempt["answers"]]


def test_every_attempt_reads_the_same_after_the_conversion_and_back(empty_database_url):  # noqa: F811
    app = create_app(make_test_config(empty_database_url))
    with app.app_context():
        before = seed_old_schema(app)
        html, downloads = expected_views(app, before["answers"])
        # The old rows do differ where it matters: a dangerous pick warns, a legacy one does not.
        assert "could be dangerous" in html[2] and "could be dangerous" not in html[12_001]

        upgrade()

        answers = {answer.id: answer for answer in db.session.scalars(select(AttemptAnswer))}
        assert {answer_id: page_html(app, answer) for answer_id, answer in answers.items()} == html
        assert {answer_id: answer.choices_shown for answer_id, answer in answers.items()} == {
            row["id"]: row["choices_shown"] for row in before["answers"]
        }
        assert {user_id: download_answers(user_id) for user_id in (1, 2)} == downloads
        # Stored once per version: the three shuffles of the first share one; the edited prompt,
        # the legacy snapshot and the deleted question have their own.
        assert db.session.scalar(select(func.count()).select_from(ShownQuestion)) == 4
        assert len({answers[i].shown_question_id for i in (1, 2, 5_003)}) == 1
        assert [answers[i].choice_order for i in (1, 2, 5_003)] == [None, "201", "120"]
        assert answers[12_002].shown_question.question_id is None and answers[12_002].chosen == "01"
        db.session.remove()

        # Back down: the old columns and the selections come back as they were.
        downgrade(revision=BEFORE)
        tables = MetaData()
        tables.reflect(db.engine)
        assert old_rows(tables.tables) == before
        db.engine.dispose()
