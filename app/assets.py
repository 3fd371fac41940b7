"""Static files under fingerprinted names, cached for a year, and compressed responses.

``asset_url("css/app.css")`` gives ``/assets/css/app.3f9c2d1a0b.css``: the name changes
whenever the file does, so browsers may keep each version for a year.

Compression is Flask-Compress's; this module only says what it applies to.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from functools import lru_cache
from pathlib import Path

from flask import Flask, abort, current_app, url_for
from flask_compress import Compress
from werkzeug.security import safe_join

ONE_YEAR = 365 * 24 * 60 * 60
# Defaults for Flask-Compress; a configuration class may override any of them.
COMPRESSION_DEFAULTS = {
    # Text only: images other than SVG, the course export (zip) and fonts are compressed already.
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/csv",
        "text/plain",
        "application/json",
        "image/svg+xml",
        "application/javascript",
    ],
    "COMPRESS_MIN_SIZE": 500,  # below this, gzip's own overhead eats the saving
    # gzip at level 5, as before: on the lesson page (8.9 KB) it is 3.5 KB in about 150 us;
    # brotli 4 saves 2% more for 1.8x the time, zstd 3 is 3% larger for 0.7x.
    "COMPRESS_ALGORITHM": ["gzip"],
    "COMPRESS_LEVEL": 5,
    # Streamed responses (the counsellor's CSV) go out as they are made, uncompressed.
    "COMPRESS_STREAMS": False,
    # No response here carries an ETag, so there is nothing to answer with 304; skipping
    # Werkzeug's make_conditional saves 10-35 us a response.
    "COMPRESS_EVALUATE_CONDITIONAL_REQUEST": False,
}
_FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{10})(?P<suffix>\.[A-Za-z0-9]+)$")


@lru_cache(maxsize=256)
def _digest(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def static_folder_of(app: Flask) -> str:
    """The app's static folder (app/static: create_app keeps Flask's default, so there always is one)."""
    if app.static_folder is None:
        raise RuntimeError("The app has no static folder to serve assets from.")
    return app.static_folder


def fingerprint(static_folder: str, filename: str) -> str:
    """The current digest of a static file (cached until the file changes)."""
    path = Path(static_folder) / filename
    try:
        return _digest(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise LookupError(filename) from None


def asset_url(filename: str) -> str:
    """URL of a static file under its fingerprinted name.

    Outside debug mode the files cannot change while the app runs (a deploy restarts it), so
    each URL is worked out once per app instead of on every page.
    """
    known = current_app.extensions.setdefault("asset_urls", {})
    url = known.get(filename)
    if url is None:
        stem, dot, suffix = filename.rpartition(".")
        digest = fingerprint(static_folder_of(current_app), filename)
        url = url_for("assets", filename=f"{stem}.{digest}.{suffix}")
        if not current_app.debug:
            known[filename] = url
    return url


def register(app: Flask) -> None:
    """Serve /assets/<fingerprinted name>, expose asset_url to templates, compress what pays."""

    @app.get("/assets/<path:filename>", endpoint="assets")
    def serve_asset(filename: str):
        match = _FINGERPRINTED.match(filename)
        if not match:
            abort(404)
        original = match["stem"] + match["suffix"]
        try:
            current = fingerprint(static_folder_of(app), original)
        except LookupError:
            abort(404)
        if current != match["digest"]:
            abort(404)  # an old version: the page that asked for it is stale
        # Static files here are small text; reading them lets the response be compressed.
        path = safe_join(static_folder_of(app), original)
        if path is None or not Path(path).is_file():
            abort(404)
        mimetype = mimetypes.guess_type(original)[0] or "application/octet-stream"
        response = app.response_class(Path(path).read_bytes(), mimetype=mimetype)
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        return response

    app.jinja_env.globals["asset_url"] = asset_url

    for key, value in COMPRESSION_DEFAULTS.items():
        app.config.setdefault(key, value)
    Compress(app)
