"""How long login, reset and registration take for an address with an account and one without.

    .venv/bin/python -m bench.account_timing [TRIES]

Runs the app in process (test client, SQLite in a temporary folder, CSRF off, rate limits off)
with the production password hash (``scrypt``) and a real SMTP server on loopback, and prints
the median time to the response for each case over TRIES tries (30 by default). The time is
what a caller sees: until the response is returned, not until any mail after it has gone.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from app import create_app
from app.extensions import db
from config import TestConfig
from tests.conftest import PASSWORD, create_user
from tests.mail_server import start_inbox

KNOWN = "known@example.org"


def timed(client, url: str, data: dict) -> float:
    """Seconds until the response is back; then close it, which sends any mail queued after it."""
    started = time.perf_counter()
    response = client.post(url, data=data)
    elapsed = time.perf_counter() - started
    response.close()
    return elapsed


def measure(tries: int) -> dict[str, tuple[float, float]]:
    """Median milliseconds per action, for (known address, unknown address)."""
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
        results = {}
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
                results[name] = tuple(1000 * statistics.median(timings[side]) for side in ("known", "unknown"))
        finally:
            controller.stop()
            with app.app_context():
                db.engine.dispose()
    return results


def main() -> None:
    tries = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    print(f"median of {tries} tries, ms   known address   unknown address")
    for name, (known, unknown) in measure(tries).items():
        print(f"{name:<28}{known:>14.1f}{unknown:>18.1f}")


if __name__ == "__main__":
    main()
