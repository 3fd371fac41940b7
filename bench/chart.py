"""The benchmark's chart: plain SVG written by hand, no plotting library.

Per population size and per page, horizontal bars of requests/s for the app's page and what it
was measured beside (the reference and the ceiling; the write reference for the submission),
each with its p99 to the right. bench/run.py writes one next to each results file; this draws
one from any saved results file, older ones included (their one ceiling is drawn once per size):

    python -m bench.chart bench/results/20261125T031416Z.json   # writes ...031416Z.svg
    python -m bench.chart results/latest.json -o /tmp/latest.svg
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from bench.report import storage_line
from bench.settings import BENCH

# Dark fills on white: each passes WCAG's 3:1 for graphics; the text is near-black.
COLOURS = {"app": "#1f4e79", "reference": "#a64b00", "write reference": "#a64b00", "ceiling": "#595959"}
TEXT = "#111111"
WIDTH = 980
LABEL_X = 16  # page names
TARGET_X = 196  # what each bar is
BAR_X = 330
BAR_WIDTH = 400
P99_X = WIDTH - 16  # p99, right-aligned
ROW = 20
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""


def bars_of(run: dict) -> list[tuple[str, list[tuple[str, dict, str]]]]:
    """Per page: its bars as (target, numbers, note), in the order drawn."""
    groups = []
    for name, numbers in run.get("pages", {}).items():
        bars = [("app", numbers, _ratio_note(numbers))]
        for key, target in (("reference", "reference"), ("write_reference", "write reference"), ("ceiling", "ceiling")):
            if isinstance(numbers.get(key), dict):
                bars.append((target, numbers[key], ""))
        groups.append((name, bars))
    ceiling = run.get("ceiling")
    per_page = any(isinstance(numbers.get("ceiling"), dict) for numbers in run.get("pages", {}).values())
    if isinstance(ceiling, dict) and not per_page:  # an older run: one ceiling for the size
        groups.append(("ceiling (bare Flask)", [("ceiling", ceiling, "")]))
    return groups


def _ratio_note(numbers: dict) -> str:
    """The page's req/s ratios to what it was measured beside, e.g. "0.45x ref, 0.19x ceiling"."""
    notes = [
        f"{numbers[f'x_{key}']:.2f}x {label}"
        for key, label in (("reference", "ref"), ("write_reference", "write ref"), ("ceiling", "ceiling"))
        if numbers.get(f"x_{key}") is not None
    ]
    return ", ".join(notes)


def _text(x: float, y: float, content: str, *, anchor: str = "start", weight: str = "normal", size: int = 13) -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}" fill="{TEXT}" '
        f'text-anchor="{anchor}">{escape(content)}</text>'
    )


def draw(result: dict) -> str:
    """The results of a run as an SVG document."""
    runs = result.get("runs", [])
    started = result.get("started_at", "")
    title = f"make bench {started}: requests/s per page beside the reference and the ceiling, p99 on the right"
    summary = []
    body: list[str] = []
    y = 74
    legend = (
        ("app", "the app's page", LABEL_X),
        ("reference", "reference (1 query, 1 template) / write reference", 160),
        ("ceiling", "ceiling (bare Flask, no database)", 540),
    )
    for target, label, legend_x in legend:
        body.append(f'<rect x="{legend_x}" y="{y - 11}" width="14" height="14" fill="{COLOURS[target]}"/>')
        body.append(_text(legend_x + 20, y, label))
    y += 18
    for run in runs:
        groups = bars_of(run)
        scale = max((numbers.get("rps") or 0 for _, bars in groups for _, numbers, _ in bars), default=0) or 1
        y += 30
        workers = f", {run['workers']} gunicorn workers" if run.get("workers") else ""
        body.append(_text(LABEL_X, y, f"{run['learners']:,} learners{workers}", weight="bold", size=16))
        body.append(_text(P99_X, y, "p99", anchor="end", weight="bold"))
        if run.get("storage"):  # what the population takes on disk, as printed
            y += 20
            line = storage_line(run["storage"], run.get("seeding") or {})
            body.append(_text(LABEL_X, y, line[:1].upper() + line[1:]))
            summary.append(f"{run['learners']:,} learners: {line}")
        y += 10
        for name, bars in groups:
            y += 10
            body.append(f'<line x1="{LABEL_X}" y1="{y}" x2="{WIDTH - 16}" y2="{y}" stroke="#c8c8c8"/>')
            for index, (target, numbers, note) in enumerate(bars):
                y += ROW
                answered = (numbers.get("requests") or numbers.get("runs") or numbers.get("rps")) and numbers.get("rps")
                rps = numbers.get("rps") or 0
                if index == 0:
                    body.append(_text(LABEL_X, y, name, weight="bold"))
                body.append(_text(TARGET_X, y, target))
                width = BAR_WIDTH * rps / scale
                body.append(
                    f'<rect x="{BAR_X}" y="{y - 13}" width="{width:.1f}" height="15" fill="{COLOURS[target]}">'
                    f"<title>{escape(f'{name}, {target}: {rps:,.0f} req/s')}</title></rect>"
                )
                value = f"{rps:,.0f} req/s" if answered else "none completed"
                if note:
                    value += f" ({note})"
                body.append(_text(BAR_X + width + 6, y, value))
                p99 = numbers.get("p99_ms")
                body.append(_text(P99_X, y, f"{p99:,.1f} ms" if answered and p99 is not None else "-", anchor="end"))
                summary.append(
                    f"{run['learners']:,} learners, {name}, {target}: {rps:,.0f} req/s"
                    + (f", p99 {p99:,.1f} ms" if answered and p99 is not None else "")
                    + (f" ({note})" if note else "")
                )
        y += 6
    height = y + 24
    description = "; ".join(summary) if summary else "No runs in this results file."
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title chart-desc" {FONT}>',
            f'<title id="chart-title">{escape(title)}</title>',
            f'<desc id="chart-desc">{escape(description)}</desc>',
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
            _text(LABEL_X, 28, f"make bench, {started}" if started else "make bench", weight="bold", size=18),
            _text(
                LABEL_X,
                48,
                "requests/s (bars; the median of the rounds when there were several) and p99 latency (right)",
            ),
            *body,
            "</svg>",
            "",
        ]
    )


def write_chart(result: dict, path: Path) -> Path:
    """Write the chart of ``result`` to ``path``; the path."""
    path.write_text(draw(result), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Draw the chart of a saved results file: ``python -m bench.chart results/<ts>.json [-o out.svg]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.chart", description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a results file, e.g. bench/results/latest.json (or results/latest.json)")
    parser.add_argument("-o", "--output", help="where to write the SVG (default: beside the results file)")
    arguments = parser.parse_args(argv)
    source = Path(arguments.results)
    if not source.exists() and (BENCH / source).exists():  # results/x.json from the project's root
        source = BENCH / source
    try:
        result = json.loads(source.read_text())
    except FileNotFoundError:
        print(f"bench.chart: no results file {arguments.results}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as error:
        print(f"bench.chart: {source} is not a results file ({error})", file=sys.stderr)
        return 2
    output = Path(arguments.output) if arguments.output else source.with_suffix(".svg")
    write_chart(result, output)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
