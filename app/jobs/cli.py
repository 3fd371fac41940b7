"""``flask jobs worker`` (run the queue's worker and scheduler) and ``flask jobs failed`` (list failures)."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import signal
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.jobs.heartbeat import start_heartbeat
from app.jobs.outage_log import QueueOutageFilter
from app.jobs.queue import describe, huey
from app.models.types import utcnow
from app.services.job_failures import failures_since

jobs_cli = AppGroup("jobs", help="Background jobs: run the worker, list failed jobs.")


def load_job_modules() -> list[str]:
    """Import every module of the app.jobs package, so the worker knows every job and schedule."""
    import app.jobs

    names = [info.name for info in pkgutil.iter_modules(app.jobs.__path__, "app.jobs.")]
    for name in names:
        importlib.import_module(name)
    return names


@jobs_cli.command("worker")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Jobs run at once (threads).")
@click.option(
    "--schedule/--no-schedule",
    default=True,
    show_default=True,
    help="Enqueue the scheduled jobs; give --no-schedule to every worker process but one.",
)
def jobs_worker(workers: int, schedule: bool) -> None:
    """Run jobs from the queue (and start the scheduled ones) until stopped: SIGTERM (what systemd,
    Docker, Kubernetes and supervisord send) and Ctrl-C (SIGINT) both let the jobs in hand finish;
    a second one while it waits interrupts them."""
    config = current_app.config
    if config["JOBS_BACKEND"] == "immediate":
        click.secho("JOBS_BACKEND is immediate: jobs run when enqueued, there is no queue to work.", fg="red", err=True)
        raise SystemExit(1)
    load_job_modules()
    # The consumer reports each job run, retry and failure through the "huey" logger.
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(QueueOutageFilter())  # Redis down: one line a minute, not tracebacks a second
    click.echo(f"Jobs: {describe(config)}, worker started ({workers} at once, schedule {'on' if schedule else 'off'}).")
    consumer = huey.create_consumer(workers=workers, periodic=schedule, worker_type="thread")
    # Huey interrupts the jobs in hand on SIGTERM and loses them (a reminder whose week was already
    # claimed, a reset link never sent): make it as graceful as SIGINT. (restart, graceful) per signal.
    consumer._signal_actions[signal.SIGTERM] = (False, True)
    # "A worker is running", for /author/ and /healthz (app/jobs/heartbeat.py): now, then every 30 s.
    stop_heartbeat = start_heartbeat(huey)
    try:
        consumer.run()
    finally:
        stop_heartbeat()


@jobs_cli.command("failed")
@click.option("--days", default=1.0, show_default=True, type=click.FloatRange(min=0), help="How far back to look.")
def jobs_failed(days: float) -> None:
    """List the jobs that gave up after their last try: time, job, tries, error."""
    failures = failures_since(db.session, utcnow() - timedelta(days=days))
    if not failures:
        click.echo(f"No failed jobs in the last {days:g} day(s).")
        return
    for failure in failures:
        click.echo(
            f"{failure.failed_at:%Y-%m-%d %H:%M} UTC  {failure.job_name}  {failure.tries} tries  "
            f"{failure.error_type}: {failure.message}"
        )
    click.echo(f"{len(failures)} failed job(s) in the last {days:g} day(s).")
