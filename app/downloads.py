"""A person's data as a JSON file to save: one response for both who download it.

The person downloads their own on /me/data.json, and an admin downloads it for them on
/author/users/<id>/data.json (for someone who asked the clinic for a copy). Both must give
the same file, so both blueprints take it from here rather than one from the other.
"""

from __future__ import annotations

import json

from flask import Response, current_app


def data_file(data: dict, *, filename: str) -> Response:
    """The export as a JSON file to save, named ``filename`` (the caller's: ASCII, nothing to quote)."""
    response = current_app.response_class(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
