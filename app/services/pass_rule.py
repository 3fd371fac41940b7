"""The pass rule of a quiz, in one place: grading, seeding and every page that states it.

A quiz is passed with at least ``pass_mark`` of its questions right, counted in whole
questions and rounded up: a learner never passes with less than the share the course sets.
So at 0.8 a 5-question quiz needs 4 right and a 4-question quiz needs all 4 (3 of 4 is 75%).
The product of the mark and the count is rounded to 9 places first, so 0.7 x 10, which is
7.000000000000001 in floating point, needs 7 and not 8.
"""

from __future__ import annotations

import functools
import math


def questions_needed(pass_mark: float, question_count: int) -> int:
    """How many questions must be right to pass a quiz of ``question_count`` questions."""
    if question_count <= 0:
        return 0
    return max(1, math.ceil(round(pass_mark * question_count, 9)))


def is_pass(correct_count: int, question_count: int, pass_mark: float) -> bool:
    """Whether ``correct_count`` right out of ``question_count`` passes at ``pass_mark``."""
    return correct_count >= questions_needed(pass_mark, question_count)


@functools.lru_cache(maxsize=256)  # a quiz page states it on every visit; a course has a few quiz lengths
def pass_rule_text(pass_mark: float, question_count: int) -> str:
    """The rule in words, as the quiz and result pages state it: "get at least 4 of 5 right"."""
    needed = questions_needed(pass_mark, question_count)
    if needed == question_count:
        return "get all 1 right" if question_count == 1 else f"get all {question_count} right"
    return f"get at least {needed} of {question_count} right"
