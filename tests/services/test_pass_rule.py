"""The pass rule: whole questions, rounded up, the same function for grading and for the words."""

from __future__ import annotations

import pytest

from app.services.pass_rule import is_pass, pass_rule_text, questions_needed


@pytest.mark.parametrize(
    ("pass_mark", "count", "needed"),
    [
        (0.8, 4, 4),  # 3 of 4 is 75%: below the mark, so all 4 are needed
        (0.8, 5, 4),
        (0.8, 6, 5),  # 4.8 rounds up
        (0.7, 10, 7),  # 0.7 * 10 is 7.000000000000001 in floating point: still 7
        (0.6, 5, 3),  # 0.6 * 5 is 3.0000000000000004: still 3
        (0.3, 10, 3),  # 0.3 * 10 is 3.0000000000000004
        (2 / 3, 3, 2),  # 2.0000000000000004 or 1.9999999999999998 either way: 2
        (1.0, 7, 7),
        (0.01, 3, 1),  # never zero: an empty answer sheet does not pass
        (0.5, 1, 1),
    ],
)
def test_questions_needed_rounds_the_share_up_to_whole_questions(pass_mark, count, needed):
    assert questions_needed(pass_mark, count) == needed


@pytest.mark.parametrize(
    ("correct", "count", "pass_mark", "passed"),
    [
        (3, 4, 0.8, False),
        (4, 4, 0.8, True),
        (7, 10, 0.7, True),
        (6, 10, 0.7, False),
        (4, 5, 0.8, True),
        (3, 5, 0.8, False),
        (3, 5, 0.6, True),
    ],
)
def test_is_pass_at_the_boundaries(correct, count, pass_mark, passed):
    assert is_pass(correct, count, pass_mark) is passed


@pytest.mark.parametrize(
    ("pass_mark", "count", "words"),
    [
        (0.8, 5, "get at least 4 of 5 right"),
        (0.7, 10, "get at least 7 of 10 right"),
        (0.8, 4, "get all 4 right"),
        (1.0, 1, "get all 1 right"),
    ],
)
def test_the_rule_in_words_states_the_same_number_grading_uses(pass_mark, count, words):
    assert pass_rule_text(pass_mark, count) == words
    needed = questions_needed(pass_mark, count)
    assert is_pass(needed, count, pass_mark) and not is_pass(needed - 1, count, pass_mark)
