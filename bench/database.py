"""The benchmark's PostgreSQL databases: migrated, the course imported, N learners seeded with
``python -m app.devdata.cli`` (or reused when no earlier run changed them); and the accounts the
load runs log in as."""

from __future__ import annotations

import json
import os
import random
import subprocess  # noqa: S404 - the benchmark runs gunicorn, wrk and flask
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bench.settings import RESULTS, ROOT, SEED, SEED_DOMAIN, VENV_BIN, BenchError, Settings, say


def connect(url: str, **options):
    """A psycopg connection, or a BenchError saying how to reach PostgreSQL."""
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=5, **options)
    except psycopg.OperationalError as error:
        parts = urlsplit(url)
        raise BenchError(
            f"PostgreSQL is not reachable at {parts.hostname or 'localhost'}:{parts.port or 5432} "
            f"(database {parts.path.lstrip('/') or '?'}): {str(error).strip()}\n"
            "Start PostgreSQL, or point BENCH_DATABASE_URL at one (postgresql://user@host:port/database)."
        ) from None


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name."""
    parts = urlsplit(url)
    return parts._replace(path="/" + name).geturl()


def flask_env(database_url: str) -> dict[str, str]:
    """The environment for the flask commands that migrate, import and seed."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "FLASK_APP")}
    env.update(APP_ENV="development", DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    return env


def run_step(description: str, command: list[str], env: dict[str, str], timeout: int) -> str:
    """Run a preparation command within ``timeout`` seconds; its output, or a BenchError with it."""
    say(f"  {description}...")
    try:
        result = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{description} took longer than {timeout} s; stopped.") from None
    if result.returncode != 0:
        raise BenchError(f"{description} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def population(url: str) -> tuple[int, int]:
    """(seeded learners, other accounts) in the database, or (0, 0) before it has tables."""
    with connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('public.users') IS NOT NULL").fetchone()[0]
        if not exists:
            return 0, 0
        seeded, others = conn.execute(
            "SELECT count(*) FILTER (WHERE email LIKE %s AND role = 'learner'), "
            "count(*) FILTER (WHERE email NOT LIKE %s) FROM users",
            (f"seed{SEED}.%@{SEED_DOMAIN}", f"%@{SEED_DOMAIN}"),
        ).fetchone()
        return seeded, others


def data_fingerprint(url: str) -> list[int]:
    """Counts that every run changes (its quiz submissions and counsellor views write rows)."""
    with connect(url) as conn:
        return list(
            conn.execute(
                "SELECT (SELECT count(*) FROM quiz_attempts), (SELECT count(*) FROM progress_views), "
                "(SELECT count(*) FROM lesson_progress WHERE completed_at IS NOT NULL)"
            ).fetchone()
        )


def reset_database(settings: Settings, url: str, *, own: bool) -> None:
    """Empty a database for seeding again: drop and create a ``bench_<N>`` database of its own,
    or drop the public schema of BENCH_DATABASE_URL's when it holds nothing but seeded accounts."""
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    if own:  # a bench_<N> database this benchmark made: drop and create it again
        with connect(with_database(url, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return
    seeded, others = population(url)
    if others:
        raise BenchError(
            f"BENCH_DATABASE_URL's database {name!r} holds {others} accounts the benchmark did not seed; "
            "it only ever resets a database of its own. Point it at an empty database."
        )
    with connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def settle(url: str) -> None:
    """VACUUM (ANALYZE) the database: what autovacuum does in production after bulk writes.

    Seeding writes millions of rows in a few transactions, and a migration on a reused database may
    rewrite a whole table (a19000000010 fills a column of every counsellor link). Until a vacuum
    marks their pages all-visible, an index-only scan still reads the table, and stale statistics
    pick poor plans; where autovacuum is off or has not come round yet (this machine's PostgreSQL
    runs without it), the benchmark would measure that and not the app.
    """
    say("  vacuuming and analysing (as autovacuum would after bulk writes)...")
    with connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def scaled(learners: int) -> int:
    """Seconds a step over the whole population may take: 10 minutes, and 5 more per 100,000
    learners (a million: 60 minutes)."""
    return 600 + learners * 3 // 1000


def prepare_database(settings: Settings, learners: int) -> tuple[str, dict]:
    """Return the database URL holding exactly ``learners`` seeded learners, and the seeding facts."""
    base = settings.database_url or "postgresql://postgres@127.0.0.1:5432/bench"
    from psycopg import sql

    own = settings.database_url is None
    url = with_database(base, f"bench_{learners}") if own else base
    name = urlsplit(url).path.lstrip("/")
    if own:
        with connect(with_database(base, "postgres"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        connect(url).close()
    seeded, _ = population(url)
    marker = RESULTS / f".seeded-{name}.json"
    env = flask_env(url)
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    facts = json.loads(marker.read_text()) if marker.exists() else {}
    # Each run adds attempts, completions and views: reuse only data no earlier run has changed,
    # or the learners' histories (and the client pages) would grow from one run to the next.
    untouched = seeded == learners and facts.get("fingerprint") == data_fingerprint(url)
    if seeded == learners and not untouched and not settings.reseed:
        say(f"  database {name} was changed by an earlier run (quiz submissions, views): seeding it again")
    if untouched and not settings.reseed:
        say(f"  reusing database {name} with {learners:,} seeded learners (BENCH_RESEED=1 seeds it again)")
        # The code may have moved on since it was seeded: bring schema and course up to date (a
        # migration converting a million learners' rows, or the analytics over them, takes a while).
        run_step("migrating", [*flask, "db", "upgrade"], env, timeout=scaled(learners))
        run_step("importing the course", [*flask, "courses", "import", "courses/naltrexone"], env, timeout=300)
        # The analytics page shows the last computed figures; no request computes them.
        run_step("computing the question analytics", [*flask, "analytics", "refresh"], env, timeout=scaled(learners))
        settle(url)
        return url, {**facts, "reused": True}
    if seeded or settings.reseed:
        say(f"  resetting database {name} (it held {seeded:,} seeded learners)")
        reset_database(settings, url, own=own)
    run_step("migrating", [*flask, "db", "upgrade"], env, timeout=600)
    run_step("importing the course", [*flask, "courses", "import", "courses/naltrexone"], env, timeout=300)
    started = time.monotonic()
    say(f"  seeding {learners:,} learners (progress below)...")
    command = [str(VENV_BIN / "python"), "-m", "app.devdata.cli", "--learners", str(learners), "--seed", str(SEED)]
    try:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        output = []
        for line in process.stdout or ():
            output.append(line)
            say("    " + line.rstrip())
        process.wait(timeout=scaled(learners))
    except subprocess.TimeoutExpired:
        process.kill()
        raise BenchError(f"Seeding took over {scaled(learners) // 60} minutes; stopped.") from None
    if process.returncode != 0:
        raise BenchError("Seeding failed:\n" + "".join(output[-40:]))
    facts = {
        "learners": learners,
        "seconds": round(time.monotonic() - started, 1),
        "summary": next((line.strip() for line in output if line.startswith("Seeded ")), ""),
        "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "fingerprint": data_fingerprint(url),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(facts, indent=2))
    # The analytics page shows the last computed figures; no request computes them.
    run_step("computing the question analytics", [*flask, "analytics", "refresh"], env, timeout=scaled(learners))
    settle(url)
    return url, {**facts, "reused": False}


def quiesce_database(url: str, wait: float = 30) -> None:
    """Wait for queries still running in the database (a request abandoned by wrk, a worker
    killed at shutdown), then cancel any left, so the next measurement starts from quiet."""
    deadline = time.monotonic() + wait
    with connect(url, autocommit=True) as conn:
        query = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND backend_type = 'client backend'"
        )
        while conn.execute(query).fetchall() and time.monotonic() < deadline:
            time.sleep(0.5)
        for (pid,) in conn.execute(query).fetchall():
            conn.execute("SELECT pg_cancel_backend(%s)", (pid,))


def pick_accounts(url: str, settings: Settings) -> tuple[list[str], str, list[int], str]:
    """Learners for the pool, the counsellor with the median caseload and their clients, the admin."""
    with connect(url) as conn:
        learners = [
            row[0]
            for row in conn.execute(
                "SELECT email FROM users WHERE role = 'learner' AND is_active AND email LIKE %s ORDER BY id",
                (f"seed{SEED}.%@{SEED_DOMAIN}",),
            )
        ]
        caseloads = conn.execute(
            "SELECT u.id, u.email, count(l.id) FROM users u JOIN counsellor_links l ON l.counsellor_id = u.id "
            "AND l.revoked_at IS NULL WHERE u.role = 'counsellor' AND u.email LIKE %s GROUP BY u.id, u.email "
            "ORDER BY count(l.id), u.id",
            (f"seed{SEED}.%@{SEED_DOMAIN}",),
        ).fetchall()
        admin = conn.execute(
            "SELECT email FROM users WHERE role = 'admin' AND email LIKE %s ORDER BY id LIMIT 1",
            (f"seed{SEED}.%@{SEED_DOMAIN}",),
        ).fetchone()
        if not learners or not caseloads or not admin:
            raise BenchError("The database lacks seeded learners, counsellors with clients or an admin.")
        counsellor_id, counsellor_email, _ = caseloads[len(caseloads) // 2]
        clients = [
            row[0]
            for row in conn.execute(
                "SELECT learner_id FROM counsellor_links WHERE counsellor_id = %s AND revoked_at IS NULL "
                "ORDER BY learner_id",
                (counsellor_id,),
            )
        ]
    rng = random.Random(SEED)  # noqa: S311 - picking benchmark accounts
    pool = rng.sample(learners, min(settings.sessions, len(learners)))
    return pool, counsellor_email, clients, admin[0]
