"""What a keyboard or screen-reader user meets when a form comes back with errors, in Chromium:
focus on the box that says what stopped it, a link there to each question left unanswered that
takes focus to it, and quiz choices that answer a click anywhere on their card."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import lesson_url, lessons_in_order, log_in_quickly

pytestmark = pytest.mark.e2e


def _empty_quiz_sent(page, app, course_spec):
    """Log Kay in, send the first lesson's quiz unanswered; return the lesson and the error summary,
    once its script has run (it focuses the box: a key pressed before would follow the plain link)."""
    create_user(app, "kay@example.org", name="Kay Keys")
    log_in_quickly(page, "kay@example.org", PASSWORD)
    first = lessons_in_order(course_spec)[0]
    page.goto(lesson_url(course_spec, first, "/quiz"))
    page.get_by_role("button", name="Submit my answers").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    return first, summary


def test_an_empty_quiz_sends_focus_to_the_summary_whose_links_reach_each_question(page, app, course_spec):
    first, summary = _empty_quiz_sent(page, app, course_spec)
    expect(summary).to_contain_text("You have not answered any questions yet.")
    links = summary.get_by_role("link")
    expect(links).to_have_count(len(first.quiz))
    links.nth(1).click()
    second = page.get_by_role("group", name=f"Question 2 {first.quiz[1].prompt}", exact=True)
    expect(second.locator("input").first).to_be_focused()


def test_a_click_on_a_choice_cards_edge_picks_it(page, app, course_spec):
    create_user(app, "kay@example.org", name="Kay Keys")
    log_in_quickly(page, "kay@example.org", PASSWORD)
    page.goto(lesson_url(course_spec, lessons_in_order(course_spec)[0], "/quiz"))
    card = page.locator(".choice").first
    box = card.bounding_box()
    assert box is not None

    page.mouse.click(box["x"] + box["width"] - 3, box["y"] + 3)  # the card's top right corner, in its padding

    expect(card.locator("input")).to_be_checked()


def test_a_summary_link_on_a_phone_shows_the_question_and_its_error_above_the_focused_choice(page, app, course_spec):
    """Followed as a plain link, the choice went to the top of the screen with its question and
    error message above it, out of sight."""
    page.set_viewport_size({"width": 375, "height": 812})
    first, summary = _empty_quiz_sent(page, app, course_spec)

    last = len(first.quiz)
    summary.get_by_role("link").nth(last - 1).press("Enter")

    question = page.get_by_role("group", name=f"Question {last} {first.quiz[-1].prompt}", exact=True)
    expect(question.locator("input").first).to_be_focused()
    top = "element => element.getBoundingClientRect().top"
    assert question.locator("legend").evaluate(top) >= 0
    assert question.locator(".error-text").evaluate(top) >= 0  # "Choose an answer", in view too


def test_a_summary_link_to_a_group_of_choices_focuses_its_first_choice(page):
    """The contact form names a group of radios by its fieldset, which takes no focus: followed by
    script, the link left focus in the summary."""
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/contact")
    page.get_by_role("button", name="Ask the clinic to contact me").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()

    summary.get_by_role("link", name="Choose what it is about.").press("Enter")

    topic = page.get_by_role("group", name="What is it about?")
    expect(topic.locator("input").first).to_be_focused()
    assert topic.locator("legend").evaluate("element => element.getBoundingClientRect().top") >= 0
