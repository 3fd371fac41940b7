"""Controls a phone user taps are at least 24 CSS pixels tall (WCAG 2.2, 2.5.8): the header's
links and button, the attempts tables' "See result" links and the data page's contents. A review
at 375px found each of them a line of text high (18-19px)."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import answer_quiz, lesson_url, lessons_in_order, log_in, wrong_choices

pytestmark = pytest.mark.e2e

MINIMUM = 24


def heights(page, selector: str) -> list[float]:
    """The rendered height of each element ``selector`` finds (there must be at least one)."""
    found = page.locator(selector).evaluate_all("elements => elements.map(e => e.getBoundingClientRect().height)")
    assert found, selector
    return found


def test_the_targets_a_phone_user_taps_are_24_pixels_tall_at_least(page, app, course_spec):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/")
    assert min(heights(page, ".site-header .nav-list a:not(.button)")) >= MINIMUM  # "Log in"

    create_user(app, "kay@example.org", name="Kay")
    log_in(page, "kay@example.org", PASSWORD)
    assert min(heights(page, ".site-header .nav-list a, .site-header .nav-list button")) >= MINIMUM

    first = lessons_in_order(course_spec)[0]
    page.goto(lesson_url(course_spec, first, "/quiz"))
    answer_quiz(page, first, wrong_choices)
    page.goto(lesson_url(course_spec, first, "/quiz"))
    assert min(heights(page, ".attempt-history td a")) >= MINIMUM  # "See result"

    page.goto("/me/data")
    assert min(heights(page, ".data-contents a")) >= MINIMUM
