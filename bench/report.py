"""The printed report: one line per measurement, the table per population size with the ratios
to the reference and the ceiling, the storage, and the p99 growth from the smaller size to the
larger."""

from __future__ import annotations

from bench.pyspy import profiles_table
from bench.settings import say
from bench.storage import size_text


def one_line(numbers: dict) -> str:
    """A measurement in one line, as printed while the benchmark runs."""
    alone = f", {numbers['alone_ms']:.0f} ms alone" if numbers.get("alone_ms") is not None else ""
    if not numbers["requests"]:
        return f"no request completed in {numbers['seconds']:.0f} s; {numbers['errors']} errors{alone}"
    return (
        f"{numbers['rps']:.0f} req/s, p50 {numbers['p50_ms']:.1f} ms, p99 {numbers['p99_ms']:.1f} ms, "
        f"{numbers['errors']} errors{alone}"
    )


def ratio_text(numbers: dict) -> str:
    """A page's ratios to what it was measured beside, as printed after its median."""
    parts = []
    labels = (
        ("compared", "compared commit"),
        ("reference", "reference"),
        ("write_reference", "write reference"),
        ("ceiling", "ceiling"),
    )
    for key, label in labels:
        if numbers.get(f"x_{key}") is not None:
            p99 = numbers.get(f"p99_x_{key}")
            notes = [f"p99 {p99:.2f}x"] if p99 is not None else []
            if numbers.get(f"x_{key}_by_round") is not None:
                notes.insert(0, f"by round {numbers[f'x_{key}_by_round']:.2f}x")
            parts.append(f"{numbers[f'x_{key}']:.2f}x the {label}" + (f" ({', '.join(notes)})" if notes else ""))
    return "; " + ", ".join(parts) if parts else ""


def storage_line(storage: dict, seeding: dict) -> str:
    """The database's size, the seeding time and the bytes per answer, in one line."""
    seeded = f"seeded in {seeding['seconds']:.0f} s" if seeding.get("seconds") else "seeding time unknown"
    if seeding.get("reused"):
        seeded += " (earlier run; reused)"
    per_answer = storage.get("bytes_per_answer")
    answers = (
        f"{per_answer:,.0f} bytes per answer ({storage['answers']:,} answers; {', '.join(storage['answer_tables'])})"
        if per_answer is not None
        else "no answers stored"
    )
    return f"database {size_text(storage['database_bytes'])}, {seeded}; {answers}"


def print_storage(storage: dict, seeding: dict) -> None:
    """The storage line and the largest tables (table + indexes + TOAST)."""
    say("\nstorage: " + storage_line(storage, seeding))
    say(f"  {'largest tables':<28}{'total':>12}{'table':>12}{'indexes':>12}{'rows (est.)':>14}")
    for table in storage["largest_tables"]:
        say(
            f"  {table['table']:<28}{size_text(table['total_bytes']):>12}{size_text(table['table_bytes']):>12}"
            f"{size_text(table['index_bytes']):>12}{table['rows_estimate']:>14,}"
        )


def _cell(value: float | None, form: str) -> str:
    return format(value, form) if value is not None else "-"


def print_cpu(rows: list[tuple[str, dict]]) -> None:
    """What a request cost the machine's CPU over HTTP, per page and comparison (medians of the rounds)."""
    measured = [(name, n["cpu_ms"]) for name, n in rows if n.get("cpu_ms")]
    if not measured:
        return
    say("\nCPU per request over HTTP (ms, medians of the rounds):")
    columns = ("app", "database", "rest", "total")
    say(f"{'page':<26}" + "".join(f"{column:>12}" for column in columns))
    for name, cpu in measured:
        cells = [cpu["app"], cpu["database"], cpu["rest"], cpu["app"] + cpu["database"] + cpu["rest"]]
        say(f"{name:<26}" + "".join(f"{cell:>12.2f}" for cell in cells))
    say("(app: the gunicorn server's processes; database: PostgreSQL's; rest: the rest of the machine,")
    say(" wrk and the kernel's networking included, so anything else running counts there too)")


def print_report(run: dict) -> None:
    """The table of one population size's run: a row per page (medians of its rounds) with its
    ratios to the reference (the write reference for the submission) and the ceiling (under it,
    the compared commit's own row, when one ran), rows for the comparisons themselves, then
    errors, tracebacks, storage and the memory check."""
    say(
        f"\n{run['learners']:,} learners ({run['workers']} gunicorn workers, {run['sessions']} learner sessions, "
        f"counsellor with {run['counsellor_clients']} clients)"
    )
    seeding = run["seeding"]
    if seeding.get("seconds"):
        again = " (earlier run; database reused)" if seeding.get("reused") else ""
        say(f"seeding: {seeding['seconds']:.0f} s{again}")
    columns = ("req/s", "p50 ms", "p99 ms", "errors", "x ref", "p99 x ref", "x ceiling", "alone ms", "busy before")
    header = f"{'page':<26}" + "".join(f"{column:>12}" for column in columns)
    say(header)
    say("-" * len(header))
    rows = []
    for name, n in run["pages"].items():
        rows.append((name, n))
        if n.get("compared"):  # the same page from the app at the compared commit (BENCH_COMPARE)
            rows.append(("  compared commit", n["compared"]))
    for key, label in (
        ("reference", "reference (1 query)"),
        ("write_reference", "write reference"),
        ("ceiling", "ceiling (bare Flask)"),
    ):
        if run.get(key):  # every round of it, whichever page it was measured beside
            rows.append((label, run[key]))
    for name, n in rows:
        answered = n["requests"] > 0
        x_ref = n.get("x_reference", n.get("x_write_reference"))
        p99_ref = n.get("p99_x_reference", n.get("p99_x_write_reference"))
        cells = (
            f"{n['rps']:.1f}" if answered else "none",
            f"{n['p50_ms']:.1f}" if answered else "-",
            f"{n['p99_ms']:.1f}" if answered else "-",
            str(n["errors"]),
            _cell(x_ref, ".2f"),
            _cell(p99_ref, ".2f"),
            _cell(n.get("x_ceiling"), ".2f"),
            _cell(n.get("alone_ms"), ".1f"),
            _cell(n.get("background_cpu"), ".0%"),
        )
        say(f"{name:<26}" + "".join(f"{cell:>12}" for cell in cells))
    rounds = max((len(n.get("rounds", [])) for _, n in rows), default=1)
    say(f"(medians of {rounds} interleaved rounds; x ref: the page's req/s over the reference's, the submission's")
    say(" over the write reference's; p99 x ref: its p99 over theirs; alone ms: median of 5 requests sent one at a")
    say(" time; busy before: CPU in use by other processes just before a run: above a few percent, something")
    say(" else competed)")
    print_cpu(rows)
    for line in profiles_table(run["pages"]):
        say(line)
    for name, n in rows:
        if not n["requests"]:
            seconds = n.get("seconds")  # a median of rounds has none: each round had its own
            say(f"{name}: no request completed within the " + (f"{seconds:.0f} s run" if seconds else "run"))
        if n["errors"]:
            detail = {
                **n.get("error_detail", {}),
                **({"worker_timeouts": n["worker_timeouts"]} if n.get("worker_timeouts") else {}),
            }
            say(f"errors on {name}: {detail}")
    for trace in run.get("tracebacks", []):
        say("\nerror in the app log:\n" + trace)
    if run.get("storage"):
        print_storage(run["storage"], seeding)
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
