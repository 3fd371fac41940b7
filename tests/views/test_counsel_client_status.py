"""The client page's "At a glance" over HTTP: under the name, the dashboard's flags in its words,
last active, lessons passed, quiz average and where the client is stuck; on paper with its date."""

from __future__ import annotations

import re

from app.extensions import db
from app.models.types import utcnow
from app.timefmt import format_date, site_zone
from tests.conftest import lesson_slugs, quiz_form, submit_quiz, visible_text
from tests.services.test_dashboard import set_last_active
from tests.views.test_counsel import counsellor, linked, log_in_as  # noqa: F401 - fixtures
from tests.views.test_counsel_since_last_look import client_url
from tests.views.test_query_counts import add_failed_attempts

__all__ = ["counsellor", "linked"]


def at_a_glance_html(page: str) -> str:
    return re.search(r'<section class="client-status".*?</section>', page, re.S).group(0)


def at_a_glance(page: str) -> str:
    """The text of the "At a glance" section, tags stripped and spaces collapsed."""
    return visible_text(at_a_glance_html(page))


def flag_words(html: str) -> list[str]:
    return re.findall(r'<span class="flag flag-\w+">([^<]+)</span>', html)


def stuck_at_lesson_3(linked, app, learner) -> str:
    """The learner passes lessons 1 and 2, then fails lesson 3 three times (0 right each);
    the counsellor is then logged in. The client page's URL."""
    first, second, third = lesson_slugs(app)
    for slug in (first, second):
        submit_quiz(linked, slug, quiz_form(app, slug, right=True))
    add_failed_attempts(app, learner, third, 3)
    log_in_as(linked, "casey@example.org")
    return client_url(linked)


def test_a_struggling_client_is_flagged_with_where_they_are_stuck_under_their_name(linked, app, learner):
    url = stuck_at_lesson_3(linked, app, learner)
    page = linked.get(url).get_data(as_text=True)

    # Right under the name, before anything else the page says.
    assert (
        page.index("<h1>Lee Learner</h1>") < page.index('class="client-status"') < page.index("Since you last looked")
    )
    glance = at_a_glance(page)
    assert "Flags Struggling Last active" in glance
    today = format_date(utcnow(), site_zone(app.config["SITE_TIMEZONE"]))
    assert f"Last active {today} (within the last day)" in glance
    assert "Lessons passed 2 of 3 (67%)" in glance
    assert "Quiz average 40%" in glance  # 100%, 100%, then 0% three times
    assert "Stuck 3 tries at lesson 3, “Serving tea”, none passed yet" in glance
    assert "Struggling: 3 or more failed tries at a quiz not yet passed." in glance
    assert "Inactive:" not in glance  # only the flags shown are explained


def test_the_flags_are_the_dashboards_in_the_dashboards_words(linked, app, learner):
    url = stuck_at_lesson_3(linked, app, learner)
    with app.app_context():  # and away for a month, on top of struggling
        set_last_active(db.session, learner, days_ago=30.5)
        db.session.remove()

    dashboard = linked.get("/counsel/").get_data(as_text=True)
    page = linked.get(url).get_data(as_text=True)
    assert flag_words(dashboard) == flag_words(at_a_glance_html(page)) == ["Struggling", "Inactive over 7 days"]
    glance = at_a_glance(page)
    assert "(30 days ago)" in glance
    assert "Struggling: 3 or more failed tries at a quiz not yet passed. Inactive: nothing done" in glance


def test_a_client_who_has_not_started_says_so(linked, app):
    log_in_as(linked, "casey@example.org")
    glance = at_a_glance(linked.get(client_url(linked)).get_data(as_text=True))
    assert "Flags None" in glance
    assert "Last active Not started" in glance
    assert "Lessons passed 0 of 3 (0%)" in glance
    assert "Quiz average No quizzes taken yet" in glance
    assert "Now at Lesson 1, “Boiling the water”: not opened yet" in glance
    assert "Stuck" not in glance


def test_the_summary_prints_the_status_and_when_it_was_drawn(linked, app, learner):
    url = stuck_at_lesson_3(linked, app, learner)
    page = linked.get(url).get_data(as_text=True)
    stamp = re.search(r'<p class="print-only as-of">(.*?)</p>', page, re.S)
    assert stamp is not None
    today = format_date(utcnow(), site_zone(app.config["SITE_TIMEZONE"]))
    assert visible_text(stamp.group(1)).startswith(f"Summary as of {today}, ")
    stylesheet = re.search(r'href="(/assets/css/client-summary\.[0-9a-f]{10}\.css)"', page).group(1)
    css = linked.get(stylesheet).get_data(as_text=True)
    screen, printed = css.split("@media print")
    assert ".print-only { display: none; }" in screen and ".print-only { display: block; }" in printed
    hidden = re.search(r"\n\s*([^{}]*)\{ display: none !important; \}", printed).group(1)
    assert "client-status" not in hidden and "page-header" not in hidden
