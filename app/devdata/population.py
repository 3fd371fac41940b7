"""Synthetic learners at scale: ``seed_population``.

N learners with realistic progress through a course (see ``planner``), counsellors linked to a
share of them with the views of their clients' pages, and the admin actions behind those
accounts (see ``people``). It is built for 100,000 learners (about 2 million answers) in
minutes: one password hash for every seeded account, ids assigned by the row writer, rows
written in large batches and committed batch by batch (see ``rows``). Seeding assumes nothing
else writes to the database at the same time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.devdata.history import HistoryCounts, write_history
from app.devdata.people import SEED_EMAIL_DOMAIN, add_staff, add_user, link_learner, random_name, seed_email
from app.devdata.planner import Planner
from app.devdata.rows import TABLES, sink_for
from app.devdata.shape import course_shape
from app.models import Course, Role, User
from app.services.errors import DomainError
from app.services.text_search import LIKE_ESCAPE, escape_like

SEED_PASSWORD = "seeded-account-password"  # noqa: S105 - synthetic accounts for development and benchmarks
HISTORY_DAYS = 90


class SeedError(DomainError):
    """Seeding cannot run here: no such course, or this seed was used already."""


@dataclass
class SeedReport:
    """What a seeding run wrote, and how long it took."""

    learners: int = 0
    counsellors: int = 0
    admins: int = 0
    attempts: int = 0
    answers: int = 0
    progress_rows: int = 0
    completions: int = 0
    review_cards: int = 0
    finished: int = 0
    links: int = 0
    invitations: int = 0
    progress_views: int = 0
    audit_events: int = 0
    seconds: float = 0.0
    email_pattern: str = ""
    learner_ids: tuple[int, int] = (0, 0)  # first and last seeded learner id
    counsellor_ids: list[int] = field(default_factory=list)
    admin_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        """One sentence with every count."""
        return (
            f"{self.learners:,} learners ({self.finished:,} finished the course), {self.counsellors} counsellors, "
            f"{self.admins} admins; {self.attempts:,} attempts, {self.answers:,} answers, "
            f"{self.progress_rows:,} lesson progress rows, {self.review_cards:,} review cards; {self.links:,} links, "
            f"{self.invitations:,} invitations, {self.progress_views:,} progress views, "
            f"{self.audit_events:,} audit events; in {self.seconds:.1f} s"
        )


def seed_population(
    session: Session,
    *,
    course: Course,
    learners: int,
    counsellors: int,
    seed: int,
    now: datetime,
    admins: int = 1,
    linked_share: float = 0.5,
    batch_size: int = 2_000,
    hash_method: str = "scrypt",
    password: str = SEED_PASSWORD,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Create ``learners`` learners with histories in ``course``, ``counsellors`` counsellors
    linked to about ``linked_share`` of them, and ``admins`` admins; commit batch by batch.

    Every seeded account has the password ``password`` and an address
    ``seed<seed>.<role><n>@seed.example.org``. Raises SeedError if this seed was used already.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    started = time.perf_counter()
    say = progress or (lambda message: None)
    prefix = f"seed{seed}."
    seeded_address = f"{escape_like(prefix)}%@{escape_like(SEED_EMAIL_DOMAIN)}"
    if session.scalar(select(User.id).where(User.email.like(seeded_address, escape=LIKE_ESCAPE)).limit(1)) is not None:
        raise SeedError(f"This database already holds accounts seeded with seed {seed}; choose another seed.")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible from its seed
    shape = course_shape(session, course)
    if not shape.lessons:
        raise SeedError(f"The course {course.slug!r} has no live lessons to seed progress in.")
    password_hash = generate_password_hash(password, method=hash_method)
    sink = sink_for(session)
    report = SeedReport(email_pattern=f"{prefix}<role><n>@{SEED_EMAIL_DOMAIN}")
    start = now - timedelta(days=HISTORY_DAYS)
    add_staff(
        sink,
        rng,
        report,
        prefix=prefix,
        admins=admins,
        counsellors=counsellors,
        password_hash=password_hash,
        start=start,
        now=now,
    )
    # Caseloads differ: a few counsellors have many clients, most a moderate number.
    cumulative = list(accumulate(rng.lognormvariate(0, 0.5) for _ in report.counsellor_ids))

    planner = Planner(rng, shape, now)
    counts = HistoryCounts()
    lesson_count = len(shape.lessons)
    first_learner = last_learner = 0
    for n in range(1, learners + 1):
        created_at = start + timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86_400 - 600))
        email = seed_email(prefix, Role.LEARNER, n)
        name = random_name(rng)
        visits = planner.plan(created_at)
        user_id = add_user(
            sink,
            email=email,
            name=name,
            password_hash=password_hash,
            role=Role.LEARNER,
            created_at=created_at,
            # Each visit to a lesson starts with a login, in this model of a learner.
            last_login_at=visits[-1].opened_at if visits else created_at,
        )
        first_learner = first_learner or user_id
        last_learner = user_id
        before = counts.completions
        write_history(sink, rng, shape, user_id, visits, counts)
        report.finished += counts.completions - before == lesson_count
        if report.counsellor_ids and rng.random() < linked_share:
            link_learner(
                sink, rng, report, now=now, learner_id=user_id, name=name, created_at=created_at, cumulative=cumulative
            )
        if n % batch_size == 0 or n == learners:
            sink.flush()
            session.commit()
            elapsed = time.perf_counter() - started
            say(f"  {n:,}/{learners:,} learners, {counts.answers:,} answers written ({elapsed:.0f} s)")
    sink.flush()
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, so the planner sees the new sizes at once rather than after autovacuum.
        quote = session.get_bind().dialect.identifier_preparer.quote
        for model in TABLES:
            session.execute(text("ANALYZE " + quote(model.__tablename__)))
        session.commit()
    report.learners = learners
    report.learner_ids = (first_learner, last_learner)
    report.attempts, report.answers = counts.attempts, counts.answers
    report.progress_rows, report.completions = counts.progress_rows, counts.completions
    report.review_cards = counts.cards
    report.seconds = time.perf_counter() - started
    return report
