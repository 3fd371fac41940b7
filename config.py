"""Configuration classes. This is the only module that reads the environment."""

from __future__ import annotations

import importlib.util
import math
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import limits
from flask_limiter.constants import ConfigVars as LimiterSettings

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
LOCAL_HOSTS = ["localhost", "127.0.0.1", "::1"]


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgresql://`` and ``postgres://`` forms and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str, options: dict) -> dict:
    """SQLAlchemy's engine ``options`` for the database at ``url``: on PostgreSQL, with JIT off.

    PostgreSQL compiles a statement to machine code (JIT) once its planned cost passes
    ``jit_above_cost``; the compiling is paid on every execution, since nothing keeps the code.
    No statement here runs long enough to win it back, and the admin's dashboard over every
    learner is planned costly enough to pay it: at 100,000 learners, sorted by progress, 13.2 s a
    view with JIT against 1.9 s without (docs/performance.md, round twenty-five). Set in the
    connection's start-up packet (libpq's ``options``), so it costs no round trip.
    """
    if not url.startswith("postgresql"):
        return options
    connect_args = dict(options.get("connect_args", {}))
    connect_args["options"] = f"{connect_args.get('options', '')} -c jit=off".strip()
    return {**options, "connect_args": connect_args}


def whole_number(name: str, default: str, *, minimum: int = 0) -> int:
    """The environment variable ``name`` as a whole number (``default`` when unset), or an error
    that names it: a bare ValueError from int() at start-up says nothing of which setting is wrong.

    None of these settings means anything below ``minimum`` (a negative PROXY_HOPS would even make
    ProxyFix believe a client-written X-Forwarded-For entry), so such a value is refused too.
    """
    text = os.environ.get(name, default)
    try:
        value = int(text)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {text!r}.") from None
    if value < minimum:
        raise RuntimeError(f"{name} must be at least {minimum}, not {text!r}.")
    return value


def positive_number(name: str, default: str) -> float:
    """The environment variable ``name`` as a number above zero, decimals allowed (``default``
    when unset), or an error that names it; ``nan`` and ``inf`` are refused as well."""
    text = os.environ.get(name, default)
    try:
        value = float(text)
    except ValueError:
        raise RuntimeError(f"{name} must be a number, not {text!r}.") from None
    if not math.isfinite(value) or value <= 0:
        raise RuntimeError(f"{name} must be a number above zero, not {text!r}.")
    return value


def _looks_like_a_placeholder(secret: str | None) -> bool:
    """Whether a secret is an example's stand-in ("replace-with-…", "changeme"), not a real one:
    a key copied from a public example signs every link and cookie for anyone who reads it."""
    lowered = (secret or "").lower()
    return lowered.startswith(("replace", "change", "example", "your-", "xxx")) or "placeholder" in lowered


def host_of(url: str) -> str:
    """The host name of an absolute http(s) URL, or "" if it is not one."""
    parts = urlsplit(url)
    return (parts.hostname or "") if parts.scheme in ("http", "https") else ""


def development_public_url(environ: Mapping[str, str]) -> str:
    """Development's PUBLIC_URL when none is given: this machine, on the port the server is told.

    ``PORT`` is ``make run``'s (it serves on it and passes it on), ``FLASK_RUN_PORT`` is
    ``flask run``'s own: so the links in the e-mails printed, made by the worker as much as by the
    server, go to the port actually served. ``flask run --port`` alone cannot be seen from here.
    Read leniently: a stray PORT must not stop production, which never uses this.
    """
    port = (environ.get("PORT") or environ.get("FLASK_RUN_PORT") or "5000").strip()
    return f"http://127.0.0.1:{port}"


def trusted_hosts(public_url: str, extra: str = "", *, local: bool = False) -> list[str]:
    """The Host names the app answers to: PUBLIC_URL's, any listed in ``extra``, and loopback if ``local``."""
    names = [host_of(public_url)] + [name.strip() for name in extra.split(",")] + (LOCAL_HOSTS if local else [])
    # Never empty: Flask treats an empty list as "every host".
    return list(dict.fromkeys(name for name in names if name)) or ["localhost"]


def secret_key_from_file(path: Path, make: Callable[[], str] = lambda: secrets.token_hex(32)) -> str:
    """Read the key kept in ``path``, creating it with ``make`` (random, mode 0600) the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, one writes the key and the other reads it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if not key:
            raise RuntimeError(f"{path} is empty; delete it and a new key will be made.") from None
        return key
    key = make()
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key


def check_rate_limit_storage(uri: str) -> None:
    """Raise a clear error when the rate-limit storage is Redis and the redis package is missing.

    redis is an optional extra (``pip install -e '.[redis]'``): a single process counts in memory
    and needs none, so a missing package shows up only here, at start-up, not as a traceback from
    inside Flask-Limiter.
    """
    if urlsplit(uri).scheme.startswith("redis") and importlib.util.find_spec("redis") is None:
        raise RuntimeError(
            "REDIS_URL is set but the redis package is not installed: install the redis extra "
            "(pip install -e '.[redis]') or the pinned set (pip install -r requirements/main.txt)."
        )


# Flask-Limiter's own settings that hold limits; its other RATELIMIT_* settings (storage, key
# prefix, headers, strategy...) are not limits. Every other RATELIMIT_* setting is one of this app's.
FLASK_LIMITER_LIMIT_SETTINGS = {
    LimiterSettings.DEFAULT_LIMITS,
    LimiterSettings.APPLICATION_LIMITS,
    LimiterSettings.META_LIMITS,
    LimiterSettings.IN_MEMORY_FALLBACK,
}
FLASK_LIMITER_OTHER_SETTINGS = {
    value
    for name, value in vars(LimiterSettings).items()
    if not name.startswith("_") and value not in FLASK_LIMITER_LIMIT_SETTINGS
}


def check_rate_limits(config: Mapping[str, Any]) -> None:
    """Refuse to start with a rate limit that the limits library cannot read.

    Flask-Limiter reads a route's limit only when the route is requested, and a string it cannot
    parse then means no limit at all, silently: ``RATELIMIT_LOGIN=lots`` would switch off the
    login limit. So every limit setting (each RATELIMIT_* of this app's, and Flask-Limiter's
    default, application, meta and fallback limits when given as text) is parsed here, in every
    environment, and a bad one stops start-up with its name and value.
    """
    for name in sorted(config):
        if not name.startswith("RATELIMIT_") or name in FLASK_LIMITER_OTHER_SETTINGS:
            continue
        value = config[name]
        if name in FLASK_LIMITER_LIMIT_SETTINGS and (value is None or callable(value)):
            continue  # unset, or worked out per request by Flask-Limiter
        try:
            if not isinstance(value, str):
                raise TypeError(value)
            limits.parse_many(value)
        except (TypeError, ValueError):
            raise RuntimeError(
                f'{name} is not a rate limit: {value!r}. Write it like "10 per minute;50 per hour" '
                "(one or more limits, separated by ; with nothing after the last)."
            ) from None


class Config:
    """Settings shared by every environment, read from environment variables."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    # Development only: with no SECRET_KEY, a random key made once and kept here (see create_app).
    SECRET_KEY_FILE: Path | None = None
    # Every link in an e-mail starts with this; the request's Host header is never used for one.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")
    # Other Host names to answer to (comma-separated), such as a load balancer's health check.
    TRUSTED_HOSTS_EXTRA = os.environ.get("TRUSTED_HOSTS", "")
    # Requests for any other Host get 400. None: create_app derives it from the two above.
    TRUSTED_HOSTS: list[str] | None = None
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'naltrexone.db'}")
    )
    DATABASE_URL_GIVEN = bool(os.environ.get("DATABASE_URL"))
    # No pre-ping: it costs a round trip on every checkout, on every page. A connection the
    # database has dropped fails one request with a 503 instead, and SQLAlchemy then replaces
    # every pooled connection; connections are renewed every half hour regardless.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_recycle": 1800}
    # werkzeug's scrypt is memory-hard; the cost can be lowered only for tests.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a method name, not a password
    PASSWORD_MIN_LENGTH = 10
    MAX_CONTENT_LENGTH = 1024 * 1024
    # A course image's upload limit in bytes; the upload page alone takes a body this big (plus
    # its form), and deploy/nginx.conf lets it through.
    MEDIA_MAX_BYTES = whole_number("MEDIA_MAX_BYTES", str(2 * 1024 * 1024), minimum=1)
    # Pages and e-mails show times in this zone (an IANA name, checked at start-up); storage stays UTC.
    SITE_TIMEZONE = os.environ.get("SITE_TIMEZONE", "Europe/London")
    COURSES_DIR = BASE_DIR / "courses"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Login sessions live on the server (user_sessions): a session with no request for
    # SESSION_IDLE_DAYS ends, unless "keep me logged in" was ticked; none outlives
    # REMEMBER_DAYS from its login. Flask's cookie limits match, so no cookie outlasts its row.
    SESSION_IDLE_DAYS = whole_number("SESSION_IDLE_DAYS", "14", minimum=1)
    REMEMBER_DAYS = whole_number("REMEMBER_DAYS", "30", minimum=1)
    SESSION_TOUCH_SECONDS = 300  # a session's last-seen time is written at most this often
    PERMANENT_SESSION_LIFETIME = timedelta(days=SESSION_IDLE_DAYS)
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_DAYS)
    WTF_CSRF_TIME_LIMIT = None  # a learner may read a lesson for hours before submitting
    PASSWORD_RESET_MAX_AGE = 60 * 60  # seconds a reset link stays valid
    REGISTRATION_MAX_AGE = 24 * 60 * 60  # seconds a link to finish registering stays valid
    EMAIL_CHANGE_MAX_AGE = 24 * 60 * 60  # seconds a link to confirm a new e-mail address stays valid
    # Outgoing mail. With no MAIL_SERVER, messages are written to the log (development).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = whole_number("MAIL_PORT", "587", minimum=1)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"  # STARTTLS
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "0") == "1"  # TLS from the first byte (port 465)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    # The sender's name shows in the inbox beside the subject: as discreet as the subject itself.
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Online course <no-reply@localhost>")
    MAIL_TIMEOUT = 10
    # Who issues the certificates: shown on the public verification page and in the PDF.
    ISSUER_NAME = os.environ.get("ISSUER_NAME", "How Naltrexone Works")
    # Production must name the clinic: the default (the course's title) names nobody who stands behind a certificate.
    ISSUER_NAME_GIVEN = bool(os.environ.get("ISSUER_NAME", "").strip())
    # Rate limits: counters in memory for one process, in Redis when several share a site.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # Redis unreachable: count in this process instead (logged as a warning) rather than fail
    # every limited request with a 500; Flask-Limiter returns to Redis once it answers again.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # A Redis that does not answer costs at most a second before the fallback takes over.
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "naltrexone")
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute;50 per hour")  # per IP address
    RATELIMIT_LOGIN_ACCOUNT = "10 per 15 minutes"  # per e-mail address tried
    RATELIMIT_REGISTER = "10 per hour"  # per IP address
    # Per mailbox mailed (an address, its +tags folded): few enough not to flood it, enough that a
    # stranger's handful of tries does not lock its owner out of registering for long.
    RATELIMIT_REGISTER_MAILBOX = "5 per hour;20 per day"
    RATELIMIT_RESET = "5 per 15 minutes"
    RATELIMIT_RESET_ACCOUNT = "3 per hour"
    RATELIMIT_JOIN = "30 per 15 minutes"  # invitation codes: too few to guess in reach
    RATELIMIT_INVITE_EMAIL = "20 per hour;50 per day"  # invitation e-mails per counsellor account
    RATELIMIT_EMAIL_CHANGE = "5 per hour;10 per day"  # requests to change one's address (each mails it), per account
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "120 per minute;3000 per hour")  # per API token (or address)
    HSTS = False
    # Behind a load balancer, how many proxies in front of the app set X-Forwarded-* headers.
    # Rate limits count per client address, so this must match the deployment (0: none).
    PROXY_HOPS = whole_number("PROXY_HOPS", "0")
    # Background jobs (app/jobs): on Redis when REDIS_URL is set, else in a SQLite file that the
    # worker started by `make run` reads; "immediate" runs each job inline when it is enqueued.
    JOBS_BACKEND = os.environ.get("JOBS_BACKEND", "redis" if REDIS_URL else "sqlite")
    JOBS_SQLITE_PATH = Path(os.environ.get("JOBS_SQLITE_PATH", str(INSTANCE_DIR / "jobs.sqlite")))
    # Several sites on one Redis need a queue name each.
    JOBS_QUEUE_NAME = os.environ.get("JOBS_QUEUE_NAME", "naltrexone")
    # The clinic that runs the course, shown on /contact; each may be left empty, and the page
    # then leaves that detail out. Intake e-mail: where a new contact request is announced (the
    # message holds only a link); empty, nobody is e-mailed and requests wait in the queue.
    CLINIC_NAME = os.environ.get("CLINIC_NAME", "")
    CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "")
    CLINIC_HOURS = os.environ.get("CLINIC_HOURS", "")
    CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS", "")
    CLINIC_INTAKE_EMAIL = os.environ.get("CLINIC_INTAKE_EMAIL", "")
    # How soon the clinic aims to answer a request, in words that follow "within" on /contact
    # ("2 working days"). Empty: the page promises no time, since nobody has set one.
    CONTACT_REPLY_WITHIN = os.environ.get("CONTACT_REPLY_WITHIN", "")
    # Closed and withdrawn contact requests are deleted this many days after they ended.
    CONTACT_REQUEST_RETENTION_DAYS = whole_number("CONTACT_REQUEST_RETENTION_DAYS", "90")
    RATELIMIT_CONTACT = "5 per hour;20 per day"  # contact requests per address
    # LTI login initiations per address: a class behind one school address launches at once.
    RATELIMIT_LTI_LOGIN = "120 per minute;2000 per hour"
    RATELIMIT_CONTACT_ACCOUNT = "5 per day"  # per signed-in account, and per phone number or e-mail given
    # Open Badges credentials (app/credentials), issued as ISSUER_NAME: the site's Ed25519 key as
    # a Multikey secret key ("z3u2...", from `flask credentials new-key`).
    CREDENTIAL_SIGNING_KEY = os.environ.get("CREDENTIAL_SIGNING_KEY", "")
    # Development only: with no CREDENTIAL_SIGNING_KEY, a key made once and kept here.
    CREDENTIAL_SIGNING_KEY_FILE: Path | None = None
    # xAPI (app/services/xapi.py): the clinic's learning record store, its xAPI base URL (the
    # Statements resource is XAPI_ENDPOINT + "statements") and the key and secret it gave this
    # site (HTTP basic auth). Empty: no statement is written or sent.
    XAPI_ENDPOINT = os.environ.get("XAPI_ENDPOINT", "")
    XAPI_USERNAME = os.environ.get("XAPI_USERNAME", "")
    XAPI_PASSWORD = os.environ.get("XAPI_PASSWORD", "")
    XAPI_TIMEOUT = positive_number("XAPI_TIMEOUT", "10")  # seconds per request to the store
    # The LTI 1.3 tool's RSA key (PEM), published at /lti/jwks. Without it (and no file below) the
    # LTI pages answer 404. Development and tests make one once in the file.
    LTI_PRIVATE_KEY = os.environ.get("LTI_PRIVATE_KEY", "")
    LTI_PRIVATE_KEY_FILE: Path | None = None
    # A platform's addresses must be https://, since an id_token is trusted by the key set fetched
    # from one of them; plain http:// is accepted for loopback (localhost, 127.0.0.1, ::1), which
    # nobody on the network can tamper with, for development and the tests' platform. Not in production.
    LTI_LOOPBACK_HTTP = True


class DevelopmentConfig(Config):
    """Local development on the embedded SQLite database."""

    DEBUG = os.environ.get("FLASK_DEBUG", "0") == "1"
    SECRET_KEY_FILE = INSTANCE_DIR / "secret_key"
    CREDENTIAL_SIGNING_KEY_FILE = INSTANCE_DIR / "credential_signing_key"
    LTI_PRIVATE_KEY_FILE = INSTANCE_DIR / "lti_private_key.pem"
    PUBLIC_URL = Config.PUBLIC_URL or development_public_url(os.environ)
    TRUSTED_HOSTS = trusted_hosts(PUBLIC_URL, Config.TRUSTED_HOSTS_EXTRA, local=True)


class TestConfig(Config):
    """Fast, isolated settings for the test suite; CSRF stays on."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    PUBLIC_URL = "http://localhost"
    # The test client's default host, and the browser tests' live server on 127.0.0.1.
    TRUSTED_HOSTS = ["localhost", "127.0.0.1"]
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Cheap hashing for tests only: 0.5 ms a hash, against 3.5 ms at scrypt:1024:8:1 (much smaller
    # costs fail: scrypt:16:8:1 goes over the memory limit werkzeug gives OpenSSL).
    PASSWORD_HASH_METHOD = "scrypt:128:8:1"  # noqa: S105
    CREDENTIAL_SIGNING_KEY = "z3u2dHefZbkeKUHYg2u2idXnpRNSD8NN7sXaWSLNdWBDokE5"  # noqa: S105 - a test key, public
    LTI_PRIVATE_KEY_FILE = INSTANCE_DIR / "lti_test_key.pem"
    RATELIMIT_ENABLED = False  # the rate-limit tests switch it on
    RATELIMIT_STORAGE_URI = "memory://"
    # Jobs run inline, in the test's app; the queue tests switch to a real backend and worker.
    JOBS_BACKEND = "immediate"
    TEST_DATABASE_URL = normalise_database_url(os.environ.get("TEST_DATABASE_URL", ""))
    # CI sets this so a missing browser fails the run instead of skipping the browser tests.
    E2E_REQUIRED = os.environ.get("E2E_REQUIRED") == "1"


class ProductionConfig(Config):
    """Production: refuses to start without a real secret key and database."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS = True
    # A real LMS is never on the site's own loopback: its login page is where learners' browsers go.
    LTI_LOOPBACK_HTTP = False

    @classmethod
    def check(cls) -> None:
        """Raise if the environment lacks what production needs."""
        if len(cls.SECRET_KEY or "") < 32 or _looks_like_a_placeholder(cls.SECRET_KEY):
            raise RuntimeError("SECRET_KEY must be set to a real secret (32+ characters) in production.")
        if not host_of(cls.PUBLIC_URL):
            raise RuntimeError("PUBLIC_URL must be set to the site's address (https://...) in production.")
        # Sign-in links go out in e-mails under PUBLIC_URL, and the cookies are Secure-only: plain
        # http is for a server on this machine only (a local benchmark).
        if urlsplit(cls.PUBLIC_URL).scheme != "https" and host_of(cls.PUBLIC_URL) not in LOCAL_HOSTS:
            raise RuntimeError("PUBLIC_URL must start with https:// in production (plain http only on loopback).")
        if not cls.MAIL_SERVER:
            raise RuntimeError(
                "MAIL_SERVER must be set in production: registration and password-reset links go out by "
                "e-mail, and without a mail server they would be written to the log instead."
            )
        if cls.JOBS_BACKEND == "immediate":
            raise RuntimeError(
                "JOBS_BACKEND=immediate is for tests: in production a failed e-mail would be neither retried "
                "nor recorded. Use redis (with a worker) or sqlite."
            )
        if not cls.DATABASE_URL_GIVEN:
            raise RuntimeError("DATABASE_URL must be set in production.")
        if not cls.ISSUER_NAME_GIVEN:
            raise RuntimeError(
                "ISSUER_NAME must be set in production: the clinic or service that issues the certificates. "
                "It is signed into every credential and shown on the public check page and in the PDF."
            )
        if not cls.CREDENTIAL_SIGNING_KEY:
            raise RuntimeError(
                "CREDENTIAL_SIGNING_KEY must be set in production: the Ed25519 key that signs certificates' "
                "credentials (make one with `flask credentials new-key`; keep it as secret as SECRET_KEY)."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}


def config_from_environment() -> type[Config]:
    """Pick the configuration class named by APP_ENV (development by default)."""
    name = os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}; got {name!r}.") from None
