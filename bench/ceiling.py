"""The ceiling: a bare Flask app returning the lesson page's HTML, captured once from the real
app, with no database, sessions or templates. Served under the same gunicorn settings as the
app, it measures what Flask and gunicorn alone can do on this machine.

    BENCH_CEILING_HTML=lesson.html gunicorn -c gunicorn.conf.py "bench.ceiling:create_app()"
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response


def create_app() -> Flask:
    html = Path(os.environ["BENCH_CEILING_HTML"]).read_bytes()
    app = Flask(__name__)

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def page(path: str) -> Response:
        return Response(html, mimetype="text/html")

    return app
