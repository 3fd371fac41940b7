"""The report's per-question figures as a table, for the CSV download.

Apart from the page because it flattens the report into rows; it rounds as the page does.
"""

from __future__ import annotations

from app.services.analytics.course_report import CourseAnalytics, whole_percent


def report_table(report: CourseAnalytics) -> tuple[list[str], list[list[str | int | None]]]:
    """The report's per-question figures as a header and rows, for the CSV download.

    The same figures as the page, rounded by the same rule (``whole_percent``): one row per
    question, in course order, with a share column per choice letter.
    """
    letters = [chr(ord("A") + index) if index < 26 else str(index + 1) for index in range(report.most_choices)]
    header = [
        "Lesson",
        "Lesson title",
        "Question",
        "Prompt",
        "Kind",
        "Answers",
        "First tries",
        "Right first time",
        "% right",
        "Discrimination (%)",
        "Correct choices",
        *(f"{letter} picked (% of answers)" for letter in letters),
        "Review flags",
        "Caution",
    ]
    rows: list[list[str | int | None]] = []
    for item, question in report.questions:
        shares = [whole_percent(choice.share) for choice in question.choices]
        rows.append(
            [
                item.number,
                item.lesson.title,
                question.number,
                question.prompt,
                question.kind,
                question.answers,
                question.first_attempts,
                question.first_right,
                whole_percent(question.facility),
                whole_percent(question.discrimination),
                " ".join(question.correct_letters),
                *shares,
                *([None] * (len(letters) - len(shares))),
                "; ".join(flag.label for flag in question.flags),
                question.caution,
            ]
        )
    return header, rows
