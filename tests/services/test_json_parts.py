"""A SELECT's rows as one JSON column and back (app/services/json_parts.py): /me/'s read on PostgreSQL."""

from __future__ import annotations

import enum
from datetime import timedelta

import pytest
from sqlalchemy import Boolean, Enum, Integer, LargeBinary, Numeric, String, cast, literal, null, select, type_coerce
from sqlalchemy.dialects import postgresql

from app.extensions import db
from app.models import Question, QuizAttempt, ReviewCard
from app.models.types import UTCDateTime, utcnow
from app.services.json_parts import PartReader, json_part
from tests.services.test_attempt_history import attempt


def postgresql_only(session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("json_agg is PostgreSQL's: SQLite reads these parts as a UNION ALL")


def through_json(session, part) -> list[tuple]:
    """``part``'s rows read as one JSON value and turned back into rows."""
    return PartReader(part, session.get_bind().dialect).rows(session.scalar(select(json_part(part))))


def test_a_parts_rows_come_back_from_json_as_the_database_reads_them(session, learner, course):
    postgresql_only(session)
    questions = session.scalars(select(Question.id).order_by(Question.id).limit(2)).all()
    now = utcnow()
    session.add_all(
        [  # a whole-valued float, which JSON writes without a point, and NULLs among the values
            ReviewCard(
                user_id=learner,
                question_id=questions[0],
                due=now,
                stability=2.0,
                difficulty=5.5,
                state=1,
                step=None,
                last_review=now - timedelta(days=1, microseconds=7),
                last_rating=3,
            ),
            ReviewCard(user_id=learner, question_id=questions[1], due=now + timedelta(hours=3), state=0, last_rating=0),
        ]
    )
    session.commit()
    part = select(
        *ReviewCard.__table__.columns,
        literal('a "quoted" name, naïve café').label("text"),
        type_coerce(null(), UTCDateTime).label("padding"),  # a UNION ALL's typed NULL: not sent, put back
        cast(null(), Integer).label("more_padding"),
        (ReviewCard.state > 0).label("flag"),
    ).where(ReviewCard.user_id == learner)

    expected = sorted(tuple(row) for row in session.execute(part))
    got = sorted(through_json(session, part))

    assert got == expected and len(got) == 2
    for got_row, expected_row in zip(got, expected, strict=True):
        assert [type(value) for value in got_row] == [type(value) for value in expected_row]
    assert any(value == 2.0 and isinstance(value, float) for row in got for value in row)


def test_a_part_with_a_limit_is_aggregated_over_its_own_rows(session, learner, course):
    postgresql_only(session)
    lesson_id = session.scalar(select(Question.lesson_id).limit(1))
    for right in (1, 5, 5):
        attempt(session, learner, lesson_id, at=utcnow(), right=right)
    newest_two = (
        select(QuizAttempt.id, QuizAttempt.passed, QuizAttempt.submitted_at)
        .where(QuizAttempt.user_id == learner)
        .order_by(QuizAttempt.id.desc())
        .limit(2)
    )

    assert sorted(through_json(session, newest_two)) == sorted(tuple(row) for row in session.execute(newest_two))
    assert len(through_json(session, newest_two)) == 2


def test_a_part_without_rows_comes_back_as_none(session, course):
    postgresql_only(session)
    nobody = select(ReviewCard.id, ReviewCard.due).where(ReviewCard.user_id == -1)

    assert session.scalar(select(json_part(nobody))) is None
    assert through_json(session, nobody) == []


class Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    "column",
    [
        literal(1, Numeric(10, 2)),  # would come back a float, not a Decimal
        literal(b"x", LargeBinary),
        literal("red", Enum(Colour)),  # would come back a string, not the member
    ],
)
def test_a_column_it_cannot_read_back_is_refused_when_the_read_is_built(column):
    with pytest.raises(TypeError):
        PartReader(select(column.label("value")), postgresql.dialect())


def test_the_columns_it_reads_back_as_they_are_need_no_conversion(app):
    with app.app_context():
        dialect = db.engine.dialect
    reader = PartReader(select(literal(1, Integer), literal("x", String), literal(True, Boolean)), dialect)
    rows = [[1, "x", True], [2, None, False]]

    assert reader.rows(rows) == [(1, "x", True), (2, None, False)]
    assert reader.rows(None) == [] and reader.rows([]) == []
