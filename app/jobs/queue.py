"""The one job queue (Huey) and the decorators that make a function a job.

Task decorators bind to the module-level ``huey`` when their module is imported, before any app
exists, so the instance starts in immediate mode on memory and ``init_jobs(app)`` then points it
at the backend the app's config names: Redis (``REDIS_URL``), a SQLite file (the embedded
default), or immediate (tests: a job runs inline, when it is called).

Every job body runs inside an app context, with a session of its own: enqueue a job after the
commit whose rows it reads, in immediate mode too, since that is what a worker will see.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.api import TaskWrapper
from huey.storage import RedisStorage, SqliteStorage

logger = logging.getLogger(__name__)

BACKENDS = ("redis", "sqlite", "immediate")
DEFAULT_RETRIES = 5
DEFAULT_RETRY_DELAY = 30  # seconds before the first retry
DEFAULT_RETRY_BACKOFF = 2  # each later retry waits this many times longer: 30 s, 1 min, 2 min, 4 min, 8 min

# results=False: nothing reads a job's return value, and on Redis unread results never expire.
huey = Huey("naltrexone", results=False, immediate=True)

# The app a worker (or any code outside an app context) runs jobs in: the last one init_jobs saw.
_jobs_app: Flask | None = None


class RedisQueueStorage(RedisStorage):
    """Huey's Redis storage with timeouts, like the rate limits': a Redis that does not answer
    costs an enqueue seconds, not a hung request. The read timeout stays above the 1 s the
    worker's blocking dequeue waits for a job."""

    def __init__(self, name: str, url: str, **options: Any) -> None:
        from redis import ConnectionPool  # the redis extra: only a Redis queue needs it

        pool = ConnectionPool.from_url(url, socket_connect_timeout=1, socket_timeout=3)
        super().__init__(name, connection_pool=pool, **options)

    def close(self) -> None:
        """Drop the pool's connections."""
        self.pool.disconnect()


def queue_errors() -> tuple[type[Exception], ...]:
    """The errors that mean the job queue's Redis could not be reached (none without the redis extra)."""
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # the redis extra is not installed: the queue is SQLite's, its errors are the database's
        return ()
    return (RedisConnectionError, RedisTimeoutError)


def queued(send: Callable[..., Any], *args: Any) -> bool:
    """Queue a job whose rows are committed already; False, logged, when the queue cannot be reached.

    For a page whose action is saved before its e-mail is queued: it can then say what was saved
    and what was not sent, where the error handler's 503 could only say to check.
    """
    try:
        send(*args)
    except queue_errors():
        logger.exception("The job queue is unreachable: %s was not queued", getattr(send, "name", send))
        return False
    return True


def _app_for_job() -> Flask:
    """The app a job runs in: the one whose context is active (immediate mode), else the worker's."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _jobs_app is None:
        raise RuntimeError("No app for jobs: create_app() calls init_jobs(app) before any job runs.")
    return _jobs_app


def _in_app_context(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        # A fresh app context even when one is active: the job gets its own database session,
        # as it would in a worker, and never commits or rolls back the request's work.
        with _app_for_job().app_context():
            return func(*args, **kwargs)

    return run


def job(
    retries: int = DEFAULT_RETRIES,
    retry_delay: float = DEFAULT_RETRY_DELAY,
    retry_backoff: float = DEFAULT_RETRY_BACKOFF,
    **options: Any,
) -> Callable[[Callable[..., Any]], TaskWrapper]:
    """Make a function a job: calling it enqueues it; a worker runs it in an app context.

    A job that raises is retried ``retries`` times, the first after ``retry_delay`` seconds and each
    later one ``retry_backoff`` times later than the one before; after the last try it is recorded
    in ``job_failures`` (never its arguments). Other Huey task options pass through.
    """

    def decorator(func: Callable[..., Any]) -> TaskWrapper:
        return huey.task(retries=retries, retry_delay=retry_delay, retry_backoff=retry_backoff, **options)(
            _in_app_context(func)
        )

    return decorator


def periodic_job(
    when: Callable[..., bool], retries: int = 0, **options: Any
) -> Callable[[Callable[..., Any]], TaskWrapper]:
    """Make a function a scheduled job, run by the worker's scheduler when ``when`` (a crontab) matches.

    No retries by default: the next scheduled run is the retry.
    """

    def decorator(func: Callable[..., Any]) -> TaskWrapper:
        return huey.periodic_task(when, retries=retries, **options)(_in_app_context(func))

    return decorator


def describe(config: dict[str, Any]) -> str:
    """Which queue the config uses, in words (``make run`` and the worker print it)."""
    backend = config["JOBS_BACKEND"]
    if backend == "redis":
        return f"Redis at {redact(config['REDIS_URL'])}, queue {config['JOBS_QUEUE_NAME']!r}"
    if backend == "sqlite":
        path = Path(config["JOBS_SQLITE_PATH"])
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        return f"SQLite queue at {shown}"
    return "run inline when enqueued (immediate mode)"


def redact(url: str) -> str:
    """A Redis URL without its password, for output."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}://{rest}" if _ else url


def _storage_settings(config: dict[str, Any]) -> tuple[str, bool, type | None, dict[str, Any]]:
    backend = config["JOBS_BACKEND"]
    if backend not in BACKENDS:
        raise RuntimeError(f"JOBS_BACKEND must be one of {', '.join(BACKENDS)}; got {backend!r}.")
    name = config["JOBS_QUEUE_NAME"]
    if backend == "redis":
        return name, False, RedisQueueStorage, {"url": config["REDIS_URL"]}
    if backend == "sqlite":
        path = Path(config["JOBS_SQLITE_PATH"])
        path.parent.mkdir(parents=True, exist_ok=True)
        return name, False, SqliteStorage, {"filename": str(path)}
    return name, True, None, {}


def configure_queue(config: dict[str, Any]) -> None:
    """Point the one ``huey`` at the backend ``config`` names.

    Huey's ``immediate`` setter rebuilds the storage only when the flag changes, and ``storage`` is
    built once from ``storage_class`` and ``storage_kwargs``; so both are set here and the storage
    rebuilt whenever the settings differ from the current ones (a new memory store for each
    immediate-mode app: nothing leaks from one test's app to the next).
    """
    name, immediate, storage_class, storage_kwargs = _storage_settings(config)
    same = (
        not immediate
        and not huey.immediate
        and huey.name == name
        and huey.storage_class is storage_class
        and huey.storage_kwargs == storage_kwargs
    )
    if same:
        return
    old = huey.storage
    huey.name = name
    huey.storage_class = storage_class
    huey.storage_kwargs = storage_kwargs
    huey._immediate = immediate  # set directly: the setter would build a storage we replace anyway
    huey.storage = huey.create_storage()
    try:
        old.close()
    except Exception:  # a storage that cannot close (an unreachable Redis) is dropped anyway
        logger.debug("closing the previous job storage failed", exc_info=True)


def init_jobs(app: Flask) -> None:
    """Configure the queue from the app's config, run jobs in this app, and record failures."""
    global _jobs_app
    configure_queue(app.config)
    _jobs_app = app
    from app.jobs.failures import connect_failure_recording

    connect_failure_recording(huey)


__all__ = ["crontab", "describe", "huey", "init_jobs", "job", "periodic_job"]
