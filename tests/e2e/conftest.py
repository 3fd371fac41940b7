"""Browser fixtures: the app served on a free loopback port, and Debian's Chromium via Playwright.

Every test in this folder is marked ``e2e`` and skipped, saying why, when Chromium is missing.
Playwright's own browser downloads are never used: CI installs Debian's chromium instead.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from playwright.sync_api import expect

from app.services.course_files import CourseSpec, LessonSpec, QuestionSpec
from config import TestConfig
from tests.conftest import backend_url, factory_course_spec

HERE = Path(__file__).parent
SCREENSHOT_DIR = HERE / "screenshots"
CHROMIUM = next(
    (path for path in ("/usr/bin/chromium", shutil.which("chromium")) if path and Path(path).exists()),
    None,
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# How often the live server's loop wakes to see whether it should stop (see ``live_server``).
SERVER_POLL_SECONDS = 0.02


# Browser tests check pages, which are the same on either database; what differs between the
# databases is tested on both by the service and HTTP tests. So each browser test runs once, on
# PostgreSQL (production's database) when TEST_DATABASE_URL is set, else on SQLite: on both it
# cost CI about a minute.
E2E_BACKEND = "postgresql" if TestConfig.TEST_DATABASE_URL else "sqlite"


@pytest.fixture(params=[E2E_BACKEND])
def database_url(request) -> str:
    return backend_url(request, request.param)


def pytest_collection_modifyitems(config, items):
    """Mark this folder's tests e2e, and skip them all when there is no Chromium to drive."""
    skip = pytest.mark.skip(reason="Debian's chromium is not installed; apt-get install chromium")
    if CHROMIUM is None and TestConfig.E2E_REQUIRED:
        raise pytest.UsageError("E2E_REQUIRED is set but Debian's chromium is not installed (apt-get install chromium)")
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)
            if CHROMIUM is None:
                item.add_marker(skip)


# --- the app, served for real --------------------------------------------------------------


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """The standard library's WSGI server, a thread per request, as the browser opens several."""

    daemon_threads = True


class QuietRequestHandler(WSGIRequestHandler):
    """Log errors but not every request, so a failing test's output stays readable.

    The standard library's server, not Werkzeug's: it closes each response as soon as it is
    written, as gunicorn does, so close callbacks run at once.
    Werkzeug's development server first drains the socket, which a browser could hold open.
    """

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's signature
        pass


@pytest.fixture
def live_server(app, course) -> Iterator[str]:
    """Serve the test app (course imported) on 127.0.0.1 and a free port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, server_class=ThreadingWSGIServer, handler_class=QuietRequestHandler)
    # ``shutdown`` waits for the serving loop to look at its flag, which it does between polls:
    # at the default half second, each test's teardown waited about 0.45 s after its last request.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SERVER_POLL_SECONDS}, name="live-server", daemon=True
    )
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    # Links in e-mails and on the invitation page come from PUBLIC_URL: here, this server.
    app.config["PUBLIC_URL"] = base
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@contextmanager
def checked_page(browser, live_server, who: str = "the browser") -> Iterator:
    """A page in a fresh browser context (no shared cookies), pointed at the live server.

    Console errors (a CSP violation, a missing file) and failed sub-resources fail the test
    when the block ends.
    """
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="en-GB")
    # Generous: these tests assert what a user sees, not how fast (the benchmark does that), and
    # under CI's full load (two workers, each with Chromium, a server and a database) a click
    # once waited more than ten seconds for the page to settle.
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message):
        # A page answered with 4xx on purpose (a form with errors) is logged as "Failed to load
        # resource"; failed files are caught from their responses below instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console error: {message.text}")

    def on_response(response):
        if response.status >= 400 and response.request.resource_type != "document":
            kind = response.request.resource_type
            problems.append(f"{response.status} for {kind} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        yield page
    finally:
        context.close()
    assert not problems, f"{who} reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page(browser, live_server):
    """The test's browser page; see checked_page."""
    with checked_page(browser, live_server) as page:
        yield page


@pytest.fixture
def learner_page(browser, live_server):
    """A second browser context (its own cookies) for a learner, checked like ``page``."""
    with checked_page(browser, live_server, "the learner's browser") as page:
        yield page


# --- the course, read from its files ---------------------------------------------------------


@pytest.fixture(scope="session")
def course_spec() -> CourseSpec:
    """The spec of the course the live server serves (the ``course`` fixture): the factory course."""
    return factory_course_spec()


def lessons_in_order(spec: CourseSpec) -> list[LessonSpec]:
    return [spec.lessons[slug] for module in spec.modules for slug in module.lesson_slugs]


def lesson_url(spec: CourseSpec, lesson: LessonSpec, suffix: str = "") -> str:
    return f"/courses/{spec.slug}/lessons/{lesson.slug}{suffix}"


def wrong_choices(question: QuestionSpec) -> list[int]:
    """Indexes of a wrong answer: the first wrong choice (alone, so ``multiple`` is wrong too)."""
    return [next(i for i, choice in enumerate(question.choices) if not choice.correct)]


def right_choices(question: QuestionSpec) -> list[int]:
    return [i for i, choice in enumerate(question.choices) if choice.correct]


def answer_quiz(page, lesson: LessonSpec, pick) -> None:
    """Tick, for each question, the choices ``pick(question)`` names, then submit."""
    for number, question in enumerate(lesson.quiz, start=1):
        group = page.get_by_role("group", name=f"Question {number} {question.prompt}", exact=True)
        for index in pick(question):
            group.get_by_label(question.choices[index].text, exact=True).check()
    page.get_by_role("button", name="Submit my answers").click()


def register(page, inbox, *, email: str, name: str, password: str) -> None:
    """Fill in the registration form the page shows, then finish from the link in the e-mail."""
    from tests.mail_server import body_of

    before = len(inbox.messages)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    # Mail goes out after the response, so it may land a moment after the page.
    messages = [m for m in inbox.wait_for(before + 1, timeout=20)[before:] if m["To"] == email]
    assert messages, f"no registration e-mail reached {email}: {[m['To'] for m in inbox.messages]}"
    message = messages[0]
    # The link is on PUBLIC_URL, which the live server sets to its own address.
    page.goto(re.search(r"https?://\S+/auth/register/finish/\S+", body_of(message)).group(0))
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()


def log_in(page, email: str, password: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Welcome back").wait_for()


def log_in_quickly(page, email: str, password: str) -> None:
    """Log in by posting the login form from the page's browser context, without drawing the form.

    For tests about the pages a signed-in user sees, not about logging in (``log_in`` drives the
    form, and the login page has its own axe check): typing into a new context's first page cost
    about a second a log-in. The request shares the context's cookies, so the page is signed in
    as after ``log_in``; its redirect is followed, which shows (so uses up) the welcome message.
    """
    form = page.request.get("/auth/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text())
    assert token, f"no CSRF token on the login page (status {form.status})"
    landed = page.request.post("/auth/login", form={"email": email, "password": password, "csrf_token": token[1]})
    assert landed.ok and "Welcome back" in landed.text(), f"{email} could not log in (status {landed.status})"


# --- axe-core and screenshots -----------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_source() -> str:
    script = importlib.resources.files("axe_playwright_python") / "axe.min.js"
    return script.read_text(encoding="utf-8")


def axe_violations(page, axe_source: str) -> list[dict]:
    """Run axe-core's WCAG 2.1 A and AA rules on the page; return the violations, briefly.

    The script is evaluated through the DevTools protocol rather than added as a script tag:
    the site's Content-Security-Policy rightly refuses inline scripts.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            const brief = v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary
                    || n.any.map(check => check.message).join('; ')})),
            });
            // axe files text it measures at 1:1 (say, white on white) under "needs review",
            // guessing it may be hidden on purpose; nothing of ours is, so a measured ratio
            // below the rule's threshold counts as a violation.
            const tooFaint = n => n.any.some(({data}) => data && data.contrastRatio > 0
                && data.contrastRatio < parseFloat(data.expectedContrastRatio || '4.5'));
            const unreadable = result.incomplete
                .filter(v => v.id === 'color-contrast')
                .map(v => ({...v, nodes: v.nodes.filter(tooFaint)}))
                .filter(v => v.nodes.length);
            return [...result.violations, ...unreadable].map(brief);
        }""",
        WCAG_TAGS,
    )


def describe_violations(where: str, violations: list[dict]) -> str:
    lines = [f"axe found {len(violations)} WCAG violation(s) on {where}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}: {node['summary']}".replace("\n", " "))
    return "\n".join(lines)


def write_screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save what the page shows (all of it, by default) as tests/e2e/screenshots/<name>.jpg, for people to look at.

    JPEG at quality 90, not PNG: as legible (these are for reading, not comparing pixels) and about
    as large, but Chromium encodes it in about half the time, and a run takes some 300 of them.
    """
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    target = SCREENSHOT_DIR / f"{name}.jpg"
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(page.screenshot(full_page=full_page, animations="disabled", type="jpeg", quality=90))
    os.replace(partial, target)  # two workers may write the same name at once
    return target


def save_screenshots(page, name: str) -> None:
    """Save full-page screenshots at desktop and phone width; fail if the phone layout scrolls sideways."""
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        write_screenshot(page, f"{name}-{label}")
        if label == "phone":
            overflow = page.evaluate(
                """() => {
                    const width = document.documentElement.clientWidth;
                    return [...document.querySelectorAll('body *')]
                        .filter(el => el.getBoundingClientRect().right > width + 1)
                        .slice(0, 5).map(el => el.outerHTML.slice(0, 120));
                }"""
            )
            assert not overflow, f"{name} is wider than a {viewport['width']}px phone: {overflow}"
    page.set_viewport_size(DESKTOP)


class Audit:
    """Run axe and save screenshots at each checkpoint of a journey; report every page's violations at the end."""

    def __init__(self, axe_source: str):
        self.axe_source = axe_source
        self.failures: list[str] = []

    def __call__(self, page, name: str) -> None:
        # The page's own h1 (a lesson preview adds the learner's page, with its h1, further down).
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        violations = axe_violations(page, self.axe_source)
        save_screenshots(page, name)
        if violations:
            self.failures.append(describe_violations(f"{name} ({page.url})", violations))

    def check(self) -> None:
        assert not self.failures, "\n\n".join(self.failures)
