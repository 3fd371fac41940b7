"""Configuration: database URLs, and production refusing to start half-configured."""

import sys

import pytest

from app import create_app
from config import ProductionConfig, TestConfig, normalise_database_url


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
        {"DATABASE_URL_GIVEN": False},
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
