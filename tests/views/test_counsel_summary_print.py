"""The client page printed as a one-page session summary, for a heavy case: a client of the real
course with eight misconceptions, on a later visit. Each talking point is said once, marked "New"
where it first showed since the last look; what the screen explains about the page is left off
paper; the print stylesheet lays the points out as a compact list. Over HTTP with CSRF on (the
page count itself is tests/e2e/test_client_summary_print_heavy.py)."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from app.extensions import db
from app.models import CounsellorLink, Role
from tests.conftest import create_user, login, visible_text
from tests.heavy_client import reveal
from tests.views.test_counsel_since_last_look import since_section, visit_ends


@pytest.fixture
def heavy_page(client, app, real_course, learner) -> tuple[str, dict[str, str]]:
    """The counsellor looks, the visit ends, the client shows eight misconceptions (one quiz four
    times), and the counsellor looks again: that page, and each misconception's talking point."""
    counsellor = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner))
        db.session.commit()
        db.session.remove()
    login(client, "casey@example.org")
    url = f"/counsel/clients/{learner}"
    assert client.get(url).status_code == 200
    visit_ends(app)
    points = reveal(app, learner, real_course, retries=3)
    return client.get(url).get_data(as_text=True), points


def talk_section(page: str) -> str:
    return re.search(r'<section aria-labelledby="misconceptions">.*?</section>', page, re.S).group(0)


def test_each_talking_point_is_said_once_and_marked_new(heavy_page):
    page, points = heavy_page
    assert len(points) == 8
    for text in points.values():
        assert page.count(str(escape(text))) == 1, text
    talk = talk_section(page)
    assert talk.count('<li class="insight ') == 8 and talk.count('<span class="tag tag-new">New</span>') == 8


def test_on_paper_the_newly_shown_are_counted_not_named_again(heavy_page):
    page, _ = heavy_page
    since = re.search(r"<li><strong>Misconceptions newly shown:</strong>(.*?)</li>", page, re.S).group(1)
    names, count = re.search(
        r'<span class="no-print">(.*)</span>\s*<span class="print-only">(.*?)</span>', since, re.S
    ).groups()
    assert names.count("; ") == 7  # the screen names all eight
    assert count == "8, each marked “New” under “What to talk about”"


def test_a_retaken_quiz_is_named_once_with_its_tries(heavy_page):
    page, _ = heavy_page
    since = since_section(page)
    assert "new quiz attempts:" in since
    assert since.count("Receptors, endorphins and blockers") == 1
    assert "Receptors, endorphins and blockers (4 tries: " in since and "none passed)" in since


def test_what_the_screen_explains_is_left_off_paper(heavy_page):
    page, _ = heavy_page
    glance = re.search(r'<section class="client-status".*?</section>', page, re.S).group(0)
    # The safety concern's meaning: the printed list of talking points shows it. Struggling's stays.
    assert re.search(r'<span class="no-print">Safety concern: a wrong answer showed', glance)
    assert "Struggling: 3 or more failed tries" in visible_text(
        re.sub(r'<span class="no-print">.*?</span>', "", glance)
    )
    assert '<span class="no-print"> (looks less than 60 minutes apart are one visit' in page


def printed_rules(css: str) -> dict[str, str]:
    """The print media block's rules, selector to declarations (whitespace squeezed)."""
    block = re.sub(r"/\*.*?\*/", "", css[css.index("@media print") :], flags=re.S)
    return {" ".join(sel.split()): " ".join(body.split()) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", block)}


def test_the_print_stylesheet_lays_the_talking_points_out_as_a_compact_list(heavy_page, client):
    page, _ = heavy_page
    stylesheet = re.search(r'href="(/assets/css/client-summary\.[0-9a-f]{10}\.css)"', page).group(1)
    rules = printed_rules(client.get(stylesheet).get_data(as_text=True))
    assert "size: A4 portrait" in rules["@page"]
    assert "display: block" in rules[".insights"]  # a list, not the screen's grid of cards
    assert "display: inline" in rules[".insight-status, .insight-text"]  # the status runs into its point
    assert "break-inside: avoid" in rules[".insight"]
    assert "display: none" in rules[".insight-corrected .insight-text"]
    assert "display: inline" in rules["span.print-only"]
