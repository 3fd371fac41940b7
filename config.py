"""Configuration classes. This is the only module that reads the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused by ProductionConfig


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgresql://`` and ``postgres://`` forms and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings shared by every environment, read from environment variables."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
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
    COURSES_DIR = BASE_DIR / "courses"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Login sessions live on the server (user_sessions): a session with no request for
    # SESSION_IDLE_DAYS ends, unless "keep me logged in" was ticked; none outlives
    # REMEMBER_DAYS from its login. Flask's cookie limits match, so no cookie outlasts its row.
    SESSION_IDLE_DAYS = int(os.environ.get("SESSION_IDLE_DAYS", "14"))
    REMEMBER_DAYS = int(os.environ.get("REMEMBER_DAYS", "30"))
    SESSION_TOUCH_SECONDS = 300  # a session's last-seen time is written at most this often
    PERMANENT_SESSION_LIFETIME = timedelta(days=SESSION_IDLE_DAYS)
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_DAYS)
    WTF_CSRF_TIME_LIMIT = None  # a learner may read a lesson for hours before submitting
    PASSWORD_RESET_MAX_AGE = 60 * 60  # seconds a reset link stays valid
    ANALYTICS_MAX_AGE = int(os.environ.get("ANALYTICS_MAX_AGE", "600"))  # seconds before a report is redone
    # Outgoing mail. With no MAIL_SERVER, messages are written to the log (development).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"  # STARTTLS
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "0") == "1"  # TLS from the first byte (port 465)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "How Naltrexone Works <no-reply@localhost>")
    MAIL_TIMEOUT = 10
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
    RATELIMIT_REGISTER = "10 per hour"
    RATELIMIT_RESET = "5 per 15 minutes"
    RATELIMIT_RESET_ACCOUNT = "3 per hour"
    RATELIMIT_JOIN = "30 per 15 minutes"  # invitation codes: too few to guess in reach
    HSTS = False
    # Behind a load balancer, how many proxies in front of the app set X-Forwarded-* headers.
    # Rate limits count per client address, so this must match the deployment (0: none).
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))


class DevelopmentConfig(Config):
    """Local development on the embedded SQLite database."""

    DEBUG = os.environ.get("FLASK_DEBUG", "0") == "1"


class TestConfig(Config):
    """Fast, isolated settings for the test suite; CSRF stays on."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 - cheap hashing for tests only
    RATELIMIT_ENABLED = False  # the rate-limit tests switch it on
    ANALYTICS_MAX_AGE = 0  # always fresh in tests
    RATELIMIT_STORAGE_URI = "memory://"
    TEST_DATABASE_URL = normalise_database_url(os.environ.get("TEST_DATABASE_URL", ""))
    # CI sets this so a missing browser fails the run instead of skipping the browser tests.
    E2E_REQUIRED = os.environ.get("E2E_REQUIRED") == "1"


class ProductionConfig(Config):
    """Production: refuses to start without a real secret key and database."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS = True

    @classmethod
    def check(cls) -> None:
        """Raise if the environment lacks what production needs."""
        if cls.SECRET_KEY == DEV_SECRET_KEY or len(cls.SECRET_KEY or "") < 32:
            raise RuntimeError("SECRET_KEY must be set to a real secret (32+ characters) in production.")
        if not cls.DATABASE_URL_GIVEN:
            raise RuntimeError("DATABASE_URL must be set in production.")


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
