"""The benchmark's settings, report and growth table (bench/run.py), without running a load."""

import json
from pathlib import Path

import pytest

from bench.run import PAGE_NAMES, BenchError, Settings, growth, print_report

LATEST = Path(__file__).resolve().parent.parent / "bench" / "results" / "latest.json"


def test_settings_default_to_the_two_sizes_every_page_and_the_memory_check(monkeypatch):
    for name in ("BENCH_LEARNERS", "BENCH_PAGES", "BENCH_MEMORY", "BENCH_MEMORY_REQUESTS", "BENCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    settings = Settings.from_environment()

    assert settings.learners == [1000, 100000]
    assert settings.pages == [] and settings.memory is True
    assert settings.memory_checkpoints == (2000, 20000)
    assert settings.database_url is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BENCH_LEARNERS", "1000,lots", "BENCH_LEARNERS must list positive whole numbers"),
        ("BENCH_LEARNERS", "0", "BENCH_LEARNERS must list positive whole numbers"),
        ("BENCH_MEMORY_REQUESTS", "2000", "BENCH_MEMORY_REQUESTS must be two counts"),
        ("BENCH_PAGES", "lesson,checkout", "BENCH_PAGES names unknown pages ['checkout']"),
        ("BENCH_DURATION", "ten", "BENCH_DURATION must be a whole number"),
    ],
)
def test_bad_settings_are_refused_with_a_message_naming_the_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)

    with pytest.raises(BenchError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Settings.from_environment()


def test_the_recorded_run_covers_every_page_at_both_sizes_with_the_ceiling_and_memory():
    """docs/performance.md's table comes from this file: it must be a whole run (measurements are not
    judged here; timing and memory are never asserted in tests)."""
    results = json.loads(LATEST.read_text())

    assert [run["learners"] for run in results["runs"]] == [1000, 100000]
    for run in results["runs"]:
        assert list(run["pages"]) == list(PAGE_NAMES)
        assert all(page["requests"] > 0 for page in run["pages"].values())
        assert run["ceiling"]["rps"] > 0
        assert len(run["memory"]["workers"]) == run["workers"]


def test_growth_is_each_pages_p99_at_the_larger_size_over_the_smaller(capsys):
    runs = json.loads(LATEST.read_text())["runs"]

    table = growth(runs)

    small, large = runs
    for name in PAGE_NAMES:
        expected = large["pages"][name]["p99_ms"] / small["pages"][name]["p99_ms"]
        assert table["p99_ratio"][name] == pytest.approx(expected, abs=0.005)
    assert "(target: within 2x)" in capsys.readouterr().out


def test_the_report_lists_every_page_and_the_memory_verdict(capsys):
    run = json.loads(LATEST.read_text())["runs"][0]

    print_report(run)

    out = capsys.readouterr().out
    assert all(name in out for name in PAGE_NAMES)
    assert "ceiling (bare Flask)" in out and "every worker within 10%: " in out
