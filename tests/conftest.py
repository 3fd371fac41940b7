"""Shared fixtures: an app on a clean database per test, on SQLite and (when
TEST_DATABASE_URL is set) on PostgreSQL, plus clients, users and the courses.

Unit and view tests use the small factory course in tests/fixtures/course (the ``course``
fixture), and take counts, slugs and text from its spec, so an author editing the real course
never breaks them. Only the tests about the real course's content use ``real_course``."""

from __future__ import annotations

import functools
import gc
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import URL, make_url

from app import create_app
from app.extensions import db
from app.models import Role
from app.services import read_connections
from app.services.accounts import user_create
from app.services.course_files import load_course
from config import BASE_DIR, TestConfig
from tests.course_replay import course_imported

REAL_COURSE_DIR = BASE_DIR / "courses" / "naltrexone"
FACTORY_COURSE_DIR = Path(__file__).parent / "fixtures" / "course"
PASSWORD = "correct horse battery"
BACKENDS = ["sqlite"] + (["postgresql"] if TestConfig.TEST_DATABASE_URL else [])


@contextmanager
def scratch_postgres_database(base_url: str) -> Iterator[str]:
    """Create an empty PostgreSQL database for this run and drop it afterwards."""
    name = f"nalt_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A test run's data is thrown away: commits need not wait for the disk.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One scratch database per test worker, dropped when the run ends."""
    if not TestConfig.TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    with scratch_postgres_database(TestConfig.TEST_DATABASE_URL) as url:
        yield url
        # Its tests' connections outlive them (``app``): closed before the database is dropped.
        for (engine_url, _), engine in _ENGINES.items():
            if make_url(engine_url).database == make_url(url).database:
                engine.dispose()


_SCHEMA_READY: set[str] = set()


def _cache_url_builders() -> None:
    """Build each URL rule's builder function once per test process, not once per app.

    Werkzeug compiles a small Python function per rule (AST, then ``compile``) every time an
    app registers its routes: about 45 ms of the 50 ms ``create_app`` costs, and the suite makes
    thousands of apps. The generated function depends only on the rule's parsed parts and
    defaults (it looks its converters up on the rule it is bound to when called), so apps with
    the same routes can share it. Tests only: production makes one app per process.
    """
    from werkzeug.routing.rules import Rule

    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "_shared_by_tests", False):
        return  # a Werkzeug without it (or already wrapped): build as usual
    built: dict[tuple, object] = {}

    def compile_builder(self, append_unknown: bool = True):
        key = (tuple(self._trace), repr(sorted((self.defaults or {}).items())), append_unknown)
        if key not in built:
            built[key] = original(self, append_unknown)
        return built[key]

    compile_builder._shared_by_tests = True  # type: ignore[attr-defined]
    Rule._compile_builder = compile_builder  # type: ignore[method-assign]


_cache_url_builders()


def _cache_parsed_rules() -> None:
    """Parse each URL rule once per test process, not once per app.

    With the builders shared (``_cache_url_builders``), parsing the rules' text into the
    matcher's parts was the biggest share left of ``create_app``: about 40% of it, which every
    test pays. What a parse gives depends only on the rule's text and the converter classes the
    map knows, so apps with the same routes share it: its parts (which nothing changes after) and
    its trace are kept; each rule still gets converter objects of its own, bound to its own map.
    Tests only: production makes one app per process.
    """
    from werkzeug.routing.rules import Rule

    original = getattr(Rule, "_parse_rule", None)
    if original is None or getattr(original, "_shared_by_tests", False):
        return  # a Werkzeug without it (or already wrapped): parse as usual
    parsed: dict[tuple, tuple[list, list, list]] = {}

    def parse_rule(self, rule: str):
        key = (rule, tuple(sorted(self.map.converters.items())))
        kept = parsed.get(key)
        if kept is None:
            asked: list[tuple] = []
            trace_from = len(self._trace)

            def get_converter(variable_name, converter_name, args, kwargs):
                asked.append((variable_name, converter_name, args, kwargs))
                return type(self).get_converter(self, variable_name, converter_name, args, kwargs)

            self.get_converter = get_converter  # the parse's converters, recorded for the next apps
            try:
                parts = list(original(self, rule))
            finally:
                del self.get_converter
            parsed[key] = (parts, self._trace[trace_from:], asked)
            return list(parts)
        parts, trace, asked = kept
        self._trace.extend(trace)
        for variable_name, converter_name, args, kwargs in asked:
            self._converters[variable_name] = self.get_converter(variable_name, converter_name, args, kwargs)
            self.arguments.add(variable_name)
        return list(parts)

    parse_rule._shared_by_tests = True  # type: ignore[attr-defined]
    parse_rule.__wrapped__ = original  # type: ignore[attr-defined] - the parse itself, for tests/test_fixture_shortcuts.py
    Rule._parse_rule = parse_rule  # type: ignore[method-assign]


_cache_parsed_rules()


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates kept for every app a test process makes, not once per app.

    Each test gets a new app, so a new Jinja environment with an empty template cache, and
    compiling the templates a page uses costs far more than drawing it: about 170 of the
    260 ms of a first login and course overview in a new app. Jinja's own bytecode cache
    hook keeps each template's compiled code keyed by its name and a checksum of its source
    (an edited template compiles again). Tests only: production makes one app per process.
    """

    def __init__(self) -> None:
        self._code: dict[str, tuple[str | None, object]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        kept = self._code.get(bucket.key)
        if kept is not None and kept[0] == bucket.checksum:
            bucket.code = kept[1]  # type: ignore[assignment] - a code object, immutable, safe to share

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = (bucket.checksum, bucket.code)


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _SharedTemplateCode()}


# Young collections after 20,000 new objects, not Python's 700: with the freezes below, the view
# tests spent 11 s in the collector in one process, against 17 s with the freezes alone.
GC_THRESHOLDS = (20_000, 10, 10)
# Tests between two freezes of what the process keeps (``pytest_runtest_protocol``).
GC_FREEZE_EVERY = 100
_tests_since_freeze = 0
gc.set_threshold(*GC_THRESHOLDS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Every ``GC_FREEZE_EVERY`` tests, collect the garbage and freeze what is left.

    A test process keeps some 500,000 objects for good after its first tests (modules, the
    shared engines' compiled SQL, templates' code, URL builders), and each full collection
    walked every one of them: 0.4 s each, 94 times in the view tests, 13% of their run in one
    process. Frozen (``gc.freeze``), they are left out of every later collection; reference
    counting still frees them. Only what is alive between two tests is frozen: the test
    before has been torn down and its cycles collected first.
    """
    global _tests_since_freeze
    yield
    _tests_since_freeze += 1
    if _tests_since_freeze >= GC_FREEZE_EVERY:
        _tests_since_freeze = 0
        gc.collect()
        gc.freeze()


_ENGINES: dict[tuple[str, str], Engine] = {}


def _shares_engine(url: URL) -> bool:
    """Whether apps on this database share one engine: PostgreSQL, and SQLite files (an
    in-memory SQLite database lives in its engine, so each app keeps its own)."""
    return url.get_backend_name() == "postgresql" or (url.get_backend_name() == "sqlite" and bool(url.database))


def _share_engines() -> None:
    """One engine per database and options in a test process, not one per app.

    An engine keeps its compiled SQL in its own cache, keyed by its dialect, so every test's new
    app compiled each statement it ran afresh: about a fifth of a PostgreSQL test's time. A
    worker's tests all use its one scratch PostgreSQL database and its one SQLite file (made
    anew for each test, ``backend_url``), so they share the engine and each statement compiles
    once per worker. Each test still gets new connections: the pool is disposed of when it ends.
    """
    original = SQLAlchemy._make_engine
    if getattr(original, "_shared_by_tests", False):
        return

    def make_engine(self, bind_key, options, app):
        url = make_url(options["url"])
        if not _shares_engine(url):
            return original(self, bind_key, options, app)
        others = repr(sorted((name, value) for name, value in options.items() if name != "url"))
        key = (url.render_as_string(hide_password=False), others)
        if key not in _ENGINES:
            _ENGINES[key] = original(self, bind_key, options, app)
        return _ENGINES[key]

    make_engine._shared_by_tests = True  # type: ignore[attr-defined]
    SQLAlchemy._make_engine = make_engine  # type: ignore[method-assign]


_share_engines()


@event.listens_for(Engine, "connect")
def _sqlite_commits_skip_the_disk(dbapi_connection, connection_record) -> None:
    """A test's SQLite file is thrown away, so its commits need not wait for the disk (as the
    PostgreSQL scratch database's ``synchronous_commit = off``): 1.0 to 0.13 ms a commit here."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file holding the empty schema, made once per test process.

    Copying it is about 20 times faster than creating the tables in each test's new file.
    """
    path = tmp_path_factory.mktemp("schema") / "template.db"
    template_app = create_app(make_test_config(f"sqlite:///{path}"))
    with template_app.app_context():
        db.create_all()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[dict[str, str]]:
    """gunicorn behind nginx (tests/serving.py's ``site_behind_nginx``), started once per test
    process for both files that use it, test_front_end.py and test_media_front_end.py."""
    from tests.serving import site_behind_nginx

    with site_behind_nginx(tmp_path_factory.mktemp("front-end")) as urls:
        yield urls


@pytest.fixture(scope="session")
def sqlite_file(tmp_path_factory) -> Path:
    """Where this worker's SQLite tests keep their database, each made anew (``backend_url``)."""
    return tmp_path_factory.mktemp("sqlite") / "test.db"


def backend_url(request, backend: str) -> str:
    """The database URL of a test on ``backend``: a new SQLite file, or this worker's PostgreSQL database.

    Every SQLite test of a worker has the same path, so its apps share one engine
    (``_share_engines``); the last test's file and connections are gone before this one starts.
    """
    if backend != "sqlite":
        return request.getfixturevalue("postgres_url")
    path: Path = request.getfixturevalue("sqlite_file")
    url = f"sqlite:///{path}"
    for engine in [engine for (engine_url, _), engine in _ENGINES.items() if engine_url == url]:
        engine.dispose()
    for leftover in (path, *(path.with_name(path.name + suffix) for suffix in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request) -> str:
    return backend_url(request, request.param)


def make_test_config(database_url: str, **overrides) -> type[TestConfig]:
    return type("RunConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url, **overrides})


@pytest.fixture
def app(request, database_url: str):
    """The app on an empty schema; tables are emptied again after the test."""
    sqlite_file = make_url(database_url).database if database_url.startswith("sqlite") else None
    copied = bool(sqlite_file) and not Path(str(sqlite_file)).exists()
    if copied:
        # Each SQLite test starts from a new file: a copy of the empty schema.
        shutil.copyfile(request.getfixturevalue("sqlite_template"), str(sqlite_file))
    app = create_app(make_test_config(database_url))
    with app.app_context():
        # A worker's PostgreSQL database keeps its tables between tests (they are emptied
        # instead), so the schema is created once.
        if not copied and database_url not in _SCHEMA_READY:
            db.create_all()
            if db.engine.dialect.name == "postgresql":
                _SCHEMA_READY.add(database_url)
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "postgresql":
            db.engine.dispose()
            return
        # One statement on its own, in one round trip: no BEGIN or COMMIT of its own to wait for.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            alive = postgres_emptied(connection)
        # The next test takes over this one's connections, warm, unless the test cut one.
        if not _idle_connections_alive(db.engine, alive):
            db.engine.dispose()


def _idle_connections_alive(engine: Engine, alive: set[int]) -> bool:
    """Whether every connection ``engine`` keeps idle (its pool's, and the reads' own) still has
    its server process, and so can serve the next test.

    A new PostgreSQL connection costs the test that opens it about 5 ms, and its first
    statements on each table more while the new server process fills its catalog caches:
    disposing of the pool after every test made a PostgreSQL test about 40 ms slower than the
    same test on SQLite. So connections outlive the test that opened them, as in production.
    A test that ends a connection's server process behind the pool's back (as a database
    restart would: tests/views/test_security.py) leaves a dead connection idle, which would
    fail the next test's first statement: then the pool is disposed of, as before.
    """
    idle = getattr(getattr(engine.pool, "_pool", None), "queue", None)  # a QueuePool's idle entries
    if idle is None:
        return False  # another kind of pool, whose connections cannot be looked at: disposed of
    connections = [entry.dbapi_connection for entry in list(idle)]
    connections += [kept.connection for kept in read_connections.idle(engine)]
    return all(
        connection is not None and not connection.closed and connection.info.backend_pid in alive
        for connection in connections
    )


# The function that empties a worker's PostgreSQL database, made in it the first time (by URL).
_EMPTYING: dict[str, str] = {}
EMPTYING_FUNCTION = "tests_database_emptied"


def postgres_emptied(connection) -> set[int]:
    """Empty every table of a worker's PostgreSQL database and restart its ids; return the server
    processes of the database's connections that are still up (``_idle_connections_alive``).

    DELETE, children first, then each id sequence that has given an id set back to 1, as
    ``TRUNCATE ... RESTART IDENTITY`` would leave them (which took about 190 ms: it makes new files
    for every table and index, however empty). The statements live in a PL/pgSQL function made
    once per database, which plans them once per connection and runs them in one round trip:
    sent as one simple query of 37 statements instead, with its BEGIN, COMMIT and the query of
    the processes, the emptying took about 9 ms more than a bare query after a test's few rows,
    the function about 1 ms more. A sequence never used since it was set back is left alone.
    """
    url = connection.engine.url.render_as_string(hide_password=False)
    if url not in _EMPTYING:
        sequences = connection.scalars(
            text("SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences")
        ).all()
        body = [f'DELETE FROM "{table.name}";' for table in reversed(db.metadata.sorted_tables)]  # noqa: S608 - our own table names
        body += [
            f"IF pg_sequence_last_value('{name}') IS NOT NULL THEN PERFORM setval('{name}', 1, false); END IF;"
            for name in sequences
        ]
        alive = "RETURN QUERY SELECT pid FROM pg_stat_activity WHERE datname = current_database();"
        connection.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION {EMPTYING_FUNCTION}() RETURNS SETOF integer LANGUAGE plpgsql"  # noqa: S608 - our own names
            f" AS $$ BEGIN {' '.join(body)} {alive} END $$"
        )
        _EMPTYING[url] = f"SELECT * FROM {EMPTYING_FUNCTION}()"  # noqa: S608 - our own name
    return set(connection.exec_driver_sql(_EMPTYING[url]).scalars())


@pytest.fixture
def ctx(app):
    """An app context, for tests that call services directly."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def session(ctx):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def create_user(
    app, email: str, *, role: Role = Role.LEARNER, name: str | None = None, password: str = PASSWORD
) -> int:
    """Create an account and return its id."""
    with app.app_context():
        user = user_create(
            db.session,
            email=email,
            display_name=name or email.split("@")[0].title(),
            password=password,
            role=role,
            hash_method=app.config["PASSWORD_HASH_METHOD"],
        )
        user_id = user.id
        db.session.remove()
        return user_id


@pytest.fixture
def inbox(app):
    """A real SMTP server on loopback (aiosmtpd) that the app sends its mail to."""
    from tests.mail_server import start_inbox

    inbox, controller = start_inbox()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    yield inbox
    controller.stop()


@functools.cache
def real_course_spec():
    """The real course's files, read and validated once per test process (import never changes a spec)."""
    return load_course(REAL_COURSE_DIR)


@functools.cache
def factory_course_spec():
    """The factory course's files, read and validated once per test process (import never changes a spec)."""
    return load_course(FACTORY_COURSE_DIR)


# For URLs built before any fixture runs (parametrize); tests with the fixture use its value.
COURSE_SLUG = factory_course_spec().slug


def import_course(app, spec) -> str:
    """Import a parsed course into the app's database (replayed after the first time:
    tests/course_replay.py); returns its slug."""
    with app.app_context():
        slug = course_imported(db.session, spec)
        db.session.remove()
        return slug


@pytest.fixture
def course(app) -> str:
    """The small factory course (tests/fixtures/course), imported; returns its slug."""
    return import_course(app, factory_course_spec())


@pytest.fixture
def real_course(app) -> str:
    """The real naltrexone course, imported, for the tests about its content only; returns its slug."""
    return import_course(app, real_course_spec())


@pytest.fixture
def learner(app) -> int:
    return create_user(app, "learner@example.org", name="Lee Learner")


@pytest.fixture
def other_learner(app) -> int:
    return create_user(app, "fred@example.org", name="Fred Other")


def csrf_token(client, url: str) -> str:
    """GET a page and return the CSRF token from its form."""
    page = client.get(url)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)) or re.search(
        r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)
    )
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


def login(client, email: str = "learner@example.org", password: str = PASSWORD, **extra):
    token = csrf_token(client, "/auth/login")
    return client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token, **extra})


@pytest.fixture
def learner_client(client, learner, course):
    """A client logged in as the learner, with the course imported."""
    response = login(client)
    assert response.status_code == 302
    return client


@contextmanager
def count_queries(engine):
    """Count the SQL statements run inside the block: ``with count_queries(e) as n: ...; n()``."""
    statements: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield lambda: len(
            [s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA"))]
        )
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def pytest_report_header(config):
    databases = ", ".join(BACKENDS)
    hint = "" if "postgresql" in BACKENDS else " (set TEST_DATABASE_URL to add PostgreSQL)"
    return f"databases under test: {databases}{hint}; PID {os.getpid()}"


_OWN_SCRIPT = re.compile(r'<script src="/assets/js/[\w.-]+\.js"(?: defer)?></script>')


def inline_scripts(html: str) -> list[str]:
    """The page's script elements other than an empty one loading a file of our own (which the
    Content-Security-Policy allows): inline script, which it would block, or another site's."""
    return [tag for tag in re.findall(r"<script\b.*?</script>", html, re.S) if not _OWN_SCRIPT.fullmatch(tag)]


def visible_text(html: str) -> str:
    """What a page says, without its markup. The tags go with their attributes, whose values
    include the random form token: a token can spell any short word ("UTC", say)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def lesson_slugs(app, course_slug: str = COURSE_SLUG) -> list[str]:
    """The course's lesson slugs in learning order."""
    from app.services.progress import course_by_slug, course_outline

    with app.app_context():
        outline = course_outline(db.session, course=course_by_slug(db.session, course_slug), learner=None)
        slugs = [entry.lesson.slug for entry in outline.entries]
        db.session.remove()
        return slugs


def learner_page_urls(course: str, lesson: str) -> dict[str, str]:
    """The learner pages a signed-in learner reads, by name: ``lesson`` is the lesson (and quiz) shown."""
    return {
        "landing": "/",
        "overview": f"/courses/{course}/",
        "lesson": f"/courses/{course}/lessons/{lesson}",
        "quiz page": f"/courses/{course}/lessons/{lesson}/quiz",
        "my page": "/me/",
    }


def quiz_form(app, lesson_slug: str, *, right: bool = True, course_slug: str = COURSE_SLUG) -> dict[str, list[str]]:
    """Form data answering a lesson's quiz all right, or all wrong (first wrong choice)."""
    from app.models import Course, Lesson
    from app.services.quizzes import quiz_questions

    with app.app_context():
        lesson = db.session.scalar(
            select(Lesson)
            .join(Course, Lesson.course_id == Course.id)
            .where(Course.slug == course_slug, Lesson.slug == lesson_slug)
        )
        data = {}
        for question in quiz_questions(db.session, lesson):
            if right:
                picked = [c.id for c in question.live_choices if c.is_correct]
            else:
                picked = [next(c.id for c in question.live_choices if not c.is_correct)]
            data[f"question-{question.id}"] = [str(i) for i in picked]
        db.session.remove()
        return data


def submit_quiz(client, lesson_slug: str, answers: dict, course_slug: str = COURSE_SLUG, key: str | None = None):
    """GET the quiz (for its CSRF token and one-time key), then POST the answers."""
    url = f"/courses/{course_slug}/lessons/{lesson_slug}/quiz"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    found_key = re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page).group(1)
    return client.post(url, data={**answers, "csrf_token": token, "submission_key": key or found_key})


@pytest.fixture
def rules_let_markup_through(monkeypatch):
    """The course rules as if they found no markup in any text (``markup_removed``), to test that
    importing sanitises whatever reaches it all the same."""
    from app.services import course_files

    monkeypatch.setattr(course_files, "markup_removed", lambda text, markdown=False: None)
