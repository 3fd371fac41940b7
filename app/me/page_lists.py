"""/me/'s lists of the learner's own, written in Python: their quiz attempts lesson by lesson,
whom they share their progress with, and who has looked at it.

As with the attempt rows of the lesson pages (app/learn/attempt_rows.py), one format of
already-escaped values per item costs a fraction of the template loop it replaces: /me/'s
own part drawn in Jinja was a quarter of its CPU, and four learners in ten have views to list.
The page around them (headings, and the sentence when a list is empty) stays in
templates/me/home.html; the rarer requests to the clinic stay a template (me/_contact_requests.html).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from app.learn.attempt_rows import all_attempts_url, shown_time
from app.models import Lesson
from app.services.attempt_history import LessonAttemptsSummary
from app.services.progress import CourseOutline
from app.services.sharing import NOT_COUNSELLING, SEES_EVERYONE, STILL_COUNSELS, LinkRecord, SharingOverview
from app.template_urls import link_for
from app.timefmt import current_zone, format_date, format_datetime

# A plain str template, every value put in escaped or a whole number (see attempt_rows.py).
_ITEM = (
    '<li class="attempt-summary">\n'
    "  <h3>{heading}</h3>\n"
    "  <p>{passed}{count} attempt{plural} · best {best_correct} of {best_count} · latest: "
    '<a href="{attempts_url}{latest_id}"><time datetime="{iso}">{when}</time>, '
    "{latest_correct} of {latest_count}, {result}</a></p>\n"
    "{all_attempts}"
    "</li>\n"
)
_ALL_ATTEMPTS = '  <p><a href="{all_url}">All {count} attempts at {which}</a></p>\n'
# A live lesson's heading links to it; a lesson since removed from the course has no page but its attempts'.
_LIVE_HEADING = '<a href="{lesson_url}">Lesson {number}: {title}</a>'
_REMOVED_HEADING = "{title} <small>(no longer in the course)</small>"


def attempt_summaries(
    outline: CourseOutline, attempts: Mapping[int, LessonAttemptsSummary], removed: Sequence[Lesson] = ()
) -> Markup:
    """One list item per lesson the learner has tried: those of ``outline`` in the course's order,
    then ``removed`` (lessons since taken out of the course, whose attempts stay theirs to read);
    empty when they have tried none. ``attempts``: the summaries by lesson id (my_page.MyPage's)."""
    tried = [entry for entry in outline.entries if entry.lesson.id in attempts]
    gone = [lesson for lesson in removed if lesson.id in attempts]
    if not tried and not gone:
        return Markup("")
    zone = current_zone()
    course_slug = outline.course.slug
    # learn.lesson's URL is the course's followed by lessons/<slug> (app/learn/routes.py): built once, not per lesson.
    lessons_url = link_for("learn.course", course_slug=course_slug) + "lessons/"
    items = []
    for entry in tried:
        number = int(entry.number)
        heading = _LIVE_HEADING.format(
            lesson_url=escape(lessons_url + entry.lesson.slug), number=number, title=escape(entry.lesson.title)
        )
        summary = attempts[entry.lesson.id]
        # Passed once, passed for good (a later failed retake changes nothing): said first, as
        # the course page says it, so a "not passed" latest does not read as the lesson undone.
        passed = entry.completed_at is not None
        items.append(_item(summary, course_slug, entry.lesson.slug, heading, f"lesson {number}", zone, passed))
    for lesson in gone:
        heading = _REMOVED_HEADING.format(title=escape(lesson.title))
        items.append(_item(attempts[lesson.id], course_slug, lesson.slug, heading, "this lesson", zone, False))
    return Markup("".join(items))  # noqa: S704  # nosec B704 - every value escaped or a whole number


def _item(
    summary: LessonAttemptsSummary,
    course_slug: str,
    lesson_slug: str,
    heading: str,
    which: str,
    zone: ZoneInfo,
    passed: bool,
) -> str:
    """One lesson's item: ``heading`` (escaped already), its count, best and latest, and a link to them all."""
    latest, best, count = summary.latest, summary.best, int(summary.count)
    all_url = all_attempts_url(course_slug, lesson_slug)
    iso, when = shown_time(latest.submitted_at, zone)
    return _ITEM.format(
        heading=heading,
        passed="<strong>Passed</strong> · " if passed else "",
        attempts_url=escape(all_url + "/"),  # each attempt's result is at this URL followed by its id
        count=count,
        plural="" if count == 1 else "s",
        best_correct=int(best.correct_count),
        best_count=int(best.question_count),
        latest_id=int(latest.id),
        iso=iso,
        when=when,
        latest_correct=int(latest.correct_count),
        latest_count=int(latest.question_count),
        result="passed" if latest.passed else "not passed",
        all_attempts=_ALL_ATTEMPTS.format(all_url=escape(all_url), count=count, which=which) if count > 1 else "",
    )


_LINK = (
    '<li class="share-item">\n'
    "  <div>\n"
    "    <strong>{name}</strong>{which}\n"
    '    <span class="hint">since {since}</span>\n'
    "{now}"
    "  </div>\n"
    '  <form method="post" action="{stop_url}">\n'
    '    <input name="csrf_token" type="hidden" value="{token}">\n'
    '    <button type="submit" class="button button-secondary">Stop sharing with {name}{which}</button>\n'
    "  </form>\n"
    "</li>\n"
)

# What sharing with an account that no longer counsels means now (sharing.counsellor_now): the link
# lasts until the learner ends it (app/services/handover.py), so the item says so, its button kept.
_NOW = '    <p class="share-note">{name} {now}</p>\n'
NOW_WORDS = {
    NOT_COUNSELLING: "is no longer a counsellor here, so they do not see your progress. "
    "You can stop sharing with them.",
    SEES_EVERYONE: "is one of the clinic's site administrators, who can see anyone's progress, "
    "so stopping sharing does not change what they can see.",
}


def sharing_links(sharing: SharingOverview, csrf_token: str) -> Markup:
    """The learner's live sharing links as a list, each with its form to stop sharing (``csrf_token``
    its token); empty when there are none."""
    if not sharing.links:
        return Markup("")
    zone, token = current_zone(), escape(csrf_token)
    which = _told_apart(sharing.links, zone)
    items = "".join(
        _LINK.format(
            name=escape(link.counsellor_name),
            which=escape(f" ({which[link.id]})") if which[link.id] else "",
            since=escape(format_date(link.since, zone)),
            now="" if link.counsellor_now == STILL_COUNSELS else _now(link),
            stop_url=escape(link_for("me.stop_sharing", link_id=int(link.id))),
            token=token,
        )
        for link in sharing.links
    )
    return Markup(f'<ul class="share-list">\n{items}</ul>')  # noqa: S704  # nosec B704 - every value escaped


def _now(link: LinkRecord) -> str:
    """The sentence saying what sharing with ``link``'s account means now it is no longer a counsellor's."""
    return _NOW.format(name=escape(link.counsellor_name), now=escape(NOW_WORDS[link.counsellor_now]))


def _told_apart(links: Sequence[LinkRecord], zone: ZoneInfo) -> dict[int, str]:
    """What to say beside each link's counsellor's name, by link id, so that two counsellors of one
    name read differently: "" for a name nobody else on the list has.

    Two counsellors may share a name, and then each item and each "Stop sharing" button must say
    which one it is: a screen reader lists the buttons by their words alone. Their e-mail address
    tells them apart, as the admin's page that links a learner on their behalf names a counsellor
    (author/user_link_confirm.html). When the link was made did not: two links made in the same
    minute read alike. An account an LMS signs in has no address: it is said so, with when the link
    was made; and should two such still read alike, each says its place among them.
    """
    names = Counter(link.counsellor_name for link in links)
    which = {
        link.id: ""
        if names[link.counsellor_name] == 1
        else link.counsellor_email or f"signs in through an LMS, since {format_datetime(link.since, zone)}"
        for link in links
    }
    alike = Counter((link.counsellor_name, which[link.id]) for link in links)
    placed: Counter[tuple[str, str]] = Counter()
    for link in links:
        key = (link.counsellor_name, which[link.id])
        if alike[key] > 1:
            placed[key] += 1
            which[link.id] += f", {placed[key]} of {alike[key]}"
    return which


_VIEWS = (
    '<div class="table-wrap" role="region" aria-label="Views of your progress" tabindex="0">\n'
    '  <table class="data-table">\n'
    '    <thead><tr><th scope="col">Who</th><th scope="col">Role</th><th scope="col">When</th></tr></thead>\n'
    "    <tbody>\n{rows}    </tbody>\n"
    "  </table>\n"
    "</div>"
)
_VIEW = '      <tr><td>{name}</td><td>{role}</td><td><time datetime="{iso}">{when}</time></td></tr>\n'


def progress_views(sharing: SharingOverview) -> Markup:
    """Who has looked at the learner's progress, newest first, as a table; empty when nobody has."""
    if not sharing.views:
        return Markup("")
    zone = current_zone()
    rows = []
    for view in sharing.views:
        iso, when = shown_time(view.viewed_at, zone)
        rows.append(
            _VIEW.format(name=escape(view.viewer_name), role=escape(view.viewer_role.capitalize()), iso=iso, when=when)
        )
    return Markup(_VIEWS.format(rows="".join(rows)))  # noqa: S704  # nosec B704 - every value escaped
