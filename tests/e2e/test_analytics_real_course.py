"""A content test: the question analytics page of the real course fits a desktop screenful or six.

With the real course's 30 questions, the demo accounts and a seeded population, the page must
stay under 6,000 px tall at 1280 px (it was about 8,400 px with the demo alone before it was
made compact: talking points and each question's choices folded, a table row per question).
A course that grows past that will fail here, which is the point: the page must be looked at.
"""

from __future__ import annotations

import pytest

from app.devdata.demo import DEMO_ADMIN, DEMO_PASSWORD
from tests.e2e.conftest import log_in_quickly, write_screenshot
from tests.e2e.test_analytics_page import WIDTHS, open_analytics, with_demo_and_population

pytestmark = pytest.mark.e2e

MAX_HEIGHT_AT_1280 = 6000


@pytest.fixture
def course(real_course) -> str:
    """The live server serves the real course here."""
    return real_course


@pytest.mark.parametrize("learners", [0, 200], ids=["demo", "demo-and-200-seeded"])
def test_real_course_content_analytics_page_is_under_6000px_at_1280(page, app, course, learners):
    with_demo_and_population(app, course, learners=learners)
    log_in_quickly(page, DEMO_ADMIN, DEMO_PASSWORD)
    page.set_viewport_size(WIDTHS["desktop"])
    open_analytics(page)
    height = page.evaluate("document.documentElement.scrollHeight")
    write_screenshot(page, f"author-analytics-real-course-{learners}-1280")
    assert height < MAX_HEIGHT_AT_1280, f"the analytics page is {height}px tall at 1280px"
