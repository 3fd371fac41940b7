"""The quiz result's words after a dangerous answer, and the help it offers then or after a quiz
failed again and again (the rule: app/services/result_help.py; tested there)."""

from __future__ import annotations

import html
import re

from tests.conftest import lesson_slugs, quiz_form, submit_quiz, visible_text

HELP = '<h2 id="where-to-get-help">Where to get help</h2>'
CONTACT = '<a href="/contact">Ask the clinic to get in touch</a>'


def result_page(client, app, lesson_slug: str, *, right: bool) -> str:
    response = submit_quiz(client, lesson_slug, quiz_form(app, lesson_slug, right=right))
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def words(page: str) -> str:
    return html.unescape(visible_text(page))


def offers_the_lessons_help(page: str) -> str:
    """The help block the lessons end with (the course's help lines, tap to call, and the clinic)
    after the feedback, offered in a line above it that links to it and to the clinic; returns the line."""
    assert page.count(HELP) == 1
    help_block = page.split(HELP)[1].split("</section>")[0]
    assert "The tea shop" in help_block and 'href="tel:' in help_block  # the factory course's help
    assert CONTACT in help_block
    assert page.index('class="feedback-list"') < page.index(HELP)
    offer = re.search(r'<p class="help-offer">(.*?)</p>', page, re.S).group(1)
    assert page.index(offer) < page.index('class="feedback-list"')
    assert '<a href="#where-to-get-help">where to get help</a>' in offer
    assert '<a href="/contact">ask the clinic to get in touch</a>' in offer
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", offer)).split())  # the words as read


def test_a_failed_attempt_with_a_dangerous_answer_points_to_the_note_not_thats_fine(learner_client, app, course):
    first = lesson_slugs(app)[0]  # its true-or-false question's wrong choice is safety-critical
    page = result_page(learner_client, app, first, right=False)
    text = words(page)
    assert "That's fine" not in text
    assert "Please start with the note above." in text
    assert text.index("Please read this first") < text.index("Please start with the note above.")
    assert "Try the quiz again" in text
    assert offers_the_lessons_help(page) == (
        "If anything here worries you, you can talk to someone: "
        "see where to get help, or ask the clinic to get in touch."
    )


def test_a_first_plain_fail_says_thats_fine_and_offers_no_help_block(learner_client, app, course):
    first, second = lesson_slugs(app)[:2]
    result_page(learner_client, app, first, right=True)
    page = result_page(learner_client, app, second, right=False)  # no safety-critical choice in it
    assert "That's fine: read the feedback below, then try again." in words(page)
    assert HELP not in page and CONTACT not in page and "help-offer" not in page


def test_the_quiz_failed_as_often_as_flags_struggling_offers_help_and_the_clinic(learner_client, app, course):
    first, second = lesson_slugs(app)[:2]
    result_page(learner_client, app, first, right=True)
    for _ in range(2):
        assert HELP not in result_page(learner_client, app, second, right=False)
    page = result_page(learner_client, app, second, right=False)  # the third: the dashboard's "Struggling"
    text = words(page)
    assert "This quiz can take a few tries." in text and "That's fine" not in text
    assert "Try the quiz again" in text and "Read the lesson again" in text
    assert offers_the_lessons_help(page) == (
        "Would you like some help with this quiz? You can ask the clinic to get in touch, or see where to get help."
    )
    # Once passed, a result offers nothing more.
    assert HELP not in result_page(learner_client, app, second, right=True)


def test_a_clean_pass_offers_no_help_block(learner_client, app, course):
    first = lesson_slugs(app)[0]
    page = result_page(learner_client, app, first, right=True)
    assert HELP not in page and CONTACT not in page and "help-offer" not in page


def test_the_help_block_on_the_result_has_one_heading_id(learner_client, app, course):
    first = lesson_slugs(app)[0]
    page = result_page(learner_client, app, first, right=False)
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
