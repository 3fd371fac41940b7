"""``make bench``: the app under load at a given population, against the framework's own ceiling.

For each population size in BENCH_LEARNERS (default "1000,100000"), on loopback only:

1. prepare a PostgreSQL database: migrate it, import the course, seed the learners (reused on
   the next run when it already holds exactly that population);
2. serve the app with gunicorn, gunicorn.conf.py and the production configuration;
3. log in a pool of seeded learners, a counsellor and an admin through the real login form;
4. drive each page with wrk (a second process) for BENCH_DURATION seconds, spreading the
   requests over every session, and read requests/s, p50, p99 and errors;
5. serve bench/ceiling.py (the lesson page's HTML, no database) under the same gunicorn
   settings and measure it the same way: each page's ratio to it is printed;
6. measure each worker's memory (RSS) after 2,000 and after 20,000 requests.

Results are printed and written to bench/results/<timestamp>.json and bench/results/latest.json.
Settings come from environment variables; see bench/README.md. The parts live beside this file:
settings, database (prepare and seed), server (gunicorn), client (HTTP and login), load (wrk)
and report (printing).
"""

from __future__ import annotations

import concurrent.futures
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

from bench.client import http_request, log_in, prepare_learner
from bench.database import connect, pick_accounts, prepare_database, quiesce_database, with_database
from bench.load import Page, build_pages, ensure_wrk, measure, run_wrk
from bench.report import growth, one_line, print_report
from bench.server import Server, app_env, rss_kib, tracebacks
from bench.settings import PAGE_NAMES, RESULTS, SEED, VENV_BIN, BenchError, Settings, say


def bench_size(wrk: str, settings: Settings, learners: int, workdir: Path) -> dict:
    """One population size, start to finish: prepare the database, load every page, the
    ceiling, then the memory run; return its results."""
    from app.devdata.population import SEED_PASSWORD

    say(f"\n== {learners:,} learners ==")
    url, seeding = prepare_database(settings, learners)
    env = app_env(url, secrets.token_urlsafe(48))
    extra = ("--workers", str(settings.workers)) if settings.workers else ()
    log = workdir / f"app-{learners}.log"
    say(f"  serving the app with gunicorn (log: {log})")
    server = Server("app:create_app()", env, log, extra)
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
            method, path, cookie, _ = page.lines[0].split("\t")
            if method == "GET":
                jar = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
                status, _, _ = http_request(server.port, "GET", path, cookies=jar)
                if str(status) not in page.expected.split(","):
                    raise BenchError(f"{page.name} ({path}) answered {status}.\n" + "\n".join(tracebacks(log)))
        lesson_html = next(user.lesson_html for user in sessions if user.lesson_html)
        result["counsellor_clients"] = len(client_ids)
        result["sessions"] = len(sessions)
        result["pages"] = {}
        for page in pages:
            if settings.pages and page.name not in settings.pages:
                continue
            say(f"  {page.name}: {settings.warmup} s warm-up, {settings.duration} s measured...")
            numbers = {"what": page.what, **measure(wrk, settings, server, page, workdir, url)}
            result["pages"][page.name] = numbers
            say("    " + one_line(numbers))
        result["tracebacks"] = tracebacks(log)
    finally:
        server.stop()
        quiesce_database(url, wait=10)

    # The ceiling: the same HTML, the same gunicorn settings, no database.
    html_file = workdir / "lesson.html"
    html_file.write_text(lesson_html)
    ceiling_log = workdir / f"ceiling-{learners}.log"
    ceiling_env = {**env, "BENCH_CEILING_HTML": str(html_file)}
    say("  ceiling: bench/ceiling.py under the same gunicorn settings...")
    ceiling = Server("bench.ceiling:create_app()", ceiling_env, ceiling_log, extra)
    try:
        lesson_page = next(page for page in pages if page.name == "lesson")
        result["ceiling"] = measure(wrk, settings, ceiling, lesson_page, workdir, None)
        say("    " + one_line(result["ceiling"]))
    finally:
        ceiling.stop()
    for numbers in result["pages"].values():
        numbers["x_ceiling"] = round(numbers["rps"] / result["ceiling"]["rps"], 3) if result["ceiling"]["rps"] else None

    if settings.memory:
        result["memory"] = memory_run(wrk, settings, env, extra, pages, workdir, learners)
    return result


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
                for log in workdir.glob("*.log"):
                    shutil.copy(log, keep / log.name)
        for run in runs:
            print_report(run)
        result = {
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": "make bench",
            "machine": facts,
            "settings": {
                "learners": settings.learners,
                "duration_s": settings.duration,
                "warmup_s": settings.warmup,
                "connections": settings.connections,
                "wrk_threads": settings.threads,
                "learner_sessions": settings.sessions,
                "memory_checkpoints": list(settings.memory_checkpoints),
                "quiz_submission": "a fresh submission key per request (each POST records a new attempt)",
                "pages": settings.pages or list(PAGE_NAMES),
                "memory": settings.memory,
            },
            "runs": runs,
            "growth": growth(runs),
        }
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        text = json.dumps(result, indent=2)
        (RESULTS / f"{stamp}.json").write_text(text)
        if settings.pages or not settings.memory:  # a partial run does not replace the full one
            say(f"\nResults: bench/results/{stamp}.json (a partial run: latest.json is left alone)")
        else:
            (RESULTS / "latest.json").write_text(text)
            say(f"\nResults: bench/results/{stamp}.json (and latest.json); logs in bench/results/logs/")
        return 0
    except BenchError as error:
        say(f"\nbench: {error}")
        return 1
    except KeyboardInterrupt:
        say("\nbench: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
