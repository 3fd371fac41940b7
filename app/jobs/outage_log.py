"""The worker's log while the queue's Redis cannot be reached: one line, not a traceback a second.

Huey's consumer logs every failed read of the queue and of the schedule with a full traceback:
about a hundred lines a second while Redis is down, which buries everything else in the log.
``QueueOutageFilter`` (on the worker's log handlers) turns the first such error into one warning,
says once a minute that it goes on, and says so when the next job is read from the queue.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

REMIND_EVERY = 60.0  # seconds between "still cannot be reached" lines
# Errors further apart than this are two outages: the worker backs off to 10 s between reads,
# the scheduler reads every second.
SAME_OUTAGE_WITHIN = 30.0

logger = logging.getLogger(__name__)


@functools.cache
def _outage_errors() -> tuple[type[BaseException], ...]:
    try:  # the redis extra: a SQLite queue has no Redis to lose
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:
        return ()
    return (RedisConnectionError, RedisTimeoutError)


def is_queue_outage(record: logging.LogRecord) -> bool:
    """Whether the record is a failed talk with Redis: a connection refused, reset or timed out."""
    error = record.exc_info[1] if record.exc_info else None
    return isinstance(error, _outage_errors())


class QueueOutageFilter(logging.Filter):
    """Lets the first queue-outage error through as one warning line and holds back the rest."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._since: float | None = None  # when this outage began, or None
        self._last_error = 0.0
        self._last_said = 0.0
        self._held_back = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """Let ``record`` through as it is, rewritten (an outage's first error, a reminder), or not at all."""
        now = self._clock()
        if is_queue_outage(record):
            error = record.exc_info[1] if record.exc_info else None
            if self._since is None or now - self._last_error > SAME_OUTAGE_WITHIN:
                self._since, self._last_said, self._held_back = now, now, 0
                message = "The job queue's Redis cannot be reached (%s). Jobs wait there until it is back; retrying."
                self._rewrite(record, message, (error,))
            elif now - self._last_said >= REMIND_EVERY:
                self._last_said = now
                message = "The job queue's Redis still cannot be reached, for %d s now (%d errors not shown): %s"
                self._rewrite(record, message, (now - self._since, self._held_back, error))
                self._held_back = 0
            else:
                self._held_back += 1
                self._last_error = now
                return False
            self._last_error = now
            return True
        if self._since is not None and record.name == "huey" and record.getMessage().startswith("Executing "):
            # A job was read from the queue: Redis answers again. (Other lines prove nothing: the
            # scheduler says it is enqueueing a periodic job just before failing to.)
            # From the first failed read to the last: the queue may have sat idle for hours after.
            outage, self._since = self._last_error - self._since, None
            logger.info("The job queue's Redis answers again: jobs run (failed reads went on for %d s).", outage)
        return True

    @staticmethod
    def _rewrite(record: logging.LogRecord, message: str, args: tuple) -> None:
        record.msg, record.args = message, args
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
