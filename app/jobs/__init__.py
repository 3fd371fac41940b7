"""Background jobs: the queue (app.jobs.queue), failure recording and the ``flask jobs`` commands."""

from app.jobs.queue import crontab, huey, init_jobs, job, periodic_job

__all__ = ["crontab", "huey", "init_jobs", "job", "periodic_job"]
