"""The question kinds' one definition, and the places that must ask it rather than repeat it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import CheckConstraint

from app.author.forms import KIND_CHOICES
from app.models import Question
from app.question_kinds import KINDS, QUESTION_KINDS, exactly_the_correct_set, sql_kind_check


def choices(*correct: bool) -> list[SimpleNamespace]:
    return [SimpleNamespace(id=number, is_correct=flag) for number, flag in enumerate(correct, start=1)]


def test_the_registry_names_the_three_kinds_in_order():
    assert QUESTION_KINDS == ("single", "multiple", "true_false")
    assert all(kind.name == name for name, kind in KINDS.items())


def test_the_database_constraint_allows_the_registered_kinds_only():
    assert sql_kind_check("kind") == "kind IN ('single', 'multiple', 'true_false')"
    checks = {str(c.sqltext) for c in Question.__table__.constraints if isinstance(c, CheckConstraint)}
    assert sql_kind_check("kind") in checks


def test_the_authoring_form_offers_every_kind_with_its_label():
    assert [(c.value, c.label) for c in KIND_CHOICES] == [(k.name, k.label) for k in KINDS.values()]


@pytest.mark.parametrize(
    ("name", "input_type"), [("single", "radio"), ("multiple", "checkbox"), ("true_false", "radio")]
)
def test_only_a_kind_with_several_right_answers_is_rendered_as_checkboxes(name, input_type):
    assert KINDS[name].input_type == input_type


@pytest.mark.parametrize("name", QUESTION_KINDS)
def test_every_kind_is_right_only_for_exactly_the_correct_set(name):
    shown = choices(True, True, False)
    kind = KINDS[name]
    assert kind.is_right(shown, [1, 2])
    assert not kind.is_right(shown, [1])
    assert not kind.is_right(shown, [1, 2, 3])
    assert not kind.is_right(shown, [])
    assert exactly_the_correct_set(choices(False, True), {2})


@pytest.mark.parametrize(
    ("name", "correct", "count", "problems"),
    [
        ("single", 1, 3, []),
        ("single", 0, 3, ["a one-answer question (kind: single) needs exactly one correct choice, found 0"]),
        ("single", 2, 3, ["a one-answer question (kind: single) needs exactly one correct choice, found 2"]),
        ("multiple", 1, 3, []),
        ("multiple", 3, 3, []),
        ("multiple", 0, 3, ["a multiple-answer question (kind: multiple) needs at least one correct choice, found 0"]),
        ("true_false", 1, 2, []),
        ("true_false", 2, 2, ["a true-or-false question (kind: true_false) needs exactly one correct choice, found 2"]),
        ("true_false", 1, 3, ["a true-or-false question (kind: true_false) has exactly 2 choices"]),
        (
            "true_false",
            0,
            3,
            [
                "a true-or-false question (kind: true_false) needs exactly one correct choice, found 0",
                "a true-or-false question (kind: true_false) has exactly 2 choices",
            ],
        ),
    ],
)
def test_choice_problems_in_the_course_files_words(name, correct, count, problems):
    assert KINDS[name].choice_problems(correct_count=correct, choice_count=count) == problems
