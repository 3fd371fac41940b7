"""The Flask application factory: it wires extensions, blueprints and commands, nothing else."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.application import App
from config import (
    Config,
    ProductionConfig,
    check_rate_limit_storage,
    check_rate_limits,
    config_from_environment,
    engine_options,
    secret_key_from_file,
    trusted_hosts,
)


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Create and configure the app for the given configuration (from APP_ENV by default)."""
    config_class = config_class or config_from_environment()
    if issubclass(config_class, ProductionConfig):
        config_class.check()
    app = App(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    if not app.config["SECRET_KEY"] and app.config["SECRET_KEY_FILE"]:
        # Development without SECRET_KEY: a key of this checkout's own, never one in the source.
        app.config["SECRET_KEY"] = secret_key_from_file(Path(app.config["SECRET_KEY_FILE"]))
    if not app.config["TRUSTED_HOSTS"]:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["PUBLIC_URL"], app.config["TRUSTED_HOSTS_EXTRA"])
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(database, app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if database.startswith("sqlite:///"):
        # The embedded default lives in instance/, which a fresh clone does not have yet.
        Path(database.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        # No x_host: nothing is built from the request's host (links use PUBLIC_URL), so a
        # forwarded Host is not believed, and the Host the proxy passes on must be trusted.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)  # type: ignore[method-assign]

    from app import (
        models,  # noqa: F401 - register the models with the metadata
        sqlite_text,  # noqa: F401 - SQLite connections fold case as PostgreSQL does
    )
    from app.extensions import csrf, db, limiter, login_manager, migrate, skip_rate_limit_checks_where_none_apply

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_server_default=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    check_rate_limit_storage(app.config["RATELIMIT_STORAGE_URI"])
    check_rate_limits(app.config)  # a mistyped limit would otherwise be no limit, silently
    limiter.init_app(app)
    skip_rate_limit_checks_where_none_apply(app)

    from app.jobs import init_jobs

    init_jobs(app)

    if not app.config["MAIL_SERVER"] and not app.testing:
        from app.services.mail import show_unsent_mail_on_console

        show_unsent_mail_on_console()

    from app import (
        api,
        assets,
        auth,
        author,
        cli,
        counsel,
        errors,
        learn,
        lti,
        main,
        me,
        page_fragments,
        parsing,
        security,
        timefmt,
        urls,
    )
    from app.certificates import bp as certificates_bp
    from app.contact import bp as contact_bp
    from app.credentials import issuing as credentials
    from app.learn.forms import unanswered_links
    from app.permissions import TEMPLATE_GLOBALS
    from app.question_kinds import KINDS
    from app.services.answer_key import answer_key
    from app.services.markdown import phone_links
    from app.services.result_help import safety_critical_positions
    from app.staff_nav import contact_requests_nav
    from app.template_urls import remembered_url_for

    parsing.register(app)  # before the blueprints: their routes use <id:...>
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(learn.bp)
    app.register_blueprint(me.bp)
    app.register_blueprint(contact_bp)
    app.register_blueprint(counsel.bp)
    app.register_blueprint(author.bp)
    app.register_blueprint(certificates_bp)
    api.init_app(app)  # the JSON API (/api/v1), its OpenAPI description and docs page
    errors.register(app)
    lti.init_app(app)  # LTI 1.3 tool; before security: its framing headers replace the defaults
    security.register(app)
    assets.register(app)
    cli.register(app)
    urls.register(app)
    timefmt.register(app)  # checks SITE_TIMEZONE and adds the date filters
    credentials.init_app(app)  # reads and checks the credential signing key; its public routes
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    page_fragments.register(app)  # the parts of learner pages drawn once per course content
    app.jinja_env.globals["question_kinds"] = KINDS  # how each kind of question is rendered
    app.jinja_env.globals["unanswered_links"] = unanswered_links  # a quiz's error summary, linked to each question
    # A result's answers that could be dangerous if acted on: one rule for the page's note and its offer of help.
    app.jinja_env.globals["safety_critical_positions"] = safety_critical_positions
    # A client's answer beside the right one, from the attempt's record (the counsellor's pages).
    app.jinja_env.globals["answer_key"] = answer_key
    # The staff header's link to the queue, with its count: only drawn, so only counted, for the staff.
    app.jinja_env.globals["staff_contact_requests_nav"] = contact_requests_nav
    app.jinja_env.filters["phone_links"] = phone_links  # feedback's numbers tap-to-call, as lessons' are
    app.jinja_env.globals["url_for"] = remembered_url_for(app)  # after every blueprint's url_defaults
    return app
