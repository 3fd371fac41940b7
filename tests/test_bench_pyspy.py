"""The benchmark's py-spy profile (bench/pyspy.py): py-spy's raw stacks summed up by function
and by part of a request, and a real recording of a real process."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import time

import pytest

from bench.pyspy import OTHER, PARTS, finish, profile_lines, profiles_table, record, short_name, summarise
from bench.settings import BenchError

DRIVER, APP_CODE, FLASK, GUNICORN = (part for part, _ in PARTS)


def frame(function: str, file: str, line: int = 1) -> str:
    return f"{function} ({file}:{line})"


# The frames every request's stack starts with, outermost first, files shortened as py-spy does.
REQUEST = [
    'process 4241:"/srv/venv/bin/python /srv/venv/bin/gunicorn -c gunicorn.conf.py app:create_app()"',
    'process 4242:"/srv/venv/bin/python /srv/venv/bin/gunicorn -c gunicorn.conf.py app:create_app()"',
    frame("<module>", "gunicorn", 8),
    frame("SyncWorker.handle_request", "gunicorn/workers/sync.py"),
]
IN_FLASK = [*REQUEST, frame("Flask.wsgi_app", "flask/app.py")]
IN_APP = [*IN_FLASK, frame("lesson", "app/learn/routes.py")]


def raw(*stacks: tuple[list[str], int]) -> str:
    return "\n".join(";".join(frames) + f" {count}" for frames, count in stacks) + "\n"


def test_a_frame_is_named_by_its_function_and_file_so_its_lines_add_up():
    assert short_name(frame("Cursor.execute", "psycopg/cursor.py", 100)) == "Cursor.execute (psycopg/cursor.py)"
    assert short_name(frame("lesson", "app/learn/routes.py", 9)) == short_name(frame("lesson", "app/learn/routes.py"))
    assert short_name("<unknown>") == "<unknown>"


def test_samples_are_summed_up_by_function_inclusive_and_self_and_by_part_of_the_request():
    query = [*IN_APP, frame("read", "app/services/reads.py"), frame("Connection.wait", "psycopg/connection.py")]
    template = [*IN_APP, frame("render", "app/page_shells.py")]
    headers = [*IN_FLASK, frame("Flask.process_response", "flask/app.py")]
    writing = [*REQUEST, frame("write", "gunicorn/util.py")]
    profile = summarise(raw((query, 40), (template, 20), (headers, 15), (writing, 25)))

    assert profile.samples == 100
    assert dict((part, share) for share, part in profile.parts) == {
        DRIVER: 0.40,
        APP_CODE: 0.20,
        FLASK: 0.15,
        GUNICORN: 0.25,
    }
    inclusive = dict((name, share) for share, name in profile.inclusive)
    assert inclusive["Flask.wsgi_app (flask/app.py)"] == 0.75
    assert inclusive["lesson (app/learn/routes.py)"] == 0.60
    assert inclusive["Connection.wait (psycopg/connection.py)"] == 0.40
    # gunicorn's frames hold every request: they are in the parts, not listed as functions
    assert not [name for name in inclusive if "gunicorn" in name]
    assert profile.self_time[:2] == [
        (0.40, "Connection.wait (psycopg/connection.py)"),
        (0.25, "write (gunicorn/util.py)"),
    ]
    assert [share for share, _ in profile.inclusive] == sorted((share for share, _ in profile.inclusive), reverse=True)


def test_with_the_requests_served_a_share_is_milliseconds_a_request_printed_beside_it():
    served = 5  # 100 samples at 200 a second: half a second of workers running, over 5 requests
    profile = dataclasses.replace(summarise(raw((IN_APP, 60), (REQUEST, 40))), requests=served)

    assert profile.ms_per_request(1.0) == pytest.approx(100.0)
    assert profile.ms_per_request(0.6) == pytest.approx(60.0)
    assert "  60.00 ms a request  " + APP_CODE in "\n".join(profile_lines("lesson, app", profile))
    assert profile.as_json()["parts"][0] == [0.6, APP_CODE, pytest.approx(60.0)]
    assert dataclasses.replace(profile, requests=None).ms_per_request(1.0) is None


def test_a_recursive_function_counts_once_per_stack_and_unknown_code_is_anything_else():
    recursive = [*IN_APP, *[frame("walk", "app/tree.py", line) for line in (3, 4, 5)]]
    elsewhere = [*REQUEST[:1], frame("Thread.run", "threading.py")]
    profile = summarise(raw((recursive, 3), (elsewhere, 1), ([], 0)) + "not a stack line\n")

    assert profile.samples == 4
    assert (0.75, "walk (app/tree.py)") in profile.inclusive
    assert (0.25, OTHER) in profile.parts


def test_a_profile_without_samples_is_an_error_not_a_division_by_zero():
    with pytest.raises(BenchError, match="no samples"):
        summarise("")


def test_py_spy_records_a_running_python_process_and_its_busiest_function_comes_out_on_top(tmp_path):
    script = tmp_path / "spin.py"
    script.write_text(
        textwrap.dedent(
            """
            import time

            def spin_here(until):
                total = 0
                while time.monotonic() < until:
                    total += sum(range(200))
                return total

            print("ready", flush=True)
            spin_here(time.monotonic() + 20)
            """
        )
    )
    spinning = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert spinning.stdout is not None and spinning.stdout.readline().strip() == "ready"
        out = tmp_path / "stacks.txt"
        try:
            profile = summarise(finish(record(spinning.pid, 2, out), out, timeout=30))
        except BenchError as refused:
            # A container without CAP_SYS_PTRACE: py-spy says so, and BENCH_PYSPY cannot run there.
            if "permission" in str(refused).lower():
                pytest.skip(f"py-spy may not trace processes on this machine: {refused}")
            raise
    finally:
        spinning.kill()
        spinning.communicate()  # reaps it and closes its pipe

    assert profile.samples > 50  # two seconds at 200 a second, less py-spy's start
    assert dict((name, share) for share, name in profile.inclusive)["spin_here (spin.py)"] > 0.9
    top_share, top = profile.self_time[0]
    assert top == "spin_here (spin.py)" and top_share > 0.5


def test_py_spy_failing_to_record_is_an_error_with_its_own_words(tmp_path):
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    time.sleep(0.1)
    out = tmp_path / "stacks.txt"

    with pytest.raises(BenchError, match="py-spy recorded nothing") as refused:
        finish(record(finished.pid, 1, out), out, timeout=30)
    assert str(finished.pid) in str(refused.value) or "process" in str(refused.value).lower()


def test_the_report_sets_each_profiled_pages_parts_beside_its_references_and_skips_pages_without():
    app = dataclasses.replace(summarise(raw((IN_APP, 60), (REQUEST, 40))), requests=10).as_json()
    reference = summarise(raw(([*IN_FLASK, frame("w", "psycopg/c.py")], 50), (REQUEST, 50))).as_json()
    pages = {"lesson": {"pyspy": {"app": app, "reference": reference}}, "landing": {"rps": 1.0}}

    lines = profiles_table(pages)

    assert lines[1].startswith("py-spy: share of the workers' time")
    assert [line.split()[0] for line in lines[3:4]] == ["lesson"]
    # driver, own code, Flask, gunicorn: the app's then the reference's share
    assert lines[3].split()[1:] == ["0%", "/", "50%", "60%", "/", "0%", "0%", "/", "0%", "40%", "/", "50%"]
    assert not [line for line in lines if line.startswith("landing")]
    assert profiles_table({"landing": {"rps": 1.0}}) == []
