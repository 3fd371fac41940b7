"""Warnings about a course's assessment quality and upkeep: things that do not stop a course
from working, but let learners pass without learning or leave health content unreviewed.

``flask courses validate``, the publish page and the authoring overview all report these, so
every course an author writes is held to them, not just the one we ship. Each warning names
its file and field, like the format's problems (app/services/course_files.py), but never
blocks an import or a publication.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from app.models.types import utcnow
from app.services.course_files import CourseSpec, LessonSpec, QuestionSpec
from app.services.errors import Problem

MIN_QUESTIONS = 3  # fewer, and a quiz cannot tell learning from luck
MIN_FOR_PATTERN = 3  # questions needed before a pattern in them means anything
# "Most" of a course's questions is a majority. One quiz has only a few, where chance alone often
# puts two of three answers in one place, so a quiz is flagged only when it is more than 2/3.
MOST_IN_COURSE = 1 / 2
MOST_IN_QUIZ = 2 / 3


def _single_answer(questions: Iterable[QuestionSpec]) -> list[QuestionSpec]:
    return [question for question in questions if question.kind == "single" and question.choices]


def _correct_index(question: QuestionSpec) -> int | None:
    return next((index for index, choice in enumerate(question.choices) if choice.correct), None)


def _correct_is_longest(question: QuestionSpec) -> bool:
    """Whether the correct choice is strictly longer than every other: a give-away."""
    index = _correct_index(question)
    if index is None:
        return False
    right = len(question.choices[index].text)
    return all(len(choice.text) < right for number, choice in enumerate(question.choices) if number != index)


def _true_false_answer(question: QuestionSpec) -> str | None:
    index = _correct_index(question)
    return None if index is None else question.choices[index].text.strip().lower()


def _ordinal(index: int) -> str:
    return {0: "first", 1: "second", 2: "third", 3: "fourth", 4: "fifth"}.get(index, f"number {index + 1}")


def _pattern_warnings(questions: list[QuestionSpec], *, everywhere: bool) -> list[tuple[str, str]]:
    """Give-aways across a set of questions: (field, message) pairs.

    ``everywhere`` is true for the whole course, false for one lesson's quiz.
    """
    warnings = []
    scope = "across the course" if everywhere else "in this quiz"
    most = MOST_IN_COURSE if everywhere else MOST_IN_QUIZ
    singles = _single_answer(questions)
    if len(singles) >= MIN_FOR_PATTERN:
        positions = Counter(index for q in singles if (index := _correct_index(q)) is not None)
        index, count = positions.most_common(1)[0] if positions else (0, 0)
        if count > len(singles) * most:
            warnings.append(
                (
                    "quiz",
                    f"the correct choice is the {_ordinal(index)} one in {count} of {len(singles)} single-answer "
                    f"questions {scope}: vary its place so its position does not give it away",
                )
            )
        longest = sum(_correct_is_longest(question) for question in singles)
        if longest > len(singles) * most:
            warnings.append(
                (
                    "quiz",
                    f"the correct choice is the longest in {longest} of {len(singles)} single-answer questions "
                    f"{scope}: make the wrong choices as full and careful as the right one",
                )
            )
    answers = Counter(
        answer for question in questions if question.kind == "true_false" and (answer := _true_false_answer(question))
    )
    total = sum(answers.values())
    if total >= 2:
        answer, count = answers.most_common(1)[0]
        all_one_way = count == total and not everywhere
        if all_one_way or (total >= MIN_FOR_PATTERN and count / total > MOST_IN_QUIZ):
            warnings.append(
                (
                    "quiz",
                    f"{count} of {total} true/false questions {scope} are answered “{answer.title()}”: "
                    "mix true and false statements so guessing one way does not pass",
                )
            )
    return warnings


def _lesson_warnings(lesson: LessonSpec) -> list[Problem]:
    file = f"lessons/{lesson.slug}.md"
    problems = []
    if not lesson.sources:
        problems.append(Problem(file, "sources", "the lesson lists no sources: say where its facts come from"))
    if 0 < len(lesson.quiz) < MIN_QUESTIONS:
        problems.append(
            Problem(
                file,
                "quiz",
                f"the quiz has only {len(lesson.quiz)} question(s): {MIN_QUESTIONS} or more tell learning from luck",
            )
        )
    for number, question in enumerate(lesson.quiz, start=1):
        if question.kind == "multiple" and question.choices and all(choice.correct for choice in question.choices):
            problems.append(
                Problem(
                    file,
                    f"quiz[{number}].choices",
                    "a multiple question with no wrong choice is passed by ticking everything: add a wrong one",
                )
            )
    problems += [Problem(file, field, message) for field, message in _pattern_warnings(lesson.quiz, everywhere=False)]
    return problems


def _review_warnings(spec: CourseSpec, today: date) -> list[Problem]:
    if spec.review is None:
        return [
            Problem(
                "course.yaml",
                "review",
                "no review is recorded: say who reviewed the content, when, and when it is next due",
            )
        ]
    due = spec.review.next_review_on
    if due < today:
        return [
            Problem(
                "course.yaml",
                "review.next_review_on",
                f"the content review was due on {due.isoformat()}: review the course and update the dates",
            )
        ]
    return []


def review_predates_changes(
    spec: CourseSpec,
    *,
    reviewed_before: date | None,
    recorded_before: date | None = None,
    marks_on: date | None = None,
    today: date | None = None,
) -> Problem | None:
    """A warning for content that changes while its review stays the one it had: None otherwise.

    Every lesson shows learners "Reviewed <date>". Content published with the date it had
    before (``reviewed_before``, the course's as learners see it now) would claim a review
    nobody did of the change. Updating the date in the same change says it was reviewed. The
    caller knows whether the content changes, and asks only then.

    ``marks_on``: the day publishing will record as the change's (``review_changed_since``), so
    the warning says what learners will be told. Without it (an import of files), the files
    record the change themselves (``review.changed_since_review_on``): no warning when they give
    a day after the one the course had (``recorded_before``), or ``today``.
    """
    if spec.review is None or reviewed_before is None or spec.review.reviewed_on != reviewed_before:
        return None
    shown = spec.review.reviewed_on.isoformat()
    stale = f"the content changes, but its review is still dated {shown}"
    if marks_on is not None:
        return Problem(
            "course.yaml",
            "review.reviewed_on",
            f"{stale}: publishing tells learners, under every lesson, that it changed on {marks_on.isoformat()} "
            "and that these changes are waiting for the clinical review. Have the changes reviewed, then update "
            "the review's date",
        )
    recorded = spec.review.changed_since_review_on
    today = today or utcnow().date()
    if recorded is not None and (recorded_before is None or recorded > recorded_before or recorded >= today):
        return None  # the files say when it changed, and lessons tell learners the review is still to come
    return Problem(
        "course.yaml",
        "review.reviewed_on",
        f"{stale}: every lesson would tell learners it was reviewed on {shown}, before these changes. Have the "
        "changes reviewed, then update the review's date; until then, give the day of the change as "
        "review.changed_since_review_on",
    )


def review_changed_since(
    *, reviewed_on: date, reviewed_before: date | None, recorded: date | None, content_changed_on: date | None
) -> date | None:
    """The latest day the content changed that its review does not cover, once a change is published.

    ``reviewed_on``: the review's date after the change; ``reviewed_before``: the one learners saw
    before it (None: no review); ``recorded``: the day the course (or draft) already records;
    ``content_changed_on``: the day the content changes (None: only the review's details do).

    Content that changes under the same review date is recorded as changed that day (never
    before the review itself). Dating the review again (to ``recorded`` or later) says it covers
    every change, and clears the day; a review dated before a recorded change leaves it.
    """
    redated = reviewed_before is None or reviewed_on != reviewed_before
    if content_changed_on is not None and not redated:
        return max(content_changed_on, reviewed_on)
    if recorded is not None and redated and reviewed_on >= recorded:
        return None
    return recorded


def course_warnings(spec: CourseSpec, *, today: date | None = None) -> list[Problem]:
    """Every quality warning for a valid course spec, course-wide ones first, then per lesson."""
    today = today or utcnow().date()
    lessons = [spec.lessons[slug] for module in spec.modules for slug in module.lesson_slugs if slug in spec.lessons]
    every_question = [question for lesson in lessons for question in lesson.quiz]
    problems = _review_warnings(spec, today)
    problems += [
        Problem("course.yaml", field, message) for field, message in _pattern_warnings(every_question, everywhere=True)
    ]
    for lesson in lessons:
        problems += _lesson_warnings(lesson)
    return problems
