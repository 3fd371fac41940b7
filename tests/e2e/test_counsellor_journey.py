"""A counsellor and a client in two real browsers: invite, consent, struggle, insight, stop sharing.

Along the way, axe-core (WCAG 2.1 A and AA) checks every counsellor page and the client's own
pages in the state that matters (a dashboard with a client, a client with attempts and
misconceptions, a fresh invitation, the consent page, /me/ with a link and a view), and
full-page screenshots at phone and desktop width go to tests/e2e/screenshots/ for people to
look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from app.services.course_files import QuestionSpec
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import Audit, answer_quiz, lesson_url, lessons_in_order, log_in_quickly, register

pytestmark = pytest.mark.e2e

COUNSELLOR_EMAIL = "casey.counsellor@example.org"
COUNSELLOR = "Casey Counsellor"
LEARNER = "Nia Learner"


def revealing_choices(question: QuestionSpec) -> list[int]:
    """One wrong choice, alone (so ``multiple`` is wrong too): one that points to a misconception where there is one."""
    wrong = [i for i, choice in enumerate(question.choices) if not choice.correct]
    return [next((i for i in wrong if question.choices[i].misconception), wrong[0])]


def test_counsellor_journey(page, learner_page, app, course_spec, axe_source, inbox):
    audit = Audit(axe_source)
    counsellor, learner = page, learner_page
    first = lessons_in_order(course_spec)[0]
    create_user(app, COUNSELLOR_EMAIL, role=Role.COUNSELLOR, name=COUNSELLOR)

    # The counsellor logs in and opens the dashboard: nobody shares with them yet.
    log_in_quickly(counsellor, COUNSELLOR_EMAIL, PASSWORD)
    counsellor.goto("/")  # where logging in lands
    counsellor.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(counsellor).to_have_url(re.compile(r"/counsel/$"))
    expect(counsellor.get_by_role("heading", level=1)).to_have_text("Your clients")
    expect(counsellor.get_by_role("heading", name="No clients to show")).to_be_visible()

    # ... invites a client, and reads the code and the link off the page.
    counsellor.get_by_role("link", name="Invite a client").click()
    expect(counsellor.get_by_role("heading", level=1)).to_have_text("Invite a client")
    counsellor.get_by_role("button", name="Create an invitation").click()
    created = counsellor.get_by_role("status").filter(has=counsellor.get_by_role("heading", name="Your new invitation"))
    expect(created).to_contain_text("expires on")
    text = created.inner_text()
    code = re.search(r"Code:\s*(\S+)", text).group(1)
    link = re.search(r"Link:\s*(\S+)", text).group(1)
    assert link == f"{counsellor.url.split('/counsel/')[0]}/join/{code}", (code, link)
    expect(counsellor.get_by_role("button", name="Create another invitation")).to_be_visible()
    expect(counsellor.get_by_role("region", name="Waiting for an answer").get_by_role("listitem")).to_have_count(1)
    audit(counsellor, "counsel-invitations-created")

    # The client opens the link, is asked to make an account first, and does.
    learner.goto(link)
    expect(learner.get_by_role("heading", level=1)).to_have_text(f"{COUNSELLOR} would like to see your progress")
    expect(learner.get_by_role("button", name="Yes, share my progress")).to_have_count(0)
    learner.get_by_role("link", name="Create an account").click()
    register(learner, inbox, email="nia.learner@example.org", name=LEARNER, password="a long enough passphrase")

    # Back on the consent page, logged in: it says plainly what will and will not be seen.
    expect(learner.get_by_role("status")).to_contain_text(f"Welcome, {LEARNER}")
    expect(learner).to_have_url(re.compile(re.escape(f"/join/{code}") + "$"))
    will_see = learner.get_by_role("list").filter(
        has=learner.get_by_text("each quiz you have taken: your score and the answers you chose")
    )
    expect(learner.get_by_role("heading", name=f"If you say yes, {COUNSELLOR} will see")).to_be_visible()
    expect(will_see).to_contain_text("ideas your answers suggest you might have mixed up")
    expect(learner.get_by_role("heading", name="They will not see")).to_be_visible()
    expect(learner.get_by_text("your e-mail address or your password")).to_be_visible()
    expect(learner.get_by_role("button", name="No, don't share")).to_be_visible()
    audit(learner, "join-consent")
    learner.get_by_role("button", name="Yes, share my progress").click()
    expect(learner).to_have_url(re.compile(r"/me/$"))
    expect(learner.get_by_role("status")).to_contain_text(f"You are now sharing your course progress with {COUNSELLOR}")

    # The client fails the first quiz three times, each time with answers that show mix-ups.
    learner.goto(lesson_url(course_spec, first))
    learner.get_by_role("link", name="Take the quiz").click()
    for attempt in range(3):
        if attempt:
            learner.get_by_role("link", name="Try the quiz again").click()
        answer_quiz(learner, first, revealing_choices)
        expect(learner.get_by_role("heading", level=1)).to_contain_text("Not passed yet")
    revealed = {question.choices[revealing_choices(question)[0]].misconception for question in first.quiz} - {None}
    assert revealed, "the first lesson's quiz should reveal a misconception for this journey"

    # The counsellor's dashboard now lists the client, flagged as struggling ...
    counsellor.goto("/counsel/")
    client_row = counsellor.get_by_role("row").filter(has=counsellor.get_by_role("link", name=LEARNER))
    expect(client_row).to_have_count(1)
    expect(client_row).to_contain_text("Struggling")
    expect(client_row).to_contain_text(first.title)  # the lesson they are on
    expect(client_row.get_by_role("progressbar", name=f"{LEARNER}: 0% complete")).to_be_visible()
    audit(counsellor, "counsel-dashboard")

    # ... and under the "Struggling" filter too, but not under "Finished".
    counsellor.get_by_label("Show").select_option(label="Finished")
    counsellor.get_by_role("button", name="Apply").click()
    expect(counsellor.get_by_text("0 clients match your filters.")).to_be_visible()
    expect(client_row).to_have_count(0)
    counsellor.get_by_label("Show").select_option(label="Struggling")
    counsellor.get_by_role("button", name="Apply").click()
    expect(counsellor).to_have_url(re.compile(r"[?&]flag=struggling(&|$)"))
    expect(counsellor.get_by_text("1 client matches your filters.")).to_be_visible()
    expect(client_row).to_contain_text("Struggling")

    # The counsellor opens the client and reads what to talk about, in the course's own words.
    client_row.get_by_role("link", name=LEARNER).click()
    expect(counsellor.get_by_role("heading", level=1)).to_have_text(LEARNER)
    client_url = counsellor.url
    insights = (
        counsellor.get_by_role("region", name="What to talk about")
        .get_by_role("listitem")
        .filter(has_text="Questions where it showed")
    )
    expect(insights).to_have_count(len(revealed))
    for code_ in revealed:
        insight = insights.filter(has_text=course_spec.misconceptions[code_].counsellor)
        expect(insight).to_have_count(1)
        expect(insight).to_contain_text("Still present")
    lessons = counsellor.get_by_role("region", name="Lesson by lesson")
    for summary in counsellor.locator("details > summary").all():
        summary.click()
    expect(lessons.get_by_text("3 quiz attempts")).to_be_visible()
    expect(lessons.get_by_text("Attempt 3", exact=True)).to_be_visible()
    expect(lessons.get_by_text("Not passed")).to_have_count(3)
    chosen = first.quiz[0].choices[revealing_choices(first.quiz[0])[0]].text
    expect(lessons.get_by_text(f"Client’s answer: {chosen}")).to_have_count(3)
    audit(counsellor, "counsel-client")

    # The client sees, on their own page, whom they share with and that the counsellor looked.
    learner.goto("/me/")
    sharing = learner.get_by_role("region", name="Who you share your progress with")
    expect(sharing.get_by_role("listitem")).to_have_count(1)
    expect(sharing).to_contain_text(COUNSELLOR)
    views = learner.get_by_role("region", name="Views of your progress").get_by_role("row")
    expect(views.filter(has_text=COUNSELLOR)).to_have_count(1)
    expect(views.filter(has_text=COUNSELLOR)).to_contain_text("Counsellor")
    audit(learner, "me-home")

    # ... and stops sharing.
    sharing.get_by_role("button", name=f"Stop sharing with {COUNSELLOR}").click()
    expect(learner.get_by_role("status")).to_contain_text(f"You have stopped sharing your progress with {COUNSELLOR}")
    expect(learner.get_by_text("You are not sharing your progress with a counsellor.")).to_be_visible()

    # At once, the counsellor's next look at the client is a 404, and the dashboard forgets them.
    response = counsellor.reload()
    assert response.status == 404, (client_url, response.status)
    expect(counsellor.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(counsellor.get_by_text(chosen)).to_have_count(0)
    counsellor.goto("/counsel/")
    expect(counsellor.get_by_text("0 clients.", exact=True)).to_be_visible()
    expect(counsellor.get_by_role("link", name=LEARNER)).to_have_count(0)

    audit.check()
