"""The worker's log while Redis is down: the first error as one warning, a reminder a minute,
and a line when jobs run again (app/jobs/outage_log.py), with real errors from a Redis client
pointed at a port where nothing listens."""

from __future__ import annotations

import logging

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.jobs.outage_log import QueueOutageFilter
from tests.serving import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def refused() -> BaseException:
    try:
        # Not tried again: redis-py's default three retries, with backoff, took 3.7 s to fail.
        redis.Redis(port=free_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)).ping()
    except redis.exceptions.ConnectionError as error:
        return error
    raise AssertionError("something listens on the free port")


def failed_read(error: BaseException, name: str = "huey.consumer.Scheduler") -> logging.LogRecord:
    exc_info = (type(error), error, None)
    return logging.LogRecord(name, logging.ERROR, __file__, 1, "Error reading schedule.", (), exc_info)


def line(name: str, message: str, *args) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)


@pytest.fixture
def said(caplog):
    caplog.set_level(logging.INFO, logger="app.jobs.outage_log")
    return caplog


def test_the_first_error_is_one_warning_without_its_traceback_and_the_rest_are_held_back(refused):
    clock = Clock()
    outage = QueueOutageFilter(clock)
    first = failed_read(refused)
    assert outage.filter(first)
    assert first.levelno == logging.WARNING and first.exc_info is None
    assert first.getMessage().startswith("The job queue's Redis cannot be reached (Error 111 connecting")
    held = []
    for _ in range(30):
        clock.now += 1
        held.append(outage.filter(failed_read(refused, "huey.consumer.Worker")))
    assert not any(held)


def test_a_long_outage_is_recalled_once_a_minute_with_how_many_errors_were_not_shown(refused):
    clock = Clock()
    outage = QueueOutageFilter(clock)
    outage.filter(failed_read(refused))
    shown = []
    for _ in range(130):
        clock.now += 1
        record = failed_read(refused)
        if outage.filter(record):
            shown.append(record.getMessage())
    assert len(shown) == 2
    assert shown[0].startswith("The job queue's Redis still cannot be reached, for 60 s now (59 errors not shown)")
    assert shown[1].startswith("The job queue's Redis still cannot be reached, for 120 s now (59 errors not shown)")


def test_a_job_read_again_says_redis_answers_and_the_next_outage_is_told_afresh(refused, said):
    clock = Clock()
    outage = QueueOutageFilter(clock)
    outage.filter(failed_read(refused))
    clock.now += 5
    # The scheduler says it enqueues a periodic job just before that fails too: not proof.
    assert outage.filter(line("huey.consumer.Scheduler", "Enqueueing periodic task %s.", "x"))
    assert not outage.filter(failed_read(refused))
    assert said.messages == []
    clock.now += 6 * 3600  # back long ago, then hours with no job to run: not part of the outage
    assert outage.filter(line("huey", "Executing %s", "app.jobs.mail.send_email: 1"))
    assert said.messages == ["The job queue's Redis answers again: jobs run (failed reads went on for 5 s)."]
    clock.now += 5
    again = failed_read(refused)
    assert outage.filter(again) and again.getMessage().startswith("The job queue's Redis cannot be reached")


def test_other_errors_keep_their_traceback(refused):
    outage = QueueOutageFilter(Clock())
    try:
        raise ValueError("a job's own bug")
    except ValueError as error:
        record = failed_read(error, "huey")
    assert outage.filter(record) and record.exc_info is not None and record.levelno == logging.ERROR
