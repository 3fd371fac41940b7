"""The question analytics page in Chromium: compact, filtered by date range without script, its
choices folded away until opened, a CSV download, axe-core clean at 1280 and 375 px.

The figures come from the demo accounts (``flask demo``) plus a seeded population in the factory
course, so there are flags, cautions and misconceptions to show. The real course's page height
is a content test of its own (test_analytics_real_course.py).
"""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from app.devdata.demo import DEMO_ADMIN, DEMO_PASSWORD
from app.devdata.population import seed_population
from app.extensions import db
from app.models.types import utcnow
from app.services.progress import course_by_slug
from tests.e2e.conftest import axe_violations, describe_violations, log_in_quickly, write_screenshot

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


def with_demo_and_population(app, course_slug: str, learners: int) -> None:
    """The demo admin and clients, and ``learners`` seeded learners with realistic histories."""
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    if not learners:
        return
    with app.app_context():
        seed_population(
            db.session,
            course=course_by_slug(db.session, course_slug),
            learners=learners,
            counsellors=0,
            admins=0,
            linked_share=0,
            seed=3,
            now=utcnow(),
            batch_size=500,
            hash_method=app.config["PASSWORD_HASH_METHOD"],
        )
        db.session.remove()


def open_analytics(page, query: str = "") -> None:
    page.goto(f"/author/analytics{query}")
    # The figures are computed by a job (inline in tests) on the first visit; then they are there.
    if page.get_by_role("heading", name="The figures are being prepared").count():
        page.reload()
    expect(page.get_by_role("heading", level=2, name="Lessons at a glance")).to_be_visible()


def overflow(page) -> dict:
    return page.evaluate(
        """() => ({
            scrollWidth: document.scrollingElement.scrollWidth,
            innerWidth: window.innerWidth,
            height: document.documentElement.scrollHeight,
            wider: [...document.querySelectorAll('main *')]
                .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .filter(el => !el.closest('.visually-hidden'))
                .slice(0, 5).map(el => el.outerHTML.slice(0, 120)),
        })"""
    )


@pytest.fixture
def populated(app, course):
    with_demo_and_population(app, course, learners=60)


def test_analytics_fits_both_widths_and_passes_axe(page, populated, axe_source):
    log_in_quickly(page, DEMO_ADMIN, DEMO_PASSWORD)
    open_analytics(page)
    # One question's choices opened, so its chart and texts are checked too.
    page.locator(".choice-details summary").first.click()
    expect(page.locator(".choice-details[open] svg[role=img]")).to_have_count(1)
    problems = []
    for label, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        found = overflow(page)
        where = f"analytics at {viewport['width']}px"
        if found["scrollWidth"] > found["innerWidth"] or found["wider"]:
            problems.append(f"{where} scrolls sideways: {found}")
        violations = axe_violations(page, axe_source)
        if violations:
            problems.append(describe_violations(where, violations))
        write_screenshot(page, f"author-analytics-{label}")
    assert not problems, "\n".join(problems)


def test_the_date_range_is_chosen_with_a_plain_form(page, populated, course):
    log_in_quickly(page, DEMO_ADMIN, DEMO_PASSWORD)
    open_analytics(page)
    expect(page.locator(".snapshot-note")).to_contain_text("All time")

    page.get_by_label("Date range").select_option(label="Last 30 days")
    page.get_by_role("button", name="Show").click()

    assert "range=30d" in page.url
    expect(page.locator(".snapshot-note")).to_contain_text("Last 30 days (since")
    expect(page.get_by_label("Date range")).to_have_value("30d")
    download_link = page.get_by_role("link", name="Download CSV of these figures")
    expect(download_link).to_have_attribute("href", f"/author/analytics.csv?course={course}&range=30d")


def test_without_script_the_range_form_still_works(browser, live_server, populated):
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    try:
        log_in_quickly(page, DEMO_ADMIN, DEMO_PASSWORD)
        open_analytics(page)
        page.get_by_label("Date range").select_option("90d")
        page.get_by_role("button", name="Show").click()
        expect(page.locator(".snapshot-note")).to_contain_text("Last 90 days")
        # <details> opens without script too.
        page.locator(".choice-details summary").first.click()
        expect(page.locator(".choice-details[open] .choice-list").first).to_be_visible()
    finally:
        context.close()


def test_the_csv_downloads_with_the_page_figures(page, populated, course):
    log_in_quickly(page, DEMO_ADMIN, DEMO_PASSWORD)
    open_analytics(page)
    first_row = page.locator(".questions-table tbody tr").first
    answers = first_row.locator('td[data-label="Answers"]').inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV of these figures").click()
    download = download_info.value

    assert download.suggested_filename.startswith(f"{course}-analytics-all-")
    with open(download.path(), "rb") as file:
        body = file.read()
    assert body.startswith(b"\xef\xbb\xbf")  # the byte-order mark that tells Excel it is UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Lesson", "Lesson title", "Question"]
    assert rows[1][rows[0].index("Answers")] == answers


# How many lines each one-word column heading of the first questions table takes.
ONE_WORD_HEADINGS_LINES = """() => [...document.querySelector('.questions-table thead').querySelectorAll('th')]
  .filter((th) => !th.querySelector('.visually-hidden'))
  .filter((th) => th.textContent.trim() && !/\\s|\\u00ad/.test(th.textContent.trim()))
  .map((th) => {
    const range = document.createRange();
    range.selectNodeContents(th);
    const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
    return [th.textContent.trim(), lines.size];
  })"""


@pytest.mark.parametrize("width", [1280, 1000])
def test_no_column_heading_breaks_inside_a_word(page, populated, course, width):
    """ "Answers" read "Answer / s" on a desktop: the figures' columns were a share of the width."""
    page.set_viewport_size({"width": width, "height": 900})
    log_in_quickly(page, DEMO_ADMIN, DEMO_PASSWORD)
    open_analytics(page)
    headings = page.evaluate(ONE_WORD_HEADINGS_LINES)
    assert ["Answers", 1] in headings
    assert all(lines == 1 for _, lines in headings), headings
