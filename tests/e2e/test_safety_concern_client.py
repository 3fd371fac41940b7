"""A client holding a safety-critical misconception, in a browser: the dashboard's "Safety concern" tag
is seen, in words, first among the flags, and passes axe's contrast rules in the light and the dark
palette; "At a glance" says what it means."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import axe_violations, describe_violations, log_in_quickly, save_screenshots
from tests.e2e.test_client_summary_print import COUNSELLOR, fail_the_first_quiz, linked_client

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_safety_concern_is_tagged_in_words_that_can_be_read(page, app, axe_source, scheme):
    learner_id = linked_client(app)
    fail_the_first_quiz(app, learner_id)  # among its wrong choices, the course's safety-critical one
    page.emulate_media(color_scheme=scheme)
    log_in_quickly(page, COUNSELLOR, PASSWORD)

    page.goto("/counsel/")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Lee Learner"))
    expect(row.locator(".flag").first).to_have_text("Safety concern")
    violations = axe_violations(page, axe_source)
    save_screenshots(page, f"{scheme}-counsel-safety-concern")
    assert not violations, describe_violations(f"the dashboard ({scheme})", violations)

    page.goto(f"/counsel/clients/{learner_id}")
    expect(page.get_by_role("region", name="At a glance")).to_contain_text("Safety concern: a wrong answer showed")
    violations = axe_violations(page, axe_source)
    assert not violations, describe_violations(f"the client page ({scheme})", violations)
