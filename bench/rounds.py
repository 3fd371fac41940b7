"""Interleaved rounds: each page is measured in turn with what it is compared to (A B C, A B C,
...), so drift on a shared machine hits every target alike; each target's rounds become one
median measurement, and the page's ratios to the reference and the ceiling come from those."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.settings import LEARNER_PAGES, SUBMISSION

APP = "app"
COMPARED = "compared"  # the app at the commit BENCH_COMPARE names, beside this tree's
REFERENCE = "reference"
WRITE_REFERENCE = "write reference"
CEILING = "ceiling"


def targets_for(page: str, *, compared: bool = False) -> tuple[str, ...]:
    """What a page is measured beside in each round: a learner page with the reference and the
    ceiling, the submission with the write reference, a staff page alone; with ``compared``,
    each also beside the app at the compared commit, right after this tree's."""
    mine = (APP, COMPARED) if compared else (APP,)
    if page in LEARNER_PAGES:
        return (*mine, REFERENCE, CEILING)
    if page == SUBMISSION:
        return (*mine, WRITE_REFERENCE)
    return mine


def interleaved(targets: Sequence[str], rounds: int) -> list[tuple[int, str]]:
    """The order of the runs: (round, target), every target once per round, rounds in turn."""
    return [(number, target) for number in range(1, rounds + 1) for target in targets]


@dataclass(frozen=True)
class Run:
    """One wrk run of one target in one round."""

    round: int
    target: str
    numbers: dict


def run_rounds(targets: Sequence[str], rounds: int, measure: Callable[[str, bool], dict]) -> list[Run]:
    """Measure each target in interleaved rounds; ``measure(target, first)`` runs one, ``first``
    telling it whether this is the target's first round (warm up then)."""
    return [Run(number, target, measure(target, number == 1)) for number, target in interleaved(targets, rounds)]


def median_of(runs: Sequence[dict]) -> dict:
    """One target's rounds as one measurement: the median rate and latencies, the summed
    requests, seconds and errors, the busiest machine before a run; each round kept under
    ``rounds``."""
    if not runs:
        raise ValueError("no runs to take the median of")

    def median(key: str) -> Any:
        values = [run[key] for run in runs if run.get(key) is not None]
        return round(statistics.median(values), 2) if values else None

    detail: dict[str, Any] = {}
    for run in runs:
        for key, value in run.get("error_detail", {}).items():
            if isinstance(value, dict):
                merged = detail.setdefault(key, {})
                for status, count in value.items():
                    merged[status] = merged.get(status, 0) + count
            else:
                detail[key] = detail.get(key, 0) + value
    return {
        "requests": sum(run["requests"] for run in runs),
        "seconds": round(sum(run["seconds"] for run in runs), 2),
        "rps": median("rps"),
        "p50_ms": median("p50_ms"),
        "p90_ms": median("p90_ms"),
        "p99_ms": median("p99_ms"),
        "max_ms": max(run["max_ms"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "error_detail": detail,
        "worker_timeouts": sum(run.get("worker_timeouts", 0) for run in runs),
        "kib_per_response": median("kib_per_response"),
        "alone_ms": median("alone_ms"),
        "background_cpu": max((run.get("background_cpu") or 0.0) for run in runs),
        "cpu_ms": median_cpu([run.get("cpu_ms") for run in runs]),
        "rounds": [
            {key: run.get(key) for key in ("requests", "rps", "p50_ms", "p99_ms", "errors", "background_cpu", "cpu_ms")}
            for run in runs
        ],
    }


CPU_PARTS = ("app", "database", "rest")


def median_cpu(splits: Sequence[dict | None]) -> dict | None:
    """The median of each part of rounds' CPU per request (bench/proc.py), or None if no round has one."""
    measured = [split for split in splits if split]
    if not measured:
        return None
    return {part: round(statistics.median(split[part] for split in measured), 3) for part in CPU_PARTS}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator to 3 places, or None when either is missing or zero."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)


def page_result(page: str, runs: Sequence[Run]) -> dict:
    """A page's medians, its comparisons' medians, and its ratios to them: ``x_reference`` (req/s)
    and ``p99_x_reference`` (p99) beside ``x_ceiling`` and ``p99_x_ceiling`` for a learner page,
    ``x_write_reference`` and ``p99_x_write_reference`` for the submission; ``x_compared`` and
    ``p99_x_compared`` beside the compared commit's app when it ran."""
    by_target = {
        target: median_of([run.numbers for run in runs if run.target == target])
        for target in targets_for(page, compared=any(run.target == COMPARED for run in runs))
    }
    result = by_target.pop(APP)
    for target, numbers in by_target.items():
        key = target.replace(" ", "_")
        result[key] = numbers
        result[f"x_{key}"] = ratio(result["rps"], numbers["rps"]) if result["requests"] else None
        result[f"p99_x_{key}"] = ratio(result["p99_ms"], numbers["p99_ms"]) if result["requests"] else None
    if COMPARED in by_target:
        result["x_compared_by_round"] = paired_ratio(runs, COMPARED)
    return result


def paired_ratio(runs: Sequence[Run], target: str) -> float | None:
    """The median over the rounds of the app's req/s over ``target``'s in the same round.

    Each round's two runs follow each other, so they meet the machine at the same speed. The
    ratio of the two medians can pair one's round with the other's from another time: one slow
    round of the app made /me/ 1.04x its commit before, where its rounds said 0.74x, 1.13x and
    1.11x (docs/performance.md, round eight).
    """
    app = {run.round: run.numbers["rps"] for run in runs if run.target == APP}
    other = {run.round: run.numbers["rps"] for run in runs if run.target == target}
    ratios = [app[number] / other[number] for number in app if app[number] and other.get(number)]
    return round(statistics.median(ratios), 3) if ratios else None


def pooled(pages: dict, target: str) -> dict | None:
    """A comparison's median over every round it ran in this size (all pages), or None."""
    key = target.replace(" ", "_")
    rounds = [one for numbers in pages.values() if key in numbers for one in numbers[key]["rounds"]]
    if not rounds:
        return None
    return {
        "requests": sum(one["requests"] for one in rounds),
        "rps": round(statistics.median(one["rps"] for one in rounds), 2),
        "p99_ms": round(statistics.median(one["p99_ms"] for one in rounds), 2),
        "p50_ms": round(statistics.median(one["p50_ms"] for one in rounds), 2),
        "errors": sum(one["errors"] for one in rounds),
        "background_cpu": max((one.get("background_cpu") or 0.0) for one in rounds),
        "cpu_ms": median_cpu([one.get("cpu_ms") for one in rounds]),
        "runs": len(rounds),
    }


def size_comparisons(pages: dict) -> dict:
    """The reference, the write reference and the ceiling over every round of a size (None for
    one that never ran); a page measured alone (a staff page) gets its ratios to that ceiling."""
    found = {target.replace(" ", "_"): pooled(pages, target) for target in (REFERENCE, WRITE_REFERENCE, CEILING)}
    ceiling = found["ceiling"]
    for numbers in pages.values():
        if "ceiling" not in numbers and ceiling:
            answered = bool(numbers["requests"])
            numbers["x_ceiling"] = ratio(numbers["rps"], ceiling["rps"]) if answered else None
            numbers["p99_x_ceiling"] = ratio(numbers["p99_ms"], ceiling["p99_ms"]) if answered else None
    return found
