"""A new learner in a real browser: register, read, fail a quiz, learn from it, pass, move on."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.services.pass_rule import pass_rule_text
from tests.e2e.conftest import (
    answer_quiz,
    lesson_url,
    lessons_in_order,
    register,
    right_choices,
    wrong_choices,
)

pytestmark = pytest.mark.e2e


def is_dangerous(spec, choice) -> bool:
    """Marked safety-critical itself, or pointing at a safety-critical misconception."""
    misconception = spec.misconceptions.get(choice.misconception or "")
    return choice.safety_critical or bool(misconception and misconception.safety_critical)


def first_heading(markdown: str) -> str:
    """The first section heading of a lesson body: text only the lesson page shows."""
    return re.search(r"^#{2,3} (.+)$", markdown, re.MULTILINE).group(1).strip()


def test_learner_journey(page, course_spec, inbox):
    first, second, third = lessons_in_order(course_spec)[:3]
    course_url = f"/courses/{course_spec.slug}/"

    # A visitor starts from the landing page and creates an account.
    page.goto("/")
    page.get_by_role("link", name=re.compile("^Start the course")).click()
    expect(page).to_have_url(re.compile(r"/auth/register"))
    register(page, inbox, email="new.learner@example.org", name="Nia Learner", password="a long enough passphrase")

    # ... and is taken into the course, at its first lesson.
    expect(page.get_by_role("status")).to_contain_text("Welcome, Nia Learner")
    expect(page).to_have_url(re.compile(re.escape(lesson_url(course_spec, first)) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(first.title)
    expect(page.get_by_role("heading", name=first_heading(first.body))).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Nia Learner")

    # Under the lesson: the shared help with tap-to-call numbers, its sources, and when it was reviewed.
    help_block = page.get_by_role("region", name="Where to get help")
    expect(help_block.get_by_role("link", name="NHS 111", exact=True)).to_have_attribute("href", "tel:111")
    sources = page.get_by_role("list", name="Sources")
    expect(sources.get_by_role("listitem")).to_have_count(len(first.sources))
    expect(sources).to_contain_text(first.sources[0].title)
    review = course_spec.review
    reviewed, due = (f"{day.day} {day:%b %Y}" for day in (review.reviewed_on, review.next_review_on))
    expect(page.get_by_text(re.compile(r"^Reviewed .* · next review "))).to_have_text(
        f"Reviewed {reviewed} · next review {due}"
    )
    expect(page.get_by_text(f"Reviewed by {review.reviewed_by}")).to_be_visible()

    # The first try at the quiz: every answer wrong. The page says the real pass rule.
    page.get_by_role("link", name="Take the quiz").click()
    expect(page).to_have_url(re.compile(re.escape(lesson_url(course_spec, first, "/quiz")) + "$"))
    expect(page.get_by_role("group")).to_have_count(len(first.quiz))
    needed = pass_rule_text(course_spec.pass_mark, len(first.quiz))
    expect(page.get_by_text(f"To pass, {needed}.")).to_be_visible()
    answer_quiz(page, first, wrong_choices)
    warned = 0

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Not passed yet")
    expect(heading).to_contain_text(f"0 of {len(first.quiz)} right")
    feedback = page.get_by_role("list").filter(has=page.get_by_role("heading", level=2))
    for number, question in enumerate(first.quiz, start=1):
        chosen = question.choices[wrong_choices(question)[0]]
        title = f"Question {number} {question.prompt}"
        prompt = page.get_by_role("heading", name=title, exact=True)
        item = feedback.get_by_role("listitem").filter(has=prompt)
        if is_dangerous(course_spec, chosen):
            # A choice that could kill is answered with a plain warning, not "not right".
            expect(item).to_contain_text("Warning: this answer could be dangerous")
            expect(item.get_by_role("note", name="Safety warning")).to_contain_text(chosen.feedback)
            warned += 1
        else:
            expect(item).to_contain_text("Not right this time")
            expect(item).to_contain_text(chosen.feedback)
        expect(item).to_contain_text(f"You chose {chosen.text}")
        expect(item).to_contain_text(question.explanation)
    assert warned, "the first quiz's wrong answers should include a safety-critical one"
    # So no "That's fine" after it: the note first, and the help the lessons show, with the clinic.
    expect(page.get_by_text("Please start with the note above.")).to_be_visible()
    expect(page.get_by_text("That's fine")).to_have_count(0)
    expect(page.get_by_text("If anything here worries you, you can talk to someone")).to_be_visible()
    offered = page.get_by_role("region", name="Where to get help")
    expect(offered.get_by_role("link", name="NHS 111", exact=True)).to_have_attribute("href", "tel:111")
    expect(offered.get_by_role("link", name="Ask the clinic to get in touch")).to_have_attribute("href", "/contact")
    expect(page.get_by_role("link", name="Try the quiz again")).to_be_visible()

    # The third lesson waits for the two before it, and the message says which to take now.
    page.goto(lesson_url(course_spec, third))
    expect(page).to_have_url(re.compile(re.escape(course_url) + "$"))
    expect(page.get_by_role("alert")).to_have_text(
        f"“{third.title}” opens when you complete the 2 lessons before it. Next for you: “{first.title}”."
    )
    # The second lesson stays locked after a failed attempt; its message links the first.
    page.goto(lesson_url(course_spec, second))
    expect(page).to_have_url(re.compile(re.escape(course_url) + "$"))
    page.get_by_role("alert").get_by_role("link", name=f"“{first.title}”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first.title)

    # Retake it with the right answers, and pass.
    page.get_by_role("link", name="Take the quiz").click()
    answer_quiz(page, first, right_choices)
    expect(heading).to_contain_text("You passed")
    expect(heading).to_contain_text(f"{len(first.quiz)} of {len(first.quiz)} right")
    expect(page.get_by_text("The next lesson is now open.")).to_be_visible()
    expect(page.get_by_role("link", name=f"Next lesson: {second.title}")).to_be_visible()

    # Back on the lesson, both attempts are listed, newest first, passed or not in words; the
    # passed lesson offers its results beside a retake, and the older attempt's link opens it.
    asked = len(first.quiz)
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=first.title).click()
    history = page.get_by_role("region", name="Attempts, newest first")
    newest, oldest = history.get_by_role("row").nth(1), history.get_by_role("row").nth(2)
    expect(history.get_by_role("row")).to_have_count(3)  # the header and two attempts
    expect(newest).to_contain_text(f"{asked} of {asked}")
    expect(newest.get_by_role("cell", name="Passed", exact=True)).to_be_visible()
    expect(oldest).to_contain_text(f"0 of {asked}")
    expect(oldest.get_by_role("cell", name="Not passed", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="See your results")).to_be_visible()
    expect(page.get_by_role("link", name="Retake the quiz")).to_be_visible()
    history.get_by_role("link", name="See result of attempt 1").click()
    expect(heading).to_contain_text("Not passed yet")
    expect(heading).to_contain_text(f"0 of {asked} right")

    # The overview: lesson 1 passed, lesson 2 open, lesson 3 still locked.
    breadcrumb = page.get_by_role("navigation", name="Breadcrumb")
    breadcrumb.get_by_role("link", name=course_spec.title).click()
    expect(page).to_have_url(re.compile(re.escape(course_url) + "$"))
    lessons = page.get_by_role("main").get_by_role("listitem")
    expect(page.get_by_text(f"1 of {len(course_spec.lessons)} lessons complete")).to_be_visible()
    done, open_, locked = (lessons.filter(has_text=item.title) for item in (first, second, third))
    expect(done).to_contain_text("Passed")
    expect(open_.get_by_role("link", name=second.title)).to_have_attribute("href", lesson_url(course_spec, second))
    expect(open_).to_contain_text("Open")
    expect(locked).to_contain_text("Locked")
    expect(locked.get_by_role("link")).to_have_count(0)

    # Opening the third lesson, or its quiz, by URL leads back to the course with a message.
    for url in (lesson_url(course_spec, third), lesson_url(course_spec, third, "/quiz")):
        page.goto(url)
        expect(page).to_have_url(re.compile(re.escape(course_url) + "$"))
        expect(page.get_by_role("alert")).to_have_text(
            f"“{third.title}” opens when you complete the lesson before it. Next for you: “{second.title}”."
        )
        expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", lesson_url(course_spec, second))
        expect(page.get_by_role("heading", level=1)).to_have_text(course_spec.title)
        expect(page.get_by_text(first_heading(third.body))).to_have_count(0)
        expect(page.get_by_role("button", name="Submit my answers")).to_have_count(0)

    # The second lesson opens.
    open_.get_by_role("link", name=second.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(second.title)
    expect(page.get_by_role("heading", name=first_heading(second.body))).to_be_visible()

    # Finishing the course: the rest passed, the certificate is private until the learner chooses.
    for later in (second, third):
        page.goto(lesson_url(course_spec, later))
        if later.quiz:
            page.get_by_role("link", name="Take the quiz").click()
            answer_quiz(page, later, right_choices)
            expect(page.get_by_role("heading", level=1)).to_contain_text("You passed")
        else:
            page.get_by_role("button", name="Mark this lesson as done").click()
    page.goto("/me/")
    page.get_by_role("link", name="See your certificate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Well done, Nia Learner")
    expect(page.get_by_text("Nobody yet: it is private")).to_be_visible()
    page.get_by_label("Initials only: “N. L.”").check()
    page.get_by_label("Let anyone with the link check it").check()
    page.get_by_role("button", name="Save these choices").click()
    expect(page.get_by_role("status")).to_contain_text("Your certificate settings are saved.")
    page.get_by_role("link", name="See what others see").click()
    expect(page.get_by_role("heading", level=1, name="This certificate is valid", exact=True)).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text="N. L.")).to_be_visible()
