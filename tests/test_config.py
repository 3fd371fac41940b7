"""Configuration: database URLs, and production refusing to start half-configured."""

import re
import sys
import traceback
from pathlib import Path
from unittest import mock

import pytest

from app import create_app
from config import ProductionConfig, TestConfig, engine_options, normalise_database_url
from tests.fresh_config import config_read_with


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://user@host/db", "postgresql+psycopg://user@host/db"),
        ("postgres://user:pw@host:5432/db", "postgresql+psycopg://user:pw@host:5432/db"),
        ("postgresql+psycopg://user@host/db", "postgresql+psycopg://user@host/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_accepts_the_usual_forms(given, expected):
    assert normalise_database_url(given) == expected


def production(**overrides):
    values = {
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL_GIVEN": True,
        "ISSUER_NAME_GIVEN": True,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "PUBLIC_URL": "https://learn.example.org",
        "CREDENTIAL_SIGNING_KEY": TestConfig.CREDENTIAL_SIGNING_KEY,
        "MAIL_SERVER": "smtp.example.org",
    }
    values.update(overrides)
    return type("Prod", (ProductionConfig,), values)


@pytest.mark.parametrize(
    "overrides",
    [
        {"SECRET_KEY": "dev-only-not-secret"},  # the old development key, public in the source
        {"SECRET_KEY": "short"},
        {"SECRET_KEY": ""},
        # A long placeholder copied from an example file: public, so no secret at all.
        {"SECRET_KEY": "replace-with-64-random-hex-characters-from-python-secrets-token-hex-32"},
        {"DATABASE_URL_GIVEN": False},
        {"ISSUER_NAME_GIVEN": False},  # certificates would name the course, not the clinic
        {"PUBLIC_URL": ""},
        {"PUBLIC_URL": "learn.example.org"},
        {"CREDENTIAL_SIGNING_KEY": ""},
        {"CREDENTIAL_SIGNING_KEY": "not-a-key"},
        {"PUBLIC_URL": "http://learn.example.org"},  # sign-in links in e-mails, Secure-only cookies
        {"MAIL_SERVER": ""},  # reset links would be written to the log
        {"JOBS_BACKEND": "immediate"},  # a failed e-mail neither retried nor recorded
    ],
)
def test_production_refuses_to_start_without_a_real_secret_and_database(overrides):
    with pytest.raises(RuntimeError):
        create_app(production(**overrides))


def test_production_starts_when_configured_and_secures_cookies():
    app = create_app(production())
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert not app.debug


def test_postgresql_connections_are_asked_for_no_jit_and_keep_other_options():
    options = engine_options(
        "postgresql+psycopg://u@h/db", {"pool_recycle": 1800, "connect_args": {"options": "-c x=1"}}
    )
    assert options == {"pool_recycle": 1800, "connect_args": {"options": "-c x=1 -c jit=off"}}
    assert engine_options("sqlite:///x.db", {"pool_recycle": 1800}) == {"pool_recycle": 1800}


def test_the_apps_postgresql_sessions_run_without_jit(session):
    """JIT compiling cost the admin's dashboard over 100,000 learners 13.2 s a view against 1.9."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    assert session.connection().exec_driver_sql("SHOW jit").scalar() == "off"


def rate_limited_by(storage_uri):
    return type("Limited", (TestConfig,), {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage_uri})


@pytest.mark.parametrize("storage_uri", ["redis://127.0.0.1:6379/0", "rediss://redis.example.org:6380/0"])
def test_redis_storage_without_the_redis_package_is_a_clear_error_at_start_up(monkeypatch, storage_uri):
    monkeypatch.setitem(sys.modules, "redis", None)  # as if the redis extra were not installed
    with pytest.raises(RuntimeError, match=r"REDIS_URL is set but the redis package is not installed"):
        create_app(rate_limited_by(storage_uri))


def test_memory_storage_needs_no_redis_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    assert create_app(rate_limited_by("memory://")).config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_production_allows_plain_http_on_loopback_only():
    assert create_app(production(PUBLIC_URL="http://127.0.0.1")).config["PUBLIC_URL"] == "http://127.0.0.1"


def test_a_setting_that_is_no_number_is_named(monkeypatch):
    from config import whole_number

    monkeypatch.setenv("MAIL_PORT", "abc")
    with pytest.raises(RuntimeError, match=r"MAIL_PORT must be a whole number, not 'abc'"):
        whole_number("MAIL_PORT", "587")
    monkeypatch.delenv("MAIL_PORT")
    assert whole_number("MAIL_PORT", "587") == 587


def test_a_setting_below_its_minimum_is_named(monkeypatch):
    from config import whole_number

    monkeypatch.setenv("PROXY_HOPS", "-1")  # ProxyFix would believe a client-written X-Forwarded-For entry
    with pytest.raises(RuntimeError, match=r"PROXY_HOPS must be at least 0, not '-1'"):
        whole_number("PROXY_HOPS", "0")
    monkeypatch.setenv("MAIL_PORT", "0")
    with pytest.raises(RuntimeError, match=r"MAIL_PORT must be at least 1, not '0'"):
        whole_number("MAIL_PORT", "587", minimum=1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ten", "XAPI_TIMEOUT must be a number, not 'ten'"),
        ("", "XAPI_TIMEOUT must be a number, not ''"),
        ("0", "XAPI_TIMEOUT must be a number above zero, not '0'"),
        ("-5", "XAPI_TIMEOUT must be a number above zero, not '-5'"),
        ("nan", "XAPI_TIMEOUT must be a number above zero, not 'nan'"),
        ("inf", "XAPI_TIMEOUT must be a number above zero, not 'inf'"),
    ],
)
def test_a_timeout_that_is_no_number_above_zero_is_named(monkeypatch, text, message):
    from config import positive_number

    monkeypatch.setenv("XAPI_TIMEOUT", text)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        positive_number("XAPI_TIMEOUT", "10")
    monkeypatch.setenv("XAPI_TIMEOUT", "2.5")
    assert positive_number("XAPI_TIMEOUT", "10") == 2.5


def start_up(**environment):
    """Start the test configuration's app as a new process would: config.py read afresh with the
    environment given (settings are read on import), then ``create_app()`` with the class APP_ENV names."""
    settings = config_read_with({"APP_ENV": "testing", **environment})
    with mock.patch("app.config_from_environment", settings["config_from_environment"]):
        return create_app()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("XAPI_TIMEOUT", "ten", "RuntimeError: XAPI_TIMEOUT must be a number, not 'ten'."),
        ("SESSION_IDLE_DAYS", "two weeks", "RuntimeError: SESSION_IDLE_DAYS must be a whole number, not 'two weeks'."),
        ("RATELIMIT_LOGIN", "lots", "RuntimeError: RATELIMIT_LOGIN is not a rate limit: 'lots'."),
        ("RATELIMIT_API", "120 per minit", "RuntimeError: RATELIMIT_API is not a rate limit: '120 per minit'."),
    ],
)
def test_a_bad_setting_in_the_environment_stops_start_up_naming_it(name, value, message):
    with pytest.raises(Exception) as stopped:  # noqa: B017 - which one is part of what is checked
        start_up(**{name: value})
    # The last line of the traceback a failed start-up prints.
    said = traceback.format_exception_only(stopped.value)[-1]
    assert said.startswith(message), said


def test_the_environment_limits_are_read_when_good():
    app = start_up(RATELIMIT_LOGIN="5 per minute;20 per hour", RATELIMIT_API="60/minute")
    assert (app.config["RATELIMIT_LOGIN"], app.config["RATELIMIT_API"]) == ("5 per minute;20 per hour", "60/minute")


def configured(base, **overrides):
    return type("Configured", (base,), overrides)


@pytest.mark.parametrize("base", ["testing", "production"])
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RATELIMIT_LOGIN", "lots"),  # before: no login limit at all, silently
        ("RATELIMIT_LOGIN", ""),
        ("RATELIMIT_LOGIN", "10 per minute;"),
        ("RATELIMIT_API", "120 per minit"),
        ("RATELIMIT_CONTACT_ACCOUNT", "5 a day"),
        ("RATELIMIT_LTI_LOGIN", 120),
        ("RATELIMIT_DEFAULT", "lots"),  # Flask-Limiter's own limit settings are checked too
        ("RATELIMIT_IN_MEMORY_FALLBACK", "lots"),
    ],
)
def test_a_rate_limit_the_limits_library_cannot_read_stops_start_up_in_every_environment(base, name, value):
    config = configured(TestConfig if base == "testing" else production(), **{name: value})
    with pytest.raises(RuntimeError, match=rf"^{name} is not a rate limit: {re.escape(repr(value))}\."):
        create_app(config)


def test_every_rate_limit_of_every_environment_reads():
    """The shipped limits themselves, and the settings that are no limits (storage, prefix...) left alone."""
    import limits

    from config import FLASK_LIMITER_OTHER_SETTINGS, check_rate_limits

    app = create_app(production())
    mine = [name for name in app.config if name.startswith("RATELIMIT_") and name not in FLASK_LIMITER_OTHER_SETTINGS]
    assert {"RATELIMIT_LOGIN", "RATELIMIT_API", "RATELIMIT_LTI_LOGIN"} <= set(mine)
    for name in mine:
        assert limits.parse_many(app.config[name]), name
    check_rate_limits({"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_KEY_PREFIX": "x", "RATELIMIT_DEFAULT": None})


def test_the_example_settings_file_cannot_start_production_until_its_secret_is_set():
    """deploy/env.example is public: its SECRET_KEY line must be one production refuses."""
    example = (Path(__file__).resolve().parents[1] / "deploy" / "env.example").read_text(encoding="utf-8")
    secret = next(line.split("=", 1)[1] for line in example.splitlines() if line.startswith("SECRET_KEY="))
    with pytest.raises(RuntimeError):
        create_app(production(SECRET_KEY=secret))
