"""The certificate pages print as one page with the certificate alone: no site header, footer or forms."""

from __future__ import annotations

import io
import unicodedata

import pypdf
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import log_in_quickly

pytestmark = pytest.mark.e2e

EMAIL = "printer@example.org"
SITE_CHROME = ["Log out", "Samaritans", "not medical advice"]  # the header's and the footer's words
FORMS = ["Save these choices", "Revoke", "fresh certificate", "Download the PDF"]


def printed(page) -> list[str]:
    """Print the page as Chromium does (print media, the stylesheet's page size); the text of each page."""
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    page.emulate_media(media="screen")
    # NFKC: the font's ligatures ("ﬁ") read back as the letters they join.
    return [unicodedata.normalize("NFKC", sheet.extract_text()) for sheet in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def finish_the_course(app, email: str) -> None:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Course, User
    from app.services.progress import course_outline, lesson_record_completion

    with app.app_context():
        reader = db.session.scalar(select(User).where(User.email == email))
        course = db.session.scalar(select(Course))
        for entry in course_outline(db.session, course=course, learner=None).entries:
            lesson_record_completion(db.session, learner=reader, lesson=entry.lesson)
        db.session.commit()
        db.session.remove()


def test_both_certificate_pages_print_on_one_page_without_the_site_around_them(page, app, course):
    create_user(app, EMAIL, name="Pat Printer")
    log_in_quickly(page, EMAIL, PASSWORD)
    finish_the_course(app, EMAIL)
    page.goto(f"/courses/{course}/certificate")
    code = page.locator(".certificate-facts .code-text").inner_text()
    [mine] = printed(page)
    assert "Well done, Pat Printer" in mine and code in mine
    for words in SITE_CHROME + FORMS:
        assert words not in mine, words

    page.get_by_label("Let anyone with the link check it").check()
    page.get_by_role("button", name="Save these choices").click()
    page.get_by_role("link", name="See what others see").click()
    expect(page.get_by_role("heading", level=1, name="This certificate is valid", exact=True)).to_be_visible()
    [check] = printed(page)
    assert "This certificate is valid" in check and "Pat Printer" in check and code in check
    for words in SITE_CHROME:
        assert words not in check, words


def test_on_a_phone_each_fact_sits_under_its_label_at_the_full_width(page, app, course):
    """Beside their labels, the code and the address to check it at got a few characters a line."""
    create_user(app, EMAIL, name="Pat Printer")
    log_in_quickly(page, EMAIL, PASSWORD)
    finish_the_course(app, EMAIL)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/courses/{course}/certificate")
    facts = page.locator(".certificate-facts")
    width = facts.bounding_box()["width"]
    for label, value in zip(facts.locator("dt").all(), facts.locator("dd").all(), strict=True):
        label_box, value_box = label.bounding_box(), value.bounding_box()
        assert value_box["y"] >= label_box["y"] + label_box["height"] - 1  # under it, not beside it
        assert value_box["width"] >= width - 1
