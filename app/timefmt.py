"""Dates and times as people read them: in the site's time zone, written "1 Dec 2026, 7:15am".

Storage stays UTC (``app/models/types.py``); this module only turns a stored instant into text
for a page or an e-mail, in the zone named by the ``SITE_TIMEZONE`` setting. Machine-readable
output (the JSON download, the CSV, a ``<time datetime>`` attribute) keeps the ISO UTC value.

The Jinja filters, registered by ``register``:

- ``local_datetime``: "1 Dec 2026, 7:15am"
- ``local_date``: "1 Dec 2026"
- ``short_date``: "1 Dec", for a table column where the year is plain from the context
- ``zoned_datetime``: "1 Dec 2026, 7:15am GMT", for an e-mail, which may be read in another zone
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app

DEFAULT_TIMEZONE = "Europe/London"
# Not strftime's %b: that follows the process's locale, and the pages are in English whatever it is.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def site_zone(name: str) -> ZoneInfo:
    """The time zone called ``name`` (an IANA name such as "Europe/London"); a clear error if it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(
            f"SITE_TIMEZONE must be an IANA time zone name such as {DEFAULT_TIMEZONE!r}; got {name!r}. "
            "If the name is right, the system has no time zone database: install its tzdata package "
            "(or pip install tzdata)."
        ) from None


def _local(value: datetime | date, zone: ZoneInfo) -> datetime | date:
    """The instant in ``zone``; a plain date (no time, so no zone) is returned as it is."""
    if not isinstance(value, datetime):
        return value
    # A naive timestamp is UTC (as UTCDateTime stores it); never take it as the server's local time.
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.astimezone(zone)


def clock_time(value: datetime) -> str:
    """The time of day on a 12-hour clock, as people write it: "7:15am", "12:05pm", "12:30am"."""
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d}{'am' if value.hour < 12 else 'pm'}"


def format_date(value: datetime | date, zone: ZoneInfo) -> str:
    """The day as "1 Dec 2026", in ``zone`` for a timestamp (the day there, not in UTC)."""
    day = _local(value, zone)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def local_day(value: datetime | date, zone: ZoneInfo) -> date:
    """The day of ``value`` in ``zone``, without its time (for a date that must not say when in the day)."""
    day = _local(value, zone)
    return day.date() if isinstance(day, datetime) else day


def start_of_local_day(value: datetime, zone: ZoneInfo) -> datetime:
    """The first instant of ``value``'s day in ``zone``: a time that says the day and nothing more."""
    day = local_day(value, zone)
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def format_short_date(value: datetime | date, zone: ZoneInfo) -> str:
    """The day as "1 Dec", for table columns."""
    day = _local(value, zone)
    return f"{day.day} {MONTHS[day.month - 1]}"


def format_datetime(value: datetime, zone: ZoneInfo) -> str:
    """The instant as "1 Dec 2026, 7:15am", in ``zone``."""
    moment = _local(value, zone)
    assert isinstance(moment, datetime)  # noqa: S101 - a date has no time of day to show
    return f"{format_date(moment, zone)}, {clock_time(moment)}"


def format_zoned_datetime(value: datetime, zone: ZoneInfo) -> str:
    """The instant as "1 Dec 2026, 7:15am GMT": with the zone's name at that instant, for text read
    away from the site (an e-mail), where a clock time alone could be taken as the reader's own."""
    moment = _local(value, zone)
    assert isinstance(moment, datetime)  # noqa: S101 - a date has no time of day to show
    name = moment.tzname() or ""
    # A zone without a common abbreviation is named by its offset ("+03"): say from what.
    return f"{format_datetime(moment, zone)} {'UTC' + name if name[:1] in '+-' else name}"


def current_zone() -> ZoneInfo:
    """The site's zone, as checked at start-up, for Python that formats times for the current app."""
    zone: ZoneInfo = current_app.extensions["site_zone"]
    return zone


def register(app: Flask) -> None:
    """Check ``SITE_TIMEZONE`` (at start-up, so a typo stops the app) and add the filters to Jinja."""
    zone = site_zone(app.config.get("SITE_TIMEZONE") or DEFAULT_TIMEZONE)
    app.extensions["site_zone"] = zone

    def local_datetime(value: datetime | None) -> str:
        return format_datetime(value, zone) if value else ""

    def zoned_datetime(value: datetime | None) -> str:
        return format_zoned_datetime(value, zone) if value else ""

    def local_date(value: datetime | date | None) -> str:
        return format_date(value, zone) if value else ""

    def short_date(value: datetime | date | None) -> str:
        return format_short_date(value, zone) if value else ""

    def local_day_iso(value: datetime | date | None) -> str:
        # For <time datetime="...">: the day alone, where the instant would say more than the page shows.
        return local_day(value, zone).isoformat() if value else ""

    app.jinja_env.filters.update(
        local_datetime=local_datetime,
        zoned_datetime=zoned_datetime,
        local_date=local_date,
        short_date=short_date,
        local_day_iso=local_day_iso,
    )
