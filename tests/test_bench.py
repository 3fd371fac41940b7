"""The benchmark's own code, without running a load: settings from the environment, reading wrk's
output, the request lines per page, the gunicorn log's tracebacks and the printed report.

Every run and every wrk output here is built in the test; the committed results in
bench/results/ are records of past runs and no test reads them."""

import json

import pytest

from bench.client import UserSession
from bench.load import build_pages, quiz_post_body, request_line, wrk_numbers
from bench.report import growth, one_line, print_report
from bench.rounds import Run, interleaved, median_of, page_result, size_comparisons
from bench.server import tracebacks
from bench.settings import PAGE_NAMES, BenchError, Settings

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

    settings = Settings.from_environment()

    assert settings.learners == [500, 2000]
    assert settings.pages == ["lesson", "quiz page"] and settings.memory is False
    assert settings.memory_checkpoints == (100, 900)
    assert (settings.duration, settings.rounds, settings.reseed, settings.workers) == (3, 5, True, 2)
    assert settings.database_url == "postgresql://bench@127.0.0.1:5432/mine"


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


def test_growth_needs_two_sizes_and_says_when_a_page_had_no_response_at_the_larger(capsys):
    small = run(1000, {"lesson": numbers(800.0, 40.0)})
    large = run(100000, {"lesson": numbers(0.0, 0.0, requests=0)})

    assert growth([small]) == {}
    assert growth([small, large])["p99_ratio"] == {"lesson": None}
    assert "none completed at 100,000" in capsys.readouterr().out


def test_one_line_sums_up_a_measurement():
    assert one_line(numbers(812.3, 40.0)) == "812 req/s, p50 10.0 ms, p99 40.0 ms, 0 errors, 4 ms alone"
    assert one_line(numbers(0.0, 0.0, requests=0, errors=3, alone_ms=None)) == "no request completed in 10 s; 3 errors"
