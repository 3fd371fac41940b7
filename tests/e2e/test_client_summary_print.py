"""The counsellor's client page: "At a glance" and "Since you last looked" on the screen, and printed as a
one-page session summary with the client's status and the date."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import axe_violations, describe_violations, log_in_quickly, save_screenshots
from tests.e2e.test_certificate_print import SITE_CHROME, printed

pytestmark = pytest.mark.e2e

COUNSELLOR = "casey@example.org"
CLIENT = "Lee Learner"


def linked_client(app) -> int:
    """A learner who shares their progress with the counsellor; their id."""
    from app.extensions import db
    from app.models import CounsellorLink, Role

    counsellor_id = create_user(app, COUNSELLOR, role=Role.COUNSELLOR, name="Casey Counsellor")
    learner_id = create_user(app, "lee@example.org", name=CLIENT)
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner_id))
        db.session.commit()
        db.session.remove()
    return learner_id


def fail_the_first_quiz(app, learner_id: int) -> list[str]:
    """The learner fails the first quiz with answers that show misconceptions; their short titles."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Course, User
    from app.services.progress import course_outline
    from app.services.quizzes import quiz_questions, quiz_submit_attempt

    with app.app_context():
        course = db.session.scalar(select(Course))
        lesson = course_outline(db.session, course=course, learner=None).entries[0].lesson
        questions = quiz_questions(db.session, lesson)
        answers, titles = {}, []
        for question in questions:
            wrong = [c for c in question.live_choices if not c.is_correct]
            pick = next((c for c in wrong if c.misconception is not None), wrong[0])
            answers[question.id] = [pick.id]
            if pick.misconception is not None:
                titles.append(pick.misconception.title or pick.misconception.code)
        quiz_submit_attempt(
            db.session,
            learner=db.session.get(User, learner_id),
            lesson=lesson,
            questions=questions,
            answers=answers,
            submission_key=uuid.uuid4().hex,
            pass_mark=course.pass_mark,
        )
        db.session.commit()
        db.session.remove()
    assert titles, "the first lesson's quiz should reveal a misconception for this test"
    return titles


def earlier_visit(app) -> None:
    """Move the counsellor's views back by more than a visit's gap: the next look is a later visit,
    which lists what the client did since (a reload within the visit keeps the same list)."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.extensions import db
    from app.models import ProgressView
    from app.services.counselling import VISIT_GAP

    with app.app_context():
        for view in db.session.scalars(select(ProgressView)):
            view.viewed_at -= VISIT_GAP + timedelta(minutes=1)
        db.session.commit()
        db.session.remove()


def drawn_today(app) -> str:
    """Today as the page writes a date, in the site's zone."""
    from app.models.types import utcnow
    from app.timefmt import format_date, site_zone

    return format_date(utcnow(), site_zone(app.config["SITE_TIMEZONE"]))


def test_the_client_page_prints_a_one_page_session_summary(page, app, axe_source):
    learner_id = linked_client(app)
    log_in_quickly(page, COUNSELLOR, PASSWORD)
    page.goto(f"/counsel/clients/{learner_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(CLIENT)
    since = page.get_by_role("region", name="Since you last looked")
    expect(since).to_contain_text("This is your first look")

    page.reload()  # the same visit: still the first look
    expect(since).to_contain_text("This is your first look")
    earlier_visit(app)
    titles = fail_the_first_quiz(app, learner_id)
    page.reload()  # the next visit: what the client did after the first
    expect(since).to_contain_text("1 new quiz attempt")
    for title in titles:
        expect(since).to_contain_text(title)
    glance = page.get_by_role("region", name="At a glance")
    expect(glance).to_contain_text("1 try at lesson 1")
    expect(glance).to_contain_text("not passed yet")
    expect(page.get_by_text("Summary as of")).to_be_hidden()  # on paper only
    violations = axe_violations(page, axe_source)
    assert not violations, describe_violations("the client page", violations)
    save_screenshots(page, "counsel-client-since-last-look")

    [summary] = printed(page)  # one page
    for words in [CLIENT, "At a glance", "Since you last looked", "1 new quiz attempt", "What to talk about"]:
        assert words in summary, words
    # The client at a glance, and the day it was printed from.
    text = " ".join(summary.split())
    assert f"Summary as of {drawn_today(app)}, " in text
    for pattern in [
        # The first quiz's wrong choices show a misconception the factory course marks safety-critical.
        r"Flags Safety concern Last active",
        rf"Last active {drawn_today(app)} \(within the last day\)",
        r"Lessons passed 0 of \d+ \(0%\)",
        r"Quiz average \d+%",
        r"Stuck 1 try at lesson 1, “[^”]+”, not passed yet",
    ]:
        assert re.search(pattern, text), pattern
    # Each newly shown misconception is named once on paper, as a talking point marked new; the
    # list of what changed counts them (tests/e2e/test_client_summary_print_heavy.py: eight).
    for title in titles:
        assert summary.count(title) == 1, title
    assert f"Misconceptions newly shown: {len(set(titles))}, each marked “New” under “What to talk about”" in text
    assert text.count("NEW ") == len(set(titles))
    # Left out: the site around the page, the way back, the questions behind each point, the long history.
    for words in [
        *SITE_CHROME,
        "Your clients",
        "Questions where it showed",
        "Lesson by lesson",
        "Not opened yet",
        "No longer supporting",  # the way to stop seeing them is the counsellor's, not the session's
    ]:
        assert words not in summary, words


def test_a_client_with_a_long_history_shows_the_latest_attempts_and_still_prints_one_page(page, app, axe_source):
    from app.services.attempt_history import ATTEMPTS_SHOWN

    learner_id = linked_client(app)
    log_in_quickly(page, COUNSELLOR, PASSWORD)
    page.goto(f"/counsel/clients/{learner_id}")
    attempts = ATTEMPTS_SHOWN + 3
    earlier_visit(app)
    for _ in range(attempts):
        fail_the_first_quiz(app, learner_id)
    page.reload()

    since = page.get_by_role("region", name="Since you last looked")
    expect(since).to_contain_text(f"{attempts} new quiz attempts")
    expect(since).to_contain_text("and 3 earlier, not listed")
    page.locator("summary", has_text=f"{attempts} quiz attempts at lesson 1").click()  # unfold the lesson's attempts
    expect(page.get_by_text(f"The {ATTEMPTS_SHOWN} latest are shown here")).to_be_visible()
    expect(page.get_by_text(f"Attempt {attempts}", exact=True)).to_be_visible()
    expect(page.get_by_text("Attempt 3", exact=True)).to_have_count(0)
    violations = axe_violations(page, axe_source)
    assert not violations, describe_violations("the client page with a long history", violations)
    save_screenshots(page, "counsel-client-long-history")

    [summary] = printed(page)  # still one page
    assert f"{attempts} new quiz attempts" in summary
    text = " ".join(summary.split())
    assert "Flags Safety concern Struggling" in text
    assert f"Stuck {attempts} tries at lesson 1" in text and "none passed yet" in text
    assert "Struggling: 3 or more failed tries at a quiz not yet passed." in text
    assert f"Summary as of {drawn_today(app)}, " in text

    # Every attempt, a page at a time.
    page.get_by_role("link", name=f"See all {attempts} attempts at lesson 1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{CLIENT}’s attempts at lesson 1")
    page.get_by_role("link", name="Older →").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_text("Attempt 1", exact=True)).to_be_visible()
    violations = axe_violations(page, axe_source)
    assert not violations, describe_violations("a client's older attempts", violations)
    save_screenshots(page, "counsel-client-attempts-older")
