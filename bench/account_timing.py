"""How long login, reset and registration take for an address with an account and one without.

    .venv/bin/python -m bench.account_timing [TRIES]

Runs the app in process (test client, SQLite in a temporary folder, CSRF off, rate limits off)
with the production password hash (``scrypt``), mail jobs going to a SQLite queue as in
development (a worker would send them; none runs here) and a real SMTP server on loopback, and
prints the median and mean time to the response for each case over TRIES tries (30 by default),
known and unknown addresses interleaved. The time is what a caller sees: until the response is
returned. After the timing, the queued mail jobs are run once, to check they were real: the
number of messages the SMTP server received is printed too.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from app import create_app
from app.extensions import db
from app.jobs.queue import configure_queue, huey
from config import TestConfig
from tests.conftest import PASSWORD, create_user
from tests.mail_server import start_inbox

KNOWN = "known@example.org"


def timed(client, url: str, data: dict) -> float:
    """Seconds until the response is back."""
    started = time.perf_counter()
    response = client.post(url, data=data)
    elapsed = time.perf_counter() - started
    response.close()
    return elapsed


def measure(tries: int) -> tuple[dict[str, dict[str, list[float]]], int]:
    """Seconds per try for each action and side (known, unknown), and the messages the queued jobs sent."""
    inbox, controller = start_inbox()
    with tempfile.TemporaryDirectory() as folder:
        config = type(
            "TimingConfig",
            (TestConfig,),
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'timing.db'}",
                "PASSWORD_HASH_METHOD": "scrypt",
                "WTF_CSRF_ENABLED": False,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": controller.port,
                "MAIL_USE_TLS": False,
                # Held in a queue, as in development and production: the request only enqueues.
                "JOBS_BACKEND": "sqlite",
                "JOBS_SQLITE_PATH": Path(folder) / "jobs.sqlite",
            },
        )
        app = create_app(config)
        with app.app_context():
            db.create_all()
        create_user(app, KNOWN)
        cases = {
            "login": lambda email, n: ("/auth/login", {"email": email, "password": "not the password"}),
            "reset": lambda email, n: ("/auth/reset", {"email": email}),
            "register": lambda email, n: (
                "/auth/register",
                {"email": email, "display_name": "Someone", "password": PASSWORD},
            ),
        }
        results: dict[str, dict[str, list[float]]] = {}
        try:
            for name, request_for in cases.items():
                timings: dict[str, list[float]] = {"known": [], "unknown": []}
                for n in range(tries):
                    # Alternate, so drift on the machine falls on both sides equally.
                    for side in ("known", "unknown"):
                        email = KNOWN if side == "known" else f"nobody-{name}-{n}@example.org"
                        url, data = request_for(email, n)
                        # A fresh client each time: a registration may have logged the last one in.
                        timings[side].append(timed(app.test_client(), url, data))
                results[name] = timings
            while (task := huey.dequeue()) is not None:  # the worker's part, after the timing
                huey.execute(task)
            delivered = len(inbox.wait_for(3 * tries, timeout=10))
        finally:
            configure_queue({**app.config, "JOBS_BACKEND": "immediate"})
            controller.stop()
            with app.app_context():
                db.engine.dispose()
    return results, delivered


def main() -> None:
    tries = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    results, delivered = measure(tries)
    print(f"{tries} tries each, interleaved; ms   known median / mean   unknown median / mean   difference of medians")
    for name, timings in results.items():
        known, unknown = (1000 * statistics.median(timings[side]) for side in ("known", "unknown"))
        means = [1000 * statistics.fmean(timings[side]) for side in ("known", "unknown")]
        print(f"{name:<40}{known:>7.1f} / {means[0]:<7.1f}{unknown:>14.1f} / {means[1]:<7.1f}{known - unknown:>+14.1f}")
    # Reset: one link per try (the known address). Register: a note and a link per try.
    print(f"messages sent afterwards by the queued jobs: {delivered} (expected {3 * tries})")


if __name__ == "__main__":
    main()
