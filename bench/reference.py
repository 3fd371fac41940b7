"""The reference: a minimal Flask app doing what a signed-in lesson needs, and nothing more.

A lesson page here is a signed session cookie (Flask's own), ONE PostgreSQL query for the user
and their progress in the course, and a compiled Jinja template of the real lesson page's HTML
(captured from the app in the same run) with the query's values put in: the learner's name, the
form token and the lesson's badge. Every response carries the real app's security headers (CSP
included), copied from the captured response. The write reference (bench/write_reference.py)
answers the quiz submission's POST on the same paths. Served under the same gunicorn settings
as the app and the ceiling, it shows what one query and one template allow on this machine:

    BENCH_REFERENCE=reference.json DATABASE_URL=... SECRET_KEY=... \\
        gunicorn -c gunicorn.conf.py "bench.reference:create_app()"

How it logs in: it accepts only a session cookie it signed itself (``sign_session``, with its
own SECRET_KEY) holding a seeded learner's id and a form token; the benchmark signs one per
learner in its pool. It has no login form: it measures pages, not logging in.

reference.json (written by bench/run.py from the pages it captured):
``{"course": slug, "headers": {name: value}, "pages": {lesson slug: {"html", "display_name",
"csrf_token"}}}``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, g, redirect, session
from flask.sessions import SecureCookieSessionInterface
from jinja2 import Environment, Template
from markupsafe import Markup, escape

# Headers gunicorn or Flask set themselves on every response; the rest are copied as captured.
OWN_HEADERS = {"server", "date", "connection", "content-length", "content-type", "vary", "set-cookie"}

# The lesson's state badge, as app/templates/_macros/progress.html draws it.
BADGE = re.compile(r'<span class="badge badge-(?:done|open)"><span aria-hidden="true">[^<]*</span> \w+</span>')
BADGES = {
    True: Markup('<span class="badge badge-done"><span aria-hidden="true">✓</span> Passed</span>'),
    False: Markup('<span class="badge badge-open"><span aria-hidden="true">→</span> Open</span>'),
}

# The one query: the user, and their progress in the course's lessons as [[lesson id, completed?], ...].
USER_AND_PROGRESS = (
    "SELECT u.display_name, u.is_active, COALESCE((SELECT json_agg(json_build_array(p.lesson_id, "
    "p.completed_at IS NOT NULL)) FROM lesson_progress p WHERE p.user_id = u.id AND p.lesson_id = ANY(%s)), "
    "'[]'::json) FROM users u WHERE u.id = %s"
)

# Live lessons last, so a retired lesson never hides the live one with its slug.
COURSE_LESSONS = (
    "SELECT l.slug, l.id FROM lessons l JOIN courses c ON c.id = l.course_id WHERE c.slug = %s "
    "ORDER BY l.retired_at IS NULL, l.id"
)


def sign_session(secret: str, data: dict) -> str:
    """A session cookie value Flask's default session reads with ``secret``: what the reference
    accepts as a signed-in learner (e.g. ``{"uid": 12, "csrf": "..."}``)."""
    app = Flask(__name__)
    app.secret_key = secret
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None  # there is a secret key
    return serializer.dumps(data)


def page_template(environment: Environment, html: str, *, display_name: str, csrf_token: str) -> Template:
    """The captured lesson page as a compiled template: the learner's name, the form token and the
    lesson's badge become variables; everything else is literal text (kept out of Jinja's syntax)."""
    # Only where the page shows them: the name as a whole text node, the token as an attribute value.
    holes = {
        "display_name": rf"(?<=>){re.escape(str(escape(display_name)))}(?=<)" if display_name else None,
        "csrf_token": rf'(?<=value="){re.escape(csrf_token)}(?=")' if csrf_token else None,
        "badge": BADGE.pattern,
    }
    pattern = "|".join(f"(?P<{name}>{hole})" for name, hole in holes.items() if hole)
    parts, last, verbatim = [], 0, {}
    for found in re.finditer(pattern, html):
        parts.append(_literal(html[last : found.start()], verbatim))
        parts.append("{{ " + str(found.lastgroup) + " }}")
        last = found.end()
    parts.append(_literal(html[last:], verbatim))
    return environment.from_string("".join(parts), globals=verbatim)


def _literal(text: str, verbatim: dict[str, Markup]) -> str:
    """Template source that outputs ``text`` as it is."""
    if not text:
        return ""
    if "{% endraw %}" in text:  # cannot sit in a raw block: output it from a variable instead
        name = f"verbatim_{len(verbatim)}"
        verbatim[name] = Markup(text)  # noqa: S704 - the app's own HTML, already escaped
        return "{{ " + name + " }}"
    return "{% raw %}" + text + "{% endraw %}"


class Database:
    """One psycopg connection per gunicorn worker, opened on its first request (after the fork)."""

    def __init__(self, url: str):
        self.url = url
        self.connection: Any = None  # a psycopg.Connection once opened

    def get(self):
        """The worker's connection, opened again if it was lost."""
        import psycopg

        if self.connection is None or self.connection.closed or self.connection.broken:
            self.connection = psycopg.connect(self.url, autocommit=True)
        return self.connection


def create_app(config: dict | None = None) -> Flask:
    """The reference app; settings from ``config`` or the environment (BENCH_REFERENCE,
    DATABASE_URL, SECRET_KEY)."""
    from bench.write_reference import register_write_reference

    settings = {
        "BENCH_REFERENCE": os.environ.get("BENCH_REFERENCE", ""),
        "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
        "SECRET_KEY": os.environ.get("SECRET_KEY", ""),
        **(config or {}),
    }
    captured = json.loads(Path(settings["BENCH_REFERENCE"]).read_text())
    app = Flask(__name__)
    app.secret_key = settings["SECRET_KEY"]
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    course = captured["course"]
    headers = {name: value for name, value in captured["headers"].items() if name.lower() not in OWN_HEADERS}
    environment = Environment(autoescape=True)  # noqa: S701 - autoescape is on
    templates = {
        slug: page_template(environment, page["html"], display_name=page["display_name"], csrf_token=page["csrf_token"])
        for slug, page in captured["pages"].items()
    }
    database = Database(settings["DATABASE_URL"])
    lessons: dict[str, int] = {}

    def course_lessons() -> dict[str, int]:
        if not lessons:  # read once per worker: the course does not change during a run
            lessons.update(database.get().execute(COURSE_LESSONS, (course,)).fetchall())
        return lessons

    app.extensions["bench_reference"] = {"database": database, "course": course, "lessons": course_lessons}

    @app.before_request
    def signed_in() -> None:
        g.user_id = session.get("uid") if isinstance(session.get("uid"), int) else None

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.update(headers)
        return response

    @app.get("/healthz")
    def health() -> str:
        return "ok"

    @app.get("/courses/<course_slug>/lessons/<lesson_slug>")
    def lesson(course_slug: str, lesson_slug: str):
        template = templates.get(lesson_slug)
        if course_slug != course or template is None:
            abort(404)
        if g.user_id is None:
            return redirect("/auth/login")
        ids = course_lessons()
        row = database.get().execute(USER_AND_PROGRESS, (list(ids.values()), g.user_id)).fetchone()
        if row is None or not row[1]:
            session.clear()
            return redirect("/auth/login")
        display_name, _, progress = row
        completed = dict(progress).get(ids.get(lesson_slug), False)
        return template.render(display_name=display_name, csrf_token=session.get("csrf", ""), badge=BADGES[completed])

    register_write_reference(app)
    return app
