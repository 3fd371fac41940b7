"""A counsellor's pages about a course other than the default one keep that course in every link.

The dashboard and the client page take ``?course=<slug>`` and fall back to the default course
without it: a sort, a filter, the next page, the CSV or the client's own page that dropped it
showed the default course's figures under the other course's name (found in the counsellor review).
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Course
from app.services.course_import import course_import
from tests.conftest import factory_course_spec, lesson_slugs, quiz_form, submit_quiz
from tests.views.test_counsel import counsellor, linked, log_in_as  # noqa: F401 - fixtures

# Fixtures, named here so they count as used (pytest passes them by name).
__all__ = ["counsellor", "linked"]

OTHER = "other-course"


@pytest.fixture
def other_course(app, course) -> str:
    with app.app_context():
        course_import(db.session, replace(factory_course_spec(), slug=OTHER, title="The Other Course"))
        db.session.remove()
    return OTHER


SWITCH = re.compile(r'<nav aria-label="Courses" class="course-switch">.*?</nav>', re.DOTALL)


def counsel_links(page: str) -> list[str]:
    """Every link (and the filter form's action) on a page that leads to a counsellor page about a
    course, but for the links to each course, which lead to another course on purpose."""
    hrefs = [unescape(href) for href in re.findall(r'href="([^"]+)"', SWITCH.sub("", page))]
    return [href for href in hrefs if re.match(r"/counsel/(\?|clients)", href)]


def course_of(href: str) -> str | None:
    return parse_qs(urlsplit(href).query).get("course", [None])[0]


def test_every_link_of_another_courses_dashboard_and_client_page_keeps_that_course(linked, app, other_course):
    first = lesson_slugs(app)[0]
    submit_quiz(linked, first, quiz_form(app, first, right=True))  # in the default course only
    log_in_as(linked, "casey@example.org")

    dashboard = linked.get(f"/counsel/?course={OTHER}").get_data(as_text=True)
    links = counsel_links(dashboard)
    # The six sort headers, the client's name and the CSV download.
    assert len(links) >= 8 and {course_of(href) for href in links} == {OTHER}, links
    assert f'<input type="hidden" name="course" value="{OTHER}">' in dashboard  # the filter form's

    client_url = next(href for href in links if href.startswith("/counsel/clients/"))
    client_page = linked.get(client_url).get_data(as_text=True)
    assert "The Other Course" in client_page and "0 of " in client_page  # nothing done in this course
    back = re.search(r'<nav class="breadcrumb"[^>]*>\s*<a href="([^"]+)"', client_page).group(1)
    assert course_of(unescape(back)) == OTHER


def test_the_default_courses_links_stay_without_a_course(linked, app, other_course):
    log_in_as(linked, "casey@example.org")
    dashboard = linked.get("/counsel/").get_data(as_text=True)
    links = counsel_links(dashboard)
    assert links and all(course_of(href) is None for href in links), links
    assert 'name="course"' not in dashboard


def test_the_dashboard_links_to_each_course_and_marks_the_one_shown(linked, app, other_course):
    with app.app_context():
        default_title = db.session.scalar(select(Course.title).order_by(Course.id).limit(1))
    log_in_as(linked, "casey@example.org")
    for url, current in (("/counsel/", "/counsel/"), (f"/counsel/?course={OTHER}", f"/counsel/?course={OTHER}")):
        switch = SWITCH.search(linked.get(url).get_data(as_text=True)).group(0)
        links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', switch)
        assert [(unescape(href), title) for href, _, title in links] == [
            ("/counsel/", default_title),
            (f"/counsel/?course={OTHER}", "The Other Course"),
        ]
        assert [unescape(href) for href, marked, _ in links if marked] == [current]


def test_a_site_with_one_course_has_no_course_links_and_an_unknown_course_is_404(linked, app, course):
    log_in_as(linked, "casey@example.org")
    assert 'aria-label="Courses"' not in linked.get("/counsel/").get_data(as_text=True)
    assert linked.get("/counsel/?course=no-such-course").status_code == 404
