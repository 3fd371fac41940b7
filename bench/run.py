"""``make bench``: the app under load at a given population, against a minimal reference and the
framework's own ceiling.

For each population size in BENCH_LEARNERS (default "1000,100000"), on loopback only:

1. prepare a PostgreSQL database: migrate it, import the course, seed the learners (reused on
   the next run when it already holds exactly that population);
2. serve the app with gunicorn, gunicorn.conf.py and the production configuration;
3. log in a pool of seeded learners, a counsellor and an admin through the real login form;
4. serve, under the same gunicorn settings, bench/reference.py (one query and one template of
   the lesson pages captured from the app; its POST inserts a submission's rows in one
   transaction) and bench/ceiling.py (the lesson page's HTML, no database); with BENCH_COMPARE
   (a commit), the app at that commit too, from a worktree, on the same database and cookies;
5. drive each page with wrk (a second process) for BENCH_DURATION seconds in BENCH_ROUNDS
   interleaved rounds with what it is compared to (app page, compared commit, reference,
   ceiling; the submission and the write reference), spreading the requests over every session;
   report each target's median requests/s, p50, p99 and errors, and the page's ratios;
6. record the database's size, its largest tables and the bytes per stored answer;
7. measure each worker's memory (RSS) after 2,000 and after 20,000 requests.

Results are printed and written to bench/results/<timestamp>.json and .svg (a chart;
``python -m bench.chart`` draws one from any saved JSON), and to latest.json and latest.svg.
Settings come from environment variables; see bench/README.md. The parts live beside this file:
settings, database (prepare and seed), server (gunicorn), client (HTTP and login), load (wrk)
and report (printing).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import platform
import random
import secrets
import shutil
import subprocess  # noqa: S404 - the benchmark runs gunicorn, wrk and flask
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bench.chart import write_chart
from bench.client import ANY_CSRF, UserSession, http_request, log_in, prepare_learner
from bench.database import connect, pick_accounts, prepare_database, quiesce_database, with_database
from bench.load import Page, build_pages, ensure_wrk, measure, request_line, run_wrk
from bench.pyspy import PYSPY_PREFIX, profile_run
from bench.reference import sign_session
from bench.report import growth, one_line, print_report, ratio_text, storage_line
from bench.rounds import (
    APP,
    CEILING,
    COMPARED,
    REFERENCE,
    WRITE_REFERENCE,
    page_result,
    run_rounds,
    size_comparisons,
    targets_for,
)
from bench.server import Server, app_env, checkout, rss_kib, tracebacks
from bench.settings import COURSE, PAGE_NAMES, RESULTS, SEED, SUBMISSION, VENV_BIN, BenchError, Settings, say
from bench.storage import storage_facts


def bench_size(wrk: str, settings: Settings, learners: int, workdir: Path) -> dict:
    """One population size, start to finish: prepare the database, serve the app, the reference
    and the ceiling, load every page in interleaved rounds, record the storage, then the memory
    run; return its results."""
    from app.devdata.population import SEED_PASSWORD

    say(f"\n== {learners:,} learners ==")
    url, seeding = prepare_database(settings, learners)
    env = app_env(url, secrets.token_urlsafe(48))
    extra = ("--workers", str(settings.workers)) if settings.workers else ()
    log = workdir / f"app-{learners}.log"
    say(f"  serving the app with gunicorn (log: {log})")
    server = Server("app:create_app()", env, log, extra)
    servers = [server]
    stack = contextlib.ExitStack()
    other: Server | None = None  # the app at the compared commit (BENCH_COMPARE)
    result: dict = {"learners": learners, "database": urlsplit(url).path.lstrip("/"), "seeding": seeding}
    try:
        result["workers"] = len(server.workers())
        pool, counsellor_email, client_ids, admin_email = pick_accounts(url, settings)
        say(f"  logging in {len(pool)} learners, a counsellor ({len(client_ids)} clients) and an admin...")
        with concurrent.futures.ThreadPoolExecutor(8) as executor:
            sessions = list(executor.map(lambda email: log_in(server.port, email, SEED_PASSWORD), pool))
            list(executor.map(lambda user: prepare_learner(server.port, user), sessions))
        counsellor = log_in(server.port, counsellor_email, SEED_PASSWORD)
        admin = log_in(server.port, admin_email, SEED_PASSWORD)
        rng = random.Random(SEED)  # noqa: S311
        clients = rng.sample(client_ids, min(100, len(client_ids)))
        pages = build_pages(sessions, counsellor, clients, admin)
        assert [page.name for page in pages] == list(PAGE_NAMES)
        for page in pages:  # every page answers once before it is loaded
            check_page(server, page, log)
        result["counsellor_clients"] = len(client_ids)
        result["sessions"] = len(sessions)

        # The reference (one query, one template, the lesson pages captured just now) and the
        # ceiling (the lesson page's HTML, no database), under the same gunicorn settings.
        users = learner_rows(url, [user.email for user in sessions])
        reference_file = workdir / "reference.json"
        reference_file.write_text(json.dumps(reference_capture(sessions, users)))
        reference_secret = secrets.token_urlsafe(48)
        say("  reference: bench/reference.py under the same gunicorn settings...")
        reference_env = {**env, "BENCH_REFERENCE": str(reference_file), "SECRET_KEY": reference_secret}
        reference = Server("bench.reference:create_app()", reference_env, workdir / f"reference-{learners}.log", extra)
        servers.append(reference)
        html_file = workdir / "lesson.html"
        html_file.write_text(next(user.lesson_html for user in sessions if user.lesson_html))
        say("  ceiling: bench/ceiling.py under the same gunicorn settings...")
        ceiling_env = {**env, "BENCH_CEILING_HTML": str(html_file)}
        ceiling = Server("bench.ceiling:create_app()", ceiling_env, workdir / f"ceiling-{learners}.log", extra)
        servers.append(ceiling)
        lesson_page = next(page for page in pages if page.name == "lesson")
        submission = next(page for page in pages if page.name == SUBMISSION)
        compared = {
            REFERENCE: (reference, reference_page(lesson_page, sessions, users, reference_secret, "reference"), url),
            WRITE_REFERENCE: (
                reference,
                reference_page(submission, sessions, users, reference_secret, "write reference"),
                url,
            ),
            CEILING: (ceiling, lesson_page, None),
        }
        check_page(reference, compared[REFERENCE][1], reference.log)
        check_page(ceiling, lesson_page, ceiling.log)
        if settings.compare:  # the app at another commit, on the same database, cookies and settings
            say(f"  compared: the app at {settings.compare[:12]} under the same gunicorn settings...")
            tree = stack.enter_context(checkout(settings.compare, workdir / f"compared-{learners}"))
            other = Server("app:create_app()", env, workdir / f"compared-{learners}.log", extra, root=tree)
            servers.append(other)
            for page in pages:
                check_page(other, page, other.log)

        result["pages"] = {}
        for page in pages:
            if settings.pages and page.name not in settings.pages:
                continue
            targets = targets_for(page.name, compared=bool(settings.compare))
            say(
                f"  {page.name}: {settings.rounds} rounds of {' / '.join(targets)}, {settings.duration} s each "
                f"({settings.warmup} s warm-up in the first)..."
            )

            def served(target: str, page: Page = page) -> tuple[Server, Page, str | None]:
                """The server of one of the page's targets, the requests it is sent and its database."""
                if target == APP:
                    return server, page, url
                if target == COMPARED and other is not None:  # the same page, from the compared commit's app
                    return other, page, url
                return compared[target]

            def one(target: str, first: bool) -> dict:
                target_server, target_page, database = served(target)
                numbers = measure(wrk, settings, target_server, target_page, workdir, database, warm_up=first)
                say(f"    {target:<16}" + one_line(numbers))
                return numbers

            numbers = {"what": page.what, **page_result(page.name, run_rounds(targets, settings.rounds, one))}
            result["pages"][page.name] = numbers
            say("    median: " + one_line(numbers) + ratio_text(numbers))
            if settings.pyspy:  # one more run of the app and its reference each, watched by py-spy
                profiled = [target for target in targets if target in (APP, REFERENCE, WRITE_REFERENCE)]
                numbers["pyspy"] = {
                    target: profile_run(wrk, settings, *served(target), workdir, f"{page.name}, {target}, {learners:,}")
                    for target in profiled
                }
        result["tracebacks"] = tracebacks(log) + tracebacks(reference.log)
    finally:
        for each in reversed(servers):
            each.stop()
        stack.close()  # the compared commit's checkout, once its server has stopped
        quiesce_database(url, wait=10)
    result.update(size_comparisons(result["pages"]))

    with connect(url) as conn:
        result["storage"] = storage_facts(conn)
    say("  " + storage_line(result["storage"], seeding))

    if settings.memory:
        result["memory"] = memory_run(wrk, settings, env, extra, pages, workdir, learners)
    return result


def check_page(server: Server, page: Page, log: Path) -> None:
    """The page's first request answers as expected (a GET), or a BenchError with the log's errors."""
    method, path, cookie, _ = page.lines[0].split("\t")
    if method != "GET":
        return
    jar = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
    status, _, _ = http_request(server.port, "GET", path, cookies=jar)
    if str(status) not in page.expected.split(","):
        raise BenchError(f"{page.name} ({path}) answered {status}.\n" + "\n".join(tracebacks(log)))


def learner_rows(url: str, emails: list[str]) -> dict[str, tuple[int, str]]:
    """Each learner's (id, display name) by address."""
    with connect(url) as conn:
        rows = conn.execute("SELECT email, id, display_name FROM users WHERE email = ANY(%s)", (emails,)).fetchall()
    return {email: (user_id, name) for email, user_id, name in rows}


def reference_capture(sessions: list[UserSession], users: dict[str, tuple[int, str]]) -> dict:
    """What bench/reference.py serves: each current lesson's page as a learner saw it, with the
    name and form token to make holes of, and the app's response headers."""
    pages, course = {}, COURSE
    for user in sessions:
        parts = user.lesson_path.strip("/").split("/")  # courses/<course>/lessons/<lesson>
        course, slug = parts[1], parts[-1]
        token = ANY_CSRF.search(user.lesson_html)
        if slug not in pages and token:
            pages[slug] = {"html": user.lesson_html, "display_name": users[user.email][1], "csrf_token": token.group(1)}
    headers = next(user.lesson_headers for user in sessions if user.lesson_headers)
    return {"course": course, "headers": headers, "pages": pages}


def reference_page(page: Page, sessions: list[UserSession], users: dict, secret: str, name: str) -> Page:
    """The page's requests as the reference takes them: the same paths and bodies, each learner's
    cookie one the reference signed (their id, and the form token their quiz body carries)."""
    lines = []
    for user, line in zip(sessions, page.lines, strict=True):
        method, path, _, body = line.split("\t")
        cookie = "session=" + sign_session(secret, {"uid": users[user.email][0], "csrf": user.quiz_body["csrf_token"]})
        lines.append(request_line(method, path, cookie, body))
    return Page(name, page.expected, lines, f"{page.name}, served by bench/reference.py")


def memory_run(wrk, settings: Settings, env, extra, pages: list[Page], workdir: Path, learners: int) -> dict:
    """Each worker's RSS after the first and the second checkpoint of a mixed workload.

    Workers are not recycled during this run (--max-requests 0), or a leak would hide behind the
    recycling that gunicorn.conf.py does in production.
    """
    early, late = settings.memory_checkpoints
    say(f"  memory: a mixed workload, each worker's RSS after {early:,} and {late:,} requests...")
    # Mostly learners, as in real traffic; the analytics page is left out (it is timed above).
    mix = Page("memory mix", "200,302", [])
    for page in pages:
        if page.name == "question analytics":
            continue
        mix.lines += page.lines if len(page.lines) > 1 else page.lines * 3
    log = workdir / f"app-memory-{learners}.log"
    server = Server("app:create_app()", env, log, (*extra, "--max-requests", "0"))
    try:
        started = time.monotonic()
        first = run_wrk(wrk, settings, server.port, mix, workdir, settings.memory_timeout, stop_after=early)
        after_early = {pid: rss_kib(pid) for pid in server.workers()}
        remaining = max(1, settings.memory_timeout - int(time.monotonic() - started))
        second = run_wrk(wrk, settings, server.port, mix, workdir, remaining, stop_after=late - first["requests"])
        after_late = {pid: rss_kib(pid) for pid in server.workers()}
    finally:
        server.stop()
        quiesce_database(env["DATABASE_URL"], wait=10)
    done = first["requests"] + second["requests"]
    rows = []
    for pid in sorted(set(after_early) | set(after_late)):
        before, after = after_early.get(pid), after_late.get(pid)
        growth = round((after - before) / before, 4) if before and after else None
        rows.append({"pid": pid, "rss_kib_early": before, "rss_kib_late": after, "growth": growth})
    measured = [row["growth"] for row in rows if row["growth"] is not None]
    return {
        "gunicorn": "--max-requests 0 (no recycling during the measurement)",
        "requests_early": first["requests"],
        "requests_late": done,
        "errors": first["errors"] + second["errors"],
        "reached_late_checkpoint": done >= late,
        "workers": rows,
        "within_10_percent": bool(measured) and all(abs(g) <= 0.10 for g in measured) and len(measured) == len(rows),
    }


def machine_facts(wrk: str, url: str) -> dict:
    """CPUs and versions of what was measured, for the results file."""
    version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False, timeout=10)  # noqa: S603
    with connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgresql": server,
        "wrk": (version.stdout or version.stderr).splitlines()[0] if (version.stdout or version.stderr) else "",
        "platform": platform.platform(),
    }


def main() -> int:
    """Run every size, print the report and write the results; the exit status."""
    try:
        settings = Settings.from_environment()
        wrk = ensure_wrk()
        base = settings.database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
        facts = machine_facts(wrk, base if settings.database_url else with_database(base, "postgres"))
        for tool in ("gunicorn", "flask"):
            if not (VENV_BIN / tool).exists():
                raise BenchError(f"{tool} is not installed beside {sys.executable}; run make install first.")
        started = datetime.now(UTC)
        RESULTS.mkdir(parents=True, exist_ok=True)
        runs = []
        with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
            workdir = Path(scratch)
            keep = RESULTS / "logs"
            try:
                for learners in settings.learners:
                    runs.append(bench_size(wrk, settings, learners, workdir))
            finally:
                keep.mkdir(exist_ok=True)
                for log in [*workdir.glob("*.log"), *workdir.glob(f"{PYSPY_PREFIX}*")]:
                    shutil.copy(log, keep / log.name)
        result = {
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": "make bench",
            "machine": facts,
            "settings": {
                "learners": settings.learners,
                "duration_s": settings.duration,
                "warmup_s": settings.warmup,
                "rounds": settings.rounds,
                "connections": settings.connections,
                "wrk_threads": settings.threads,
                "learner_sessions": settings.sessions,
                "memory_checkpoints": list(settings.memory_checkpoints),
                "quiz_submission": "a fresh submission key per request (each POST records a new attempt)",
                "pages": settings.pages or list(PAGE_NAMES),
                "memory": settings.memory,
                "compare": settings.compare,
                "pyspy": settings.pyspy,
            },
            "runs": runs,
            "growth": growth(runs),
        }
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        text = json.dumps(result, indent=2)
        # Written before the report is printed: a run of half an hour is never lost to the printing.
        (RESULTS / f"{stamp}.json").write_text(text)
        write_chart(result, RESULTS / f"{stamp}.svg")
        for run in runs:
            print_report(run)
        # A partial run does not replace the full one, nor does a run beside another commit.
        if settings.pages or not settings.memory or settings.compare:
            say(f"\nResults: bench/results/{stamp}.json and .svg (a partial run: latest.json is left alone)")
        else:
            (RESULTS / "latest.json").write_text(text)
            write_chart(result, RESULTS / "latest.svg")
            say(f"\nResults: bench/results/{stamp}.json and .svg (and latest.*); logs in bench/results/logs/")
        return 0
    except BenchError as error:
        say(f"\nbench: {error}")
        return 1
    except KeyboardInterrupt:
        say("\nbench: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
