"""``flask seed``: a synthetic population for development and benchmarks.

Also runnable without registering the command: ``python -m app.devdata.cli --learners 1000``.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.devdata.population import SEED_PASSWORD, SeedError, seed_population
from app.extensions import db
from app.models.types import utcnow
from app.services.default_course import IMPORT_A_COURSE_FIRST, course_or_default


@click.command("seed")
@click.option("--learners", type=click.IntRange(min=0), default=100_000, show_default=True)
@click.option("--counsellors", type=click.IntRange(min=0), default=50, show_default=True)
@click.option("--admins", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="Same seed, same population.")
@click.option(
    "--linked-share",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Share of learners who share their progress with a counsellor.",
)
@click.option("--course", "course_slug", help="Course slug (defaults to the first course).")
@click.option("--batch-size", type=click.IntRange(min=1), default=2_000, show_default=True, help="Learners per commit.")
@with_appcontext
def seed(
    learners: int,
    counsellors: int,
    admins: int,
    seed_value: int,
    linked_share: float,
    course_slug: str | None,
    batch_size: int,
) -> None:
    """Seed LEARNERS synthetic learners with realistic progress, COUNSELLORS counsellors and ADMINS admins."""
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        click.secho("Refusing to seed synthetic accounts with a production configuration.", fg="red", err=True)
        raise SystemExit(1)
    course = course_or_default(db.session, course_slug)
    if course is None:
        click.secho(IMPORT_A_COURSE_FIRST, fg="red", err=True)
        raise SystemExit(1)
    click.echo(f"Seeding {learners:,} learners, {counsellors} counsellors and {admins} admins in {course.slug}...")
    try:
        report = seed_population(
            db.session,
            course=course,
            learners=learners,
            counsellors=counsellors,
            admins=admins,
            seed=seed_value,
            now=utcnow(),
            linked_share=linked_share,
            batch_size=batch_size,
            hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            progress=click.echo,
        )
    except SeedError as error:
        click.secho(str(error), fg="red", err=True)
        raise SystemExit(1) from None
    click.echo(f"Seeded {report.summary()}.")
    click.echo(f"Accounts: {report.email_pattern}, password {SEED_PASSWORD!r}.")


def main() -> None:
    """Run the command with the app from the environment, whether or not it is registered."""
    from app import create_app

    app = create_app()
    with app.app_context():
        seed.main(prog_name="python -m app.devdata.cli")


if __name__ == "__main__":
    main()
