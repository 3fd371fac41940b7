"""Dates and times as people read them: in the site's zone, "1 Dec 2026, 7:15am", never "UTC"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app import create_app
from app.timefmt import (
    clock_time,
    format_date,
    format_datetime,
    format_short_date,
    format_zoned_datetime,
    site_zone,
)
from tests.conftest import make_test_config

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        # Winter: London is on GMT, the same clock as UTC.
        (datetime(2026, 12, 1, 7, 15, tzinfo=UTC), "1 Dec 2026, 7:15am"),
        # The clocks go forward at 01:00 UTC on 29 March 2026: a minute before, GMT; at it, BST.
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29 Mar 2026, 12:59am"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29 Mar 2026, 2:00am"),
        # They go back at 01:00 UTC on 25 October 2026: 1:30am BST comes first, then 1:30am GMT.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "25 Oct 2026, 1:30am"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "25 Oct 2026, 1:30am"),
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), "25 Oct 2026, 12:00pm"),
        # Summer: a quarter to midnight in UTC is already the next day in London.
        (datetime(2026, 6, 30, 23, 45, tzinfo=UTC), "1 Jul 2026, 12:45am"),
        # New Year's Eve in UTC is New Year's Eve in London too (GMT), up to the last minute.
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "31 Dec 2026, 11:59pm"),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), "1 Jan 2027, 12:00am"),
        # A naive timestamp is UTC, as the database returns it on SQLite: never the server's zone.
        (datetime(2026, 7, 1, 12, 5), "1 Jul 2026, 1:05pm"),
    ],
)
def test_a_stored_instant_reads_in_london_time_across_the_clock_changes(instant, shown):
    assert format_datetime(instant, LONDON) == shown


def test_the_day_is_the_day_in_the_site_zone_not_in_utc():
    late_evening_utc = datetime(2026, 8, 31, 23, 30, tzinfo=UTC)
    assert format_date(late_evening_utc, LONDON) == "1 Sep 2026"
    assert format_short_date(late_evening_utc, LONDON) == "1 Sep"
    assert format_date(late_evening_utc, ZoneInfo("UTC")) == "31 Aug 2026"


def test_another_zone_moves_the_day_back_as_well_as_forward():
    new_york = ZoneInfo("America/New_York")
    just_after_midnight_utc = datetime(2026, 12, 1, 0, 10, tzinfo=UTC)
    assert format_datetime(just_after_midnight_utc, new_york) == "30 Nov 2026, 7:10pm"
    assert format_datetime(just_after_midnight_utc, ZoneInfo("Asia/Kolkata")) == "1 Dec 2026, 5:40am"


def test_a_plain_date_has_no_zone_and_is_shown_as_it_is():
    assert format_date(date(2026, 11, 19), ZoneInfo("Pacific/Kiritimati")) == "19 Nov 2026"
    assert format_short_date(date(2026, 11, 19), LONDON) == "19 Nov"


@pytest.mark.parametrize(
    ("hour", "minute", "shown"),
    [
        (0, 0, "12:00am"),
        (0, 5, "12:05am"),
        (9, 7, "9:07am"),
        (11, 59, "11:59am"),
        (12, 0, "12:00pm"),
        (23, 1, "11:01pm"),
    ],
)
def test_the_clock_reads_the_twelve_hour_way(hour, minute, shown):
    assert clock_time(datetime(2026, 1, 1, hour, minute)) == shown


def test_an_unknown_zone_stops_the_app_at_start_up_with_its_name():
    with pytest.raises(RuntimeError, match="SITE_TIMEZONE.*'Europe/Londn'"):
        create_app(make_test_config("sqlite://", SITE_TIMEZONE="Europe/Londn"))
    with pytest.raises(RuntimeError, match="SITE_TIMEZONE"):
        site_zone("../etc/passwd")


def test_the_filters_use_the_configured_zone():
    instant = datetime(2026, 12, 1, 7, 15, tzinfo=UTC)
    london = create_app(make_test_config("sqlite://"))
    tokyo = create_app(make_test_config("sqlite://", SITE_TIMEZONE="Asia/Tokyo"))
    template = (
        "{{ when | local_datetime }} · {{ when | local_date }} · {{ when | short_date }} · {{ none | local_date }}"
        " · {{ when | zoned_datetime }}"
    )
    with london.app_context():
        assert london.jinja_env.from_string(template).render(when=instant, none=None) == (
            "1 Dec 2026, 7:15am · 1 Dec 2026 · 1 Dec ·  · 1 Dec 2026, 7:15am GMT"
        )
    with tokyo.app_context():
        assert tokyo.jinja_env.from_string(template).render(when=instant, none=None) == (
            "1 Dec 2026, 4:15pm · 1 Dec 2026 · 1 Dec ·  · 1 Dec 2026, 4:15pm JST"
        )


@pytest.mark.parametrize(
    ("instant", "zone", "shown"),
    [
        (datetime(2026, 12, 1, 7, 15, tzinfo=UTC), "Europe/London", "1 Dec 2026, 7:15am GMT"),
        (datetime(2026, 7, 1, 7, 15, tzinfo=UTC), "Europe/London", "1 Jul 2026, 8:15am BST"),
        (datetime(2026, 7, 1, 7, 15, tzinfo=UTC), "America/New_York", "1 Jul 2026, 3:15am EDT"),
        (datetime(2026, 7, 1, 7, 15, tzinfo=UTC), "Asia/Dubai", "1 Jul 2026, 11:15am UTC+04"),
        (datetime(2026, 7, 1, 7, 15, tzinfo=UTC), "UTC", "1 Jul 2026, 7:15am UTC"),
    ],
)
def test_a_time_for_an_email_names_its_zone(instant, zone, shown):
    """An e-mail may be read in another zone: its clock time says whose it is (summer time too)."""
    assert format_zoned_datetime(instant, ZoneInfo(zone)) == shown
