"""A quiz whose learner was logged out before they sent it keeps their ticks, in Chromium.

Logged out in another tab, a learner's quiz could not be sent, and after logging in again it
came back blank: every answer chosen anew (a review of the phone journey). The ticks are kept in
the tab (static/js/keep-answers.js) until the result is shown; never for another account, and
not past logging out in the tab itself."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import (
    DESKTOP,
    axe_violations,
    describe_violations,
    lesson_url,
    lessons_in_order,
    log_in_quickly,
    write_screenshot,
)

pytestmark = pytest.mark.e2e


def _group(page, number: int, question):
    return page.get_by_role("group", name=f"Question {number} {question.prompt}", exact=True)


def _tick(page, lesson, pick) -> list[tuple[int, str]]:
    """Tick, for each question, the choice ``pick(question)`` gives; return (number, choice text)."""
    ticked = []
    for number, question in enumerate(lesson.quiz, start=1):
        text = question.choices[pick(question)].text
        _group(page, number, question).get_by_label(text, exact=True).check()
        ticked.append((number, text))
    return ticked


def _right(question) -> int:
    return next(i for i, choice in enumerate(question.choices) if choice.correct)


def _log_out_in_another_tab(page) -> None:
    """Log out in a second tab of the same browser (its cookies, its own sessionStorage).

    The tab is closed only once its log-out has landed: closed while that navigation was under
    way, Chromium's close once never returned and the suite hung.
    """
    other_tab = page.context.new_page()
    other_tab.goto("/me/")
    other_tab.get_by_role("button", name="Log out", exact=True).click()
    expect(other_tab.get_by_text("You have logged out.")).to_be_visible()
    other_tab.wait_for_load_state("load")
    other_tab.close()


def _log_in_here(page, email: str) -> None:
    """Log in on the login page this tab was sent to (it goes on to the page asked for)."""
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_quiz_sent_after_logging_out_elsewhere_comes_back_ticked_and_is_let_go_once_sent(
    page, app, course_spec, axe_source
):
    create_user(app, "kim@example.org", name="Kim Kept")
    log_in_quickly(page, "kim@example.org", PASSWORD)
    first = lessons_in_order(course_spec)[0]
    page.goto(lesson_url(course_spec, first, "/quiz"))
    ticked = _tick(page, first, _right)

    _log_out_in_another_tab(page)

    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This form was not sent")
    page.get_by_role("link", name="Back to the page").click()
    _log_in_here(page, "kim@example.org")

    expect(page.locator("form.quiz .kept-answers")).to_contain_text(
        "The answers you chose here before are ticked again"
    )
    for number, text in ticked:
        expect(_group(page, number, first.quiz[number - 1]).get_by_label(text, exact=True)).to_be_checked()
    violations = axe_violations(page, axe_source)
    assert not violations, describe_violations("the quiz with kept answers", violations)
    page.set_viewport_size({"width": 375, "height": 812})
    write_screenshot(page, "quiz-kept-answers-phone", full_page=False)
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("You passed")

    page.goto(lesson_url(course_spec, first, "/quiz"))  # taken again: blank, as any retake
    expect(page.locator(".kept-answers")).to_have_count(0)
    expect(page.locator("form.quiz input:checked")).to_have_count(0)


def test_kept_ticks_can_be_cleared_and_are_never_another_accounts(page, app, course_spec):
    create_user(app, "kim@example.org", name="Kim Kept")
    create_user(app, "lou@example.org", name="Lou Later")
    log_in_quickly(page, "kim@example.org", PASSWORD)
    first = lessons_in_order(course_spec)[0]
    quiz = lesson_url(course_spec, first, "/quiz")
    page.goto(quiz)
    _tick(page, first, _right)

    page.reload()  # as after logging in again: a new page, choices in a new order
    expect(page.locator("form.quiz input:checked")).to_have_count(len(first.quiz))
    page.get_by_role("button", name="Clear my answers").click()
    expect(page.locator("form.quiz input:checked")).to_have_count(0)
    expect(page.locator("form.quiz input[type=radio], form.quiz input[type=checkbox]").first).to_be_focused()
    page.reload()
    expect(page.locator("form.quiz input:checked")).to_have_count(0)

    _tick(page, first, _right)
    # Kim's session ends behind this tab's back (in another tab); Lou logs in here and opens the quiz.
    _log_out_in_another_tab(page)
    log_in_quickly(page, "lou@example.org", PASSWORD)
    page.goto(quiz)
    expect(page.locator("form.quiz input:checked")).to_have_count(0)
    expect(page.locator(".kept-answers")).to_have_count(0)

    # Lou ticks one and logs out in this tab: what the tab kept is let go.
    _group(page, 1, first.quiz[0]).get_by_label(first.quiz[0].choices[0].text, exact=True).check()
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    assert page.evaluate("() => window.sessionStorage.length") == 0
    log_in_quickly(page, "lou@example.org", PASSWORD)
    page.goto(quiz)
    expect(page.locator("form.quiz input:checked")).to_have_count(0)
