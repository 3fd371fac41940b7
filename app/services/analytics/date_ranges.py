"""The date ranges the figures can be limited to, and the bands that let one scan serve them all.

The date ranges are nested, so each query groups its rows by *band* (the narrowest range an
event falls in: the last 30 days, 30 to 90 days ago, 90 to 365 days ago, older) and a range's
figures are the sums of its bands: one scan of the attempts serves all four ranges. Every figure
kept is a count or a sum for that reason; discrimination is worked out from a range's sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case


@dataclass(frozen=True)
class DateRange:
    """A span of time the figures can be limited to, counted back from when they were computed."""

    key: str
    label: str
    days: int | None  # None: all time

    def since(self, now: datetime) -> datetime | None:
        """The start of the range for figures computed at ``now``; None for all time."""
        return None if self.days is None else now - timedelta(days=self.days)


# Narrowest first, all time last: an event's band is the first range that holds it (see band_of).
RANGES = (
    DateRange("30d", "Last 30 days", 30),
    DateRange("90d", "Last 90 days", 90),
    DateRange("12m", "Last 12 months", 365),
    DateRange("all", "All time", None),
)
RANGES_BY_KEY = {date_range.key: date_range for date_range in RANGES}
DEFAULT_RANGE = RANGES_BY_KEY["all"]


def date_range_for(key: str | None) -> DateRange | None:
    """The range a query string names (the default when it names none), or None for an unknown one."""
    if not key:
        return DEFAULT_RANGE
    return RANGES_BY_KEY.get(key)


def band_of(column, now: datetime):
    """SQL for the index (in RANGES) of the narrowest range that holds the time in ``column``."""
    whens = [
        (column >= now - timedelta(days=date_range.days), index)
        for index, date_range in enumerate(RANGES)
        if date_range.days is not None
    ]
    return case(*whens, else_=len(RANGES) - 1)


def bands_upto(by_band: dict[int, Any], range_index: int) -> list[Any]:
    """The rows of the bands a range is made of: its own and every narrower one."""
    return [by_band[band] for band in range(range_index + 1) if band in by_band]
