"""The benchmark's settings, from environment variables (see bench/README.md), and the paths,
names and accounts every part of it shares."""

from __future__ import annotations

import os
import re
import subprocess  # noqa: S404 - git, to find the commit BENCH_COMPARE names
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


BENCH = ROOT / "bench"


RESULTS = BENCH / "results"


VENV_BIN = Path(sys.executable).parent


USER_AGENT = "naltrexone-bench"  # Flask-Login's session protection hashes it: wrk sends the same


SEED = 1


COURSE = "naltrexone"


SEED_DOMAIN = "seed.example.org"


# In the order they are measured. The quiz submission comes last: each of its requests records a
# new attempt (some 2,000 a run), and a page measured after it would read those too (/me/ sums up
# every lesson's attempts, the dashboard and analytics count them), not the seeded history.
PAGE_NAMES = (
    "landing",
    "course overview",
    "lesson",
    "quiz page",
    "/me/",
    "counsellor dashboard",
    "one client",
    "question analytics",
    "quiz submission",
)


# The pages a learner sees: each is measured against the reference and the ceiling.
LEARNER_PAGES = ("landing", "course overview", "lesson", "quiz page", "/me/")


SUBMISSION = "quiz submission"  # measured against the write reference


class BenchError(Exception):
    """A problem the person running the benchmark can fix; printed without a traceback."""


def env_int(name: str, default: int) -> int:
    """A whole number from the environment, or ``default`` when unset."""
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise BenchError(f"{name} must be a whole number; got {value!r}.") from None


@dataclass(frozen=True)
class Settings:
    """Everything a benchmark run can be told, read from environment variables."""

    learners: list[int]
    database_url: str | None
    duration: int
    warmup: int
    rounds: int
    connections: int
    threads: int
    sessions: int
    memory_checkpoints: tuple[int, int]
    memory_timeout: int
    reseed: bool
    workers: int | None
    pages: list[str]  # empty: every page
    memory: bool
    compare: str | None = None  # a commit whose app is measured beside this tree's (BENCH_COMPARE)
    pyspy: bool = False  # after each page's rounds, profile the app and its reference with py-spy (BENCH_PYSPY)

    @classmethod
    def from_environment(cls) -> Settings:
        """Read and check the settings; a BenchError names any bad variable."""
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
        compare = os.environ.get("BENCH_COMPARE", "").strip() or None
        if compare is not None:
            compare = commit_of(compare)
        for name, default in (("BENCH_DURATION", 5), ("BENCH_ROUNDS", 3)):
            if env_int(name, default) < 1:
                raise BenchError(f"{name} must be at least 1.")
        return cls(
            learners=[int(size) for size in sizes],
            database_url=os.environ.get("BENCH_DATABASE_URL") or None,
            duration=env_int("BENCH_DURATION", 5),
            warmup=env_int("BENCH_WARMUP", 2),
            rounds=env_int("BENCH_ROUNDS", 3),
            connections=env_int("BENCH_CONNECTIONS", 32),
            threads=env_int("BENCH_THREADS", 1),
            sessions=env_int("BENCH_SESSIONS", 100),
            memory_checkpoints=(early, late),
            memory_timeout=env_int("BENCH_MEMORY_TIMEOUT", 300),
            reseed=os.environ.get("BENCH_RESEED") == "1",
            workers=int(workers) if workers else None,
            pages=pages,
            memory=os.environ.get("BENCH_MEMORY", "1") != "0",
            compare=compare,
            pyspy=os.environ.get("BENCH_PYSPY") == "1",
        )


def commit_of(ref: str) -> str:
    """The full hash of the commit ``ref`` names in this repository; a BenchError if it names none."""
    found = subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode or not found.stdout.strip():
        raise BenchError(f"BENCH_COMPARE names no commit of this repository: {ref!r}.")
    return found.stdout.strip()


def say(message: str = "") -> None:
    """Print at once (the benchmark runs for minutes; output must not wait in a buffer)."""
    print(message, flush=True)
