"""The rows of a learner's attempt history table, written in Python rather than a Jinja loop.

A learner who retakes a quiz often has dozens of attempts, and the lesson and quiz pages list
every attempt at their lesson (/me/ sums them up per lesson); drawn by the template's loop,
each row cost some forty Jinja calls (escaping, attribute lookups, the date filter) and a long
history was the biggest part of a lesson request (issue 19's profile). Each row here is one
format of already-safe values. The table around the rows stays in templates/learn/_attempts.html.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from app.services.attempt_history import AttemptSummary
from app.services.progress import LessonEntry
from app.template_urls import link_for
from app.timefmt import current_zone, format_datetime

_PASSED = Markup('<span aria-hidden="true">✓</span> Passed')
_NOT_PASSED = Markup('<span aria-hidden="true">✗</span> Not passed')
# A plain str template: Markup.format escapes through string.Formatter, in Python, dozens of
# calls a row; here each text value is escaped once (C) and numbers are ints.
_ROW = (
    "<tr>"
    '<th scope="row"><time datetime="{iso}">{when}</time></th>'
    "<td>{correct} of {count}</td>"
    "<td>{result}</td>"
    '<td><a href="{url}{id}">See result<span class="visually-hidden"> of attempt {number}</span></a></td>'
    "</tr>\n"
)


@lru_cache(maxsize=4096)
def shown_time(moment: datetime, zone: ZoneInfo) -> tuple[Markup, Markup]:
    """An attempt's time, machine-readable and as people read it, escaped.

    Remembered (bounded): an attempt's time never changes, a learner's page lists the same
    ones on every visit, and the conversion to the site's zone was most of a row's cost.
    """
    return escape(moment.isoformat()), escape(format_datetime(moment, zone))


def attempt_rows(attempts: Sequence[AttemptSummary], results_url: str, *, first_number: int | None = None) -> Markup:
    """One table row per attempt, newest first as given: when, score, result, and a link to it.

    ``results_url`` is the lesson's quiz URL followed by ``/attempts/``; each link adds its id.
    ``first_number``: the first attempt's number (attempts count from 1, the earliest), when
    these are not all of them; else the count given. Passed or not is said in words (and a
    mark), never by colour alone.
    """
    zone = current_zone()
    url = escape(results_url)
    first = len(attempts) if first_number is None else first_number
    rows = "".join(_row(attempt, first - index, url, zone) for index, attempt in enumerate(attempts))
    # Every value in a row is escaped, a whole number or one of the two marks above.
    return Markup(rows)  # noqa: S704  # nosec B704


def attempt_rows_of(
    attempts: Sequence[AttemptSummary], *, course_slug: str, lesson_slug: str, in_all: int | None = None
) -> Markup:
    """``attempt_rows`` for a lesson's latest attempts (``in_all``: how many there are, when more
    than these), each linking to its result (learn/_attempts.html's URL)."""
    if not attempts:
        return Markup("")
    return attempt_rows(attempts, attempts_url(course_slug, lesson_slug), first_number=in_all)


def attempt_parts(entry: LessonEntry, *, course_slug: str) -> dict[str, Markup]:
    """A lesson or quiz page's attempt parts for ``entry`` (its latest attempts, as the page's read
    gives them): the table's rows, and the note below it when there are more (``attempts_more``)."""
    lesson_slug = entry.lesson.slug
    in_all = entry.attempts_in_all
    return {
        "attempt_rows_drawn": attempt_rows_of(
            entry.attempts, course_slug=course_slug, lesson_slug=lesson_slug, in_all=in_all
        ),
        "attempts_more": more_attempts_note(
            len(entry.attempts), in_all, course_slug=course_slug, lesson_slug=lesson_slug
        ),
    }


def more_attempts_note(shown: int, in_all: int, *, course_slug: str, lesson_slug: str) -> Markup:
    """What a lesson or quiz page says below its latest attempts when there are more: how many
    are listed, and a link to the lesson's attempts page, which lists them all. Else nothing."""
    if in_all <= shown:
        return Markup("")
    url = escape(all_attempts_url(course_slug, lesson_slug))
    return Markup(  # noqa: S704  # nosec B704 - whole numbers and an escaped URL
        f'<p class="attempts-more">Your {int(shown)} latest attempts of {int(in_all)} are listed here. '
        f'<a href="{url}">See all your attempts at this quiz</a></p>'
    )


def attempts_url(course_slug: str, lesson_slug: str) -> str:
    """The URL of a lesson's attempts (``learn.attempt``'s) without the attempt's id, which follows it.

    One remembered link per lesson: every attempt ever made has its own URL, and building each
    with ``url_for`` costs some 30 us, or would fill the remembered links with one-off ones.
    """
    return all_attempts_url(course_slug, lesson_slug) + "/"


def all_attempts_url(course_slug: str, lesson_slug: str) -> str:
    """The URL of the page listing all the learner's attempts at a lesson (``learn.attempts``)."""
    return link_for("learn.attempts", course_slug=course_slug, lesson_slug=lesson_slug)


def _row(attempt: AttemptSummary, number: int, url: Markup, zone: ZoneInfo) -> str:
    iso, when = shown_time(attempt.submitted_at, zone)
    return _ROW.format(
        iso=iso,
        when=when,
        correct=int(attempt.correct_count),
        count=int(attempt.question_count),
        result=_PASSED if attempt.passed else _NOT_PASSED,
        url=url,
        id=int(attempt.id),
        number=number,
    )
