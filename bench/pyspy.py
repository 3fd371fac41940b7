"""py-spy's view of a server as gunicorn serves it under load (``BENCH_PYSPY=1``).

``make bench-cpu`` profiles pages in one process through Flask's test client, which leaves out
what gunicorn does around each request and puts the test client's own work in. Here py-spy
samples the gunicorn workers from outside while wrk loads a page, once more after the measured
rounds (so the sampling never slows a measured run), and the samples are summed up by function:
the share of samples in which a function was on the stack (inclusive) and at its top (self),
and the share in each part of a request (``PARTS``).

py-spy samples a worker only when it is running or ready to run: a worker asleep on a socket,
waiting for PostgreSQL's answer or for the next request, is not sampled (a process blocked in
``recv`` gives no samples at all). A worker ready to run still waits for one of the machine's
cores, and under load that wait is part of its samples, wherever it happens (just after
PostgreSQL answers, often). So a share is of the workers' time running or ready to run, which
is more than their CPU, and the database driver's share includes the wait for a core after
each answer.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import shutil
import subprocess  # noqa: S404 - the benchmark runs py-spy on its own gunicorn
import time
from pathlib import Path

from bench.load import Page, run_wrk, settle
from bench.rounds import APP
from bench.server import Server
from bench.settings import VENV_BIN, BenchError, Settings, say

SAMPLES_A_SECOND = 200  # py-spy's default is 100; more samples, steadier shares over a 5 s run

# A frame in py-spy's raw (collapsed) output: "function (path/to/file.py:line)".
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?):(?P<line>\d+)\)$")

# Where each part of a request's time goes, decided by the frames on the stack, in this order:
# the first part whose test holds takes the sample.
# A marker is the start of a frame's file as py-spy shortens it.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("the database driver (sending, waiting, reading)", ("psycopg/", "psycopg_c/")),
    ("the page's own code and what it calls (the reference's: bench/)", ("app/", "bench/")),
    ("Flask, Werkzeug and the extensions", ("flask", "werkzeug/")),
    ("gunicorn around the request (parsing, writing, logging)", ("gunicorn/",)),
)
OTHER = "anything else"

# gunicorn's own frames: its package's files and its script (``<module> (gunicorn)``).
GUNICORN_FRAME = re.compile(r"\(gunicorn[/)]")

PYSPY_PREFIX = "pyspy-"  # the raw stacks' files, kept with the servers' logs in bench/results/logs/


@dataclasses.dataclass(frozen=True)
class Profile:
    """Samples summed up: the share of each function, inclusive (gunicorn's own frames left out:
    they hold every request, and its share is in ``parts``) and self, and of each part."""

    samples: int
    inclusive: list[tuple[float, str]]
    self_time: list[tuple[float, str]]
    parts: list[tuple[float, str]]
    requests: int | None = None  # served while recording: gives each share in ms a request

    def ms_per_request(self, share: float) -> float | None:
        """A share of the samples as a worker's milliseconds running or ready to run, per request
        (each sample stands for 1/SAMPLES_A_SECOND s of one worker), so two servers' profiles
        compare in time, not only in shares of their own totals."""
        if not self.requests:
            return None
        return share * self.samples * 1000 / SAMPLES_A_SECOND / self.requests

    def as_json(self) -> dict:
        """The profile as the results file keeps it."""
        return {
            "samples": self.samples,
            "requests": self.requests,
            "inclusive": [[round(share, 4), name] for share, name in self.inclusive],
            "self": [[round(share, 4), name] for share, name in self.self_time],
            "parts": [[round(share, 4), name, self.ms_per_request(share)] for share, name in self.parts],
        }


def pyspy() -> str:
    """The py-spy program (installed with the dev requirements), or a BenchError saying how to get it."""
    found = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
    if not found:
        raise BenchError("BENCH_PYSPY=1 needs py-spy: `make install-dev` installs it.")
    return found


def record(pid: int, seconds: int, out: Path) -> subprocess.Popen:
    """Start py-spy sampling gunicorn's master ``pid`` and its workers for ``seconds``, writing
    raw (collapsed) stacks to ``out``. ``--nonblocking``: the workers are never paused to be
    read, so they serve as fast as they would unwatched, bar py-spy's own CPU."""
    command = [pyspy(), "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--format", "raw"]
    command += ["--rate", str(SAMPLES_A_SECOND), "--duration", str(seconds), "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603


def finish(recording: subprocess.Popen, out: Path, timeout: float) -> str:
    """Wait for ``recording`` to end and return what it wrote; a BenchError with py-spy's own
    words if it wrote nothing (it cannot trace without ptrace, in some containers)."""
    try:
        said, _ = recording.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        recording.kill()
        said, _ = recording.communicate()
    if not out.exists() or not out.stat().st_size:
        raise BenchError(f"py-spy recorded nothing (exit {recording.returncode}): {(said or '').strip()[-500:]}")
    return out.read_text()


def short_name(frame: str) -> str:
    """A frame as ``function (file)``, without its line, so a function's samples add up over its
    lines. py-spy has already shortened the file to its package's part (``flask/app.py``,
    ``app/learn/routes.py``), or to the script's name (``gunicorn``)."""
    match = FRAME.match(frame)
    return f"{match['function']} ({match['file']})" if match else frame


def part_of(names: list[str]) -> str:
    """Which part of a request a stack (outermost frame first) belongs to (``PARTS``)."""
    for part, markers in PARTS:
        if any(f"({marker}" in name for name in names for marker in markers):
            return part
    return OTHER


def summarise(raw: str, limit: int = 25) -> Profile:
    """Sum py-spy's raw output up: each line is a stack, outermost frame first, separated by
    ``;``, then a space and its count of samples. The process's own frame is left out."""
    inclusive: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    parts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        names = [short_name(frame) for frame in stack.split(";") if not frame.startswith("process ")]
        if not names:
            continue
        samples = int(count)
        total += samples
        for name in set(names):  # once per stack, however deep the recursion
            if not GUNICORN_FRAME.search(name):  # its frames hold every request: its share is in the parts
                inclusive[name] += samples
        self_time[names[-1]] += samples
        parts[part_of(names)] += samples
    if not total:
        raise BenchError("py-spy's output holds no samples.")

    def shares(counter: collections.Counter[str], count: int | None) -> list[tuple[float, str]]:
        return [(samples / total, name) for name, samples in counter.most_common(count)]

    return Profile(total, shares(inclusive, limit), shares(self_time, limit), shares(parts, None))


def profile_lines(page: str, profile: Profile, shown: int = 12) -> list[str]:
    """The profile as the benchmark prints it: the parts, then the top functions both ways."""
    served = f", {profile.requests:,} requests" if profile.requests else ""
    lines = [f"    py-spy, {page}: {profile.samples:,} samples of the workers running or ready to run{served}"]
    for share, part in profile.parts:
        ms = profile.ms_per_request(share)
        lines.append(f"      {share:6.1%}  " + (f"{ms:5.2f} ms a request  " if ms is not None else "") + part)
    lines.append("      functions on the stack (inclusive):")
    lines += [f"      {share:6.1%}  {name}" for share, name in profile.inclusive[:shown]]
    lines.append("      functions at the top of the stack (self):")
    lines += [f"      {share:6.1%}  {name}" for share, name in profile.self_time[:shown]]
    return lines


def profiles_table(pages: dict[str, dict]) -> list[str]:
    """The report's table of every profiled page: each part's share of the workers' time, the
    app's beside its reference's (from the results file's ``pyspy``); nothing when none ran."""
    profiled = {name: numbers["pyspy"] for name, numbers in pages.items() if numbers.get("pyspy")}
    if not profiled:
        return []
    heads = ("driver", "own code", "Flask", "gunicorn")  # PARTS, in order
    lines = ["", "py-spy: share of the workers' time running or ready to run, app / its reference, by part:"]
    lines.append(f"{'page':<26}" + "".join(f"{head:>16}" for head in heads))
    for name, profiles in profiled.items():
        app = profiles.get(APP)
        reference = next((profile for target, profile in profiles.items() if target != APP), None)
        cells = [f"{_share(app, part)} / {_share(reference, part)}" for part, _ in PARTS]
        lines.append(f"{name:<26}" + "".join(f"{cell:>16}" for cell in cells))
    lines.append("(driver: the database driver, sending, waiting for a core and reading; own code: the page's")
    lines.append(" code and what it calls; Flask: Flask, Werkzeug and the extensions; gunicorn: around the request)")
    return lines


def _share(profile: dict | None, part: str) -> str:
    """One part's share in a profile as the results file keeps it ("-" without the profile)."""
    if not profile:
        return "-"
    shares = {name: share for share, name, *_ in profile["parts"]}
    return f"{shares.get(part, 0):.0%}"


def profile_run(
    wrk: str, settings: Settings, server: Server, page: Page, database_url: str | None, workdir: Path, name: str
) -> dict:
    """One more run of ``page`` on ``server``, watched by py-spy and not measured (py-spy takes
    CPU of its own); its profile is printed and returned for the results file. The raw stacks
    are kept in bench/results/logs/ with the servers' logs."""
    out = workdir / (PYSPY_PREFIX + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".txt")
    recording = record(server.process.pid, settings.duration + 1, out)
    time.sleep(0.5)  # py-spy finds every worker before the load starts
    served = run_wrk(wrk, settings, server.port, page, workdir, settings.duration)["requests"]
    raw = finish(recording, out, timeout=settings.duration + 30)
    settle(server, database_url)
    profile = dataclasses.replace(summarise(raw), requests=served)
    for line in profile_lines(name, profile):
        say(line)
    return profile.as_json()
