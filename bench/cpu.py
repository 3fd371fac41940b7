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
configuration and logs seeded learners in through the form: 20 read (``BENCH_CPU_READERS`` to
change it), each page of each reader in turn, and one submits (its attempts add to its own
history, which a reader's pages would show). It measures the targets in turn, a batch of each
per round (reference, lesson, quiz page, ..., then again), taking each one's median over the
rounds: the machine's speed drifts by a third within an hour here, and interleaving makes the
drift hit every target alike. PostgreSQL's CPU is read from /proc for every process named
postgres, so anything else using the database server meanwhile counts too: run it on a quiet
machine, and not beside ``make bench``.

To measure what a change saves, A/B in one process:

    BENCH_LEARNERS=1000 BENCH_VARIANT=variant.py python -m bench.cpu

``variant.py`` defines ``on()`` and ``off()``, which switch the change in and out of the
running app (monkeypatching, say). Every round measures each page with the change off and
with it on, in alternating order, and the report gives both medians and the difference.

To see which functions spend a page's CPU (bench/pieces.py), name them:

    BENCH_LEARNERS=1000 BENCH_CPU_PIECES=app.auth.routes:signed_in_user,flask.app:Flask.process_response \\
        python -m bench.cpu
"""

from __future__ import annotations

import importlib.util
import itertools
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
from bench.client import QUESTION_INPUT, quiz_shown
from bench.pieces import pieces_report, targets_from, timed
from bench.proc import postgres_cpu_seconds
from bench.settings import COURSE, BenchError, Settings, say

MEASURE = "BENCH_CPU_DATABASE_URL"  # set for the measuring process: the database main() prepared
READERS = "BENCH_CPU_READERS"  # how many seeded learners' pages are read, in turn (20 unless set)
PIECES = "BENCH_CPU_PIECES"  # functions to time inside each page instead (bench/pieces.py)
PROFILE = "BENCH_CPU_PROFILE"  # pages to profile with cProfile instead (comma-separated, or "all")
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
    warm: bool = True,
    database: Callable[[], float] = postgres_cpu_seconds,
) -> Cost:
    """The median over ``batches`` batches of ``count`` calls of each one's cost, after one call to warm up
    (unless ``warm`` is False)."""
    if warm:
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


def interleaved_costs(
    calls: dict[str, Callable[[], object]],
    *,
    count: int = 200,
    rounds: int = 7,
    database: Callable[[], float] = postgres_cpu_seconds,
    between: Callable[[int], None] | None = None,
) -> dict[str, Cost]:
    """Each call's median cost over ``rounds`` rounds, every round a batch of ``count`` of each call in turn.

    One call of each warms up first. ``between(n)``, if given, runs before round ``n``'s
    batches (an A/B run switches a change there).
    """
    for call in calls.values():
        call()
    seen: dict[str, list[Cost]] = {name: [] for name in calls}
    for number in range(rounds):
        if between is not None:
            between(number)
        for name, call in calls.items():
            seen[name].append(cost_per_request(call, count=count, batches=1, warm=False, database=database))
    return {
        name: Cost(
            statistics.median(cost.app_ms for cost in costs),
            statistics.median(cost.database_ms for cost in costs),
            statistics.median(cost.wall_ms for cost in costs),
        )
        for name, costs in seen.items()
    }


def ab_costs(
    calls: dict[str, Callable[[], object]],
    switch: Callable[[bool], None],
    *,
    count: int = 200,
    rounds: int = 10,
    database: Callable[[], float] = postgres_cpu_seconds,
) -> dict[str, tuple[Cost, Cost]]:
    """Each call's median cost with a change off and on: (off, on).

    Every round switches the change (``switch(False)``, ``switch(True)``) and measures a batch of
    each call in both states, off first in even rounds and on first in odd ones, so neither
    state always runs on a warmer or a colder process.
    """
    seen: dict[tuple[str, bool], list[Cost]] = {(name, state): [] for name in calls for state in (False, True)}
    for number in range(rounds):
        for state in (False, True) if number % 2 == 0 else (True, False):
            switch(state)
            for name, call in calls.items():
                seen[(name, state)].append(cost_per_request(call, count=count, batches=1, database=database))
    medians = {
        key: Cost(
            statistics.median(cost.app_ms for cost in costs),
            statistics.median(cost.database_ms for cost in costs),
            statistics.median(cost.wall_ms for cost in costs),
        )
        for key, costs in seen.items()
    }
    return {name: (medians[(name, False)], medians[(name, True)]) for name in calls}


def ab_report(costs: dict[str, tuple[Cost, Cost]]) -> str:
    """A table of each call's CPU with the change off and on, and what it saved of each (us, and % of the total).

    The app's and the database's savings are given apart: PostgreSQL's CPU is counted in clock
    ticks (10 ms over a batch), so its figures move in steps and the app's are the finer.
    """
    lines = [
        f"{'page':<18} {'off app':>8} {'on app':>8} {'off db':>7} {'on db':>7} {'app saved':>10} {'db saved':>9}"
        f" {'saved':>7}"
    ]
    for name, (off, on) in costs.items():
        app_saved, db_saved = (off.app_ms - on.app_ms) * 1000, (off.database_ms - on.database_ms) * 1000
        share = (app_saved + db_saved) / (off.total_ms * 1000) * 100 if off.total_ms else float("nan")
        lines.append(
            f"{name:<18} {off.app_ms:8.3f} {on.app_ms:8.3f} {off.database_ms:7.3f} {on.database_ms:7.3f}"
            f" {app_saved:10.0f} {db_saved:9.0f} {share:6.1f}%"
        )
    lines.append("(medians of the rounds, ms per request; saved: off minus on, in us, and the total's share)")
    return "\n".join(lines)


def load_variant(path: str) -> Callable[[bool], None]:
    """The switch of the variant file at ``path``: its ``on()`` for True, its ``off()`` for False."""
    spec = importlib.util.spec_from_file_location("bench_variant", path)
    if spec is None or spec.loader is None:
        raise BenchError(f"BENCH_VARIANT: {path} is not a Python file.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "on", None)) or not callable(getattr(module, "off", None)):
        raise BenchError(f"BENCH_VARIANT: {path} must define on() and off().")
    return lambda state: module.on() if state else module.off()


def in_turn(calls: list[Callable[[], object]]) -> Callable[[], object]:
    """A call that makes the next of ``calls`` each time, the first again after the last."""
    turn = itertools.cycle(calls)
    return lambda: next(turn)()


def time_pieces(page: str, call: Callable[[], object], targets: list[str], *, count: int) -> str:
    """``bench.pieces``' report of ``count`` calls of ``call`` (after a tenth as many to warm up)."""
    with timed(targets) as spent:
        for _ in range(max(1, count // 10)):
            call()
        spent.clear()
        started = time.process_time()
        for _ in range(count):
            call()
        total = time.process_time() - started
    return pieces_report(page, targets, spent, count, total)


def profile_report(page: str, call: Callable[[], object], *, count: int, saved: Path, limit: int = 30) -> str:
    """cProfile's table of ``count`` calls of ``call`` (after a tenth as many to warm up): the
    functions that spend the most CPU of their own, with what each spends inclusive of its callees.
    The whole profile is written to ``saved``, for ``pstats`` (sorted by what it includes, say).

    cProfile's own overhead inflates functions that make many small calls, so read it for where
    to look, and measure a change with BENCH_VARIANT.
    """
    import cProfile
    import io
    import pstats

    for _ in range(max(1, count // 10)):
        call()
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    profiler.dump_stats(saved)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    return f"== {page}: {count} requests (all of it in {saved}, for pstats)\n" + out.getvalue()


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
    body = {"csrf_token": token.group(1), **quiz_shown(page)}
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
    say(f"CPU per request at {settings.learners[0]:,} learners (medians of interleaved rounds; ms):")
    measured = subprocess.run([sys.executable, "-m", "bench.cpu"], env=_production_environment(url), check=False)  # noqa: S603
    if measured.returncode:
        sys.exit(measured.returncode)  # the measuring process said why


def measure(url: str) -> None:
    """Measure each learner page and the submission, and the reference's, on the database at ``url``."""
    from app import create_app
    from app.devdata.population import SEED_PASSWORD
    from bench.database import connect, pick_accounts
    from bench.reference import sign_session

    pool, _, _, _ = pick_accounts(url, Settings.from_environment())
    reader_email, writer_email = pool[0], pool[1]
    count = max(1, int(os.environ.get(READERS, "20")))
    app = create_app()
    readers = [signed_in_client(app, email, SEED_PASSWORD) for email in [reader_email, *pool[2 : count + 1]]]
    reader, writer = readers[0], signed_in_client(app, writer_email, SEED_PASSWORD)
    lessons, written = [current_lesson(client) for client in readers], current_lesson(writer)
    lesson = lessons[0]
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

    # Each page read for every reader in turn: learners' pages differ (their lists, their state),
    # and one learner's page alone would miss what the others' cost. A first visit records the
    # lesson as opened: each is made once here, before anything is measured.
    pages = {
        "lesson": [getting(client, path) for client, path in zip(readers, lessons, strict=True)],
        "quiz page": [getting(client, path + "/quiz") for client, path in zip(readers, lessons, strict=True)],
        "course overview": [getting(client, f"/courses/{COURSE}/") for client in readers],
        "/me/": [getting(client, "/me/") for client in readers],
    }
    for calls in pages.values():
        for call in calls:
            call()
    pages = {page: in_turn(calls) for page, calls in pages.items()}
    submission = submitting(writer, written, body)
    pieces = targets_from(os.environ.get(PIECES, ""))
    if pieces:  # where each page's CPU goes, function by function
        for page, call in {**pages, "quiz submission": submission}.items():
            print(time_pieces(page, call, pieces, count=300 if page == "quiz submission" else 2000))
        return
    profiled = os.environ.get(PROFILE, "")
    if profiled:  # cProfile's view of each named page
        targets = {**pages, "quiz submission": submission}
        names = list(targets) if profiled == "all" else [name.strip() for name in profiled.split(",")]
        unknown = [name for name in names if name not in targets]
        if unknown:
            raise BenchError(f"{PROFILE}: no page named {', '.join(unknown)} (pages: {', '.join(targets)}).")
        for name in names:
            saved = Path(tempfile.gettempdir()) / f"bench-cpu-{re.sub(r'[^a-z]+', '-', name).strip('-') or 'me'}.prof"
            print(profile_report(name, targets[name], count=300 if name == "quiz submission" else 2000, saved=saved))
        return
    variant = os.environ.get("BENCH_VARIANT")
    if variant:  # the change off and on, in this one process
        switch = load_variant(variant)
        costs = ab_costs(pages, switch) | ab_costs({"quiz submission": submission}, switch, count=100)
        print(ab_report(costs))
        return
    read = interleaved_costs({"reference": getting(reference_reader, lesson), **pages})
    write = interleaved_costs(
        {"write reference": submitting(reference_writer, written, body), "quiz submission": submission}, count=100
    )
    rows = [(name, read[name], read["reference"]) for name in pages]
    rows.append(("quiz submission", write["quiz submission"], write["write reference"]))
    print(report(rows))


if __name__ == "__main__":
    try:
        if os.environ.get(MEASURE):
            measure(os.environ[MEASURE])
        else:
            main()
    except BenchError as error:
        sys.exit(f"bench.cpu: {error}")
