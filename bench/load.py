"""Driving a page with wrk (bench/wrk.lua): the request lines per page, a run and its numbers,
and settling the server between runs."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess  # noqa: S404 - the benchmark runs gunicorn, wrk and flask
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.client import UserSession, http_request
from bench.database import quiesce_database
from bench.proc import CpuSample, cpu_per_request
from bench.server import Server, background_cpu
from bench.settings import BENCH, COURSE, BenchError, Settings, say


def ensure_wrk() -> str:
    """wrk's path; installed from Debian when missing and running as root."""
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


@dataclass
class Page:
    """A page to load: the request lines wrk picks from, the statuses that count as success."""

    name: str
    expected: str  # statuses that count as success
    lines: list[str]
    what: str = ""


def request_line(method: str, path: str, cookie: str, body: str = "-") -> str:
    """One line of wrk.lua's requests file."""
    return f"{method}\t{path}\t{cookie}\t{body}"


def quiz_post_body(user: UserSession) -> str:
    # urlencode would escape the braces of {KEY}; the key is put in place by wrk.lua.
    """The learner's quiz answers as a form body, with {KEY} left for wrk.lua to fill."""
    return urlencode(user.quiz_body).replace("%7BKEY%7D", "{KEY}")


def build_pages(learners: list[UserSession], counsellor: UserSession, client_ids: list[int], admin: UserSession):
    """Every page in PAGE_NAMES order, with a request line per session that can ask for it."""

    def each(method, path_of, body_of=None):
        return [request_line(method, path_of(u), u.cookie_header, body_of(u) if body_of else "-") for u in learners]

    counsellor_get = [request_line("GET", "/counsel/", counsellor.cookie_header)]
    client_gets = [request_line("GET", f"/counsel/clients/{cid}", counsellor.cookie_header) for cid in client_ids]
    return [
        Page("landing", "200", each("GET", lambda u: "/"), "/ as a logged-in learner"),
        Page("course overview", "200", each("GET", lambda u: f"/courses/{COURSE}/"), "the course page"),
        Page("lesson", "200", each("GET", lambda u: u.lesson_path), "each learner's current lesson"),
        Page("quiz page", "200", each("GET", lambda u: u.lesson_path + "/quiz"), "that lesson's quiz"),
        Page("/me/", "200", each("GET", lambda u: "/me/"), "the learner's own page"),
        Page("counsellor dashboard", "200", counsellor_get, "/counsel/, first page, sorted by name"),
        Page("one client", "200", client_gets, "/counsel/clients/<id> over up to 100 of the counsellor's clients"),
        Page(
            "question analytics",
            "200",
            [request_line("GET", "/author/analytics", admin.cookie_header)],
            "/author/analytics as the admin",
        ),
        Page(
            "quiz submission",
            "302",
            each("POST", lambda u: u.lesson_path + "/quiz", quiz_post_body),
            "POST of every question's first choice, a valid CSRF token and a fresh submission key "
            "per request (each records a new attempt); 302 to the attempt",
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
    return wrk_numbers(stdout, page_name=page.name, exit_code=process.returncode)


def wrk_numbers(stdout: str, *, page_name: str, exit_code: int | None) -> dict:
    """The numbers of one wrk run, from the ``WRKJSON {...}`` line wrk.lua's done() prints:
    requests, requests/s, latencies in ms, errors (socket errors, timeouts and unexpected
    statuses) with their detail, and the mean response size."""
    line = next((line for line in stdout.splitlines() if line.startswith("WRKJSON ")), None)
    if line is None:
        raise BenchError(f"wrk failed on {page_name} (exit {exit_code}):\n{stdout}")
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


def measure(
    wrk: str,
    settings: Settings,
    server: Server,
    page: Page,
    workdir: Path,
    database_url: str | None,
    *,
    warm_up: bool = True,
):
    """Warm up (unless told not to: a later round of a page already warmed), time a few requests
    alone, then load the page; settle the server after each run."""
    if settings.warmup and warm_up:
        run_wrk(wrk, settings, server.port, page, workdir, settings.warmup)
        settle(server, database_url)
    alone = time_alone(server.port, page)
    settle(server, database_url)
    # With the server idle, whatever keeps the CPUs busy belongs to someone else: record it.
    background = background_cpu(0.5)
    log_start = server.log_size()
    before = CpuSample.of(server.process.pid)
    numbers = run_wrk(wrk, settings, server.port, page, workdir, settings.duration)
    # Read at once: settling below sends requests of its own.
    numbers["cpu_ms"] = cpu_per_request(before, CpuSample.of(server.process.pid), numbers["requests"])
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
