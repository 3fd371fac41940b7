"""From a lesson to a call-back, in a real browser: a learner asks the clinic to call, a counsellor
sees it waiting in the header, picks it up, tries with no answer (the learner reads that kindly),
then marks it contacted, and the learner sees that on their page. axe-core checks
every page at 1280 and 375 px; screenshots at both widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import CounsellorLink, Role, User
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import (
    Audit,
    axe_violations,
    describe_violations,
    lesson_url,
    lessons_in_order,
    log_in_quickly,
)

pytestmark = pytest.mark.e2e

NARROW = {"width": 375, "height": 812}


class NarrowAudit(Audit):
    """The journey's audit, with axe run again at a 375 px phone width."""

    def __call__(self, page, name: str) -> None:
        super().__call__(page, name)
        viewport = page.viewport_size
        page.set_viewport_size(NARROW)
        violations = axe_violations(page, self.axe_source)
        page.set_viewport_size(viewport)
        if violations:
            self.failures.append(describe_violations(f"{name} at 375 px ({page.url})", violations))


def test_a_learner_asks_to_be_called_and_sees_the_clinic_got_in_touch(page, learner_page, app, axe_source, course_spec):
    audit = NarrowAudit(axe_source)
    app.config.update(
        CLINIC_NAME="Riverside Clinic",
        CLINIC_PHONE="020 7946 0000",
        CLINIC_HOURS="Monday to Friday, 9am to 5pm",
        CLINIC_ADDRESS="1 River Street\nLondon",
    )
    learner_id = create_user(app, "nia@example.org", name="Nia Learner")
    counsellor_id = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner_id, created_by_id=learner_id))
        db.session.commit()
        db.session.remove()

    # The learner, reading the first lesson, follows the help block's link.
    log_in_quickly(learner_page, "nia@example.org", PASSWORD)
    learner_page.goto(lesson_url(course_spec, lessons_in_order(course_spec)[0]))
    help_block = learner_page.get_by_role("region", name="Where to get help")
    help_block.get_by_role("link", name="Ask the clinic to contact you").click()
    expect(learner_page.get_by_role("heading", level=1)).to_have_text("Ask Riverside Clinic to contact you")
    expect(learner_page.get_by_role("link", name="020 7946 0000")).to_have_attribute("href", "tel:02079460000")
    expect(learner_page.get_by_role("heading", name="Who sees this, and for how long")).to_be_visible()
    audit(learner_page, "contact-form")

    # Sent with nothing chosen: each problem is named beside its question, and in the summary.
    learner_page.get_by_role("button", name="Ask the clinic to contact me").click()
    summary = learner_page.get_by_role("alert")
    expect(summary).to_contain_text("Choose how you would like us to contact you.")
    expect(learner_page.get_by_role("group", name="What is it about?")).to_contain_text("Choose what it is about.")
    audit(learner_page, "contact-form-errors")

    learner_page.get_by_role("group", name="How should we contact you?").get_by_label("By phone").check()
    learner_page.get_by_label("Phone number").fill("07700 900123")
    learner_page.get_by_label("Who should we ask for? (optional)").fill("Nia")
    learner_page.get_by_label("Good times to reach you (optional)").fill("Weekday mornings")
    learner_page.get_by_role("group", name="What is it about?").get_by_label("Alcohol").check()
    learner_page.get_by_label("Attach my course progress to this request").check()
    learner_page.get_by_role("button", name="Ask the clinic to contact me").click()
    expect(learner_page.get_by_role("heading", level=1)).to_have_text("Thank you: Riverside Clinic will contact you")
    expect(learner_page.get_by_text("07700 900123")).to_have_count(0)  # the page repeats nothing
    audit(learner_page, "contact-sent")

    # The counsellor finds it first in the queue, with a link to the learner's progress.
    log_in_quickly(page, "casey@example.org", PASSWORD)
    page.goto("/counsel/")
    # The header says one is waiting, in the link's name too.
    header = page.get_by_role("navigation", name="Main")
    header.get_by_role("link", name="Contact requests, 1 waiting", exact=True).click()
    expect(page.get_by_role("link", name="Open: 1 new, 0 tried with no answer, 0 contacted")).to_have_attribute(
        "aria-current", "page"
    )
    card = page.get_by_role("article").first
    expect(card).to_contain_text("New")
    expect(card.get_by_role("link", name="07700 900123")).to_have_attribute("href", "tel:07700900123")
    expect(card.get_by_role("link", name="Open Nia Learner's progress")).to_be_visible()
    audit(page, "counsel-requests")

    card.get_by_role("button", name="Pick up").click()
    expect(page.get_by_role("status").first).to_contain_text("You picked the request up.")
    card = page.get_by_role("article").first
    expect(card).to_contain_text("Casey Counsellor")
    expect(header.get_by_role("link", name="Contact requests", exact=True)).to_have_text("Contact requests")
    # Nobody answered: the request stays open and Casey's, and the learner reads that the clinic tried.
    card.get_by_role("button", name="Tried, no answer").click()
    expect(page.get_by_role("status").first).to_contain_text("Your try is recorded")
    card = page.get_by_role("article").first
    expect(card).to_contain_text("Tried, no answer")
    expect(card.get_by_role("button", name="Tried again, no answer")).to_be_visible()
    audit(page, "counsel-requests-no-answer")
    learner_page.goto("/me/")
    requests = learner_page.get_by_role("region", name="Your requests to the clinic")
    expect(requests).to_contain_text("We tried to reach you, and will try again")
    card.get_by_role("button", name="Mark contacted").click()
    expect(page.get_by_role("status").first).to_contain_text("The request is marked contacted.")
    page.get_by_role("article").first.get_by_role("link", name="Request received").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Request received")
    history = page.get_by_role("region", name="What happened").get_by_role("listitem")
    expect(history).to_have_count(3)
    expect(history.first).to_contain_text("Casey Counsellor picked it up")
    expect(history.nth(1)).to_contain_text("Casey Counsellor tried to reach them and got no answer")
    expect(history.last).to_contain_text("Casey Counsellor marked it contacted")
    page.get_by_label("Add a note (only the clinic's staff see notes)").fill("Spoke on Tuesday; booked in.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.get_by_role("status").first).to_contain_text("Note added.")
    notes = page.get_by_role("region", name="Private notes").get_by_role("listitem")
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("Casey Counsellor")
    expect(notes.first).to_contain_text("Spoke on Tuesday; booked in.")
    audit(page, "counsel-request")

    # The learner sees on their page that the clinic has been in touch, and nothing of the staff's notes.
    learner_page.goto("/me/")
    requests = learner_page.get_by_role("region", name="Your requests to the clinic")
    expect(requests).to_contain_text("The clinic has been in touch")
    expect(requests).to_contain_text("by phone on 07700 900123")
    expect(learner_page.get_by_text("booked in")).to_have_count(0)
    audit(learner_page, "me-contact-requests")

    # Withdrawing erases what the learner told the clinic; the counsellor's card says so.
    requests.get_by_role("button", name="Withdraw").click()
    expect(learner_page.get_by_role("status").first).to_contain_text("Your request is withdrawn")
    expect(requests).to_contain_text("Withdrawn: what you told us is erased")
    page.goto("/counsel/requests?show=ended")
    expect(page.get_by_role("article").first).to_contain_text("do not contact them about it")
    expect(page.get_by_text("07700 900123")).to_have_count(0)
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.email == "nia@example.org")) == learner_id
    audit.check()
