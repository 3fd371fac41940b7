"""/me/'s lists written in Python (app/me/page_lists.py): what each item says and links to, escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from app.me.page_lists import attempt_summaries, progress_views, sharing_links
from app.services.attempt_history import AttemptSummary, LessonAttemptsSummary
from app.services.sharing import LinkRecord, SharingOverview, ViewRecord

WHEN = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)  # 2:05pm in London (summer time)


def outline_of(*lessons, completed=()):
    """A stand-in outline of a course "c<1>" with these (id, slug, title) lessons, numbered in order;
    those whose ids are in ``completed`` complete."""
    entries = [
        SimpleNamespace(
            lesson=SimpleNamespace(id=id_, slug=slug, title=title),
            number=number,
            completed_at=WHEN if id_ in completed else None,
        )
        for number, (id_, slug, title) in enumerate(lessons, start=1)
    ]
    return SimpleNamespace(course=SimpleNamespace(slug="c<1>"), entries=entries)


def attempt(id_, lesson_id, correct, passed, at=WHEN):
    return AttemptSummary(id_, lesson_id, at, correct, 5, passed)


def test_each_tried_lesson_says_its_attempts_best_and_latest_in_course_order(app):
    outline = outline_of(
        (1, "one", "Receptors & <blockers>"), (2, "two", "Untried"), (3, "three", "Three"), completed=(1, 3)
    )
    attempts = {
        3: LessonAttemptsSummary(count=1, best=attempt(30, 3, 5, True), latest=attempt(30, 3, 5, True)),
        1: LessonAttemptsSummary(count=2, best=attempt(11, 1, 4, True), latest=attempt(12, 1, 2, False)),
    }
    with app.test_request_context("/"):
        html = str(attempt_summaries(outline, attempts))

    items = html.split("</li>")[:-1]
    assert len(items) == 2 and "Lesson 1:" in items[0] and "Lesson 3:" in items[1] and "Untried" not in html
    lesson_url = "/courses/c%3C1%3E/lessons/one"
    assert f'<a href="{lesson_url}">Lesson 1: Receptors &amp; &lt;blockers&gt;</a>' in items[0]
    # Passed before, then a retake failed: still said to be passed, first.
    assert "<p><strong>Passed</strong> · 2 attempts · best 4 of 5 · latest:" in items[0]
    assert f'<a href="{lesson_url}/quiz/attempts/12"><time datetime="2026-07-01T13:05:00+00:00">' in items[0]
    assert "1 Jul 2026, 2:05pm</time>, 2 of 5, not passed</a>" in items[0]
    assert f'<a href="{lesson_url}/quiz/attempts">All 2 attempts at lesson 1</a>' in items[0]
    assert (
        "<p><strong>Passed</strong> · 1 attempt · best 5 of 5" in items[1]
        and "5 of 5, passed" in items[1]
        and "All 1" not in items[1]
    )


def test_no_attempts_no_links_and_no_views_draw_nothing(app):
    with app.test_request_context("/"):
        assert str(attempt_summaries(outline_of((1, "one", "One")), {})) == ""
        assert str(sharing_links(SharingOverview(links=[], views=[]), "token")) == ""
        assert str(progress_views(SharingOverview(links=[], views=[]))) == ""


def test_each_sharing_link_names_its_counsellor_and_has_its_own_form_to_stop(app):
    sharing = SharingOverview(links=[LinkRecord(7, "Cat <Counsellor>", WHEN), LinkRecord(9, "Dan", WHEN)], views=[])
    with app.test_request_context("/"):
        html = str(sharing_links(sharing, 'tok"en'))

    assert html.startswith('<ul class="share-list">') and html.endswith("</ul>")
    assert "<strong>Cat &lt;Counsellor&gt;</strong>" in html and "since 1 Jul 2026" in html
    assert '<form method="post" action="/me/sharing/7/stop">' in html and 'action="/me/sharing/9/stop"' in html
    assert html.count('<input name="csrf_token" type="hidden" value="tok&#34;en">') == 2
    assert ">Stop sharing with Cat &lt;Counsellor&gt;</button>" in html


def stop_buttons(html: str) -> list[tuple[str, str]]:
    """Each form's action and its button's words."""
    return re.findall(r'action="(/me/sharing/\d+/stop)">.*?<button[^>]*>([^<]*)</button>', html, re.DOTALL)


def test_two_counsellors_of_one_name_each_have_a_button_that_says_which(app):
    """Linked in the same minute, the time told them apart no more than the name: the address does."""
    links = [
        LinkRecord(7, "Sam Lee", WHEN, "sam.lee@north.example"),
        LinkRecord(8, "Sam Lee", WHEN, "s.lee@south.example"),
        LinkRecord(9, "Dan", WHEN, "dan@north.example"),
    ]
    with app.test_request_context("/"):
        html = str(sharing_links(SharingOverview(links=links, views=[]), "token"))

    assert stop_buttons(html) == [
        ("/me/sharing/7/stop", "Stop sharing with Sam Lee (sam.lee@north.example)"),
        ("/me/sharing/8/stop", "Stop sharing with Sam Lee (s.lee@south.example)"),
        ("/me/sharing/9/stop", "Stop sharing with Dan"),  # a name of its own needs nothing more
    ]
    # The item's own words too, for whoever reads the list rather than the buttons.
    assert "<strong>Sam Lee</strong> (sam.lee@north.example)" in html and "<strong>Dan</strong>\n" in html


def test_counsellors_of_one_name_without_an_address_are_told_apart_all_the_same(app):
    """An account an LMS signs in has no address: when the link was made, and at worst its place, tell them apart."""
    later = WHEN + timedelta(days=2, hours=3)
    links = [
        LinkRecord(5, "Sam Lee", WHEN, None),
        LinkRecord(6, "Sam Lee", WHEN, None),
        LinkRecord(7, "Sam Lee", later, None),
        LinkRecord(8, "Sam Lee", later, "sam@x.example"),
    ]
    with app.test_request_context("/"):
        labels = [label for _, label in stop_buttons(str(sharing_links(SharingOverview(links, []), "token")))]

    assert labels == [
        "Stop sharing with Sam Lee (signs in through an LMS, since 1 Jul 2026, 2:05pm, 1 of 2)",
        "Stop sharing with Sam Lee (signs in through an LMS, since 1 Jul 2026, 2:05pm, 2 of 2)",
        "Stop sharing with Sam Lee (signs in through an LMS, since 3 Jul 2026, 5:05pm)",
        "Stop sharing with Sam Lee (sam@x.example)",
    ]


def test_each_view_says_who_in_what_role_and_when_in_a_table(app):
    views = [ViewRecord("Cat <Counsellor>", "counsellor", WHEN), ViewRecord("A removed account", "admin", WHEN)]
    with app.test_request_context("/"):
        html = str(progress_views(SharingOverview(links=[], views=views)))

    assert 'role="region" aria-label="Views of your progress"' in html and '<th scope="col">Who</th>' in html
    rows = [row.strip() for row in html.split("<tbody>")[1].split("</tbody>")[0].strip().splitlines()]
    assert rows == [
        '<tr><td>Cat &lt;Counsellor&gt;</td><td>Counsellor</td><td><time datetime="2026-07-01T13:05:00+00:00">'
        "1 Jul 2026, 2:05pm</time></td></tr>",
        '<tr><td>A removed account</td><td>Admin</td><td><time datetime="2026-07-01T13:05:00+00:00">'
        "1 Jul 2026, 2:05pm</time></td></tr>",
    ]


def test_a_lesson_since_removed_is_listed_after_the_live_ones_without_a_lesson_link(app):
    outline = outline_of((1, "one", "One"))
    gone = SimpleNamespace(id=7, slug="old<one>", title="Old & <gone>")
    never_tried = SimpleNamespace(id=8, slug="other", title="Never tried")
    attempts = {
        7: LessonAttemptsSummary(count=3, best=attempt(71, 7, 3, False), latest=attempt(73, 7, 1, False)),
        1: LessonAttemptsSummary(count=1, best=attempt(11, 1, 5, True), latest=attempt(11, 1, 5, True)),
    }
    with app.test_request_context("/"):
        html = str(attempt_summaries(outline, attempts, [gone, never_tried]))
        only_removed = str(attempt_summaries(outline, {7: attempts[7]}, [gone]))

    items = html.split("</li>")[:-1]
    assert len(items) == 2 and "Lesson 1: One" in items[0] and "Never tried" not in html
    assert "<h3>Old &amp; &lt;gone&gt; <small>(no longer in the course)</small></h3>" in items[1]
    attempts_url = "/courses/c%3C1%3E/lessons/old%3Cone%3E/quiz/attempts"
    assert f'<a href="{attempts_url}/73">' in items[1] and "1 of 5, not passed" in items[1]
    assert f'<a href="{attempts_url}">All 3 attempts at this lesson</a>' in items[1]
    assert '/lessons/old%3Cone%3E"' not in html  # no link to the lesson itself
    assert only_removed.count("<li") == 1  # a learner who tried only removed lessons still has a list
    assert "Passed</strong>" not in html  # lesson one not complete in this outline; a removed one never
