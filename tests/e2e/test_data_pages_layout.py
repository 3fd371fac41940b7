"""The data pages (counsellor dashboard, client page, question analytics, users) fit their data.

With the demo accounts (``flask demo``: clients finished, struggling, quiet and new, with attempts
and misconceptions), each data page is opened at a desktop's 1280 px, a small phone's 375 px and widths between:
nothing scrolls sideways, no table cell clips its text or hides it in a scrolling box, and on the
desktop a table's date stays on one line and the page uses more than the 46rem reading column,
which a lesson keeps. axe-core checks each page at both widths; screenshots of each go to
tests/e2e/screenshots/data-<page>-<width>.jpg for people to look at.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.devdata.demo import DEMO_ADMIN, DEMO_COUNSELLOR, DEMO_PASSWORD
from app.devdata.history import histories_write, scripted_history
from app.devdata.shape import course_shape
from app.extensions import db
from app.models import CounsellorLink, Course, User
from app.models.types import utcnow
from tests.conftest import create_user
from tests.e2e.conftest import (
    axe_violations,
    describe_violations,
    lesson_url,
    lessons_in_order,
    log_in_quickly,
    write_screenshot,
)

pytestmark = pytest.mark.e2e

# Between the desktop and the phone, where layouts change: a small laptop (960 px), a common tablet
# held upright (820 px), a smaller one or a 1,400 px desktop at 200% zoom (700 px), a large phone
# held sideways (620 px).
WIDTHS = {
    "desktop": {"width": 1280, "height": 900},
    "small desktop": {"width": 960, "height": 900},
    "tablet upright": {"width": 820, "height": 1180},
    "tablet": {"width": 700, "height": 900},
    "large phone": {"width": 620, "height": 900},
    "phone": {"width": 375, "height": 812},
}
READING_COLUMN_PX = 46 * 16

# Everything wider than the page or the viewport, every table cell (or text inside one) whose
# content is wider than its box, every table region that scrolls sideways, and every date in a
# table laid out on more than one line.
MEASURE = """() => {
    const brief = el => el.outerHTML.slice(0, 140);
    // Text for screen readers only (.visually-hidden, a phone's table header) sits in a 1px box on purpose.
    const srOnly = el => {
        for (let box = el; box; box = box.parentElement) {
            const rect = box.getBoundingClientRect();
            if (rect.width <= 1 || rect.height <= 1) return true;
        }
        return false;
    };
    const clipped = [...document.querySelectorAll('table th, table td, table th *, table td *')]
        .filter(el => !srOnly(el))
        // A chart's SVG text is placed by its viewBox and never clipped; its box sizes mean nothing here.
        .filter(el => !(el instanceof SVGElement))
        .filter(el => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1);
    const scrolled = [...document.querySelectorAll('.table-wrap')]
        .filter(el => el.scrollWidth > el.clientWidth + 1);
    const wrapped = [...document.querySelectorAll('table time')]
        .filter(el => el.getClientRects().length > 1
            || el.getBoundingClientRect().height > 1.8 * parseFloat(getComputedStyle(el).lineHeight));
    return {
        scrollWidth: document.scrollingElement.scrollWidth,
        innerWidth: window.innerWidth,
        mainWidth: document.querySelector('main').getBoundingClientRect().width,
        clipped: clipped.slice(0, 5).map(brief),
        scrolled: scrolled.slice(0, 5).map(brief),
        wrappedDates: wrapped.slice(0, 5).map(brief),
        dates: document.querySelectorAll('table time').length,
    };
}"""


def client_page(page) -> None:
    page.goto("/counsel/")
    page.get_by_role("link", name="Alex Struggling").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Struggling")


def analytics(page) -> None:
    page.goto("/author/analytics")
    # The figures are computed by a job (inline in tests) on the first visit; then they are there.
    if page.get_by_role("heading", name="The figures are being prepared").count():
        page.reload()
    expect(page.get_by_role("heading", level=2, name="Lessons at a glance")).to_be_visible()


DATA_PAGES = [
    ("counsel-dashboard", DEMO_COUNSELLOR, lambda page: page.goto("/counsel/")),
    ("counsel-client", DEMO_COUNSELLOR, client_page),
    ("author-analytics", DEMO_ADMIN, analytics),
    ("author-users", DEMO_ADMIN, lambda page: page.goto("/author/users")),
    ("author-activity", DEMO_ADMIN, lambda page: page.goto("/author/activity")),
]


@pytest.fixture
def demo(app, course) -> None:
    """The demo admin, counsellor and clients, with their progress, attempts and misconceptions."""
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("name", "who", "open_page"), DATA_PAGES, ids=[name for name, *_ in DATA_PAGES])
def test_data_page_fits_desktop_and_phone(page, demo, axe_source, name, who, open_page):
    log_in_quickly(page, who, DEMO_PASSWORD)
    open_page(page)
    problems = []
    for label, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        found = page.evaluate(MEASURE)
        where = f"{name} at {viewport['width']}px"
        if found["scrollWidth"] > found["innerWidth"]:
            problems.append(f"{where} scrolls sideways: {found['scrollWidth']} > {found['innerWidth']}")
        if found["clipped"] or found["scrolled"]:
            problems.append(f"{where} clips table text: {found['clipped'] + found['scrolled']}")
        if label == "desktop":
            if found["wrappedDates"]:
                problems.append(f"{where} wraps dates over lines: {found['wrappedDates']}")
            if found["mainWidth"] <= READING_COLUMN_PX:
                problems.append(f"{where} keeps the reading column ({found['mainWidth']}px) instead of the full width")
        violations = axe_violations(page, axe_source)
        if violations:
            problems.append(describe_violations(where, violations))
        write_screenshot(page, f"data-{name}-{viewport['width']}")
    assert not problems, "\n".join(problems)


def test_the_dashboard_writes_dates_short_and_on_one_line(page, demo):
    log_in_quickly(page, DEMO_COUNSELLOR, DEMO_PASSWORD)
    page.goto("/counsel/")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Alex Struggling"))
    # "19 Nov": the year is plain on a list of recent activity, and the column stays narrow.
    expect(row.locator("time")).to_have_text(re.compile(r"^\d{1,2} [A-Z][a-z]{2}$"))


def test_a_lesson_keeps_the_reading_column(page, demo, course_spec):
    log_in_quickly(page, DEMO_COUNSELLOR, DEMO_PASSWORD)
    page.goto(lesson_url(course_spec, lessons_in_order(course_spec)[0]))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert width <= READING_COLUMN_PX, f"a lesson's column is {width}px wide, more than the 46rem reading column"


# A name people type with no spaces (a handle, or letters run together), as long as a word can get.
LONG_NAME = "Maximiliana" + "x" * 49
# How wide the page is against the viewport, and every element with the name whose text runs out of its box.
OVERFLOW = """(name) => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
    spilled: [...document.querySelectorAll('main *')]
        .filter(el => el.textContent.includes(name) && el.getBoundingClientRect().width > 1)
        .filter(el => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > window.innerWidth)
        .map(el => el.outerHTML.slice(0, 100)),
})"""


def test_a_long_name_without_spaces_fits_a_phone(page, learner_page, app):
    """A 60-letter name wraps in "Hello, <name>" on /me/ and in the client page's heading at 375 px."""
    from app.models import Role
    from tests.conftest import PASSWORD

    assert len(LONG_NAME) == 60
    counsellor = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    learner = create_user(app, "long@example.org", name=LONG_NAME)
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner))
        db.session.commit()
        db.session.remove()
    phone = WIDTHS["phone"]
    problems = []
    for who, browser_page, path in [
        ("long@example.org", learner_page, "/me/"),
        ("casey@example.org", page, f"/counsel/clients/{learner}"),
    ]:
        browser_page.set_viewport_size(phone)
        log_in_quickly(browser_page, who, PASSWORD)
        browser_page.goto(path)
        expect(browser_page.get_by_role("heading", level=1)).to_contain_text(LONG_NAME)
        found = browser_page.evaluate(OVERFLOW, LONG_NAME)
        if found["scrollWidth"] > found["innerWidth"]:
            problems.append(f"{path} scrolls sideways: {found['scrollWidth']} > {found['innerWidth']}")
        if found["spilled"]:
            problems.append(f"{path} lets the name run out of its box: {found['spilled'][:3]}")
        write_screenshot(browser_page, f"long-name-{path.strip('/').split('/')[0]}-{phone['width']}")
    assert not problems, "\n".join(problems)


# Clients who make the dashboard's table wide: two flags at once and a long name of several words,
# and a name typed as one long word. On a tablet held upright (820 px) such a table was 928 px in
# a 778 px box, and the flags, its last column and the one that matters most, were cut off.
CROWDED_CLIENTS = [("Alexandra Featherstonehaugh-Montgomery", 3, 12), (LONG_NAME, 3, 0)]
FLAG_WIDTHS = [1280, 960, 900, 820, 700, 390]
# Every flags cell and every flag in it: clipped (its content wider than its box) or out of the
# table's visible box (the table scrolls sideways inside it), and whether the page scrolls sideways.
FLAGS_SEEN = """() => {
    const region = document.querySelector('.table-wrap').getBoundingClientRect();
    const hidden = el => {
        const box = el.getBoundingClientRect();
        return el.scrollWidth > el.clientWidth + 1 || box.left < region.left - 1 || box.right > region.right + 1;
    };
    const cells = [...document.querySelectorAll('.client-table td[data-label="Flags"]')];
    return {
        cells: cells.length,
        flags: cells.flatMap(cell => [...cell.querySelectorAll('.flag')]).map(flag => flag.textContent.trim()),
        hidden: cells.flatMap(cell => [cell, ...cell.querySelectorAll('.flag')]).filter(hidden)
            .map(el => el.outerHTML.slice(0, 100)),
        tableScrolls: document.querySelector('.table-wrap').scrollWidth
            > document.querySelector('.table-wrap').clientWidth + 1,
        pageScrolls: document.scrollingElement.scrollWidth > window.innerWidth,
    };
}"""


@pytest.fixture
def crowded(app, demo, course) -> None:
    """Two more of the demo counsellor's clients, each struggling (failed tries at the second
    lesson's quiz), the first inactive for 12 days too."""
    ids = [
        (create_user(app, f"crowded{n}@example.org", name=name), fails, days)
        for n, (name, fails, days) in enumerate(CROWDED_CLIENTS)
    ]
    with app.app_context():
        the_course = db.session.scalar(select(Course).where(Course.slug == course))
        counsellor = db.session.scalar(select(User).where(User.email == DEMO_COUNSELLOR))
        shape = course_shape(db.session, the_course)
        histories = []
        for learner, fails, days in ids:
            db.session.add(CounsellorLink(counsellor_id=counsellor.id, learner_id=learner, created_by_id=learner))
            last_active = utcnow() - timedelta(days=days)
            histories.append(
                (
                    learner,
                    scripted_history(shape, passed=1, failures_on_next=fails, open_next=False, last_active=last_active),
                )
            )
        histories_write(db.session, course=the_course, histories=histories, shape=shape)
        db.session.commit()
        db.session.remove()


def test_the_dashboard_shows_every_flag_whole_on_a_tablet_and_at_every_width(page, crowded):
    log_in_quickly(page, DEMO_COUNSELLOR, DEMO_PASSWORD)
    page.goto("/counsel/")
    problems = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in FLAG_WIDTHS:
            page.set_viewport_size({"width": width, "height": 1180 if width == 820 else 900})
            found = page.evaluate(FLAGS_SEEN)
            where = f"/counsel/ at {width}px ({scheme})"
            assert found["cells"] == 6 and found["flags"].count("Struggling") == 3, found
            assert "Inactive over 7 days" in found["flags"], found
            if found["pageScrolls"]:
                problems.append(f"{where} scrolls sideways")
            if found["tableScrolls"] or found["hidden"]:
                problems.append(f"{where} hides flags: {found['hidden'][:3]}")
            write_screenshot(page, f"data-dashboard-flags-{width}-{scheme}")
    assert not problems, "\n".join(problems)
