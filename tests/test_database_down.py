"""PostgreSQL stopped under a signed-in user: the site's 503 page, then the site again.

The test owns its database server: a cluster made with initdb in a temporary directory,
started and stopped with pg_ctl, so stopping it disturbs nobody else's tests.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.models import Role
from app.services.course_import import course_import
from tests.conftest import COURSE_SLUG, create_user, factory_course_spec, lesson_slugs, login, make_test_config

ADMIN = "admin@example.org"


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnPostgres:
    """A throwaway PostgreSQL cluster; initdb refuses root, so root runs it as postgres."""

    def __init__(self, initdb: str, pg_ctl: str, directory: Path):
        self.initdb, self.pg_ctl, self.directory = initdb, pg_ctl, directory
        self.data = directory / "data"
        self.port = _free_port()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_owner, *command], check=True, capture_output=True, timeout=60)  # noqa: S603

    def create(self) -> None:
        if self.as_owner:
            shutil.chown(self.directory, user="postgres")
        self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"), "-w", "start")

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        if os.environ.get("CI") == "true":
            pytest.fail("initdb and pg_ctl are needed in CI to stop a database under the app")
        pytest.skip("initdb and pg_ctl (PostgreSQL's server binaries) are not installed")
    directory = Path(tempfile.mkdtemp(prefix="nalt-pgdown-"))
    server = OwnPostgres(initdb, pg_ctl, directory)
    try:
        server.create()
        yield server
    finally:
        subprocess.run(  # noqa: S603 - stop it whatever state the test left it in
            [*server.as_owner, pg_ctl, "-D", str(server.data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def app_on_own_postgres(own_postgres):
    # PROPAGATE_EXCEPTIONS off, as in production: an error page that itself fails would come
    # out as the server's bare 500 rather than as an exception in the test.
    app = create_app(make_test_config(own_postgres.url, PROPAGATE_EXCEPTIONS=False))
    with app.app_context():
        upgrade()
        course_import(db.session, factory_course_spec())
        db.session.remove()
    create_user(app, ADMIN, role=Role.ADMIN)
    yield app
    with app.app_context():
        db.engine.dispose()


def _pages(app) -> list[str]:
    first = lesson_slugs(app)[0]
    return [
        "/",
        f"/courses/{COURSE_SLUG}/",
        f"/courses/{COURSE_SLUG}/lessons/{first}",
        f"/courses/{COURSE_SLUG}/lessons/{first}/quiz",
        "/me/",
        "/me/data.json",
        "/counsel/",
        "/author/",
    ]


def test_a_signed_in_user_gets_the_sites_503_while_postgresql_is_down(app_on_own_postgres, own_postgres):
    app = app_on_own_postgres
    client = app.test_client()
    assert login(client, ADMIN).status_code == 302
    pages = _pages(app)
    assert [client.get(url).status_code for url in pages] == [200] * len(pages)

    own_postgres.stop()
    for url in pages:
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 503, (url, response.status_code, page[:300])
        assert response.headers.get("Retry-After") == "30", url
        assert response.mimetype == "text/html" and "We are having trouble right now" in page, url
        assert "Traceback" not in page and "psycopg" not in page and "Internal Server Error" not in page, url
        assert response.headers.get("Cache-Control") == "no-store", url
    anonymous = app.test_client().get(f"/courses/{COURSE_SLUG}/")
    assert anonymous.status_code == 503 and "We are having trouble right now" in anonymous.get_data(as_text=True)

    own_postgres.start()
    assert [client.get(url).status_code for url in pages] == [200] * len(pages), "still signed in, all back"
