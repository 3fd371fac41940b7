"""axe-core (WCAG 2.1 A and AA) on every page of the learner's journey, keyboard focus, and
full-page screenshots at phone and desktop width in tests/e2e/screenshots/ for people to look at.

These pages show the real course, not the factory course the other journeys use: the lesson and
quiz markup learners get comes from its authors' Markdown, and the screenshots are of what
learners see."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from app.services.course_files import CourseSpec
from app.services.reminders import unsubscribe_token
from tests.conftest import PASSWORD, create_user, real_course_spec
from tests.e2e.conftest import (
    answer_quiz,
    axe_violations,
    describe_violations,
    lesson_url,
    lessons_in_order,
    log_in_quickly,
    right_choices,
    save_screenshots,
    wrong_choices,
)
from tests.e2e.test_review_journey import answer_review, make_reviews_due

pytestmark = pytest.mark.e2e

EMAIL = "reader@example.org"


@pytest.fixture
def course(real_course) -> str:
    """The live server serves the real course here."""
    return real_course


@pytest.fixture(scope="session")
def course_spec() -> CourseSpec:
    return real_course_spec()


def as_learner(page, app) -> None:
    create_user(app, EMAIL, name="Robin Reader")
    log_in_quickly(page, EMAIL, PASSWORD)


def open_quiz(page, app, spec):
    as_learner(page, app)
    page.goto(lesson_url(spec, lessons_in_order(spec)[0], "/quiz"))
    return lessons_in_order(spec)[0]


def landing(page, app, spec):
    page.goto("/")


def landing_logged_in(page, app, spec):
    as_learner(page, app)
    page.goto("/")


def register(page, app, spec):
    page.goto("/auth/register")


def register_with_errors(page, app, spec):
    page.goto("/auth/register")
    page.get_by_label("E-mail").fill("not an address")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the form")


def login(page, app, spec):
    page.goto("/auth/login")


def course_logged_out(page, app, spec):
    page.goto(f"/courses/{spec.slug}/")


def course_overview(page, app, spec):
    as_learner(page, app)
    page.goto(f"/courses/{spec.slug}/")


def locked_redirect(page, app, spec):
    as_learner(page, app)
    page.goto(lesson_url(spec, lessons_in_order(spec)[2]))
    expect(page.get_by_role("alert")).to_be_visible()


def lesson(page, app, spec):
    as_learner(page, app)
    page.goto(lesson_url(spec, lessons_in_order(spec)[0]))


def quiz(page, app, spec):
    open_quiz(page, app, spec)


def quiz_with_errors(page, app, spec):
    open_quiz(page, app, spec)
    then_quiz_with_errors(page, app, spec)


def then_quiz_with_errors(page, app, spec):
    """From the quiz: sent with nothing ticked."""
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("alert")).to_be_visible()


def quiz_result_failed(page, app, spec):
    """The first lesson's wrong answers include dangerous ones: the note first, and help offered."""
    answer_quiz(page, open_quiz(page, app, spec), wrong_choices)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not passed yet")
    expect(page.get_by_role("note", name="Please read this first")).to_be_visible()
    expect(page.get_by_role("region", name="Where to get help")).to_be_visible()


def safe_wrong_choices(question) -> list[int]:
    """A wrong answer that is not a dangerous one, where the question has one (else the right answer:
    the other questions' wrong answers fail the quiz)."""
    spec = real_course_spec()

    def dangerous(choice) -> bool:
        misconception = spec.misconceptions.get(choice.misconception or "")
        return choice.safety_critical or bool(misconception and misconception.safety_critical)

    safe = [i for i, choice in enumerate(question.choices) if not choice.correct and not dangerous(choice)]
    return safe[:1] or right_choices(question)


def quiz_result_struggling(page, app, spec):
    """The third failed attempt at a quiz not yet passed (the dashboard's "Struggling"): help is offered."""
    first = open_quiz(page, app, spec)
    add_failed_attempts(app, spec, 2)
    answer_quiz(page, first, safe_wrong_choices)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not passed yet")
    expect(page.get_by_text("This quiz can take a few tries.")).to_be_visible()
    expect(page.get_by_text("Would you like some help with this quiz?")).to_be_visible()
    expect(page.get_by_role("region", name="Where to get help")).to_contain_text("Ask the clinic to get in touch")


def quiz_result_passed(page, app, spec):
    answer_quiz(page, open_quiz(page, app, spec), right_choices)
    expect(page.get_by_role("heading", level=1)).to_contain_text("You passed")


def lesson_with_attempts(page, app, spec):
    first = open_quiz(page, app, spec)
    answer_quiz(page, first, wrong_choices)
    page.goto(lesson_url(spec, first, "/quiz"))
    answer_quiz(page, first, right_choices)
    page.goto(lesson_url(spec, first))
    expect(page.get_by_role("region", name="Attempts, newest first")).to_be_visible()


def my_page_with_attempts(page, app, spec):
    lesson_with_attempts(page, app, spec)
    then_my_page_with_attempts(page, app, spec)


def then_my_page_with_attempts(page, app, spec):
    """From the lesson with attempts."""
    page.goto("/me/")
    # The summaries, and a link to the full list on the lesson page (checked above).
    expect(page.get_by_role("link", name="All 2 attempts at lesson 1")).to_be_visible()


def add_failed_attempts(app, spec, n: int) -> None:
    """``n`` failed attempts at the first lesson's quiz for the reader, in the database, a minute apart."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.models.types import utcnow
    from app.services.progress import course_by_slug, course_outline
    from tests.attempt_factories import quiz_attempts

    with app.app_context():
        reader_id = db.session.scalar(select(User.id).where(User.email == EMAIL))
        outline = course_outline(db.session, course=course_by_slug(db.session, spec.slug), learner=None)
        lesson_id, start = outline.entries[0].lesson.id, utcnow() - timedelta(days=2)
        db.session.add_all(quiz_attempts(reader_id, lesson_id, n, start=start, correct=2))
        db.session.commit()
        db.session.remove()


def lesson_with_a_long_history(page, app, spec):
    as_learner(page, app)
    add_failed_attempts(app, spec, 55)
    page.goto(lesson_url(spec, lessons_in_order(spec)[0]))
    expect(page.get_by_text("Your 10 latest attempts of 55 are listed here.")).to_be_visible()


def then_all_attempts_older_page(page, app, spec):
    """From the lesson with a long history."""
    page.get_by_role("link", name="See all your attempts at this quiz").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your attempts at this quiz")
    page.get_by_role("link", name="Older →").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_role("link", name="See result of attempt 1", exact=True)).to_be_visible()


def remove_first_lesson(app) -> None:
    """Take the course's first lesson out of it, as a publish without it does (kept for its history)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Course, Lesson
    from app.models.types import utcnow

    with app.app_context():
        lesson = db.session.scalars(select(Lesson).order_by(Lesson.module_id, Lesson.position)).first()
        lesson.retired_at, lesson.position, lesson.module_id = utcnow(), None, None
        db.session.get(Course, lesson.course_id).content_version += 1
        db.session.commit()
        db.session.remove()


def removed_lesson_attempts(page, app, spec):
    as_learner(page, app)
    add_failed_attempts(app, spec, 2)
    remove_first_lesson(app)
    page.goto("/me/")
    page.get_by_role("link", name="All 2 attempts at this lesson").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your attempts at this quiz")
    expect(page.get_by_text("has been removed from the course")).to_be_visible()


def then_removed_lesson_result(page, app, spec):
    """From the removed lesson's attempts."""
    page.get_by_role("link", name="See result of attempt 2", exact=True).click()
    expect(page.get_by_text("This lesson has since been removed from the course")).to_be_visible()


def reminder_settings(page, app, spec):
    as_learner(page, app)
    page.goto("/me/reminders")
    page.get_by_label("E-mail me when I have been away a week").check()
    page.get_by_role("button", name="Save reminder settings").click()
    expect(page.get_by_role("status")).to_contain_text("Reminders are on")


def then_my_data(page, app, spec):
    """From the failed quiz's result."""
    page.goto("/me/data")
    expect(page.get_by_role("heading", level=2, name="Your quiz attempts and answers")).to_be_visible()
    # The wrong answers made review questions: each says when it comes back, in words; its
    # scheduler numbers open from a disclosure, checked open with the rest of the page.
    schedule = page.locator("#data-review_schedule")
    expect(schedule.get_by_text("Due again").first).to_be_visible()
    expect(schedule.get_by_text("Stability").first).to_be_hidden()
    schedule.get_by_text("Scheduling details (for the technically minded)").first.click()
    expect(schedule.get_by_text("Stability").first).to_be_visible()


def finish_the_course(app, spec) -> None:
    """Complete every lesson for the reader in the database (the journey does it in the browser)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.services.progress import course_by_slug, course_outline, lesson_record_completion

    with app.app_context():
        reader = db.session.scalar(select(User).where(User.email == EMAIL))
        for entry in course_outline(db.session, course=course_by_slug(db.session, spec.slug), learner=None).entries:
            lesson_record_completion(db.session, learner=reader, lesson=entry.lesson)
        db.session.commit()
        db.session.remove()


def certificate(page, app, spec):
    as_learner(page, app)
    finish_the_course(app, spec)
    page.goto(f"/courses/{spec.slug}/certificate")
    page.get_by_text("Revoke this certificate").click()  # unfold the confirmation, so axe sees its form


def then_certificate_check(page, app, spec):
    """From the certificate page."""
    page.get_by_label("Let anyone with the link check it").check()
    page.get_by_role("button", name="Save these choices").click()
    page.get_by_role("link", name="See what others see").click()
    expect(page.get_by_role("heading", level=1, name="This certificate is valid", exact=True)).to_be_visible()


def then_certificate_revoked_check(page, app, spec):
    """From the certificate's check page, shared there (the certificate page's revoke form comes folded)."""
    page.goto(f"/courses/{spec.slug}/certificate")
    check = page.get_by_role("link", name="See what others see").get_attribute("href")
    page.get_by_text("Revoke this certificate").click()
    page.get_by_label("Yes, revoke my certificate").check()
    page.get_by_role("button", name="Revoke my certificate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your certificate is revoked")
    page.goto(check)
    expect(page.get_by_role("heading", level=1, name="This certificate was revoked", exact=True)).to_be_visible()


def reminders_unsubscribe(page, app, spec):
    user_id = create_user(app, EMAIL, name="Robin Reader")
    page.goto(f"/reminders/unsubscribe/{unsubscribe_token(user_id, secret_key=app.config['SECRET_KEY'])}")
    page.get_by_role("button", name="Stop reminders").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reminders stopped")


def contact_withdraw_by_link(page, app, spec):
    """The page the link in a request's acknowledgement opens, withdrawn from there (no account)."""
    from app.extensions import db
    from app.services.contact_requests import ContactDetails, contact_request_create, withdraw_link_token

    with app.app_context():
        details = ContactDetails(contact_by="email", email="not.me@example.org", topic="alcohol")
        token = withdraw_link_token(
            contact_request_create(db.session, details=details, requester=None), secret_key=app.config["SECRET_KEY"]
        )
        db.session.remove()
    page.goto(f"/contact/withdraw/{token}")
    page.get_by_role("button", name="Withdraw the request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request withdrawn")


def contact_logged_out(page, app, spec):
    """/contact for a visitor, with none of the clinic's details configured: no clinic panel."""
    page.goto("/contact")
    expect(page.get_by_role("heading", name="Need help right now?")).to_be_visible()
    expect(page.locator(".clinic-details")).to_have_count(0)


def contact_logged_in(page, app, spec):
    """/contact for a signed-in learner, with the clinic's details and its reply time configured."""
    app.config.update(
        CLINIC_NAME="Riverside Clinic",
        CLINIC_PHONE="020 7946 0000",
        CLINIC_HOURS="Monday to Friday, 9am to 5pm",
        CLINIC_ADDRESS="1 River Street\nLondon",
        CONTACT_REPLY_WITHIN="2 working days",
    )
    as_learner(page, app)
    page.goto("/contact")
    expect(page.get_by_text("The clinic aims to reply within 2 working days.")).to_be_visible()
    expect(page.get_by_label("Attach my course progress to this request")).to_be_visible()


def then_review_nothing_due(page, app, spec):
    """From the failed quiz's result (or a page after it)."""
    page.goto(f"/courses/{spec.slug}/review")
    expect(page.get_by_text(re.compile(r"^Your next question comes back on "))).to_be_visible()


def then_review_due(page, app, spec):
    """From the failed quiz's result (or a page after it), its review questions made due."""
    make_reviews_due(app)
    page.goto(f"/courses/{spec.slug}/")
    page.get_by_role("link", name=re.compile(r"^\d+ questions? to review$")).click()
    expect(page.get_by_role("button", name="Check my answers")).to_be_visible()


def then_review_with_errors(page, app, spec):
    """From the review page."""
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_role("alert")).to_be_visible()


def then_review_result(page, app, spec):
    """From the review page with errors: the review opened again from the course page, then answered."""
    then_review_due(page, app, spec)
    answer_review(page, spec, wrong_choices)  # "not right" and safety warnings, as on the quiz result
    expect(page.get_by_role("heading", level=1)).to_contain_text("0 of")


def as_admin(page, app) -> None:
    create_user(app, "admin-reader@example.org", name="Ada Admin", role=Role.ADMIN)
    create_user(app, EMAIL, name="Robin Reader")
    log_in_quickly(page, "admin-reader@example.org", PASSWORD)


def admin_users(page, app, spec):
    as_admin(page, app)
    page.goto("/author/users?sort=last_login")


def then_admin_lti_edit(page, app, spec):
    """A platform's change form, sent with a plain-http key set: refused beside its field."""
    from app.extensions import db
    from app.models import User
    from app.services.lti.platforms import PlatformDetails, lti_platform_register

    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN))
        urls = {name: f"https://lms.example.org/{name}" for name in ("auth_login_url", "auth_token_url", "key_set_url")}
        details = PlatformDetails(
            name="Clinic Moodle", issuer="https://lms.example.org", client_id="c", deployment_ids=["1"], **urls
        )
        platform_id = lti_platform_register(db.session, actor=admin, details=details).id
        db.session.remove()
    page.goto("/author/lti")
    page.get_by_role("link", name=re.compile(r"^Change\W+Clinic Moodle$")).click()
    page.get_by_label("Public key set (JWKS) URL").fill("http://lms.example.org/jwks")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_role("heading", name="Nothing was changed")).to_be_visible()
    assert f"/author/lti/{platform_id}/edit" in page.url


def then_admin_activity(page, app, spec):
    """The activity log with an account line (links to both accounts) and the course's import."""
    from app.extensions import db
    from app.models import User
    from app.services.user_admin import user_role_change

    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.email == "admin-reader@example.org"))
        reader = db.session.scalar(db.select(User).where(User.email == EMAIL))
        user_role_change(db.session, actor=admin, user=reader, role=Role.COUNSELLOR)
        db.session.remove()
    page.goto("/author/activity")
    expect(page.get_by_role("cell", name="Ada Admin made Robin Reader a counsellor")).to_be_visible()


def then_admin_user_erase(page, app, spec):
    """The page that asks before an admin erases an account: what goes, what stays, and the button."""
    page.goto("/author/users?q=Robin")
    page.get_by_role("link", name="Robin Reader").click()
    page.get_by_role("link", name="Erase the account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase the account of Robin Reader?")
    expect(page.get_by_role("button", name="Erase the account")).to_be_visible()


def then_admin_user_deactivate(page, app, spec):
    """The page that asks before an admin deactivates an account (it logs its owner out at once)."""
    page.goto("/author/users?q=Robin")
    page.get_by_role("link", name="Robin Reader").click()
    page.get_by_role("button", name="Deactivate account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deactivate Robin Reader's account?")
    expect(page.get_by_role("button", name="Deactivate the account")).to_be_visible()


def then_admin_user_link_confirm(page, app, spec):
    """The page that asks before an admin shares a learner's progress with a counsellor for them."""
    create_user(app, "casey-reader@example.org", name="Casey Counsellor", role=Role.COUNSELLOR)
    page.goto("/author/users?q=Robin")
    page.get_by_role("link", name="Robin Reader").click()
    page.get_by_label("Counsellor", exact=True).select_option(label="Casey Counsellor (casey-reader@example.org)")
    page.get_by_role("button", name="Link to this counsellor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Share Robin Reader's progress with Casey Counsellor?")
    expect(page.get_by_role("button", name="Share their progress")).to_be_visible()


def then_admin_new_user_with_errors(page, app, spec):
    page.goto("/author/users/new")
    page.get_by_label("Name").fill("Robin Again")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_role("button", name="Create account and send the link").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the form")


# Each journey's first page starts from a new browser context; every later one goes on from the
# page before (a ``then_`` step starts there), in the state its own visit would reach. Pages one
# reaches from another are checked in one journey, so the learner is not signed up, logged in and
# failing the quiz again for each of them: that repeated set-up was most of this file's time.
JOURNEYS = [
    [landing, register, register_with_errors, login, course_logged_out, contact_logged_out],
    [landing_logged_in],
    [course_overview],
    [locked_redirect],
    [lesson],
    [quiz, then_quiz_with_errors],
    [
        quiz_result_failed,
        then_my_data,
        then_review_nothing_due,
        then_review_due,
        then_review_with_errors,
        then_review_result,
    ],
    [quiz_result_struggling],
    [quiz_result_passed],
    [lesson_with_attempts, then_my_page_with_attempts],
    [lesson_with_a_long_history, then_all_attempts_older_page],
    [removed_lesson_attempts, then_removed_lesson_result],
    [reminder_settings],
    [reminders_unsubscribe],
    [contact_logged_in],
    [contact_withdraw_by_link],
    [certificate, then_certificate_check, then_certificate_revoked_check],
    [
        admin_users,
        then_admin_user_erase,
        then_admin_user_deactivate,
        then_admin_new_user_with_errors,
        then_admin_user_link_confirm,
        then_admin_activity,
        then_admin_lti_edit,
    ],
]


def page_name(step) -> str:
    """The name a step's page is reported and its screenshots saved under."""
    return step.__name__.removeprefix("then_").replace("_", "-")


@pytest.mark.parametrize("journey", JOURNEYS, ids=["+".join(step.__name__ for step in j) for j in JOURNEYS])
def test_page_has_no_wcag_violations(page, app, course_spec, axe_source, journey):
    failures = []
    for step in journey:
        step(page, app, course_spec)
        expect(page.locator("main h1")).to_be_visible()
        name = page_name(step)
        violations = axe_violations(page, axe_source)
        save_screenshots(page, name)
        if violations:  # reported with the journey's other pages' at the end
            failures.append(describe_violations(f"{name} ({page.url})", violations))
    assert not failures, "\n\n".join(failures)


FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    return {
        tag: el.tagName.toLowerCase(), type: el.type || '', text: (el.innerText || '').trim(),
        id: el.id, outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
        onScreen: box.width > 0 && box.height > 0 && box.left >= 0 && box.top >= 0
                  && box.right <= innerWidth && box.bottom <= innerHeight,
    };
}"""


def assert_focus_visible(focused: dict) -> None:
    assert focused["onScreen"], f"the focused element is off screen: {focused}"
    assert focused["outline"] != "none" and focused["outlineWidth"] >= 2, (
        f"the focused element shows no focus outline: {focused}"
    )


def test_keyboard_focus_is_visible(page, app, course_spec):
    # The first Tab reaches the skip link, which appears, outlined, and jumps to the content.
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert focused["text"] == "Skip to content", focused
    assert_focus_visible(focused)
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()

    # From there, the next Tab lands on the page's main call to action, outlined too.
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert focused["text"].startswith("Start the course"), focused
    assert_focus_visible(focused)

    # A quiz can be answered from the keyboard, and each control shows where focus is.
    lesson_one = open_quiz(page, app, course_spec)
    page.get_by_role("link", name="Skip to content").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    for _ in range(20):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["type"] == "radio":
            break
    assert focused["type"] == "radio", f"Tab never reached the quiz's first answer: {focused}"
    assert_focus_visible(focused)
    page.keyboard.press("Space")
    # Choices are shuffled per attempt: whichever comes first is the one Space ticks.
    assert page.evaluate("document.activeElement.checked") is True
    first_question = lesson_one.quiz[0]
    assert page.evaluate("document.activeElement.labels[0].textContent") in {c.text for c in first_question.choices}
