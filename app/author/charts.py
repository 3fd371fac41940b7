"""Geometry for the analytics page's server-rendered SVG bar charts.

Each bar sits under its own text line that names it and gives its number, so a chart reads
the same without colour; fills are patterns as well as colours. The template
``author/_charts.html`` draws what these functions lay out.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.services.analytics.course_report import CourseAnalytics, whole_percent
from app.services.analytics.question_statistics import QuestionStats

# viewBox units; CSS scales the chart to about this many pixels wide on a phone.
CHART_WIDTH = 340
ROW_HEIGHT = 46
LABEL_BASELINE = 16
BAR_TOP = 22
BAR_HEIGHT = 16
# A non-zero bar never shrinks below this, so "1" is still visible beside a thousand.
MIN_BAR = 3


def percent(share: float | None) -> str:
    """A share as a whole percentage, rounded half away from zero ("63%"), or "–" when unknown.

    The rounding is the CSV's too (``whole_percent``), so the download matches the page.
    """
    value = whole_percent(share)
    return "–" if value is None else f"{value}%"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    pattern: str
    y: float
    width: float

    @property
    def text_y(self) -> float:
        return self.y + LABEL_BASELINE

    @property
    def bar_y(self) -> float:
        return self.y + BAR_TOP


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart: an accessible name and labelled, patterned bars."""

    id: str
    title: str
    bars: list[Bar]
    width: int = CHART_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> int:
        return ROW_HEIGHT * len(self.bars)


def bar_chart(chart_id: str, title: str, rows: list[tuple[str, int, str]], scale: int) -> BarChart:
    """Lay out ``rows`` of (label, value, pattern) as bars scaled so ``scale`` fills the width."""
    bars = []
    for index, (label, value, pattern) in enumerate(rows):
        width = CHART_WIDTH * value / scale if scale else 0
        if value and width < MIN_BAR:
            width = MIN_BAR
        bars.append(Bar(label=label, value=value, pattern=pattern, y=index * ROW_HEIGHT, width=round(width, 1)))
    return BarChart(id=chart_id, title=title, bars=bars)


def passed_chart(report: CourseAnalytics) -> BarChart:
    """For each lesson, the share of the learners who started it that passed it."""
    rows = []
    for item in report.lessons:
        funnel = item.funnel
        share = funnel.share(funnel.passed)
        words = f"{funnel.passed} of {funnel.started} passed ({percent(share)})" if funnel.started else "nobody started"
        rows.append((f"Lesson {item.number}: {words}", whole_percent(share) or 0, "dots"))
    title = (
        "Learners who passed each lesson, of those who started it: " + "; ".join(label for label, _, _ in rows) + "."
    )
    return bar_chart("passed-by-lesson", title, rows, 100)


def choice_chart(question: QuestionStats, lesson_number: int) -> BarChart:
    """How often each choice was picked, as shares of all answers to the question."""
    rows = []
    for choice in question.choices:
        mark = " (correct)" if choice.is_correct else ""
        noun = "pick" if choice.picks == 1 else "picks"
        rows.append(
            (
                f"{choice.letter}{mark}: {choice.picks} {noun} ({percent(choice.share)})",
                choice.picks,
                "solid" if choice.is_correct else "hatch",
            )
        )
    title = (
        f"Lesson {lesson_number}, question {question.number}: choices picked over {question.answers} answers. "
        + "; ".join(label for label, _, _ in rows)
        + "."
    )
    return bar_chart(f"choices-{question.question_id}", title, rows, question.answers)
