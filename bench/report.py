"""The printed report: one line per measurement, the table per population size, and the p99
growth from the smaller size to the larger."""

from __future__ import annotations

from bench.settings import say


def one_line(numbers: dict) -> str:
    """A measurement in one line, as printed while the benchmark runs."""
    alone = f", {numbers['alone_ms']:.0f} ms alone" if numbers.get("alone_ms") is not None else ""
    if not numbers["requests"]:
        return f"no request completed in {numbers['seconds']:.0f} s; {numbers['errors']} errors{alone}"
    return (
        f"{numbers['rps']:.0f} req/s, p50 {numbers['p50_ms']:.1f} ms, p99 {numbers['p99_ms']:.1f} ms, "
        f"{numbers['errors']} errors{alone}"
    )


def print_report(run: dict) -> None:
    """The table of one population size's run: a row per page and the ceiling, then errors,
    tracebacks and the memory check."""
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
    """Each page's p99 at the largest size over its p99 at the smallest, printed and returned."""
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
