"""flask sub-commands: ``flask courses validate|import``, ``flask users create`` and ``flask jobs``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app.devdata.cli import seed
from app.devdata.demo import DEMO_PASSWORD, demo_create
from app.extensions import db
from app.jobs.cli import jobs_cli
from app.models import Course, Role
from app.models.types import as_utc, utcnow
from app.services.accounts import user_create
from app.services.analytics.snapshots import snapshot_refresh
from app.services.authoring import DraftInTheWay, PublishedInTheWay, import_from_files
from app.services.course_export import course_export_files, course_files_zip
from app.services.course_files import load_course, load_course_zip
from app.services.course_quality import course_warnings
from app.services.default_course import IMPORT_A_COURSE_FIRST, course_or_default
from app.services.errors import CourseInvalid, ValidationError
from app.services.progress import course_by_slug

courses_cli = AppGroup("courses", help="Validate and import course folders.")
users_cli = AppGroup("users", help="Manage accounts.")
analytics_cli = AppGroup("analytics", help="Question analytics.")
reminders_cli = AppGroup("reminders", help="E-mail reminders learners asked for.")
xapi_cli = AppGroup("xapi", help="Statements for the learning record store (XAPI_ENDPOINT).")
lti_cli = AppGroup("lti", help="LTI 1.3 platforms (LMSs): the scores sent back to them.")

COURSE_PATH = click.Path(file_okay=False, path_type=Path)


def _echo_problems(error: CourseInvalid, folder: Path) -> None:
    click.secho(f"{folder}: {len(error.problems)} problem(s) found:", fg="red", err=True)
    for problem in error.problems:
        click.echo(f"  {problem}", err=True)


@courses_cli.command("validate")
@click.argument("path", type=COURSE_PATH)
def courses_validate(path: Path) -> None:
    """Check a course folder and report every problem with its file and field.

    Problems fail the check; quality warnings (give-away answers, missing sources, an overdue
    review) are listed after it and leave the exit status at 0.
    """
    try:
        spec = load_course(path)
    except CourseInvalid as error:
        _echo_problems(error, path)
        raise SystemExit(1) from None
    questions = sum(len(lesson.quiz) for lesson in spec.lessons.values())
    click.echo(f"{spec.slug}: valid ({len(spec.modules)} modules, {len(spec.lessons)} lessons, {questions} questions).")
    warnings = course_warnings(spec)
    for warning in warnings:
        click.echo(f"warning: {warning}")
    if warnings:
        click.echo(f"{len(warnings)} warning(s): the course works, but fix these before learners rely on it.")


@courses_cli.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--discard-draft", is_flag=True, help="Throw away the course's unpublished draft, which would undo the import."
)
@click.option(
    "--overwrite-published",
    is_flag=True,
    help="Replace what an admin published since the last import with the files (it stays in the history).",
)
@click.option(
    "--keep-published",
    is_flag=True,
    help="If an admin published since the last import, leave the course as they published it and say so (make run).",
)
def courses_import(path: Path, discard_draft: bool, overwrite_published: bool, keep_published: bool) -> None:
    """Import a course folder or an exported .zip: create what is new, update what changed, keep all progress.

    Changes an admin published (at /author/) since the files were last imported are not undone
    unless --overwrite-published says so: files that hold them, or leave them be, import as usual.
    """
    if overwrite_published and keep_published:
        raise click.UsageError("Give --overwrite-published or --keep-published, not both.")
    try:
        spec = load_course_zip(path.read_bytes()) if path.suffix == ".zip" and path.is_file() else load_course(path)
        report = import_from_files(
            db.session, spec, discard_draft=discard_draft, overwrite_published=overwrite_published
        )
    except CourseInvalid as error:
        _echo_problems(error, path)
        raise SystemExit(1) from None
    except PublishedInTheWay as error:
        if keep_published:
            click.echo(f"{spec.slug}: not imported, kept as admins published it (the files would undo their changes).")
            return
        click.secho(str(error), fg="red", err=True)
        raise SystemExit(1) from None
    except DraftInTheWay as error:
        click.secho(str(error), fg="red", err=True)
        raise SystemExit(1) from None
    click.echo(report.summary())
    for warning in report.warnings:
        click.echo(f"warning: {warning}")


@courses_cli.command("export")
@click.argument("slug")
@click.argument("path", type=click.Path(path_type=Path))
def courses_export(slug: str, path: Path) -> None:
    """Write the published course SLUG to PATH as a course folder, images included (or a .zip if PATH ends in .zip)."""
    course = course_by_slug(db.session, slug)
    if course is None:
        click.secho(f"No course with slug {slug!r}.", fg="red", err=True)
        raise SystemExit(1)
    if path.suffix != ".zip" and path.exists() and not path.is_dir():
        click.secho(
            f"{path} is a file: give a folder to write the course into, or a path ending in .zip.", fg="red", err=True
        )
        raise SystemExit(1)
    files = course_export_files(db.session, course)
    if path.suffix == ".zip":
        path.write_bytes(course_files_zip(files, slug))
    else:
        for relative, content in files.items():
            target = path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        # Lessons and images no longer in the course must not linger in the folder and be re-imported.
        for stale in sorted([*(path / "lessons").glob("*.md"), *(path / "media").glob("*")]):
            if stale.is_file() and not stale.name.startswith(".") and stale.relative_to(path).as_posix() not in files:
                stale.unlink()
    lessons = sum(1 for relative in files if relative.startswith("lessons/"))
    images = sum(1 for relative in files if relative.startswith("media/"))
    click.echo(f"Exported {slug} ({lessons} lessons, {images} images) to {path}.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.LEARNER.value, show_default=True)
@click.option("--name", "display_name", help="Display name (defaults to the part of the e-mail before @).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted for when omitted.")
def users_create(email: str, role: str, display_name: str | None, password: str) -> None:
    """Create an account, e.g. the first admin of a fresh install."""
    try:
        user = user_create(
            db.session,
            email=email,
            display_name=display_name or email.split("@")[0],
            password=password,
            role=role,
            hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
        )
    except ValidationError as error:
        click.secho(f"Not created: {error.message}", fg="red", err=True)
        raise SystemExit(1) from None
    click.echo(f"Created {user.role} {user.email}.")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create demo accounts (admin, counsellor, clients at different stages); development only."""
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        click.secho("Refusing to create demo accounts with a production configuration.", fg="red", err=True)
        raise SystemExit(1)
    course = course_or_default(db.session)
    if course is None:
        click.secho(IMPORT_A_COURSE_FIRST, fg="red", err=True)
        raise SystemExit(1)
    created = demo_create(db.session, course=course, hash_method=current_app.config["PASSWORD_HASH_METHOD"])
    if not created:
        click.echo("Demo accounts already exist.")
        return
    click.echo(f"Created demo accounts (password {DEMO_PASSWORD!r}): {', '.join(created)}")


@analytics_cli.command("refresh")
@click.option("--course", "slug", help="Only this course (default: every course).")
def analytics_refresh_command(slug: str | None) -> None:
    """Recalculate the analytics snapshots now, in this process (the queue also does it hourly)."""
    courses = [(c.id, c.slug) for c in db.session.scalars(select(Course).order_by(Course.id))]
    if slug:
        courses = [(course_id, s) for course_id, s in courses if s == slug]
        if not courses:
            click.secho(f"No course with slug {slug!r}.", fg="red", err=True)
            raise SystemExit(1)
    for course_id, course_slug in courses:
        if snapshot_refresh(db.session, course_id=course_id):
            click.echo(f"Recalculated analytics for {course_slug}.")
        else:
            click.echo(f"Skipped {course_slug}: its analytics are being recalculated already.")


@reminders_cli.command("send")
@click.option("--dry-run", is_flag=True, help="Only count who is due a reminder: send nothing, record nothing.")
@click.option(
    "--now",
    "now_text",
    metavar="ISO",
    help="With --dry-run: count as if it were this time (ISO 8601; UTC if no offset).",
)
def reminders_send_command(dry_run: bool, now_text: str | None) -> None:
    """Queue the reminders due now, as the queue's daily 09:00 UTC run does (for cron instead)."""
    from app.jobs.reminders import queue_due_reminders
    from app.services.reminders import reminders_due

    try:
        now = as_utc(datetime.fromisoformat(now_text)) if now_text else None
    except ValueError:
        message = f"{now_text!r} is not an ISO 8601 time, e.g. 2026-12-04T09:00"
        raise click.BadParameter(message, param_hint="--now") from None
    if dry_run:
        due = reminders_due(db.session, now=now or utcnow())
        click.echo(f"Due a reminder{f' at {now.isoformat()}' if now else ' now'}: {len(due)}. Nothing was sent.")
        return
    if now is not None:
        # A send records each reminder at its time: a time to come would hold everyone's next one
        # back until then, one past would let a second go out within the week.
        raise click.UsageError("--now is for --dry-run only: reminders are sent, and recorded, at the real time.")
    sent = queue_due_reminders()
    click.echo(f"Reminders queued: {len(sent)}.")


@xapi_cli.command("status")
def xapi_status_command() -> None:
    """How many statements wait to be sent, how many the store refused, and the store's answers."""
    from app.services.xapi import xapi_outbox_status

    status = xapi_outbox_status(db.session)
    oldest = f", the oldest from {status.oldest_waiting:%Y-%m-%d %H:%M} UTC" if status.oldest_waiting else ""
    click.echo(f"Waiting to be sent: {status.waiting}{oldest}.")
    click.echo(f"Refused by the store (set aside): {status.refused}.")
    for reason, count in status.reasons:
        click.echo(f"  {count} x {reason}")
    if status.refused:
        click.echo("Once the store or the app is fixed, `flask xapi retry-refused` sends them again.")


@xapi_cli.command("retry-refused")
def xapi_retry_refused_command() -> None:
    """Put the statements the store refused back in the send order (the five-minute run sends them)."""
    from app.services.xapi import xapi_retry_refused

    click.echo(f"Statements to send again: {xapi_retry_refused(db.session)}.")


@lti_cli.command("scores")
@click.option("--send", is_flag=True, help="Send them now, in this process, and say which a platform did not take.")
def lti_scores_command(send: bool) -> None:
    """List the scores a platform has not accepted yet (the worker's hourly run sends them)."""
    from app.jobs.lti import resend_scores_not_accepted, scores_not_accepted

    if send:
        accepted, failures = resend_scores_not_accepted()
        click.echo(f"Scores accepted: {accepted}.")
        for failure in failures:
            click.secho(f"  not accepted: {failure}", fg="red", err=True)
        if failures:
            raise SystemExit(1)
        return
    due = scores_not_accepted()
    click.echo(f"Scores not accepted yet: {len(due)}.")
    for score in due:
        click.echo(f"  {score.endpoint.name}  {score.lineitem_url}  {score.score:g}")
    if due:
        click.echo("The worker sends them hourly; `flask lti scores --send` sends them now.")


def register(app: Flask) -> None:
    """Add the command groups to the app's CLI."""
    app.cli.add_command(courses_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(analytics_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(xapi_cli)
    app.cli.add_command(lti_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(seed)
    app.cli.add_command(demo)
