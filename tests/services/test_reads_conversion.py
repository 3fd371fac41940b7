"""How reads.py converts the driver's rows: only the columns with a result processor, NULL left as None."""

from __future__ import annotations

from datetime import timedelta

from app.services.reads import converted_rows
from app.services.user_sessions import SessionLimits


def test_only_the_converted_columns_are_changed_and_null_stays_none():
    calls = []

    def doubled(value):
        calls.append(value)
        return value * 2

    rows = [(1, None, "a", 3), (2, 5, None, None)]
    assert converted_rows(rows, ((1, doubled), (3, str))) == [(1, None, "a", "3"), (2, 10, None, None)]
    assert calls == [5]  # a NULL never reaches a processor


def test_rows_with_nothing_to_convert_come_back_as_tuples():
    assert converted_rows([[1, "a"], (2, None)], ()) == [(1, "a"), (2, None)]


def test_the_session_limits_follow_the_configuration_each_time_they_are_read():
    config = {"SESSION_IDLE_DAYS": 14, "REMEMBER_DAYS": 30, "SESSION_TOUCH_SECONDS": 300}
    assert SessionLimits.from_config(config) == SessionLimits(
        timedelta(days=14), timedelta(days=30), timedelta(minutes=5)
    )
    config["SESSION_IDLE_DAYS"] = 1
    assert SessionLimits.from_config(config).idle == timedelta(days=1)


def test_pyformat_becomes_postgresqls_own_placeholders_once_per_name():
    from app.services.reads import native_placeholders

    sql = "SELECT %(a)s, %(b)s WHERE x LIKE 'a%%' AND y = %(a)s"
    assert native_placeholders(sql) == ("SELECT $1, $2 WHERE x LIKE 'a%' AND y = $1", ("a", "b"))
    assert native_placeholders("SELECT 1") == ("SELECT 1", ())


def test_sql_it_does_not_know_how_to_convert_is_left_to_the_driver():
    from app.services.reads import native_placeholders

    assert native_placeholders("SELECT %s") is None  # a placeholder without a name
    assert native_placeholders("SELECT 100 % 7") is None  # a lone percent sign
    assert native_placeholders("SELECT $$text$$") is None  # dollar quoting
