"""The site in a dark system setting, printed from one, in forced colours (Windows' high contrast).

With ``prefers-color-scheme: dark`` every page is drawn dark (app.css's second palette) and axe-core's
WCAG 2.1 AA rules, colour contrast among them, still pass on the learner's main pages, a
counsellor's and the authoring ones; a lesson printed from a dark screen is black on white without
the navigation; in forced colours focus, state tags and progress bars stay visible. Screenshots go
to tests/e2e/screenshots/dark-*.jpg for people to look at.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.devdata.demo import DEMO_ADMIN, DEMO_PASSWORD
from app.models import Role
from app.services.course_files import CourseSpec
from tests.conftest import PASSWORD, create_user, real_course_spec
from tests.e2e.conftest import (
    axe_violations,
    describe_violations,
    lesson_url,
    lessons_in_order,
    log_in_quickly,
    save_screenshots,
)
from tests.e2e.test_accessibility import (
    as_learner,
    certificate,
    contact_logged_in,
    contact_logged_out,
    course_overview,
    landing,
    lesson,
    my_page_with_attempts,
    page_name,
    quiz_result_failed,
    quiz_with_errors,
)
from tests.e2e.test_analytics_page import open_analytics, with_demo_and_population
from tests.e2e.test_certificate_print import printed
from tests.e2e.test_client_summary_print import fail_the_first_quiz, linked_client

pytestmark = pytest.mark.e2e

ADMIN = "ada.dark@example.org"
COUNSELLOR = "casey@example.org"  # linked_client's counsellor

# A colour's relative luminance (WCAG), from the rgb()/rgba() string getComputedStyle returns.
LUMINANCE = """(colour) => {
    const [r, g, b] = colour.match(/[\\d.]+/g).slice(0, 3).map(Number).map(c => {
        c /= 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""
PAGE_COLOURS = f"""() => {{
    const luminance = {LUMINANCE};
    const body = getComputedStyle(document.body), card = document.querySelector('.panel, .lesson-item, .question');
    return {{
        background: luminance(body.backgroundColor), text: luminance(body.color),
        card: card ? luminance(getComputedStyle(card).backgroundColor) : null,
        scheme: getComputedStyle(document.documentElement).colorScheme,
    }};
}}"""


@pytest.fixture
def course(real_course) -> str:
    """The live server serves the real course: its lessons' Markdown is what learners read."""
    return real_course


@pytest.fixture(scope="session")
def course_spec() -> CourseSpec:
    return real_course_spec()


def as_admin(page, app) -> None:
    create_user(app, ADMIN, name="Ada Admin", role=Role.ADMIN)
    log_in_quickly(page, ADMIN, PASSWORD)


def counsellor_client(page, app, spec):
    """A client's page with a failed quiz: flags, misconceptions, progress."""
    learner_id = linked_client(app)
    fail_the_first_quiz(app, learner_id)
    log_in_quickly(page, COUNSELLOR, PASSWORD)
    page.goto(f"/counsel/clients/{learner_id}")
    expect(page.get_by_role("heading", name="At a glance")).to_be_visible()


def then_counsellor_dashboard(page, app, spec):
    """From the client's page."""
    page.goto("/counsel/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your clients")


def author_outline(page, app, spec):
    """The course's outline with its tool buttons."""
    as_admin(page, app)
    page.goto("/author/")


def then_author_lesson_editor(page, app, spec):
    """A lesson's editor beside the learner's view of it, with a field refused (from the outline)."""
    page.goto(f"/author/courses/{spec.slug}/lessons/{lessons_in_order(spec)[0].slug}/edit")
    page.get_by_label("Title", exact=True).fill("")
    page.get_by_role("button", name=re.compile(r"^Save")).first.click()
    expect(page.get_by_role("alert").first).to_be_visible()


def author_analytics(page, app, spec):
    """The question analytics with the demo's histories: tables, flags and the SVG charts."""
    with_demo_and_population(app, spec.slug, learners=0)
    log_in_quickly(page, DEMO_ADMIN, DEMO_PASSWORD)
    open_analytics(page)
    page.locator(".choice-details summary").first.click()  # a question's chart, opened
    expect(page.locator(".choice-details[open] svg[role=img]")).to_have_count(1)


def error_page(page, app, spec):
    page.goto("/courses/no-such-course/")


# As in test_accessibility: a journey's first page starts from a new browser context, and each
# ``then_`` step goes on from the page before, so the same log-in is not repeated for each page.
DARK_JOURNEYS = [
    [landing, contact_logged_out, error_page],
    [course_overview],
    [lesson],
    [quiz_with_errors],
    [quiz_result_failed],
    [my_page_with_attempts],
    [certificate],
    [contact_logged_in],
    [counsellor_client, then_counsellor_dashboard],
    [author_outline, then_author_lesson_editor],
    [author_analytics],
]


@pytest.mark.parametrize("journey", DARK_JOURNEYS, ids=["+".join(step.__name__ for step in j) for j in DARK_JOURNEYS])
def test_a_dark_system_setting_gives_dark_pages_that_pass_axe(page, app, course_spec, axe_source, journey):
    page.emulate_media(color_scheme="dark")
    failures = []
    for step in journey:
        step(page, app, course_spec)
        expect(page.locator("main h1").first).to_be_visible()
        colours = page.evaluate(PAGE_COLOURS)
        # Dark really applies: a dark page, light text, and the browser told so (form controls, scrollbars).
        assert colours["background"] < 0.03 and colours["text"] > 0.6, (step.__name__, colours)
        assert colours["card"] is None or colours["card"] < 0.05, (step.__name__, colours)
        assert "dark" in colours["scheme"], (step.__name__, colours)
        name = "dark-" + page_name(step)
        violations = axe_violations(page, axe_source)
        save_screenshots(page, name)
        if violations:  # reported with the journey's other pages' at the end
            failures.append(describe_violations(f"{name} ({page.url})", violations))
    assert not failures, "\n\n".join(failures)


def test_the_light_scheme_is_unchanged_by_default(page, app, course_spec):
    """Without a dark setting the page stays the light one, so no one is switched by surprise."""
    page.emulate_media(color_scheme="light")
    lesson(page, app, course_spec)
    colours = page.evaluate(PAGE_COLOURS)
    assert colours["background"] > 0.9 and colours["text"] < 0.05, colours


def test_a_lesson_printed_from_a_dark_screen_is_black_on_white_with_its_help_and_sources(page, app, course_spec):
    page.emulate_media(color_scheme="dark")
    first = lessons_in_order(course_spec)[0]
    as_learner(page, app)
    page.goto(lesson_url(course_spec, first))
    expect(page.get_by_role("heading", level=1)).to_have_text(first.title)

    page.emulate_media(media="print", color_scheme="dark")
    colours = page.evaluate(PAGE_COLOURS)
    assert colours["background"] == 1 and colours["text"] == 0, colours
    assert colours["card"] is None or colours["card"] == 1, colours
    for navigation in ("Main", "Breadcrumb", "Lessons"):
        expect(page.get_by_role("navigation", name=navigation)).to_be_hidden()
    expect(page.get_by_role("link", name="Take the quiz")).to_be_hidden()
    expect(page.locator(".help-block")).to_be_visible()

    text = " ".join(printed(page))
    assert first.title in text
    for kept in ("Where to get help", "Samaritans", "116 123", "not medical advice"):
        assert kept in text, f"{kept!r} is missing from the printed lesson"
    for left_out in ("Log out", "Check what you learned", "Take the quiz", "Skip to content"):
        assert left_out not in text, f"{left_out!r} is printed"
    # A source on another site prints where it leads (pypdf may break a long address across lines).
    url = next(source.url for source in first.sources if source.url)
    assert url in re.sub(r"\s+", "", text), f"{url} is not printed"


# An element's outline and edge in forced colours: the one a selector names, else the focused one.
FORCED = """(selector) => {
    const el = selector ? document.querySelector(selector) : document.activeElement, style = getComputedStyle(el);
    return {outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
            outlineColor: style.outlineColor, background: getComputedStyle(document.body).backgroundColor,
            border: parseFloat(style.borderTopWidth) || 0, borderStyle: style.borderTopStyle};
}"""


def pass_the_first_lesson(app) -> None:
    """The reader (test_accessibility's learner) completes lesson 1, so a progress bar has a value."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Course, User
    from app.services.progress import course_outline, lesson_record_completion
    from tests.e2e.test_accessibility import EMAIL

    with app.app_context():
        reader = db.session.scalar(select(User).where(User.email == EMAIL))
        first = course_outline(db.session, course=db.session.scalar(select(Course)), learner=None).entries[0]
        lesson_record_completion(db.session, learner=reader, lesson=first.lesson)
        db.session.commit()
        db.session.remove()


def test_forced_colours_keep_focus_state_tags_and_progress_visible(page, app, course_spec):
    page.emulate_media(forced_colors="active")
    as_learner(page, app)
    pass_the_first_lesson(app)
    page.goto(f"/courses/{course_spec.slug}/")
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")

    # Focus: a solid outline, in a colour other than the page's.
    page.get_by_role("link", name=lessons_in_order(course_spec)[0].title).focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")  # focus by keyboard, so :focus-visible applies
    focused = page.evaluate(FORCED, None)
    assert focused["outline"] == "solid" and focused["outlineWidth"] >= 2, focused
    assert focused["outlineColor"] != focused["background"], focused

    # A lesson's state tag keeps an edge when its fill is painted over.
    badge = page.evaluate(FORCED, ".badge")
    assert badge["border"] >= 1 and badge["borderStyle"] == "solid", badge

    # The progress bar's value is drawn in a system colour, unlike its track (a fill alone would
    # be painted over as the page's background): measured on the screen, as a user sees it.
    bar = Image.open(io.BytesIO(page.locator("progress").first.screenshot())).convert("RGB")
    middle = bar.height // 2
    value, track = bar.getpixel((bar.width // 20, middle)), bar.getpixel((bar.width * 4 // 5, middle))
    assert value != track, f"the progress bar's value ({value}) looks like its track ({track})"

    # Buttons keep their edge: a button's fill alone would vanish.
    page.goto(lesson_url(course_spec, lessons_in_order(course_spec)[0]))
    button = page.evaluate(FORCED, "a.button")
    assert button["border"] >= 2 and button["borderStyle"] == "solid", button
