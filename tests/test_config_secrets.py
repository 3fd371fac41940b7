"""Development's secret key is the checkout's own, and every host but the public one is refused."""

import stat

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from app import create_app
from config import DevelopmentConfig, ProductionConfig, TestConfig
from tests.conftest import create_user

OLD_PUBLIC_KEY = "dev-only-not-secret"  # noqa: S105 - the constant development used to sign with


def development(tmp_path, **overrides):
    values = {
        "SECRET_KEY": "",
        "SECRET_KEY_FILE": tmp_path / "instance" / "secret_key",
        "CREDENTIAL_SIGNING_KEY_FILE": tmp_path / "instance" / "credential_signing_key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.db'}",
    }
    return type("Dev", (DevelopmentConfig,), {**values, **overrides})


def test_development_makes_a_private_random_key_once_and_keeps_it(tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    first = create_app(development(tmp_path)).config["SECRET_KEY"]
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32 and first != OLD_PUBLIC_KEY
    assert create_app(development(tmp_path)).config["SECRET_KEY"] == first


def test_a_secret_key_from_the_environment_wins_and_no_file_is_made(tmp_path):
    app = create_app(development(tmp_path, SECRET_KEY="k" * 40))
    assert app.config["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / "instance" / "secret_key").exists()


def forged_session(user_id) -> str:
    """A session cookie for ``user_id`` signed with the key that used to be in the source."""
    interface = SecureCookieSessionInterface()
    serializer = URLSafeTimedSerializer(
        OLD_PUBLIC_KEY,
        salt=interface.salt,
        serializer=interface.serializer,
        signer_kwargs={"key_derivation": interface.key_derivation, "digest_method": interface.digest_method},
    )
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True})


def test_a_cookie_signed_with_the_old_public_key_opens_nothing(tmp_path):
    from app.extensions import db
    from app.models import Role

    app = create_app(development(tmp_path))
    with app.app_context():
        db.create_all()
    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    client = app.test_client()
    client.set_cookie("session", forged_session(admin))
    response = client.get("/author/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    with app.app_context():
        db.engine.dispose()


def test_tests_keep_their_fixed_key():
    assert create_app(TestConfig).config["SECRET_KEY"] == "test-secret-key"


def test_development_links_and_hosts_default_to_the_local_server(tmp_path):
    app = create_app(development(tmp_path))
    assert app.config["PUBLIC_URL"].startswith("http://127.0.0.1:")
    assert {"127.0.0.1", "localhost"} <= set(app.config["TRUSTED_HOSTS"])


@pytest.mark.parametrize(
    ("extra", "expected"),
    [("", ["learn.example.org"]), ("10.0.0.5, health.internal", ["learn.example.org", "10.0.0.5", "health.internal"])],
)
def test_production_trusts_the_public_host_and_listed_extras_only(extra, expected):
    config = type(
        "Prod",
        (ProductionConfig,),
        {
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL_GIVEN": True,
            "ISSUER_NAME_GIVEN": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PUBLIC_URL": "https://learn.example.org",
            "TRUSTED_HOSTS_EXTRA": extra,
            "CREDENTIAL_SIGNING_KEY": TestConfig.CREDENTIAL_SIGNING_KEY,
            "MAIL_SERVER": "smtp.example.org",
        },
    )
    app = create_app(config)
    assert app.config["TRUSTED_HOSTS"] == expected
    client = app.test_client()
    assert client.get("/auth/login", headers={"Host": "learn.example.org"}).status_code == 200
    assert client.get("/auth/login", headers={"Host": "evil.example"}).status_code == 400


def test_development_without_smtp_prints_each_unsent_email(tmp_path, capsys):
    """A developer can finish a registration or a reset: the e-mail is printed, link and all."""
    import logging

    from app import create_app
    from app.services.mail import log as mail_log
    from app.services.mail import send_mail
    from config import DevelopmentConfig

    class Development(DevelopmentConfig):
        SECRET_KEY = "x" * 40
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'dev.db'}"
        MAIL_SERVER = ""

    handlers, propagate = list(mail_log.handlers), mail_log.propagate
    mail_log.handlers[:] = []  # a development app made by another test printed to its own stderr
    try:
        app = create_app(Development)
        link = "http://127.0.0.1:5000/auth/register/finish/" + "a" * 120  # longer than a MIME line
        send_mail(app.config, to="someone@example.org", subject="Finish registering", body=f"Open {link}")
        printed = capsys.readouterr().err
    finally:
        mail_log.handlers[:] = handlers
        mail_log.propagate = propagate
        mail_log.setLevel(logging.NOTSET)
    assert "Subject: Finish registering" in printed and f"Open {link}\n" in printed
