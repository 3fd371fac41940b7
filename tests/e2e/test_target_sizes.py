"""Controls a phone user taps are at least 24 CSS pixels tall (WCAG 2.2, 2.5.8): the header's
links and button, the attempts tables' "See result" links and the data page's contents. A review
at 375px found each of them a line of text high (18-19px). The helplines' numbers (footer and
/contact) are 44px tall, and no phone number breaks across lines."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import answer_quiz, lesson_url, lessons_in_order, log_in_quickly, wrong_choices

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
    log_in_quickly(page, "kay@example.org", PASSWORD)
    page.goto("/")  # where logging in lands
    assert min(heights(page, ".site-header .nav-list a, .site-header .nav-list button")) >= MINIMUM

    first = lessons_in_order(course_spec)[0]
    page.goto(lesson_url(course_spec, first, "/quiz"))
    answer_quiz(page, first, wrong_choices)
    page.goto(lesson_url(course_spec, first, "/quiz"))
    assert min(heights(page, ".attempt-history td a")) >= MINIMUM  # "See result"

    page.goto("/me/data")
    assert min(heights(page, ".data-contents a")) >= MINIMUM


# Each phone link's text, how many lines it takes and its box: a Range over the text gives a box
# per line, so a number broken in two shows as two tops.
PHONE_LINKS = """els => els.map(e => {
    const range = document.createRange(), box = e.getBoundingClientRect();
    range.selectNodeContents(e);
    const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
    return {text: e.textContent.trim(), lines, width: box.width, height: box.height,
            whiteSpace: getComputedStyle(e).whiteSpace};
})"""
COMFORTABLE = 44  # the height WCAG 2.5.5 (AAA) and the platforms' guidelines ask for


def test_phone_numbers_never_wrap_and_the_helplines_are_comfortable_to_tap(page, app):
    """At 390 px the footer's "0300 123 1110" broke across two lines, and its numbers were 29x18 px."""
    app.config.update(CLINIC_NAME="Riverside Clinic", CLINIC_PHONE="+44 20 7946 0000", CLINIC_HOURS="Mon to Fri")
    for url, width in (("/", 390), ("/contact", 390), ("/contact", 320)):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(url)
        links = page.locator('a[href^="tel:"]').evaluate_all(PHONE_LINKS)
        assert any(link["text"] == "0300 123 1110" for link in links), url
        assert any(link["text"] == "+44 20 7946 0000" for link in links) or url == "/"
        # Never broken, wherever a number falls on its line: the rule, and no number broken now.
        assert [link for link in links if link["whiteSpace"] != "nowrap"] == [], url
        assert [link for link in links if link["lines"] != 1] == [], f"a number wraps on {url} at {width}px"
        helplines = page.locator('.helplines a[href^="tel:"]').evaluate_all(PHONE_LINKS)
        assert len(helplines) == (5 if url == "/" else 10), url  # /contact: its own list and the footer's
        small = [link for link in helplines if link["height"] < COMFORTABLE or link["width"] < MINIMUM]
        assert small == [], f"helpline numbers too small to tap on {url}"
