"""nginx in front of gunicorn (deploy/nginx.conf): slow clients cannot hold the workers, and a
client cannot choose its own address for the rate limits.

gunicorn runs with the production gunicorn.conf.py and two sync workers on a free loopback
port, behind the repository's nginx config on another (the ``site`` fixture, in conftest.py, shared
with test_media_front_end.py). Without nginx the tests are skipped,
saying why; under CI (E2E_REQUIRED=1 or CI=true) that is a failure instead.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from config import Config
from tests.serving import ESTABLISHED, LISTEN, NGINX_TEMPLATE, SITE_LOGIN_LIMIT, SITE_WORKERS, loopback_sockets, poll

WORKERS = SITE_WORKERS
SLOW_CLIENTS = 5  # more than there are workers
LOGIN_LIMIT = SITE_LOGIN_LIMIT  # per minute, per address, counted in each worker's memory


def port_of(base: str) -> int:
    return int(base.rpartition(":")[2])


def both_workers_took_one(base: str, count: int) -> Callable[[], bool]:
    """gunicorn has accepted a slow client in each of its workers; the others wait to be accepted."""

    def condition() -> bool:
        return [queue for state, queue in loopback_sockets(port_of(base)) if state == LISTEN] == [count - WORKERS]

    return condition


def nginx_read_them_all(base: str, count: int) -> Callable[[], bool]:
    """nginx has accepted every slow client and read all they have sent so far (their headers):
    had it passed them on to gunicorn before their bodies were in, it would have by now."""

    def condition() -> bool:
        sockets = loopback_sockets(port_of(base))
        connections = [queue for state, queue in sockets if state == ESTABLISHED]
        waiting = [queue for state, queue in sockets if state == LISTEN]
        return waiting == [0] and len(connections) >= count and not any(connections)

    return condition


@contextmanager
def slow_clients(base: str, count: int, seconds: float, settled: Callable[[], bool]) -> Iterator[None]:
    """``count`` POSTs that promise 1,000 bytes and send one a second, for at most ``seconds``;
    yields once the server has done with them what it will (``settled``)."""
    host, port = base.removeprefix("http://").split(":")
    done = threading.Event()
    connected = threading.Barrier(count + 1, timeout=5)

    def drip() -> None:
        with socket.create_connection((host, int(port)), timeout=5) as connection:
            head = (
                "POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            )
            connection.sendall(head.encode())
            connected.wait()
            deadline = time.monotonic() + seconds
            try:
                while time.monotonic() < deadline and not done.is_set():
                    connection.sendall(b"a")
                    done.wait(1)
            except OSError:
                pass  # the server gave up on us: fine either way

    threads = [threading.Thread(target=drip, name=f"slow-client-{n}") for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        connected.wait()
        poll(settled)
        yield
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=seconds + 5)


def timed_get(url: str, timeout: float) -> tuple[int | None, float]:
    """GET ``url``; return its status (None if it did not answer within ``timeout``) and the seconds taken."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
    except (TimeoutError, urllib.error.URLError):
        status = None
    return status, time.monotonic() - started


def test_nginx_refuses_bodies_the_app_would_refuse():
    size = re.search(r"client_max_body_size (\d+)([km]?);", NGINX_TEMPLATE.read_text())
    assert size, "deploy/nginx.conf sets client_max_body_size"
    assert int(size.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[size.group(2)] == Config.MAX_CONTENT_LENGTH


def test_slow_clients_do_not_hold_the_workers_behind_nginx(site):
    settled = nginx_read_them_all(site["front"], SLOW_CLIENTS)
    with slow_clients(site["front"], SLOW_CLIENTS, seconds=8, settled=settled):
        answers = [timed_get(f"{site['front']}/healthz", timeout=5) for _ in range(3)]
    assert all(status == 200 for status, _ in answers), answers
    assert max(seconds for _, seconds in answers) < 1, answers


def test_slow_clients_hold_every_worker_when_gunicorn_is_reached_directly(site):
    """The contrast: without nginx in between, five slow clients take the site down."""
    settled = both_workers_took_one(site["direct"], SLOW_CLIENTS)
    with slow_clients(site["direct"], SLOW_CLIENTS, seconds=8, settled=settled):
        status, seconds = timed_get(f"{site['direct']}/healthz", timeout=3)
    assert status is None, f"answered {status} in {seconds:.2f} s"
    # Once they give up, the workers are free again.
    status, seconds = timed_get(f"{site['direct']}/healthz", timeout=10)
    assert status == 200


def failed_login(base: str, forged_address: str, email: str) -> int:
    """POST a wrong password (with a valid CSRF token) claiming to come from ``forged_address``."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{base}/auth/login", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"email": email, "password": "a wrong password!", "csrf_token": token}).encode()
    headers = {"X-Forwarded-For": forged_address}
    request = urllib.request.Request(f"{base}/auth/login", data=body, headers=headers)  # noqa: S310 - loopback
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def logins_with_forged_addresses(base: str, label: str) -> list[int]:
    # Enough tries that one worker must see more than its limit; a new account each time, so
    # only the per-address limit is in play.
    tries = WORKERS * LOGIN_LIMIT + 1
    return [failed_login(base, f"203.0.113.{n}", f"{label}{n}@example.org") for n in range(1, tries + 1)]


def test_a_forged_x_forwarded_for_does_not_dodge_the_login_limit_behind_nginx(site):
    assert 429 in logins_with_forged_addresses(site["front"], "front")


def test_a_forged_x_forwarded_for_dodges_it_when_gunicorn_is_reached_directly(site):
    """Why gunicorn must only be reachable by nginx: with PROXY_HOPS=1 it believes the header."""
    assert 429 not in logins_with_forged_addresses(site["direct"], "direct")
