"""A heavy case printed: a client of the real course with eight misconceptions (one quiz tried four
times) fits the session summary on one A4 page, on a first look and on a later one, where it took
two before the print layout was made compact. And on the screen, with axe: the talking points
marked "New", and a wrong answer beside the right one on the lesson's attempts page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import axe_violations, describe_violations, log_in_quickly, save_screenshots
from tests.e2e.test_certificate_print import SITE_CHROME, printed
from tests.e2e.test_client_summary_print import COUNSELLOR, earlier_visit, linked_client
from tests.heavy_client import reveal

pytestmark = pytest.mark.e2e


@pytest.fixture
def course(real_course) -> str:
    """The live server serves the real course here: its talking points are the ones printed."""
    return real_course


def squeezed(text: str) -> str:
    return " ".join(text.split())


def assert_one_page_with_every_point(page, points: dict[str, str]) -> str:
    sheets = printed(page)
    assert len(sheets) == 1, f"the summary printed on {len(sheets)} pages"
    summary = squeezed(sheets[0])
    for words in ["At a glance", "Since you last looked", "What to talk about"]:
        assert words in summary, words
    for text in points.values():
        assert squeezed(text)[:60] in summary, text  # each talking point, from its start
    for words in [*SITE_CHROME, "Questions where it showed", "Lesson by lesson"]:
        assert words not in summary, words
    return summary


def test_eight_misconceptions_print_on_one_page_on_a_first_look(page, app, course):
    learner_id = linked_client(app)
    points = reveal(app, learner_id, course)
    log_in_quickly(page, COUNSELLOR, PASSWORD)
    page.goto(f"/counsel/clients/{learner_id}")
    expect(page.get_by_role("region", name="Since you last looked")).to_contain_text("This is your first look")
    summary = assert_one_page_with_every_point(page, points)
    assert "NEW " not in summary  # nothing is marked new on a first look: everything is


def test_eight_new_misconceptions_and_a_retaken_quiz_print_on_one_page_on_a_later_visit(page, app, course, axe_source):
    learner_id = linked_client(app)
    log_in_quickly(page, COUNSELLOR, PASSWORD)
    page.goto(f"/counsel/clients/{learner_id}")  # a first look, recorded
    earlier_visit(app)
    points = reveal(app, learner_id, course, retries=3)
    page.reload()  # the next visit: all eight are new since the last

    since = page.get_by_role("region", name="Since you last looked")
    expect(since).to_contain_text("6 new quiz attempts")
    expect(since).to_contain_text("(4 tries: ")
    talk = page.get_by_role("region", name="What to talk about")
    expect(talk.locator(".insight")).to_have_count(8)
    expect(talk.locator(".insight .tag-new")).to_have_count(8)
    violations = axe_violations(page, axe_source)
    assert not violations, describe_violations("the client page of a heavy case", violations)
    save_screenshots(page, "counsel-client-heavy")

    summary = assert_one_page_with_every_point(page, points)
    assert "Flags Safety concern Struggling" in summary
    assert "Misconceptions newly shown: 8, each marked “New” under “What to talk about”" in summary
    assert summary.count("NEW ") == 8  # the mark, in capitals as tags are
    assert "Safety concern: a wrong answer" not in summary  # the list of talking points shows it
    assert "Struggling: 3 or more failed tries at a quiz not yet passed." in summary


def test_a_wrong_answer_is_shown_beside_the_right_one_on_the_attempts_page(page, app, course, axe_source):
    learner_id = linked_client(app)
    reveal(app, learner_id, course)
    log_in_quickly(page, COUNSELLOR, PASSWORD)
    page.goto(f"/counsel/clients/{learner_id}/lessons/receptors-and-blockers/attempts")
    answers = page.locator(".attempt-answers > li")
    wrong = answers.filter(has_text="✗ Wrong").first
    # Each side is a term and its definition: a screen reader says which is which.
    expect(wrong.get_by_role("term")).to_have_text(
        [re.compile(r"^Client’s answers?:$"), re.compile(r"^Right answers?:$")]
    )
    expect(wrong.get_by_role("definition")).to_have_count(2)
    right = answers.filter(has_text="✓ Right").first
    expect(right.get_by_role("term")).to_have_text([re.compile(r"^Client’s answers?:$")])
    violations = axe_violations(page, axe_source)
    assert not violations, describe_violations("a client's attempts with the right answers", violations)
    save_screenshots(page, "counsel-client-attempts-right-answers")
