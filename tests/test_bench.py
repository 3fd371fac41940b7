"""The benchmark's own code, without running a load: settings from the environment, reading wrk's
output, the request lines per page, the gunicorn log's tracebacks and the printed report.

Every run and every wrk output here is built in the test; the committed results in
bench/results/ are records of past runs and no test reads them."""

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from xml.etree import ElementTree

import psycopg
import pytest
from itsdangerous import URLSafeTimedSerializer
from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import QuizAttempt
from bench import cpu, pieces, proc
from bench.chart import draw
from bench.chart import main as chart_main
from bench.client import UserSession
from bench.database import scaled, settle
from bench.load import build_pages, quiz_post_body, request_line, wrk_numbers
from bench.reference import BADGES, page_template, sign_session
from bench.reference import create_app as create_reference
from bench.report import growth, one_line, print_report, ratio_text
from bench.rounds import Run, interleaved, median_of, page_result, run_rounds, size_comparisons, targets_for
from bench.run import reference_capture, reference_page
from bench.server import checkout, tracebacks
from bench.settings import PAGE_NAMES, SUBMISSION, BenchError, Settings
from bench.storage import storage_facts
from bench.write_reference import insert_submission, read_pattern, submission_shape
from config import TestConfig
from tests.conftest import COURSE_SLUG, PASSWORD, lesson_slugs, quiz_form, scratch_postgres_database, submit_quiz

SETTINGS = (
    "BENCH_LEARNERS",
    "BENCH_PAGES",
    "BENCH_MEMORY",
    "BENCH_MEMORY_REQUESTS",
    "BENCH_DATABASE_URL",
    "BENCH_DURATION",
    "BENCH_WARMUP",
    "BENCH_ROUNDS",
    "BENCH_RESEED",
    "BENCH_COMPARE",
    "BENCH_PYSPY",
    "WEB_CONCURRENCY",
)


@pytest.fixture
def environment(monkeypatch):
    """No benchmark setting from the machine running the tests."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_default_to_the_two_sizes_every_page_and_the_memory_check(environment):
    settings = Settings.from_environment()

    assert settings.learners == [1000, 100000]
    assert settings.pages == [] and settings.memory is True
    assert settings.memory_checkpoints == (2000, 20000)
    assert settings.database_url is None and settings.workers is None and settings.reseed is False
    assert (settings.duration, settings.warmup, settings.rounds) == (5, 2, 3)
    assert settings.pyspy is False


def test_settings_are_read_from_the_environment(environment):
    environment.setenv("BENCH_LEARNERS", "500, 2000")
    environment.setenv("BENCH_PAGES", "lesson, quiz page")
    environment.setenv("BENCH_MEMORY", "0")
    environment.setenv("BENCH_MEMORY_REQUESTS", "100, 900")
    environment.setenv("BENCH_DURATION", "3")
    environment.setenv("BENCH_ROUNDS", "5")
    environment.setenv("BENCH_RESEED", "1")
    environment.setenv("WEB_CONCURRENCY", "2")
    environment.setenv("BENCH_DATABASE_URL", "postgresql://bench@127.0.0.1:5432/mine")
    environment.setenv("BENCH_PYSPY", "1")

    settings = Settings.from_environment()

    assert settings.learners == [500, 2000]
    assert settings.pages == ["lesson", "quiz page"] and settings.memory is False
    assert settings.memory_checkpoints == (100, 900)
    assert (settings.duration, settings.rounds, settings.reseed, settings.workers) == (3, 5, True, 2)
    assert settings.database_url == "postgresql://bench@127.0.0.1:5432/mine"
    assert settings.pyspy is True


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BENCH_LEARNERS", "1000,lots", "BENCH_LEARNERS must list positive whole numbers"),
        ("BENCH_LEARNERS", "0", "BENCH_LEARNERS must list positive whole numbers"),
        ("BENCH_MEMORY_REQUESTS", "2000", "BENCH_MEMORY_REQUESTS must be two counts"),
        ("BENCH_PAGES", "lesson,checkout", "BENCH_PAGES names unknown pages ['checkout']"),
        ("BENCH_DURATION", "ten", "BENCH_DURATION must be a whole number"),
        ("BENCH_DURATION", "0", "BENCH_DURATION must be at least 1"),
        ("BENCH_ROUNDS", "0", "BENCH_ROUNDS must be at least 1"),
        ("BENCH_COMPARE", "no-such-branch-anywhere", "BENCH_COMPARE names no commit of this repository"),
    ],
)
def test_bad_settings_are_refused_with_a_message_naming_the_variable(environment, name, value, message):
    environment.setenv(name, value)

    with pytest.raises(BenchError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Settings.from_environment()


# ---------------------------------------------------------------------------------------------
# wrk's output


def wrk_output(**changes) -> str:
    """What wrk prints with bench/wrk.lua: its own summary, then the WRKJSON line of done()."""
    data = {
        "requests": 5000,
        "duration_us": 10_000_000,
        "bytes": 5000 * 2048,
        "p50_us": 12_345,
        "p90_us": 20_000,
        "p99_us": 48_765,
        "max_us": 90_001,
        "mean_us": 14_000.0,
        "connect_errors": 0,
        "read_errors": 0,
        "write_errors": 0,
        "timeouts": 0,
        "status_over_399": 0,
        "unexpected_status": 0,
        "unexpected_by_status": {},
    }
    data.update(changes)
    return (
        "Running 10s test @ http://127.0.0.1:8000\n  1 threads and 32 connections\n"
        f"  5000 requests in 10.00s, 10.00MB read\nWRKJSON {json.dumps(data)}\n"
    )


def test_wrk_numbers_are_rates_and_milliseconds():
    numbers = wrk_numbers(wrk_output(), page_name="lesson", exit_code=0)

    assert numbers == {
        "requests": 5000,
        "seconds": 10.0,
        "rps": 500.0,
        "p50_ms": 12.35,
        "p90_ms": 20.0,
        "p99_ms": 48.77,
        "max_ms": 90.0,
        "errors": 0,
        "error_detail": {},
        "kib_per_response": 2.0,
    }


def test_wrk_errors_add_socket_errors_timeouts_and_unexpected_statuses_with_their_detail():
    output = wrk_output(read_errors=2, timeouts=3, unexpected_status=4, unexpected_by_status={"500": 4})

    numbers = wrk_numbers(output, page_name="lesson", exit_code=0)

    assert numbers["errors"] == 9
    assert numbers["error_detail"] == {"read_errors": 2, "timeouts": 3, "unexpected_status": 4, "statuses": {"500": 4}}


def test_a_run_with_no_response_has_no_rate_rather_than_a_division_by_zero():
    numbers = wrk_numbers(wrk_output(requests=0, duration_us=0, bytes=0), page_name="lesson", exit_code=0)

    assert (numbers["requests"], numbers["rps"], numbers["kib_per_response"]) == (0, 0.0, 0.0)


def test_wrk_output_without_its_result_line_is_an_error_showing_the_output():
    with pytest.raises(BenchError, match=r"wrk failed on lesson \(exit 1\):\nunable to connect"):
        wrk_numbers("unable to connect to 127.0.0.1:8000\n", page_name="lesson", exit_code=1)


# ---------------------------------------------------------------------------------------------
# What wrk is given


def learner(n: int) -> UserSession:
    user = UserSession(f"learner{n}@example.org", cookies={"session": f"s{n}"}, lesson_path=f"/courses/c/lessons/l{n}")
    user.quiz_body = {"csrf_token": f"t{n}", "submission_key": "{KEY}", "question-7": "21"}
    return user


def test_a_quiz_submission_keeps_the_key_placeholder_for_wrk_lua_to_fill():
    body = quiz_post_body(learner(1))

    assert body == "csrf_token=t1&submission_key={KEY}&question-7=21"


def test_every_page_is_built_in_order_with_a_line_per_learner_session():
    counsellor = UserSession("c@example.org", cookies={"session": "c"})
    admin = UserSession("a@example.org", cookies={"session": "a"})

    pages = build_pages([learner(1), learner(2)], counsellor, [31, 32, 33], admin)

    assert [page.name for page in pages] == list(PAGE_NAMES)
    by_name = {page.name: page for page in pages}
    assert by_name["lesson"].lines == [
        request_line("GET", "/courses/c/lessons/l1", "session=s1"),
        request_line("GET", "/courses/c/lessons/l2", "session=s2"),
    ]
    method, path, cookie, body = by_name["quiz submission"].lines[1].split("\t")
    assert (method, path, cookie) == ("POST", "/courses/c/lessons/l2/quiz", "session=s2")
    assert "submission_key={KEY}" in body and by_name["quiz submission"].expected == "302"
    assert [line.split("\t")[1] for line in by_name["one client"].lines] == [
        "/counsel/clients/31",
        "/counsel/clients/32",
        "/counsel/clients/33",
    ]
    assert by_name["question analytics"].lines == [request_line("GET", "/author/analytics", "session=a")]


def test_the_quiz_submission_is_measured_after_every_page_that_reads():
    """Its requests record new attempts: a page measured after it would read them, not the seeded history."""
    counsellor = UserSession("c@example.org", cookies={"session": "c"})
    admin = UserSession("a@example.org", cookies={"session": "a"})

    pages = build_pages([learner(1)], counsellor, [31], admin)

    assert pages[-1].name == SUBMISSION == PAGE_NAMES[-1]
    assert all(page.lines[0].startswith("GET\t") for page in pages[:-1])


def test_tracebacks_in_the_log_leave_out_workers_the_benchmark_stopped(tmp_path):
    log = tmp_path / "app.log"
    log.write_text(
        "[INFO] Booting worker\n"
        'Traceback (most recent call last):\n  File "x.py", line 1\nSystemExit: 0\n'
        "Traceback (most recent call last):\n  File \"app/x.py\", line 9, in view\nKeyError: 'lesson'\n"
        "[INFO] Worker exiting\n"
    )

    assert tracebacks(log) == [
        "Traceback (most recent call last):\n  File \"app/x.py\", line 9, in view\nKeyError: 'lesson'"
    ]


# ---------------------------------------------------------------------------------------------
# The report


def numbers(rps: float, p99: float, **changes) -> dict:
    """One page's measurement, as bench.load.measure returns it."""
    found = {
        "what": "",
        "requests": int(rps * 10),
        "seconds": 10.0,
        "rps": rps,
        "p50_ms": p99 / 4,
        "p90_ms": p99 / 2,
        "p99_ms": p99,
        "max_ms": p99 * 2,
        "errors": 0,
        "error_detail": {},
        "kib_per_response": 12.0,
        "worker_timeouts": 0,
        "alone_ms": 3.5,
        "background_cpu": 0.02,
    }
    found.update(changes)
    return found


def measured(name: str, app: list[tuple[float, float]], **others: list[tuple[float, float]]) -> dict:
    """A page's result from its rounds, each (req/s, p99) per target, measured interleaved as
    bench.run does it (``reference``, ``write_reference``, ``ceiling`` name the others)."""
    rounds = {"app": app, **{target.replace("_", " "): values for target, values in others.items()}}
    order = interleaved(list(rounds), len(app))
    runs = [Run(number, target, numbers(*rounds[target][number - 1])) for number, target in order]
    return page_result(name, runs)


def run(learners: int, pages: dict, *, memory: dict | None = None) -> dict:
    """One population size's result, as bench.run.bench_size returns it: a page given as one
    measurement is a page measured alone (a staff page)."""
    pages = {name: n if "rounds" in n else median_of([n]) for name, n in pages.items()}
    result = {
        "learners": learners,
        "workers": 2,
        "sessions": 100,
        "counsellor_clients": 12,
        "seeding": {"seconds": 42.0, "reused": True},
        "pages": pages,
        "tracebacks": [],
    }
    result.update(size_comparisons(pages))
    if memory is not None:
        result["memory"] = memory
    return result


def memory(*growths: float) -> dict:
    """A memory run whose workers grew by these shares, as bench.run.memory_run returns it."""
    workers = [
        {"pid": 100 + n, "rss_kib_early": 50_000, "rss_kib_late": round(50_000 * (1 + g)), "growth": g}
        for n, g in enumerate(growths)
    ]
    return {
        "requests_early": 2000,
        "requests_late": 20000,
        "workers": workers,
        "within_10_percent": all(abs(g) <= 0.10 for g in growths),
        "reached_late_checkpoint": True,
    }


def test_the_report_has_a_row_per_page_with_its_ratios_and_rows_for_what_it_was_measured_beside(capsys):
    pages = {
        "lesson": measured(
            "lesson",
            [(800.0, 40.0), (812.3, 42.0), (700.0, 38.0)],
            reference=[(2000.0, 10.0), (1900.0, 11.0), (2100.0, 9.0)],
            ceiling=[(4000.0, 5.0), (4100.0, 5.0), (3900.0, 6.0)],
        ),
        "quiz submission": measured(
            "quiz submission",
            [(190.0, 100.0), (200.0, 90.0), (180.0, 95.0)],
            write_reference=[(400.0, 30.0), (380.0, 20.0), (420.0, 25.0)],
        ),
        "one client": numbers(100.0, 80.0),
    }

    print_report(run(1000, pages, memory=memory(0.01)))

    out = capsys.readouterr().out
    assert "1,000 learners (2 gunicorn workers, 100 learner sessions, counsellor with 12 clients)" in out
    assert "seeding: 42 s (earlier run; database reused)" in out
    rows = {line[:26].strip(): line[26:].split() for line in out.splitlines() if line[:1].isalpha() or line[:1] == "/"}
    # req/s, p50, p99, errors, x ref, p99 x ref, x ceiling, alone, busy: medians of the 3 rounds
    assert rows["lesson"][:7] == ["800.0", "10.0", "40.0", "0", "0.40", "4.00", "0.20"]
    assert rows["quiz submission"][:7] == [
        "190.0",
        "23.8",
        "95.0",
        "0",
        "0.47",
        "3.80",
        "0.05",
    ]  # 190 / 400; 190 / 4000
    assert rows["one client"][:7] == [
        "100.0",
        "20.0",
        "80.0",
        "0",
        "-",
        "-",
        "0.03",
    ]  # 100 / 4000, the ceiling's median
    assert rows["reference (1 query)"][:4] == ["2000.0", "2.5", "10.0", "0"]
    assert rows["write reference"][:4] == ["400.0", "6.2", "25.0", "0"]
    assert rows["ceiling (bare Flask)"][:4] == ["4000.0", "1.2", "5.0", "0"]
    assert "medians of 3 interleaved rounds" in out
    assert "worker 100: 50000 -> 50500 (+1.0%)" in out and "every worker within 10%: yes" in out


def test_the_report_has_the_compared_commits_row_under_each_page_and_its_cpu(capsys):
    page = measured(
        "lesson",
        [(800.0, 40.0)],
        compared=[(1000.0, 30.0)],
        reference=[(2000.0, 10.0)],
        ceiling=[(4000.0, 5.0)],
    )
    page["cpu_ms"] = {"app": 1.0, "database": 0.2, "rest": 0.1}
    page["compared"]["cpu_ms"] = {"app": 0.8, "database": 0.15, "rest": 0.1}

    print_report(run(1000, {"lesson": page}))

    lines = capsys.readouterr().out.splitlines()
    table = [line for line in lines if line.startswith(("lesson", "  compared commit"))]
    assert [line[:26].strip() for line in table] == ["lesson", "compared commit"] * 2  # req/s table, CPU table
    assert table[1][26:].split()[:3] == ["1000.0", "7.5", "30.0"]
    assert table[3][26:].split() == ["0.80", "0.15", "0.10", "1.05"]


def test_the_report_names_errors_pages_without_responses_and_memory_growth(capsys):
    pages = {
        "lesson": numbers(10.0, 900.0, errors=5, error_detail={"timeouts": 3}, worker_timeouts=2),
        "one client": numbers(0.0, 0.0, requests=0),
    }

    print_report(run(100000, pages, memory=memory(0.02, 0.15)))

    out = capsys.readouterr().out
    assert "errors on lesson: {'timeouts': 3, 'worker_timeouts': 2}" in out
    assert "one client: no request completed within the 10 s run" in out
    assert "worker 101: 50000 -> 57500 (+15.0%)" in out and "every worker within 10%: NO" in out


def test_a_median_of_rounds_without_responses_is_reported_not_a_key_error(capsys):
    # A median of rounds has no one duration (each round had its own): a million learners' run
    # once ended in a KeyError here, before its results were written.
    measured = run(1000000, {"lesson": numbers(10.0, 900.0), "write reference": numbers(0.0, 0.0, requests=0)})
    del measured["pages"]["write reference"]["seconds"]
    print_report(measured)
    assert "write reference: no request completed within the run" in capsys.readouterr().out


def test_the_report_without_a_memory_run_stops_after_the_table(capsys):
    print_report(run(1000, {"lesson": numbers(800.0, 40.0)}))

    assert "memory" not in capsys.readouterr().out


def test_growth_is_each_pages_p99_at_the_larger_size_over_the_smaller(capsys):
    small = run(1000, {"lesson": numbers(800.0, 40.0), "one client": numbers(300.0, 20.0)})
    large = run(100000, {"lesson": numbers(700.0, 50.0), "one client": numbers(100.0, 90.0)})

    table = growth([large, small])

    assert table == {"small": 1000, "large": 100000, "p99_ratio": {"lesson": 1.25, "one client": 4.5}}
    out = capsys.readouterr().out
    assert "(target: within 2x)" in out
    assert "lesson                  1.25x\n" in out and "one client              4.50x  over 2x" in out


def test_growth_works_for_any_two_sizes_in_any_order_and_takes_the_extremes_of_more(environment, capsys):
    environment.setenv("BENCH_LEARNERS", "1000,1000000")
    assert Settings.from_environment().learners == [1000, 1_000_000]
    small = run(1000, {"lesson": numbers(800.0, 40.0)})
    middle = run(100000, {"lesson": numbers(700.0, 200.0)})
    million = run(1_000_000, {"lesson": numbers(600.0, 70.0)})

    assert growth([million, small])["p99_ratio"] == {"lesson": 1.75}
    assert growth([small, middle, million]) == {"small": 1000, "large": 1_000_000, "p99_ratio": {"lesson": 1.75}}
    assert "p99 at 1,000,000 / p99 at 1,000 learners" in capsys.readouterr().out


def test_steps_over_the_whole_population_get_time_in_proportion_to_it():
    assert scaled(1000) == 603  # ten minutes
    assert scaled(100_000) == 900
    assert scaled(1_000_000) == 3600  # seeding a million may take 20 minutes: an hour at most


def test_growth_needs_two_sizes_and_says_when_a_page_had_no_response_at_the_larger(capsys):
    small = run(1000, {"lesson": numbers(800.0, 40.0)})
    large = run(100000, {"lesson": numbers(0.0, 0.0, requests=0)})

    assert growth([small]) == {}
    assert growth([small, large])["p99_ratio"] == {"lesson": None}
    assert "none completed at 100,000" in capsys.readouterr().out


def test_one_line_sums_up_a_measurement():
    assert one_line(numbers(812.3, 40.0)) == "812 req/s, p50 10.0 ms, p99 40.0 ms, 0 errors, 4 ms alone"
    assert one_line(numbers(0.0, 0.0, requests=0, errors=3, alone_ms=None)) == "no request completed in 10 s; 3 errors"


# ---------------------------------------------------------------------------------------------
# Interleaved rounds and medians


def test_each_page_is_measured_beside_what_it_is_compared_to():
    assert targets_for("lesson") == targets_for("/me/") == ("app", "reference", "ceiling")
    assert targets_for("quiz submission") == ("app", "write reference")
    assert targets_for("counsellor dashboard") == ("app",)


def test_rounds_interleave_the_targets_and_warm_each_up_in_its_first_round_only():
    calls = []

    def measure(target: str, first: bool) -> dict:
        calls.append((target, first))
        return numbers(100.0 * len(calls), 10.0)

    runs = run_rounds(("app", "reference", "ceiling"), 2, measure)

    assert calls == [
        ("app", True),
        ("reference", True),
        ("ceiling", True),
        ("app", False),
        ("reference", False),
        ("ceiling", False),
    ]
    assert [(one.round, one.target, one.numbers["rps"]) for one in runs] == [
        (1, "app", 100.0),
        (1, "reference", 200.0),
        (1, "ceiling", 300.0),
        (2, "app", 400.0),
        (2, "reference", 500.0),
        (2, "ceiling", 600.0),
    ]


def test_the_median_of_rounds_takes_middle_rates_and_latencies_and_sums_counts_and_errors():
    rounds = [
        numbers(900.0, 30.0, errors=1, error_detail={"timeouts": 1}),
        numbers(500.0, 90.0, errors=2, error_detail={"statuses": {"500": 2}}),
        numbers(700.0, 50.0, errors=3, error_detail={"timeouts": 1, "statuses": {"500": 1, "502": 1}}),
    ]

    median = median_of(rounds)

    assert (median["rps"], median["p99_ms"], median["p50_ms"]) == (700.0, 50.0, 12.5)  # not the mean (700, 56.7)
    assert median["requests"] == 9000 + 5000 + 7000 and median["seconds"] == 30.0
    assert median["errors"] == 6 and median["error_detail"] == {"timeouts": 2, "statuses": {"500": 3, "502": 1}}
    assert [one["rps"] for one in median["rounds"]] == [900.0, 500.0, 700.0]
    assert median_of(rounds[:2])["rps"] == 700.0  # an even count: the mean of the middle two


def test_a_page_is_compared_by_the_medians_of_its_own_rounds():
    page = measured(
        "lesson",
        [(800.0, 40.0), (400.0, 90.0), (900.0, 30.0)],
        reference=[(1000.0, 20.0), (2000.0, 10.0), (1600.0, 12.0)],
        ceiling=[(4000.0, 4.0), (4000.0, 8.0), (2000.0, 5.0)],
    )

    assert (page["rps"], page["p99_ms"]) == (800.0, 40.0)
    assert (page["reference"]["rps"], page["reference"]["p99_ms"]) == (1600.0, 12.0)
    assert (page["x_reference"], page["p99_x_reference"]) == (0.5, 3.333)
    assert (page["x_ceiling"], page["p99_x_ceiling"]) == (0.2, 8.0)

    submission = measured("quiz submission", [(200.0, 50.0)], write_reference=[(400.0, 25.0)])
    assert (submission["x_write_reference"], submission["p99_x_write_reference"]) == (0.5, 2.0)
    assert "reference" not in submission and "x_ceiling" not in submission


def test_a_compared_commit_is_measured_right_after_the_app_on_every_page():
    assert targets_for("lesson", compared=True) == ("app", "compared", "reference", "ceiling")
    assert targets_for("quiz submission", compared=True) == ("app", "compared", "write reference")
    assert targets_for("counsellor dashboard", compared=True) == ("app", "compared")


def test_a_page_beside_a_compared_commit_has_its_ratio_to_it_too():
    page = measured(
        "/me/",
        [(1200.0, 30.0), (1100.0, 36.0), (1300.0, 33.0)],
        compared=[(1000.0, 40.0), (900.0, 44.0), (1000.0, 42.0)],
        reference=[(2000.0, 20.0)] * 3,
        ceiling=[(4000.0, 5.0)] * 3,
    )

    assert page["compared"]["rps"] == 1000.0
    assert (page["x_compared"], page["p99_x_compared"]) == (1.2, 0.786)
    assert page["x_compared_by_round"] == 1.222  # 1.2, 1.222 and 1.3, each round's own
    assert page["x_reference"] == 0.6
    assert ratio_text(page).startswith("; 1.20x the compared commit (by round 1.22x, p99 0.79x), 0.60x the reference")


def test_by_round_one_odd_round_does_not_pair_the_app_with_another_rounds_comparison():
    # A real run's /me/ (20261206T015138Z): the app's first round was slow.
    page = measured(
        "/me/",
        [(792.0, 69.0), (1117.0, 39.4), (1230.0, 44.2)],
        compared=[(1074.0, 40.3), (986.0, 45.3), (1110.0, 57.1)],
        reference=[(1783.0, 27.2), (1742.0, 26.5), (1958.0, 22.8)],
        ceiling=[(4000.0, 5.0)] * 3,
    )

    assert page["x_compared"] == 1.04  # the app's round 2 over the compared commit's round 1
    assert page["x_compared_by_round"] == 1.108  # 0.737, 1.133 and 1.108: the rounds' middle one


def test_the_commit_to_compare_is_found_and_checked_out_for_the_run_then_removed(environment, tmp_path):
    environment.setenv("BENCH_COMPARE", "HEAD")
    commit = Settings.from_environment().compare
    assert commit is not None and re.fullmatch(r"[0-9a-f]{40}", commit)

    where = tmp_path / "compared"
    with checkout(commit, where) as tree:
        assert (tree / "app" / "__init__.py").is_file() and (tree / "gunicorn.conf.py").is_file()
    assert not where.exists()


def test_a_page_with_no_response_has_no_ratio():
    page = measured("lesson", [(0.0, 0.0)], reference=[(1000.0, 10.0)], ceiling=[(2000.0, 5.0)])

    assert page["x_reference"] is None and page["p99_x_ceiling"] is None


def test_the_sizes_comparisons_pool_every_round_and_staff_pages_are_compared_to_that_ceiling():
    pages = {
        "lesson": measured("lesson", [(800.0, 40.0)], reference=[(1600.0, 10.0)], ceiling=[(4000.0, 4.0)]),
        "/me/": measured("/me/", [(600.0, 40.0)], reference=[(1400.0, 12.0)], ceiling=[(3000.0, 6.0)]),
        "one client": median_of([numbers(150.0, 100.0)]),
    }

    found = size_comparisons(pages)

    assert found["reference"]["rps"] == 1500.0 and found["reference"]["runs"] == 2
    assert found["ceiling"]["rps"] == 3500.0 and found["ceiling"]["p99_ms"] == 5.0
    assert found["write_reference"] is None
    assert (pages["one client"]["x_ceiling"], pages["one client"]["p99_x_ceiling"]) == (0.043, 20.0)
    assert pages["lesson"]["x_ceiling"] == 0.2  # its own rounds' ceiling, not the pooled one


# ---------------------------------------------------------------------------------------------
# The chart


SVG = "{http://www.w3.org/2000/svg}"


STORAGE = {
    "database_bytes": 3 * 1024**3,
    "largest_tables": [
        {
            "table": "attempt_answers",
            "total_bytes": 500 * 1024**2,
            "table_bytes": 400 * 1024**2,
            "index_bytes": 100 * 1024**2,
            "rows_estimate": 2_000_000,
        },
    ],
    "answer_tables": ["attempt_answers", "shown_questions"],
    "answer_tables_bytes": 500 * 1024**2,
    "answers": 2_000_000,
    "bytes_per_answer": 262.1,
}


def chart_result() -> dict:
    """A results file of two sizes, the larger without the submission."""
    small = run(
        1000,
        {
            "lesson": measured("lesson", [(812.0, 40.0)], reference=[(1898.0, 12.5)], ceiling=[(4528.0, 6.0)]),
            "quiz submission": measured("quiz submission", [(190.0, 170.0)], write_reference=[(420.0, 31.0)]),
            "one client": numbers(110.0, 300.0),
        },
    )
    large = run(
        100000, {"lesson": measured("lesson", [(0.0, 0.0)], reference=[(1700.0, 14.0)], ceiling=[(4400.0, 6.5)])}
    )
    large["storage"] = STORAGE
    return {"started_at": "2026-12-05T01:00:00+00:00", "runs": [small, large]}


def parse(svg: str) -> ElementTree.Element:
    """The chart's XML tree."""
    return ElementTree.fromstring(svg)  # noqa: S314 - an SVG the test itself just drew


def bars(svg: str) -> dict[str, float]:
    """Each bar's tooltip (``page, target: N req/s``) and width."""
    root = parse(svg)
    return {
        rect.find(f"{SVG}title").text: float(rect.get("width"))
        for rect in root.iter(f"{SVG}rect")
        if rect.find(f"{SVG}title") is not None
    }


def test_the_chart_has_a_bar_per_target_per_page_and_size_with_req_s_and_p99_in_its_text():
    svg = draw(chart_result())

    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "chart-title chart-desc"
    assert "requests/s per page" in root.find(f"{SVG}title").text
    description = root.find(f"{SVG}desc").text
    assert "1,000 learners, lesson, app: 812 req/s, p99 40.0 ms (0.43x ref, 0.18x ceiling)" in description
    assert "1,000 learners, quiz submission, write reference: 420 req/s, p99 31.0 ms" in description
    found = bars(svg)
    assert set(found) == {
        "lesson, app: 812 req/s",
        "lesson, reference: 1,898 req/s",
        "lesson, ceiling: 4,528 req/s",
        "quiz submission, app: 190 req/s",
        "quiz submission, write reference: 420 req/s",
        "one client, app: 110 req/s",
        "lesson, app: 0 req/s",
        "lesson, reference: 1,700 req/s",
        "lesson, ceiling: 4,400 req/s",
    }
    # Bars of a size share a scale: the longest is that size's fastest.
    assert found["lesson, ceiling: 4,528 req/s"] == 400.0
    assert found["lesson, app: 812 req/s"] == pytest.approx(400 * 812 / 4528, abs=0.1)
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert "1,000 learners, 2 gunicorn workers" in texts and "100,000 learners, 2 gunicorn workers" in texts
    assert "812 req/s (0.43x ref, 0.18x ceiling)" in texts and "40.0 ms" in texts
    assert "190 req/s (0.45x write ref, 0.04x ceiling)" in texts and "170.0 ms" in texts
    assert "none completed" in texts  # the page with no response at 100,000
    storage = "Database 3.0 GB, seeded in 42 s (earlier run; reused); 262 bytes per answer"
    assert f"{storage} (2,000,000 answers; attempt_answers, shown_questions)" in texts


def test_the_chart_draws_an_older_results_file_with_its_one_ceiling():
    older = {
        "started_at": "2026-11-25T03:14:16+00:00",
        "runs": [
            {
                "learners": 1000,
                "pages": {"lesson": {**numbers(1149.0, 45.0), "x_ceiling": 0.229}},
                "ceiling": numbers(5026.0, 18.6),
            }
        ],
    }

    found = bars(draw(older))

    assert found == {
        "lesson, app: 1,149 req/s": pytest.approx(400 * 1149 / 5026, abs=0.1),
        "ceiling (bare Flask), ceiling: 5,026 req/s": 400.0,
    }


def test_the_chart_command_draws_a_saved_results_file_beside_it(tmp_path, capsys):
    saved = tmp_path / "20261205T010000Z.json"
    saved.write_text(json.dumps(chart_result()))

    assert chart_main([str(saved)]) == 0

    drawn = tmp_path / "20261205T010000Z.svg"
    assert capsys.readouterr().out.strip() == str(drawn)
    assert "lesson, reference: 1,898 req/s" in bars(drawn.read_text())
    assert (
        chart_main([str(saved), "-o", str(tmp_path / "elsewhere.svg")]) == 0 and (tmp_path / "elsewhere.svg").exists()
    )


def test_the_chart_command_refuses_a_missing_or_broken_file_with_a_message(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    assert chart_main([str(tmp_path / "missing.json")]) == 2
    assert chart_main([str(broken)]) == 2
    err = capsys.readouterr().err
    assert "no results file" in err and "is not a results file" in err


# ---------------------------------------------------------------------------------------------
# On PostgreSQL (the benchmark runs only there): storage, the reference and the write reference


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """An empty PostgreSQL database of the test's own, dropped afterwards."""
    if not TestConfig.TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    with scratch_postgres_database(TestConfig.TEST_DATABASE_URL) as url:
        yield libpq_url(url)


def test_settling_vacuums_and_analyses_so_index_only_scans_can_skip_the_table(scratch_database):
    # Rows just written or rewritten (seeding; a migration such as a19000000010) are on pages not
    # yet all-visible, so an index-only scan reads the table too; the benchmark settles them first.
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE links (id serial PRIMARY KEY, key text)")
        conn.execute("INSERT INTO links (key) SELECT md5(n::text) FROM generate_series(1, 5000) n")
        conn.execute("UPDATE links SET key = upper(key)")

        def state() -> tuple:
            return conn.execute(
                "SELECT c.relallvisible, s.last_vacuum IS NOT NULL, s.last_analyze IS NOT NULL "
                "FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'links'"
            ).fetchone()

        assert state() == (0, False, False)
        settle(scratch_database)
        all_visible, vacuumed, analysed = state()
        assert all_visible > 0 and vacuumed and analysed


def test_storage_gives_the_largest_tables_and_bytes_per_answer_over_the_answer_tables_that_exist(scratch_database):
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE attempt_answers (id serial PRIMARY KEY, note text)")
        conn.execute("CREATE TABLE shown_questions (id serial PRIMARY KEY, body text)")
        conn.execute("CREATE TABLE lessons (id serial PRIMARY KEY, body text)")
        conn.execute("INSERT INTO attempt_answers (note) SELECT repeat('x', 50) FROM generate_series(1, 200)")
        conn.execute("INSERT INTO shown_questions (body) VALUES ('a question as shown')")
        conn.execute("INSERT INTO lessons (body) SELECT md5(n::text) FROM generate_series(1, 5000) n")
        conn.execute("ANALYZE")
        answer_bytes = conn.execute(
            "SELECT pg_total_relation_size('attempt_answers') + pg_total_relation_size('shown_questions')"
        ).fetchone()[0]

        facts = storage_facts(conn, largest=2)

    assert facts["answer_tables"] == ["attempt_answers", "shown_questions"]  # no answer_selections here
    assert facts["answers"] == 200 and facts["answer_tables_bytes"] == answer_bytes
    assert facts["bytes_per_answer"] == round(answer_bytes / 200, 1)
    assert [table["table"] for table in facts["largest_tables"]] == ["lessons", "attempt_answers"]
    lessons = facts["largest_tables"][0]
    assert (
        lessons["rows_estimate"] == 5000 and lessons["total_bytes"] >= lessons["table_bytes"] + lessons["index_bytes"]
    )
    assert facts["database_bytes"] > answer_bytes


def test_the_printed_storage_names_the_size_seeding_time_and_largest_tables(capsys):
    print_report({**run(100000, {"lesson": numbers(800.0, 40.0)}), "storage": STORAGE})

    out = capsys.readouterr().out
    assert (
        "storage: database 3.0 GB, seeded in 42 s (earlier run; reused); 262 bytes per answer "
        "(2,000,000 answers; attempt_answers, shown_questions)"
    ) in out
    assert "  attempt_answers                 500.0 MB    400.0 MB    100.0 MB     2,000,000" in out


def test_the_write_reference_copies_a_submission_whatever_the_keys_of_its_tables(scratch_database):
    """Answers keyed by (attempt, position) and picks pointing at both: the copy follows the keys
    the catalog names, so a schema change in the app needs no change here."""
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE quiz_attempts (id serial PRIMARY KEY, user_id int NOT NULL, lesson_id int NOT NULL, "
            "submission_key text NOT NULL, submitted_at timestamptz NOT NULL, passed boolean NOT NULL, "
            "UNIQUE (user_id, submission_key))"
        )
        conn.execute(
            "CREATE TABLE attempt_answers (attempt_id int REFERENCES quiz_attempts (id), position int, "
            "chosen int[] NOT NULL, shown jsonb, PRIMARY KEY (attempt_id, position))"
        )
        conn.execute(
            "CREATE TABLE answer_selections (attempt_id int, position int, pick int, "
            "FOREIGN KEY (attempt_id, position) REFERENCES attempt_answers (attempt_id, position))"
        )
        conn.execute(
            "CREATE TABLE lesson_progress (id serial PRIMARY KEY, user_id int, lesson_id int, "
            "opened_at timestamptz, completed_at timestamptz, UNIQUE (user_id, lesson_id))"
        )
        conn.execute("INSERT INTO quiz_attempts VALUES (1, 7, 3, 'first', now(), true)")
        conn.execute("INSERT INTO attempt_answers VALUES (1, 1, '{1,2}', '{\"order\": [2, 1]}'), (1, 2, '{3}', NULL)")
        conn.execute("INSERT INTO answer_selections VALUES (1, 1, 5), (1, 1, 6), (1, 2, 7)")
        conn.execute("SELECT setval('quiz_attempts_id_seq', 1)")

        shapes = submission_shape(conn)
        pattern = read_pattern(conn, shapes, lesson_id=3)
        attempt_id = insert_submission(conn, shapes, pattern, user_id=9, submission_key="b" * 32)
        again = insert_submission(conn, shapes, pattern, user_id=9, submission_key="b" * 32)

        assert [shape.name for shape in shapes] == ["quiz_attempts", "attempt_answers", "answer_selections"]
        assert read_pattern(conn, shapes, lesson_id=4) is None  # nothing to copy yet
        assert attempt_id == again == 2
        assert conn.execute(
            "SELECT user_id, lesson_id, submission_key, passed FROM quiz_attempts WHERE id = 2"
        ).fetchone() == (
            9,
            3,
            "b" * 32,
            True,
        )
        assert conn.execute("SELECT * FROM attempt_answers WHERE attempt_id = 2 ORDER BY position").fetchall() == [
            (2, 1, [1, 2], {"order": [2, 1]}),
            (2, 2, [3], None),
        ]
        assert conn.execute("SELECT * FROM answer_selections WHERE attempt_id = 2 ORDER BY pick").fetchall() == [
            (2, 1, 5),
            (2, 1, 6),
            (2, 2, 7),
        ]
        assert conn.execute("SELECT count(*) FROM answer_selections").fetchone()[0] == 6  # the same key: no copy
        progress = conn.execute("SELECT user_id, lesson_id, completed_at IS NOT NULL FROM lesson_progress").fetchall()
        assert progress == [(9, 3, True)]


def submission_rows(conn, attempt_id: int) -> dict[str, list]:
    """An attempt's rows in every answer table there is, without their own keys and the attempt's."""
    found = {}
    for shape in submission_shape(conn)[1:]:
        rows = conn.execute(
            f"SELECT to_jsonb(t) - 'id' - 'attempt_id' - 'answer_id' FROM {shape.name} t "  # noqa: S608 - names from the catalog
            + (
                "WHERE attempt_id = %s"
                if shape.name == "attempt_answers"
                else "WHERE answer_id IN (SELECT id FROM attempt_answers WHERE attempt_id = %s)"
            ),
            (attempt_id,),
        ).fetchall()
        found[shape.name] = sorted(json.dumps(row[0], sort_keys=True) for row in rows)
    return found


@pytest.fixture
def reference_setup(app, learner_client, learner, other_learner, tmp_path):
    """The app's lesson page for the learner, captured as bench.run does, and the reference
    serving it from the same PostgreSQL database; (reference app, lesson path, learner's token)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the reference runs on PostgreSQL only")
    slug = lesson_slugs(app)[0]
    path = f"/courses/{COURSE_SLUG}/lessons/{slug}"
    learner_client.get("/")  # shows (and clears) the welcome, as bench.client.log_in does
    page = learner_client.get(path)
    assert page.status_code == 200
    user = UserSession("learner@example.org", lesson_path=path, lesson_html=page.get_data(as_text=True))
    user.lesson_headers = dict(page.headers)
    capture = reference_capture([user], {"learner@example.org": (learner, "Lee Learner")})
    (tmp_path / "reference.json").write_text(json.dumps(capture))
    reference = create_reference(
        {
            "BENCH_REFERENCE": str(tmp_path / "reference.json"),
            "DATABASE_URL": libpq_url(app.config["SQLALCHEMY_DATABASE_URI"]),
            "SECRET_KEY": "the reference's secret",
        }
    )
    token = capture["pages"][slug]["csrf_token"]
    yield reference, path, token, page
    database = reference.extensions["bench_reference"]["database"]
    if database.connection is not None:
        database.connection.close()


def signed_in(reference, user_id: int, token: str, secret: str = "the reference's secret"):
    """A test client of the reference with a session cookie it signed."""
    client = reference.test_client()
    client.set_cookie("session", sign_session(secret, {"uid": user_id, "csrf": token}))
    return client


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_reference_serves_the_apps_lesson_page_with_one_query_and_its_headers(
    reference_setup, learner, other_learner
):
    reference, path, token, app_page = reference_setup
    client = signed_in(reference, learner, token)

    first = client.get(path)
    assert first.status_code == 200
    assert first.get_data(as_text=True) == app_page.get_data(as_text=True)  # the same HTML, byte for byte
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cache-Control",
    ):
        assert first.headers.get(header) == app_page.headers.get(header), header

    database = reference.extensions["bench_reference"]["database"]
    real, statements = database.get(), []

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def execute(self, query, *args, **kwargs):
            statements.append(query)
            return real.execute(query, *args, **kwargs)

    database.connection = Counting()
    assert client.get(path).status_code == 200
    assert len(statements) == 1  # the user and their progress, nothing else
    database.connection = real

    other = signed_in(reference, other_learner, "fred's token").get(path).get_data(as_text=True)
    assert "Fred Other" in other and "Lee Learner" not in other and 'value="fred\'s token"' not in other
    assert 'value="fred&#39;s token"' in other  # escaped like the app's templates


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_reference_lets_in_only_a_session_it_signed_for_an_active_learner(reference_setup, learner):
    reference, path, token, _ = reference_setup

    assert reference.test_client().get(path).headers["Location"] == "/auth/login"
    assert signed_in(reference, learner, token, secret="another secret").get(path).status_code == 302
    assert signed_in(reference, 999_999, token).get(path).status_code == 302  # no such user
    assert signed_in(reference, learner, token).get(f"/courses/{COURSE_SLUG}/lessons/no-such-lesson").status_code == 404


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_write_reference_inserts_the_rows_the_app_stores_for_a_submission(
    reference_setup, app, learner, learner_client
):
    reference, path, token, _ = reference_setup
    slug = path.rsplit("/", 1)[-1]
    answers = quiz_form(app, slug)
    assert submit_quiz(learner_client, slug, answers).status_code == 302  # the app's own attempt: the pattern
    client = signed_in(reference, learner, token)
    form = {**answers, "csrf_token": token, "submission_key": "c" * 32}

    response = client.post(path + "/quiz", data=form)

    assert response.status_code == 302
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert response.headers["Location"] == f"{path}/quiz/attempts/{attempt_id}"
    with psycopg.connect(libpq_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        pattern_id = conn.execute("SELECT min(id) FROM quiz_attempts").fetchone()[0]
        assert submission_rows(conn, attempt_id) == submission_rows(conn, pattern_id)
        assert submission_rows(conn, attempt_id)["attempt_answers"]  # not an empty copy
        assert conn.execute(
            "SELECT user_id, submission_key FROM quiz_attempts WHERE id = %s", (attempt_id,)
        ).fetchone() == (learner, "c" * 32)
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM quiz_attempts), (SELECT count(*) FROM attempt_answers)"
        ).fetchone()

        assert client.post(path + "/quiz", data=form).headers["Location"] == response.headers["Location"]
        assert client.post(path + "/quiz", data={**form, "csrf_token": "forged"}).status_code == 400
        assert client.post(path + "/quiz", data={**form, "submission_key": "short"}).status_code == 400
        assert (
            conn.execute(
                "SELECT (SELECT count(*) FROM quiz_attempts), (SELECT count(*) FROM attempt_answers)"
            ).fetchone()
            == counts
        )  # the same key again, or a refused POST, records nothing


# ---------------------------------------------------------------------------------------------
# The reference's requests and templates (no database)


def test_the_references_requests_are_the_pages_own_with_a_cookie_it_signed_per_learner():
    sessions = [learner(1), learner(2)]
    submission = next(
        page for page in build_pages(sessions, learner(9), [], learner(10)) if page.name == "quiz submission"
    )
    users = {"learner1@example.org": (11, "One"), "learner2@example.org": (12, "Two")}

    page = reference_page(submission, sessions, users, "secret", "write reference")

    assert (page.name, page.expected) == ("write reference", "302")
    serializer = URLSafeTimedSerializer(
        "secret", salt="cookie-session", signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1}
    )
    for line, original, user_id, token in zip(page.lines, submission.lines, (11, 12), ("t1", "t2"), strict=True):
        method, path, cookie, body = line.split("\t")
        assert [method, path, body] == [part for index, part in enumerate(original.split("\t")) if index != 2]
        name, _, value = cookie.partition("=")
        assert name == "session" and serializer.loads(value) == {"uid": user_id, "csrf": token}


def test_a_captured_page_becomes_a_template_whose_other_text_stays_literal():
    html = (
        '<a class="nav-user">O&#39;Neil &amp; Co</a><input name="csrf_token" value="tok">'
        '<span class="badge badge-open"><span aria-hidden="true">→</span> Open</span>'
        "<p>{{ not a variable }} {% raw %} {% endraw %} {# nor a comment #}</p>"
    )
    template = page_template(Environment(autoescape=True), html, display_name="O'Neil & Co", csrf_token="tok")

    assert template.render(display_name="O'Neil & Co", csrf_token="tok", badge=BADGES[False]) == html
    again = template.render(display_name="<Ann>", csrf_token="new", badge=BADGES[True])
    assert again.startswith('<a class="nav-user">&lt;Ann&gt;</a><input name="csrf_token" value="new">')
    assert "badge-done" in again and "{{ not a variable }} {% raw %} {% endraw %} {# nor a comment #}" in again


# --- bench/proc.py: CPU per request over HTTP, from /proc --------------------------------------


def fake_process(proc_dir, pid: int, name: str, *, ppid: int = 1, own=(0, 0), children=(0, 0)) -> None:
    """A /proc/<pid>/stat as stat(5) lays it out: utime, stime, cutime, cstime are fields 14-17."""
    (proc_dir / str(pid)).mkdir()
    fields = ["S", str(ppid), *["0"] * 9, str(own[0]), str(own[1]), str(children[0]), str(children[1]), *["0"] * 8]
    (proc_dir / str(pid) / "stat").write_text(f"{pid} ({name}) {' '.join(fields)}\n")


def test_a_servers_cpu_is_its_masters_with_ended_workers_and_its_live_workers(tmp_path):
    fake_process(tmp_path, 100, "gunicorn", own=(10, 5), children=(200, 100))  # two workers ended
    fake_process(tmp_path, 101, "gunicorn", ppid=100, own=(50, 50))
    fake_process(tmp_path, 102, "gunicorn: worker) x", ppid=100, own=(30, 20))
    fake_process(tmp_path, 103, "python3", ppid=1, own=(9000, 9000), children=(5, 5))
    fake_process(tmp_path, 104, "wrk", ppid=101, own=(7000, 7000))  # a grandchild: not the server's

    assert proc.server_cpu_seconds(100, tmp_path) == pytest.approx(465 / os.sysconf("SC_CLK_TCK"))
    assert proc.server_cpu_seconds(999, tmp_path) == 0.0  # a server that has ended


def test_the_machines_cpu_is_every_cpus_time_but_idle_and_io_wait(tmp_path):
    (tmp_path / "stat").write_text("cpu  100 7 50 1000 20 3 5 0 0 0\ncpu0 50 3 25 500 10 1 2 0 0 0\n")
    assert proc.machine_cpu_seconds(tmp_path) == pytest.approx(165 / os.sysconf("SC_CLK_TCK"))


def test_a_requests_cpu_is_split_into_the_app_the_database_and_the_rest():
    before, after = proc.CpuSample(1.0, 2.0, 10.0), proc.CpuSample(3.0, 3.0, 14.0)
    assert proc.cpu_per_request(before, after, 1000) == {"app": 2.0, "database": 1.0, "rest": 1.0}
    assert proc.cpu_per_request(before, after, 0) is None  # no request: no cost per request
    # Counters read a moment apart can disagree: the rest is never below nothing.
    assert proc.cpu_per_request(before, proc.CpuSample(3.0, 3.0, 12.5), 1000)["rest"] == 0.0


def test_the_rounds_cpu_is_the_median_of_each_part_and_the_report_prints_it(capsys):
    split = [{"app": 2.0, "database": 1.0, "rest": 0.2}, {"app": 3.0, "database": 0.5, "rest": 0.3}, None]
    rounds = [numbers(800.0, 40.0, cpu_ms=one) for one in split]
    assert median_of(rounds)["cpu_ms"] == {"app": 2.5, "database": 0.75, "rest": 0.25}  # rounds that have one
    assert median_of([numbers(800.0, 40.0)])["cpu_ms"] is None

    cpu_of = {"app": 2.0, "database": 1.0, "rest": 0.25}
    page = measured("lesson", [(800.0, 40.0)] * 3, reference=[(2000.0, 10.0)] * 3, ceiling=[(4000.0, 5.0)] * 3)
    page["cpu_ms"] = cpu_of
    pages = {"lesson": page}
    pages["lesson"]["reference"]["rounds"][0]["cpu_ms"] = {"app": 0.5, "database": 0.25, "rest": 0.25}
    result = run(1000, pages)
    print_report(result)

    out = capsys.readouterr().out
    assert "CPU per request over HTTP (ms, medians of the rounds):" in out
    table = out.split("CPU per request over HTTP")[1]
    lines = {line[:26].strip(): line[26:].split() for line in table.splitlines()[1:] if line[:1].isalpha()}
    assert lines["lesson"] == ["2.00", "1.00", "0.25", "3.25"]
    assert lines["reference (1 query)"] == ["0.50", "0.25", "0.25", "1.00"]
    assert "ceiling (bare Flask)" not in lines  # no round of it measured CPU


# --- bench/cpu.py: CPU per request, in process -----------------------------------------------


def test_postgres_cpu_is_the_user_and_system_time_of_processes_named_postgres(tmp_path):
    fake_process(tmp_path, 10, "postgres", own=(300, 100))  # the postmaster
    fake_process(tmp_path, 11, "postgres", ppid=10, own=(50, 50))  # a backend
    fake_process(tmp_path, 12, "python3", own=(9000, 9000), children=(10, 10))
    fake_process(tmp_path, 13, "my postgres) x", own=(7000, 7000))  # a name that only looks like it
    (tmp_path / "self").mkdir()
    before = proc.postgres_cpu_seconds(tmp_path)
    assert before == pytest.approx(500 / os.sysconf("SC_CLK_TCK"))

    # The backend works on, then its client disconnects: it ends and the postmaster reaps it.
    shutil.rmtree(tmp_path / "11")
    shutil.rmtree(tmp_path / "10")
    fake_process(tmp_path, 10, "postgres", own=(300, 100), children=(80, 70))

    assert proc.postgres_cpu_seconds(tmp_path) - before == pytest.approx(50 / os.sysconf("SC_CLK_TCK"))


def test_the_cost_per_request_is_the_median_batchs_app_and_database_cpu_per_call():
    database_clock = [0.0]

    def request():
        database_clock[0] += 0.002  # 2 ms of the database's CPU per request
        deadline = time.process_time() + 0.001
        while time.process_time() < deadline:  # at least 1 ms of this process's CPU
            pass

    cost = cpu.cost_per_request(request, count=20, batches=3, database=lambda: database_clock[0])

    assert cost.database_ms == pytest.approx(2.0)
    assert 1.0 <= cost.app_ms < 50
    assert cost.total_ms == pytest.approx(cost.app_ms + cost.database_ms)
    assert cost.wall_ms >= 1.0


def test_interleaved_costs_measure_each_call_once_per_round_in_turn_and_take_medians():
    order, database_clock = [], [0.0]

    def call(name, database_ms):
        def request():
            order.append(name)
            database_clock[0] += database_ms / 1000

        return request

    costs = cpu.interleaved_costs(
        {"a": call("a", 1.0), "b": call("b", 3.0)}, count=2, rounds=3, database=lambda: database_clock[0]
    )

    # One warm-up call each, then a batch of each per round, in turn: a drift hits both alike.
    assert order == ["a", "b"] + ["a", "a", "b", "b"] * 3
    assert costs["a"].database_ms == pytest.approx(1.0)
    assert costs["b"].database_ms == pytest.approx(3.0)


def test_in_turn_makes_each_call_in_order_and_starts_again_after_the_last():
    made = []
    call = cpu.in_turn([lambda: made.append("a") or "A", lambda: made.append("b") or "B"])

    assert [call() for _ in range(5)] == ["A", "B", "A", "B", "A"]
    assert made == ["a", "b", "a", "b", "a"]


def test_an_ab_run_measures_every_call_with_the_change_off_and_on_in_alternating_order():
    state, seen, database_clock = {"on": None}, [], [0.0]

    def request():
        seen.append(state["on"])
        database_clock[0] += 0.001 if state["on"] else 0.003  # the change saves 2 ms of the database's CPU

    costs = cpu.ab_costs(
        {"page": request},
        lambda on: state.update(on=on),
        count=3,
        rounds=4,
        database=lambda: database_clock[0],
    )

    off, on = costs["page"]
    assert off.database_ms == pytest.approx(3.0) and on.database_ms == pytest.approx(1.0)
    # Each batch is 1 warm-up call and 3 measured; the states alternate which goes first.
    batches = [seen[i] for i in range(0, len(seen), 4)]
    assert batches == [False, True, True, False, False, True, True, False]
    report = cpu.ab_report(costs).splitlines()
    assert report[1].split()[6] == "2000"  # the database's 3 ms less 1 ms, in us


def _busy(rounds: int) -> int:
    """Some CPU to count (a target of the pieces tests below)."""
    return sum(hashlib.sha256(str(n).encode()).digest()[0] for n in range(rounds))


class _Page:
    """A class whose own method and inherited method the pieces tests time."""

    def draw(self, rounds: int) -> int:
        return _busy(rounds)

    @staticmethod
    def fixed() -> int:
        return 1


class _KeptPage(_Page):
    pass


def test_pieces_counts_the_cpu_and_calls_inside_each_target_and_puts_every_function_back():
    own, inherited = _Page.draw, _Page.__dict__["draw"]
    targets = ["tests.test_bench:_busy", "tests.test_bench:_Page.draw", "tests.test_bench:_KeptPage.draw"]

    with pieces.timed(targets) as spent:
        _Page().draw(2000)  # _busy inside it counts as well
        _KeptPage().draw(2000)
        _KeptPage().draw(2000)

    assert spent.calls == {
        "tests.test_bench:_busy": 3,
        "tests.test_bench:_Page.draw": 1,
        "tests.test_bench:_KeptPage.draw": 2,
    }
    assert spent.seconds["tests.test_bench:_busy"] > 0
    assert spent.seconds["tests.test_bench:_KeptPage.draw"] > spent.seconds["tests.test_bench:_Page.draw"]
    assert not hasattr(globals()["_busy"], "pieces_original") and "draw" not in vars(_KeptPage)  # all put back
    assert _Page.draw is own and _Page.__dict__["draw"] is inherited

    with pytest.raises(ZeroDivisionError), pieces.timed(["tests.test_bench:_busy"]):
        _busy(1) / 0
    assert not hasattr(globals()["_busy"], "pieces_original")  # put back after an error too


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests.test_bench", "is not module:attribute"),
        ("no_such_module:f", "cannot import 'no_such_module'"),
        ("tests.test_bench:_Nothing.draw", "has no '_Nothing.draw'"),
        ("tests.test_bench:PAGE_NAMES", "is not a function"),
        ("tests.test_bench:_Page.fixed", "static or class method"),
    ],
)
def test_pieces_refuses_a_target_it_cannot_time_and_says_why(target, message):
    with pytest.raises(BenchError, match=re.escape(message)), pieces.timed([target]):
        pass
    assert vars(_Page)["fixed"].__class__ is staticmethod


def test_the_pieces_report_lists_the_costliest_first_and_the_targets_never_called():
    spent = pieces.Spent(seconds={"a:cheap": 0.001, "a:dear": 0.003}, calls={"a:cheap": 10, "a:dear": 20})

    lines = pieces.pieces_report("lesson", ["a:cheap", "a:dear", "a:idle"], spent, 10, 0.006).splitlines()

    assert lines[0] == "lesson: 600.0 us of CPU a request, in process (10 requests)"
    assert lines[1].split() == ["a:dear", "300.0", "us", "2.00", "calls"]
    assert lines[2].split() == ["a:cheap", "100.0", "us", "1.00", "calls"]
    assert lines[3].split() == ["a:idle", "never", "called"]
    assert pieces.targets_from(" a:b, ,c:d ") == ["a:b", "c:d"]


def test_bench_cpu_times_the_pieces_of_a_page_after_a_warm_up():
    made = []
    report = cpu.time_pieces("page", lambda: made.append(_busy(50)), ["tests.test_bench:_busy"], count=40)

    assert len(made) == 44  # 4 to warm up, 40 counted
    assert report.splitlines()[1].split()[1:] != [] and report.splitlines()[1].split()[-2] == "1.00"


def test_bench_cpu_profiles_a_page_after_a_warm_up_and_keeps_the_whole_profile(tmp_path):
    import pstats

    made = []
    saved = tmp_path / "page.prof"
    report = cpu.profile_report("page", lambda: made.append(_busy(50)), count=40, saved=saved)

    assert len(made) == 44  # 4 to warm up, 40 profiled
    assert report.splitlines()[0] == f"== page: 40 requests (all of it in {saved}, for pstats)"
    assert "(_busy)" in report
    calls = {function[2]: row[1] for function, row in pstats.Stats(str(saved)).stats.items()}
    assert calls["_busy"] == 40


def test_a_variant_file_gives_the_switch_and_a_file_without_on_and_off_is_refused(tmp_path):
    log = tmp_path / "switched"
    variant = tmp_path / "variant.py"
    variant.write_text(
        f"from pathlib import Path\nLOG = Path({str(log)!r})\n"
        "def on():\n    LOG.write_text(LOG.read_text() + 'on ' if LOG.exists() else 'on ')\n"
        "def off():\n    LOG.write_text(LOG.read_text() + 'off ' if LOG.exists() else 'off ')\n"
    )
    switch = cpu.load_variant(str(variant))
    switch(True), switch(False)
    assert log.read_text() == "on off "

    wrong = tmp_path / "wrong.py"
    wrong.write_text("def on():\n    pass\n")
    with pytest.raises(BenchError, match=r"must define on\(\) and off\(\)"):
        cpu.load_variant(str(wrong))


def test_the_cpu_report_gives_each_pages_costs_beside_its_references_and_their_ratio():
    page, reference = cpu.Cost(3.0, 1.0, 4.5), cpu.Cost(1.5, 0.5, 2.2)

    table = cpu.report([("quiz submission", page, reference)]).splitlines()

    header = ["page", "app", "database", "total", "wall", "ref", "app", "ref", "db", "ref", "total", "x", "ref"]
    assert table[0].split() == header
    assert table[1].split() == ["quiz", "submission", "3.00", "1.00", "4.00", "4.50", "1.50", "0.50", "2.00", "0.50"]


def test_the_cpu_measurement_signs_in_reads_the_learners_lesson_and_submits_its_quiz(app, course, learner):
    client = cpu.signed_in_client(app, "learner@example.org", PASSWORD)
    lesson = cpu.current_lesson(client, course)
    assert lesson == f"/courses/{course}/lessons/{lesson_slugs(app, course)[0]}"
    body = cpu.quiz_body(client, lesson)
    assert body["csrf_token"] and any(name.startswith("question-") for name in body)

    assert cpu.getting(client, lesson)().status_code == 200
    submit = cpu.submitting(client, lesson, body)
    submit(), submit()  # a fresh key each time: two attempts

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 2
    with pytest.raises(BenchError, match="answered 404"):
        cpu.getting(client, "/courses/no-such-course/")()
