"""The report as the JSON data an analytics snapshot keeps (every date range at once), and one
range's report rebuilt from it.

Apart from the snapshot row because it is the stored format, read back on every page view long
after it was written: its versions (``DATA_FORMAT``) are kept here.
"""

from __future__ import annotations

from datetime import datetime

from app.models import Course
from app.services.analytics.course_report import CourseAnalytics, LessonInfo, LessonStats
from app.services.analytics.date_ranges import DEFAULT_RANGE, RANGES, DateRange
from app.services.analytics.drop_out import LessonFunnel
from app.services.analytics.question_statistics import ChoiceStats, QuestionStats

# The shape of ``report_data``; a snapshot stored in another shape is ignored until recomputed,
# except format 1 (before date ranges), whose figures are read as all time.
DATA_FORMAT = 2
# A question's figures per range, as a snapshot keeps them (with the picks of each choice).
_FIGURE_KEYS = ("answers", "first_attempts", "first_right", "discrimination", "discrimination_note")


def report_data(reports: dict[str, CourseAnalytics]) -> dict:
    """Every range's figures as JSON-serialisable data, what a snapshot keeps.

    The lessons, questions and choices are kept once, with each range's counts beside them.
    Only counts and the texts shown beside them are kept; shares, flags, cautions and charts are
    worked out again from them when the page renders, so they follow the current thresholds.
    """
    keys = [date_range.key for date_range in RANGES if date_range.key in reports]
    shape = reports[keys[-1]]
    by_range = {key: {item.lesson.id: item for item in reports[key].lessons} for key in keys}
    return {
        "format": DATA_FORMAT,
        "ranges": keys,
        "lessons": [
            {
                "lesson": {
                    "id": item.lesson.id,
                    "slug": item.lesson.slug,
                    "title": item.lesson.title,
                    "module_title": item.lesson.module_title,
                },
                "number": item.number,
                "funnel": {
                    key: {
                        "started": by_range[key][item.lesson.id].funnel.started,
                        "passed": by_range[key][item.lesson.id].funnel.passed,
                        "gave_up": by_range[key][item.lesson.id].funnel.gave_up,
                    }
                    for key in keys
                },
                "questions": [
                    {
                        "question_id": q.question_id,
                        "number": q.number,
                        "prompt": q.prompt,
                        "kind": q.kind,
                        "choices": [
                            {
                                "choice_id": c.choice_id,
                                "letter": c.letter,
                                "text": c.text,
                                "is_correct": c.is_correct,
                                "misconception_code": c.misconception_code,
                                "misconception_text": c.misconception_text,
                            }
                            for c in q.choices
                        ],
                        "figures": {key: _figures(by_range[key][item.lesson.id].questions[index]) for key in keys},
                    }
                    for index, q in enumerate(item.questions)
                ],
            }
            for item in shape.lessons
        ],
    }


def _figures(question: QuestionStats) -> dict:
    return {
        "answers": question.answers,
        "first_attempts": question.first_attempts,
        "first_right": question.first_right,
        "discrimination": question.discrimination,
        "discrimination_note": question.discrimination_note,
        "picks": [choice.picks for choice in question.choices],
    }


def _format_1_as_2(data: dict) -> dict:
    """A snapshot from before date ranges, read as the all-time figures it holds."""
    return {
        "format": DATA_FORMAT,
        "ranges": [DEFAULT_RANGE.key],
        "lessons": [
            {
                **item,
                "funnel": {DEFAULT_RANGE.key: item["funnel"]},
                "questions": [
                    {
                        **{key: q[key] for key in ("question_id", "number", "prompt", "kind")},
                        "choices": [{k: v for k, v in c.items() if k != "picks"} for c in q["choices"]],
                        "figures": {
                            DEFAULT_RANGE.key: {
                                **{key: q[key] for key in _FIGURE_KEYS},
                                "picks": [c["picks"] for c in q["choices"]],
                            }
                        },
                    }
                    for q in item["questions"]
                ],
            }
            for item in data["lessons"]
        ],
    }


def _question_from_data(data: dict, key: str) -> QuestionStats:
    figures = data["figures"][key]
    answers = figures["answers"]
    choices = [
        ChoiceStats(**choice, picks=picks, share=picks / answers if answers else None)
        for choice, picks in zip(data["choices"], figures["picks"], strict=True)
    ]
    return QuestionStats(
        question_id=data["question_id"],
        number=data["number"],
        prompt=data["prompt"],
        kind=data["kind"],
        choices=choices,
        **{name: figures[name] for name in _FIGURE_KEYS},
    )


def report_from_data(
    data: dict, *, course: Course, computed_at: datetime, date_range: DateRange = DEFAULT_RANGE
) -> CourseAnalytics | None:
    """Rebuild one range's report from what ``report_data`` stored (no query); None if it holds no such range."""
    if data.get("format") == 1:
        data = _format_1_as_2(data)
    if data.get("format") != DATA_FORMAT or date_range.key not in data.get("ranges", []):
        return None
    key = date_range.key
    return CourseAnalytics(
        course=course,
        lessons=[
            LessonStats(
                lesson=LessonInfo(**item["lesson"]),
                number=item["number"],
                funnel=LessonFunnel(**item["funnel"][key]),
                questions=[_question_from_data(question, key) for question in item["questions"]],
            )
            for item in data["lessons"]
        ],
        computed_at=computed_at,
        date_range=date_range,
    )
