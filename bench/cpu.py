"""CPU per request, in process: the app's and PostgreSQL's, beside the reference's.

``make bench`` drives the pages over HTTP with wrk: the truth about throughput, but a run of
minutes whose rates swing by a tenth from run to run on a shared 2-core machine. This measures
in about a minute what a change moves: the CPU one request costs this process (the app called
through Flask's test client: no gunicorn, no sockets) and PostgreSQL's processes on this
machine, for the learner pages and a quiz submission, and the same for the reference and the
write reference (bench/reference.py, bench/write_reference.py) on the same data. Where the two
totals differ is where a page's req/s falls short of the reference's, and the split says
whether to look in Python or in SQL.

    BENCH_LEARNERS=1000 python -m bench.cpu      # make bench-cpu

It seeds (or reuses) the database as ``make bench`` does, builds the app with the production
configuration, logs two seeded learners in through the form (one reads, one submits: the
submissions add attempts to the writer's history, which the reader's pages would show), and
takes the median of five batches per page. PostgreSQL's CPU is read from /proc for every
process named postgres, so anything else using the database server meanwhile counts too:
run it on a quiet machine, and not beside ``make bench``.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess  # noqa: S404 - the measuring process
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.client import ANY_CSRF as CSRF
from bench.client import QUESTION_INPUT
from bench.proc import postgres_cpu_seconds
from bench.settings import COURSE, BenchError, Settings, say

MEASURE = "BENCH_CPU_DATABASE_URL"  # set for the measuring process: the database main() prepared
BASE_URL = "https://localhost"  # production's cookies are Secure: the test client must ask over https


@dataclass(frozen=True)
class Cost:
    """What one request cost, in milliseconds: this process's CPU, PostgreSQL's CPU, the time taken."""

    app_ms: float
    database_ms: float
    wall_ms: float

    @property
    def total_ms(self) -> float:
        """The CPU of both: what the machine spends on the request."""
        return self.app_ms + self.database_ms


def cost_per_request(
    call: Callable[[], object],
    *,
    count: int = 200,
    batches: int = 5,
    database: Callable[[], float] = postgres_cpu_seconds,
) -> Cost:
    """The median over ``batches`` batches of ``count`` calls of each one's cost, after one call to warm up."""
    call()
    app, db, wall = [], [], []
    for _ in range(batches):
        db_before, cpu_before, wall_before = database(), time.process_time(), time.perf_counter()
        for _ in range(count):
            call()
        wall.append((time.perf_counter() - wall_before) * 1000 / count)
        app.append((time.process_time() - cpu_before) * 1000 / count)
        db.append((database() - db_before) * 1000 / count)
    return Cost(statistics.median(app), statistics.median(db), statistics.median(wall))


def signed_in_client(app, email: str, password: str):
    """A test client of ``app`` logged in through the login form, CSRF token and all."""
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = BASE_URL + "/"  # Flask-WTF checks it on https
    page = client.get("/auth/login", base_url=BASE_URL).get_data(as_text=True)
    token = CSRF.search(page)
    if not token:
        raise BenchError("The login page has no CSRF token.")
    data = {"email": email, "password": password, "csrf_token": token.group(1)}
    response = client.post("/auth/login", data=data, base_url=BASE_URL)
    if response.status_code != 302:
        raise BenchError(f"Logging in as {email} answered {response.status_code}, not a redirect.")
    return client


def current_lesson(client, course: str = COURSE) -> str:
    """The path of the lesson the learner would continue with (the last one once they finished)."""
    location = client.get(f"/courses/{course}/continue", base_url=BASE_URL).headers.get("Location", "")
    if "/lessons/" in location:
        return "/" + location.split("/", 3)[3] if location.startswith("http") else location
    overview = client.get(f"/courses/{course}/", base_url=BASE_URL).get_data(as_text=True)
    lessons = re.findall(rf'href="(/courses/{course}/lessons/[^"/]+)"', overview)
    if not lessons:
        raise BenchError(f"The course {course} has no lessons on its overview.")
    return lessons[-1]


def quiz_body(client, lesson_path: str) -> dict[str, str]:
    """A valid submission of the lesson's quiz (each question's first choice); its key is filled per request."""
    page = client.get(lesson_path + "/quiz", base_url=BASE_URL).get_data(as_text=True)
    token = CSRF.search(page)
    if not token:
        raise BenchError(f"The quiz page {lesson_path}/quiz has no CSRF token.")
    body = {"csrf_token": token.group(1)}
    for question, choice in QUESTION_INPUT.findall(page):
        body.setdefault(f"question-{question}", choice)
    return body


def submitting(client, lesson_path: str, body: dict[str, str]) -> Callable[[], object]:
    """A call that submits the quiz once with a fresh submission key, refusing anything but a redirect."""

    def submit():
        response = client.post(
            lesson_path + "/quiz", data={**body, "submission_key": uuid.uuid4().hex}, base_url=BASE_URL
        )
        if response.status_code != 302:
            raise BenchError(f"A quiz submission answered {response.status_code}, not a redirect.")
        return response

    return submit


def getting(client, path: str) -> Callable[[], object]:
    """A call that GETs ``path``, refusing anything but a 200."""

    def get():
        response = client.get(path, base_url=BASE_URL)
        if response.status_code != 200:
            raise BenchError(f"{path} answered {response.status_code}, not 200.")
        return response

    return get


HEADER = ("page", "app", "database", "total", "wall", "ref app", "ref db", "ref total", "x ref")


def report(rows: list[tuple[str, Cost, Cost]]) -> str:
    """A table of each page's cost beside its reference's, with the ratio of their total CPU."""
    widths = (18, 7, 9, 7, 7, 9, 7, 9, 6)
    lines = [" ".join(f"{name:{'<' if i == 0 else '>'}{widths[i]}}" for i, name in enumerate(HEADER))]
    for page, cost, ref in rows:
        values = (cost.app_ms, cost.database_ms, cost.total_ms, cost.wall_ms, ref.app_ms, ref.database_ms, ref.total_ms)
        ratio = ref.total_ms / cost.total_ms if cost.total_ms else float("nan")
        cells = [f"{page:<18}", *(f"{value:{widths[i + 1]}.2f}" for i, value in enumerate(values)), f"{ratio:6.2f}"]
        lines.append(" ".join(cells))
    lines.append(
        "(x ref: the reference's total CPU over the page's; the submission beside the write reference, the pages\n"
        " beside its lesson. Lower than make bench's req/s ratios: over HTTP both also pay for gunicorn and wrk)"
    )
    return "\n".join(lines)


def _production_environment(database_url: str) -> dict[str, str]:
    """The environment gunicorn serves the app with in ``make bench`` (bench/server.py), over https."""
    from bench.server import app_env

    env = app_env(database_url, "bench-cpu-" + uuid.uuid4().hex)
    env["PUBLIC_URL"] = BASE_URL
    env[MEASURE] = database_url
    return env


def _reference_app(database_url: str, lesson_html: str, lesson_path: str, name: str):
    """The reference app serving the reader's lesson page as captured, and the secret its cookies are signed with."""
    from bench.reference import create_app

    secret = uuid.uuid4().hex * 2
    token = CSRF.search(lesson_html)
    capture = {
        "course": COURSE,
        "headers": {},
        "pages": {
            lesson_path.rsplit("/", 1)[1]: {
                "html": lesson_html,
                "display_name": name,
                "csrf_token": token.group(1) if token else "",
            }
        },
    }
    with tempfile.TemporaryDirectory() as folder:  # read once, as the app is made
        captured = Path(folder) / "reference.json"
        captured.write_text(json.dumps(capture))
        app = create_app({"BENCH_REFERENCE": str(captured), "DATABASE_URL": database_url, "SECRET_KEY": secret})
    return app, secret


def main() -> None:
    """Seed (or reuse) the database of the first size of BENCH_LEARNERS, then measure in a process of its own.

    The configuration is read from the environment when the app is first imported, so the
    measuring process starts with production's environment (bench/server.py's) from the outset.
    """
    from bench.database import prepare_database

    settings = Settings.from_environment()
    url, _ = prepare_database(settings, settings.learners[0])
    say(f"CPU per request at {settings.learners[0]:,} learners (median of 5 batches; ms):")
    subprocess.run([sys.executable, "-m", "bench.cpu"], env=_production_environment(url), check=True)  # noqa: S603


def measure(url: str) -> None:
    """Measure each learner page and the submission, and the reference's, on the database at ``url``."""
    from app import create_app
    from app.devdata.population import SEED_PASSWORD
    from bench.database import connect, pick_accounts
    from bench.reference import sign_session

    pool, _, _, _ = pick_accounts(url, Settings.from_environment())
    reader_email, writer_email = pool[0], pool[1]
    app = create_app()
    reader, writer = (
        signed_in_client(app, reader_email, SEED_PASSWORD),
        signed_in_client(app, writer_email, SEED_PASSWORD),
    )
    lesson, written = current_lesson(reader), current_lesson(writer)
    body = quiz_body(writer, written)
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT email, id, display_name FROM users WHERE email IN (%s, %s)", (reader_email, writer_email)
        ).fetchall()
    ids = {email: user_id for email, user_id, _ in rows}
    name = next(display_name for email, _, display_name in rows if email == reader_email)
    lesson_html = reader.get(lesson, base_url=BASE_URL).get_data(as_text=True)
    reference, secret = _reference_app(url, lesson_html, lesson, name)
    reference_reader, reference_writer = reference.test_client(), reference.test_client()
    reference_reader.set_cookie(
        "session", sign_session(secret, {"uid": ids[reader_email], "csrf": "t"}), domain="localhost"
    )
    reference_writer.set_cookie(
        "session", sign_session(secret, {"uid": ids[writer_email], "csrf": body["csrf_token"]}), domain="localhost"
    )

    reference_read = cost_per_request(getting(reference_reader, lesson))
    reference_write = cost_per_request(submitting(reference_writer, written, body), count=100)
    rows = [
        ("lesson", cost_per_request(getting(reader, lesson)), reference_read),
        ("quiz page", cost_per_request(getting(reader, lesson + "/quiz")), reference_read),
        ("course overview", cost_per_request(getting(reader, f"/courses/{COURSE}/")), reference_read),
        ("/me/", cost_per_request(getting(reader, "/me/")), reference_read),
        ("quiz submission", cost_per_request(submitting(writer, written, body), count=100), reference_write),
    ]
    print(report(rows))


if __name__ == "__main__":
    if os.environ.get(MEASURE):
        measure(os.environ[MEASURE])
    else:
        main()
