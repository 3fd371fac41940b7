"""The development server's links go to the port it serves: `make run PORT=8080` e-mails links to 8080.

Links in e-mails start with PUBLIC_URL, never the request's Host; in development it defaults to
this machine on the port the server was told (config.development_public_url). Production's rule,
PUBLIC_URL required, is tested in test_config.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import development_public_url
from tests.fresh_config import config_read_with

ROOT = Path(__file__).resolve().parents[1]


def test_the_development_address_takes_make_runs_port_then_flask_runs():
    assert development_public_url({}) == "http://127.0.0.1:5000"
    assert development_public_url({"PORT": "8080"}) == "http://127.0.0.1:8080"
    assert development_public_url({"FLASK_RUN_PORT": "8081"}) == "http://127.0.0.1:8081"
    assert development_public_url({"PORT": "8080", "FLASK_RUN_PORT": "8081"}) == "http://127.0.0.1:8080"


def development_setting(**environment: str) -> str:
    """The development configuration's PUBLIC_URL, config.py read afresh (settings are read on import)."""
    settings = config_read_with(environment, without={"PORT", "FLASK_RUN_PORT", "PUBLIC_URL"})
    return settings["DevelopmentConfig"].PUBLIC_URL


def test_the_development_configuration_links_to_the_port_and_a_public_url_given_wins():
    assert development_setting() == "http://127.0.0.1:5000"
    assert development_setting(PORT="8080") == "http://127.0.0.1:8080"
    assert development_setting(FLASK_RUN_PORT="8081") == "http://127.0.0.1:8081"  # `FLASK_RUN_PORT=8081 flask run`
    assert (
        development_setting(PORT="8080", PUBLIC_URL="http://dev.example.test:9000/") == "http://dev.example.test:9000"
    )


# A stand-in for the venv's flask: the setup commands do nothing; the server and the worker write
# down which port they were given and the app's development PUBLIC_URL in their environment. The
# server waits for the worker's note: the recipe stops the worker once the server has ended.
FAKE_FLASK = """#!{python}
import sys
import time
from pathlib import Path

here = Path(__file__).resolve().parents[1]
command = sys.argv[3:]  # after "--app app"
if command[:2] == ["jobs", "worker"]:
    import config  # here only: the setup commands need no settings, and each import costs a start-up

    (here / "worker.txt").write_text(config.DevelopmentConfig.PUBLIC_URL)
elif command[:1] == ["run"]:
    import config

    port = command[command.index("--port") + 1]
    (here / "server.txt").write_text(port + " " + config.DevelopmentConfig.PUBLIC_URL)
    deadline = time.monotonic() + 60
    while not (here / "worker.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
"""


def make_run(tmp_path: Path, *arguments: str, **environment: str) -> dict[str, str]:
    """Run the Makefile's real `run` recipe with a stand-in venv; return what the server and worker noted."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    flask = venv / "bin" / "flask"
    flask.write_text(FAKE_FLASK.format(python=sys.executable), encoding="utf-8")
    flask.chmod(0o755)
    (venv / "bin" / "python").touch()
    installed = venv / ".installed"
    installed.touch()
    later = time.time() + 3600  # newer than requirements/ and pyproject.toml: nothing to install
    os.utime(installed, (later, later))
    env = {key: value for key, value in os.environ.items() if key not in {"PORT", "FLASK_RUN_PORT", "PUBLIC_URL"}}
    subprocess.run(  # noqa: S603
        ["make", "--no-print-directory", "-C", str(ROOT), "run", f"VENV={venv}", *arguments],  # noqa: S607
        env={**env, "PYTHONPATH": str(ROOT), "APP_ENV": "development", **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {
        name: (venv / f"{name}.txt").read_text() for name in ("server", "worker") if (venv / f"{name}.txt").exists()
    }


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_links_to_the_port_it_serves(tmp_path):
    """The server `make run` starts, and its job worker (which sends most e-mails), both link to its port."""
    assert make_run(tmp_path / "given", "PORT=8080") == {
        "server": "8080 http://127.0.0.1:8080",
        "worker": "http://127.0.0.1:8080",
    }
    assert make_run(tmp_path / "default") == {"server": "5000 http://127.0.0.1:5000", "worker": "http://127.0.0.1:5000"}
