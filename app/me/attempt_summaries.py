"""/me/'s summary of the learner's quiz attempts, lesson by lesson, written in Python.

Each lesson the learner has tried gets one item: how many attempts, the best score, and the
latest attempt's time, score and result, linking to the lesson and to that result. As with the
attempt rows of the lesson pages (app/learn/attempt_rows.py), one format of already-escaped
values per item costs a fraction of the template loop it replaces, which was most of /me/'s
drawing. The list around the items stays in templates/me/home.html.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup, escape

from app.learn.attempt_rows import shown_time
from app.services.attempt_history import LessonAttemptsSummary
from app.services.progress import CourseOutline
from app.template_urls import link_for
from app.timefmt import current_zone

# A plain str template, every value put in escaped or a whole number (see attempt_rows.py).
_ITEM = (
    '<li class="attempt-summary">\n'
    '  <h3><a href="{lesson_url}">Lesson {number}: {title}</a></h3>\n'
    "  <p>{count} attempt{plural} · best {best_correct} of {best_count} · latest: "
    '<a href="{lesson_url}/quiz/attempts/{latest_id}"><time datetime="{iso}">{when}</time>, '
    "{latest_correct} of {latest_count}, {result}</a></p>\n"
    "{all_attempts}"
    "</li>\n"
)
_ALL_ATTEMPTS = '  <p><a href="{lesson_url}#your-attempts">All {count} attempts at lesson {number}</a></p>\n'


def attempt_summaries(outline: CourseOutline, attempts: Mapping[int, LessonAttemptsSummary]) -> Markup:
    """One list item per lesson of ``outline`` the learner has tried, in the course's order;
    empty when they have tried none. ``attempts``: the summaries by lesson id (my_page.MyPage's)."""
    tried = [entry for entry in outline.entries if entry.lesson.id in attempts]
    if not tried:
        return Markup("")
    zone = current_zone()
    # learn.lesson's URL is the course's followed by lessons/<slug> (app/learn/routes.py): built once, not per lesson.
    lessons_url = link_for("learn.course", course_slug=outline.course.slug) + "lessons/"
    items = []
    for entry in tried:
        summary = attempts[entry.lesson.id]
        latest, best, count = summary.latest, summary.best, int(summary.count)
        lesson_url = escape(lessons_url + entry.lesson.slug)
        iso, when = shown_time(latest.submitted_at, zone)
        number = int(entry.number)
        items.append(
            _ITEM.format(
                lesson_url=lesson_url,
                number=number,
                title=escape(entry.lesson.title),
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
                all_attempts=_ALL_ATTEMPTS.format(lesson_url=lesson_url, count=count, number=number)
                if count > 1
                else "",
            )
        )
    return Markup("".join(items))  # noqa: S704  # nosec B704 - every value escaped or a whole number
