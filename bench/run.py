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
Settings come from environment variables; see bench/README.md.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess  # noqa: S404 - the benchmark runs gunicorn, wrk and flask
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
VENV_BIN = Path(sys.executable).parent
USER_AGENT = "naltrexone-bench"  # Flask-Login's session protection hashes it: wrk sends the same
SEED = 1
COURSE = "naltrexone"
SEED_DOMAIN = "seed.example.org"


PAGE_NAMES = (
    "landing",
    "course overview",
    "lesson",
    "quiz page",
    "quiz submission",
    "/me/",
    "counsellor dashboard",
    "one client",
    "question analytics",
)


class BenchError(Exception):
    """A problem the person running the benchmark can fix; printed without a traceback."""


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise BenchError(f"{name} must be a whole number; got {value!r}.") from None


@dataclass(frozen=True)
class Settings:
    learners: list[int]
    database_url: str | None
    duration: int
    warmup: int
    connections: int
    threads: int
    sessions: int
    memory_checkpoints: tuple[int, int]
    memory_timeout: int
    reseed: bool
    workers: int | None
    pages: list[str]  # empty: every page
    memory: bool

    @classmethod
    def from_environment(cls) -> Settings:
        sizes = [part for part in re.split(r"[,\s]+", os.environ.get("BENCH_LEARNERS", "1000,100000")) if part]
        if not sizes or not all(size.isdigit() and int(size) > 0 for size in sizes):
            raise BenchError("BENCH_LEARNERS must list positive whole numbers, e.g. '1000,100000'.")
        try:
            early, late = (
                int(n) for n in os.environ.get("BENCH_MEMORY_REQUESTS", "2000,20000").replace(" ", "").split(",")
            )
        except ValueError:
            raise BenchError("BENCH_MEMORY_REQUESTS must be two counts, e.g. '2000,20000'.") from None
        pages = [name.strip() for name in os.environ.get("BENCH_PAGES", "").split(",") if name.strip()]
        unknown = set(pages) - set(PAGE_NAMES)
        if unknown:
            raise BenchError(f"BENCH_PAGES names unknown pages {sorted(unknown)}; known: {', '.join(PAGE_NAMES)}.")
        workers = os.environ.get("WEB_CONCURRENCY")
        return cls(
            learners=[int(size) for size in sizes],
            database_url=os.environ.get("BENCH_DATABASE_URL") or None,
            duration=env_int("BENCH_DURATION", 10),
            warmup=env_int("BENCH_WARMUP", 2),
            connections=env_int("BENCH_CONNECTIONS", 32),
            threads=env_int("BENCH_THREADS", 1),
            sessions=env_int("BENCH_SESSIONS", 100),
            memory_checkpoints=(early, late),
            memory_timeout=env_int("BENCH_MEMORY_TIMEOUT", 300),
            reseed=os.environ.get("BENCH_RESEED") == "1",
            workers=int(workers) if workers else None,
            pages=pages,
            memory=os.environ.get("BENCH_MEMORY", "1") != "0",
        )


def say(message: str = "") -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------
# Tools and services the benchmark needs, with messages that say how to get them.


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("wrk is missing; installing Debian's wrk with apt-get...")
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        for command in (install, ["apt-get", "update", "-q"], install):
            subprocess.run(command, check=False, timeout=600, capture_output=True)  # noqa: S603
            found = shutil.which("wrk")
            if found:
                return found
    raise BenchError(
        "wrk (the HTTP load generator) is not installed and could not be installed here. "
        "Install it with: sudo apt-get install wrk"
    )


def connect(url: str, **options):
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
    parts = urlsplit(url)
    return parts._replace(path="/" + name).geturl()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# The database: migrated, the course imported, N learners seeded (or reused).


def flask_env(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "FLASK_APP")}
    env.update(APP_ENV="development", DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    return env


def run_step(description: str, command: list[str], env: dict[str, str], timeout: int) -> str:
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
        # The code may have moved on since it was seeded: bring schema and course up to date.
        run_step("migrating", [*flask, "db", "upgrade"], env, timeout=600)
        run_step("importing the course", [*flask, "courses", "import", "courses/naltrexone"], env, timeout=300)
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
        for line in process.stdout:
            output.append(line)
            say("    " + line.rstrip())
        process.wait(timeout=3600)
    except subprocess.TimeoutExpired:
        process.kill()
        raise BenchError("Seeding took over an hour; stopped.") from None
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
    return url, {**facts, "reused": False}


# ---------------------------------------------------------------------------------------------
# gunicorn: the app, or the ceiling, on a free loopback port, stopped by its own pid.


class Server:
    def __init__(self, app: str, env: dict[str, str], log: Path, extra: tuple[str, ...] = ()):
        self.port = free_port()
        self.log = log
        self.env = env
        # As gunicorn.conf.py decides, unless --workers or WEB_CONCURRENCY says otherwise.
        workers = extra[extra.index("--workers") + 1] if "--workers" in extra else env.get("WEB_CONCURRENCY")
        self.expected_workers = int(workers) if workers else (os.cpu_count() or 1) * 2 + 1
        self.command = [
            str(VENV_BIN / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            *extra,
            app,
        ]
        self.start()

    def start(self) -> None:
        self.handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            self.command, cwd=ROOT, env=self.env, stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"gunicorn exited at start (code {self.process.returncode}); see {self.log}:\n" + tail(self.log)
                )
            try:
                status, _, _ = http_request(self.port, "GET", "/healthz", timeout=2)
                # The ceiling has no health check but answers every path; wait for every worker too.
                if status == 200 and len(self.workers()) >= self.expected_workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise BenchError(f"gunicorn did not answer within {timeout:.0f} s; see {self.log}")

    def workers(self) -> list[int]:
        """The worker processes: children of the gunicorn master."""
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                children.append(int(entry.name))
        return sorted(children)

    def stop(self, *, quick: bool = False) -> None:
        """Stop gunicorn: gracefully (SIGTERM), or at once (SIGINT) dropping queued requests."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT if quick else signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.handle.close()

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def worker_timeouts(self, since: int) -> int:
        """WORKER TIMEOUT lines in the log after byte ``since``: requests gunicorn aborted."""
        with self.log.open("rb") as log:
            log.seek(since)
            return log.read().count(b"WORKER TIMEOUT")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def tracebacks(log: Path, limit: int = 3) -> list[str]:
    """The first few tracebacks in a gunicorn log: the errors behind failed requests.

    A worker stopped at once by the benchmark (to drop a queue) logs ``SystemExit: 0`` from
    inside its request; those are left out. gunicorn's WORKER TIMEOUT shows as ``SystemExit: 1``.
    """
    found, current = [], None
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback (most recent call last)"):
            current = [line]
        elif current is not None:
            current.append(line)
            if line and not line.startswith((" ", "\t")):
                if line.strip() != "SystemExit: 0":
                    found.append("\n".join(current))
                current = None
                if len(found) >= limit:
                    break
    return found


# ---------------------------------------------------------------------------------------------
# A tiny HTTP client that keeps the session cookie itself (the production cookie is Secure,
# so a cookie jar would not send it over plain HTTP on loopback).


def http_request(port: int, method: str, path: str, *, cookies=None, body: dict | None = None, timeout=30):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"User-Agent": USER_AGENT}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    data = None
    if body is not None:
        data = urlencode(body, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        content = response.read().decode("utf-8", errors="replace")
        if cookies is not None:
            for header in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if "expires=thu, 01 jan 1970" in header.lower() or "max-age=0" in header.lower() or not value:
                    cookies.pop(name.strip(), None)
                else:
                    cookies[name.strip()] = value
        return response.status, response.getheader("Location"), content
    finally:
        connection.close()


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class UserSession:
    email: str
    cookies: dict = field(default_factory=dict)
    lesson_path: str = ""
    quiz_body: dict = field(default_factory=dict)
    lesson_html: str = ""

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


def log_in(port: int, email: str, password: str) -> UserSession:
    user = UserSession(email)
    status, _, page = http_request(port, "GET", "/auth/login", cookies=user.cookies)
    token = CSRF.search(page)
    if status != 200 or not token:
        raise BenchError(f"The login page answered {status} without a CSRF token.")
    body = {"email": email, "password": password, "csrf_token": token.group(1)}
    status, location, page = http_request(port, "POST", "/auth/login", cookies=user.cookies, body=body)
    if status != 302:
        raise BenchError(f"Logging in as {email} answered {status}, not a redirect:\n{page[:500]}")
    http_request(port, "GET", location or "/", cookies=user.cookies)  # shows (and clears) the welcome flash
    return user


QUESTION_INPUT = re.compile(r'name="question-(\d+)" value="(\d+)"')


def prepare_learner(port: int, user: UserSession) -> None:
    """Find the learner's current lesson and its quiz, as the browser would, for the load runs."""
    status, location, _ = http_request(port, "GET", f"/courses/{COURSE}/continue", cookies=user.cookies)
    if status != 302 or not location:
        raise BenchError(f"/courses/{COURSE}/continue answered {status} for {user.email}")
    path = urlsplit(location).path
    if "/lessons/" not in path:  # finished: the certificate; take the last lesson
        _, _, course_page = http_request(port, "GET", f"/courses/{COURSE}/", cookies=user.cookies)
        lessons = re.findall(rf'href="(/courses/{COURSE}/lessons/[^"/]+)"', course_page)
        path = lessons[-1]
    user.lesson_path = path
    status, _, user.lesson_html = http_request(port, "GET", path, cookies=user.cookies)
    if status != 200:
        raise BenchError(f"The lesson page {path} answered {status} for {user.email}")
    status, _, quiz = http_request(port, "GET", path + "/quiz", cookies=user.cookies)
    token = CSRF.search(quiz)
    if status != 200 or not token:
        raise BenchError(f"The quiz page {path}/quiz answered {status} for {user.email}")
    first_choice: dict[str, str] = {}
    for question, choice in QUESTION_INPUT.findall(quiz):
        first_choice.setdefault(f"question-{question}", choice)  # a valid answer: each question's first choice
    user.quiz_body = {"csrf_token": token.group(1), "submission_key": "{KEY}", **first_choice}


# ---------------------------------------------------------------------------------------------
# wrk


@dataclass
class Page:
    name: str
    expected: str  # statuses that count as success
    lines: list[str]
    what: str = ""


def request_line(method: str, path: str, cookie: str, body: str = "-") -> str:
    return f"{method}\t{path}\t{cookie}\t{body}"


def quiz_post_body(user: UserSession) -> str:
    # urlencode would escape the braces of {KEY}; the key is put in place by wrk.lua.
    return urlencode(user.quiz_body).replace("%7BKEY%7D", "{KEY}")


def build_pages(learners: list[UserSession], counsellor: UserSession, client_ids: list[int], admin: UserSession):
    def each(method, path_of, body_of=None):
        return [request_line(method, path_of(u), u.cookie_header, body_of(u) if body_of else "-") for u in learners]

    counsellor_get = [request_line("GET", "/counsel/", counsellor.cookie_header)]
    client_gets = [request_line("GET", f"/counsel/clients/{cid}", counsellor.cookie_header) for cid in client_ids]
    return [
        Page("landing", "200", each("GET", lambda u: "/"), "/ as a logged-in learner"),
        Page("course overview", "200", each("GET", lambda u: f"/courses/{COURSE}/"), "the course page"),
        Page("lesson", "200", each("GET", lambda u: u.lesson_path), "each learner's current lesson"),
        Page("quiz page", "200", each("GET", lambda u: u.lesson_path + "/quiz"), "that lesson's quiz"),
        Page(
            "quiz submission",
            "302",
            each("POST", lambda u: u.lesson_path + "/quiz", quiz_post_body),
            "POST of every question's first choice, a valid CSRF token and a fresh submission key "
            "per request (each records a new attempt); 302 to the attempt",
        ),
        Page("/me/", "200", each("GET", lambda u: "/me/"), "the learner's own page"),
        Page("counsellor dashboard", "200", counsellor_get, "/counsel/, first page, sorted by name"),
        Page("one client", "200", client_gets, "/counsel/clients/<id> over up to 100 of the counsellor's clients"),
        Page(
            "question analytics",
            "200",
            [request_line("GET", "/author/analytics", admin.cookie_header)],
            "/author/analytics as the admin",
        ),
    ]


def run_wrk(
    wrk: str, settings: Settings, port: int, page: Page, workdir: Path, duration: int, stop_after: int = 0
) -> dict:
    """Run wrk on one page for ``duration`` seconds, or until ``stop_after`` responses if given."""
    slug = re.sub(r"\W+", "-", page.name).strip("-")
    requests_file = workdir / f"{slug}.tsv"
    requests_file.write_text("\n".join(page.lines) + "\n")
    per_thread = math.ceil(stop_after / settings.threads) if stop_after else 0
    marker = workdir / f"{slug}.done"
    for old in workdir.glob(f"{slug}.done.*"):
        old.unlink()
    command = [
        wrk,
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(BENCH / "wrk.lua"),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests_file),
        page.expected,
        str(per_thread),
        str(marker),
    ]
    output = workdir / f"{slug}.wrk.out"
    with output.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)  # noqa: S603
        try:
            deadline = time.monotonic() + duration + 60
            interrupted = False
            while process.poll() is None and time.monotonic() < deadline:
                if per_thread and not interrupted and len(list(workdir.glob(f"{slug}.done.*"))) >= settings.threads:
                    process.send_signal(signal.SIGINT)  # wrk stops, prints its results and runs done()
                    interrupted = True
                time.sleep(0.1)
            if process.poll() is None:
                raise BenchError(f"wrk did not finish its {duration} s run of {page.name}")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    stdout = output.read_text(errors="replace")
    line = next((line for line in stdout.splitlines() if line.startswith("WRKJSON ")), None)
    if line is None:
        raise BenchError(f"wrk failed on {page.name} (exit {process.returncode}):\n{stdout}")
    data = json.loads(line.removeprefix("WRKJSON "))
    seconds = data["duration_us"] / 1e6
    socket_errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
    detail = {
        key: data[key]
        for key in ("connect_errors", "read_errors", "write_errors", "timeouts", "unexpected_status")
        if data[key]
    }
    if data["unexpected_by_status"]:
        detail["statuses"] = data["unexpected_by_status"]
    return {
        "requests": data["requests"],
        "seconds": round(seconds, 2),
        "rps": round(data["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(data["p50_us"] / 1000, 2),
        "p90_ms": round(data["p90_us"] / 1000, 2),
        "p99_ms": round(data["p99_us"] / 1000, 2),
        "max_ms": round(data["max_us"] / 1000, 2),
        "errors": socket_errors + data["unexpected_status"],
        "error_detail": detail,
        "kib_per_response": round(data["bytes"] / max(1, data["requests"]) / 1024, 1),
    }


def measure(wrk: str, settings: Settings, server: Server, page: Page, workdir: Path, database_url: str | None):
    """Warm up, time a few requests alone, then load the page; settle the server after each run."""
    if settings.warmup:
        run_wrk(wrk, settings, server.port, page, workdir, settings.warmup)
        settle(server, database_url)
    alone = time_alone(server.port, page)
    settle(server, database_url)
    # With the server idle, whatever keeps the CPUs busy belongs to someone else: record it.
    background = background_cpu()
    log_start = server.log_size()
    numbers = run_wrk(wrk, settings, server.port, page, workdir, settings.duration)
    numbers["worker_timeouts"] = server.worker_timeouts(log_start)
    numbers["errors"] += numbers["worker_timeouts"]
    settle(server, database_url)
    return {**numbers, "alone_ms": alone, "background_cpu": background}


def time_alone(port: int, page: Page, budget: float = 60) -> float | None:
    """Median time of up to 5 requests sent one at a time (service time, with no queue)."""
    method, path, cookie, body = page.lines[0].split("\t")
    if method != "GET":
        return None
    jar = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
    times: list[float] = []
    deadline = time.monotonic() + budget
    while len(times) < 5 and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            http_request(port, "GET", path, cookies=dict(jar), timeout=max(1.0, deadline - started))
        except OSError:
            break
        times.append(time.monotonic() - started)
    return round(sorted(times)[len(times) // 2] * 1000, 1) if times else None


def one_line(numbers: dict) -> str:
    alone = f", {numbers['alone_ms']:.0f} ms alone" if numbers.get("alone_ms") is not None else ""
    if not numbers["requests"]:
        return f"no request completed in {numbers['seconds']:.0f} s; {numbers['errors']} errors{alone}"
    return (
        f"{numbers['rps']:.0f} req/s, p50 {numbers['p50_ms']:.1f} ms, p99 {numbers['p99_ms']:.1f} ms, "
        f"{numbers['errors']} errors{alone}"
    )


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def background_cpu(seconds: float = 1.0) -> float:
    """Share of the machine's CPU in use while the benchmark itself is idle (0 to 1)."""
    busy_before, total_before = cpu_times()
    time.sleep(seconds)
    busy_after, total_after = cpu_times()
    return round((busy_after - busy_before) / max(1, total_after - total_before), 3)


def settle(server: Server, database_url: str | None, patience: float = 15) -> None:
    """Make sure nothing wrk left behind slows the next run. gunicorn's sync workers go on
    serving requests whose clients have gone; if the server is not answering promptly within
    ``patience`` seconds, restart it (dropping the queue) and cancel its leftover queries."""
    deadline = time.monotonic() + patience
    quick = 0
    while time.monotonic() < deadline and quick < 2:
        started = time.monotonic()
        try:
            http_request(server.port, "GET", "/healthz", timeout=max(0.5, deadline - started))
            quick = quick + 1 if time.monotonic() - started < 0.5 else 0
        except OSError:
            quick = 0
        if quick < 2:
            time.sleep(0.2)
    if quick < 2:
        say("    (requests were still queued after the run: restarting gunicorn to drop them)")
        server.stop(quick=True)
        if database_url:
            quiesce_database(database_url, wait=2)
        server.start()
    elif database_url:
        quiesce_database(database_url, wait=30)


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


# ---------------------------------------------------------------------------------------------
# One population size, start to finish.


def app_env(database_url: str, secret: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "FLASK_APP", "FLASK_DEBUG")}
    env.update(
        APP_ENV="production",
        SECRET_KEY=secret,
        DATABASE_URL=database_url,
        PROXY_HOPS="0",
        PUBLIC_URL="http://127.0.0.1",  # production requires it; the Host wrk sends must match it
        # The pool logs in through the real form from one address: lift the per-address login limit.
        RATELIMIT_LOGIN="100000 per minute",
        PYTHONUNBUFFERED="1",
    )
    return env


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


def bench_size(wrk: str, settings: Settings, learners: int, workdir: Path) -> dict:
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


# ---------------------------------------------------------------------------------------------
# Report


def print_report(run: dict) -> None:
    say(
        f"\n{run['learners']:,} learners ({run['workers']} gunicorn workers, {run['sessions']} learner sessions, "
        f"counsellor with {run['counsellor_clients']} clients)"
    )
    seeding = run["seeding"]
    if seeding.get("seconds"):
        again = " (earlier run; database reused)" if seeding.get("reused") else ""
        say(f"seeding: {seeding['seconds']:.0f} s{again}")
    columns = ("req/s", "p50 ms", "p99 ms", "errors", "x ceiling", "alone ms", "busy before")
    header = f"{'page':<22}" + "".join(f"{column:>12}" for column in columns)
    say(header)
    say("-" * len(header))
    rows = [*run["pages"].items(), ("ceiling (bare Flask)", {**run["ceiling"], "x_ceiling": 1.0})]
    for name, n in rows:
        answered = n["requests"] > 0
        cells = (
            f"{n['rps']:.1f}" if answered else "none",
            f"{n['p50_ms']:.1f}" if answered else "-",
            f"{n['p99_ms']:.1f}" if answered else "-",
            str(n["errors"]),
            f"{n['x_ceiling']:.2f}" if n.get("x_ceiling") is not None else "-",
            f"{n['alone_ms']:.1f}" if n.get("alone_ms") is not None else "-",
            f"{n['background_cpu']:.0%}",
        )
        say(f"{name:<22}" + "".join(f"{cell:>12}" for cell in cells))
    say("(alone ms: median of 5 requests sent one at a time; busy before: CPU in use by other processes")
    say(" just before the run, with the benchmark idle: above a few percent, something else competed)")
    for name, n in rows:
        if not n["requests"]:
            say(f"{name}: no request completed within the {n['seconds']:.0f} s run")
        if n["errors"]:
            detail = {
                **n["error_detail"],
                **({"worker_timeouts": n["worker_timeouts"]} if n["worker_timeouts"] else {}),
            }
            say(f"errors on {name}: {detail}")
    for trace in run.get("tracebacks", []):
        say("\nerror in the app log:\n" + trace)
    memory = run.get("memory")
    if memory is None:
        return
    say(f"\nmemory (RSS per worker, KiB) after {memory['requests_early']:,} and {memory['requests_late']:,} requests:")
    for row in memory["workers"]:
        growth = f"{row['growth']:+.1%}" if row["growth"] is not None else "n/a"
        say(f"  worker {row['pid']}: {row['rss_kib_early']} -> {row['rss_kib_late']} ({growth})")
    verdict = "yes" if memory["within_10_percent"] else "NO"
    say(f"  every worker within 10%: {verdict}")
    if not memory["reached_late_checkpoint"]:
        say("  (the late checkpoint was not reached within BENCH_MEMORY_TIMEOUT)")


def growth(runs: list[dict]) -> dict:
    if len(runs) < 2:
        return {}
    small, large = min(runs, key=lambda r: r["learners"]), max(runs, key=lambda r: r["learners"])
    table = {}
    for name, numbers in large["pages"].items():
        before = small["pages"].get(name)
        if before and before["p99_ms"]:
            table[name] = round(numbers["p99_ms"] / before["p99_ms"], 2) if numbers["requests"] else None
    say(f"\np99 at {large['learners']:,} / p99 at {small['learners']:,} learners (target: within 2x):")
    for name, ratio in table.items():
        if ratio is None:
            say(f"  {name:<22}   none completed at {large['learners']:,}")
        else:
            say(f"  {name:<22}{ratio:>6.2f}x{'' if ratio <= 2 else '  over 2x'}")
    return {"small": small["learners"], "large": large["learners"], "p99_ratio": table}


def machine_facts(wrk: str, url: str) -> dict:
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
