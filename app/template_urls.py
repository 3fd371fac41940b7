"""``url_for`` in templates, remembered: a page's links come from the route map once per worker.

Building a URL walks Werkzeug's route map (its builder, converters and quoting) and costs
about 30 microseconds; a lesson page asks for a dozen links, the same ones on every request
(issue 19 measured url_for at a quarter of a lesson request's CPU with a learner's attempts
listed). A link's path depends only on the endpoint, its values and the request's script
root, so this keeps the answers in a bounded LRU keyed by exactly those, and hands anything
else to Flask's own ``url_for`` unchanged:

- options (``_external``, ``_anchor``, ``_method``, ``_scheme``): the answer depends on more;
- endpoints relative to the request's blueprint (``.name``): they depend on the blueprint;
- endpoints whose blueprint has ``url_defaults`` functions (authoring adds the course from
  ``g``), or with app-wide ones: their values come from the request;
- values other than text and whole numbers (lists, objects): not safe keys. A value of None
  is no value: Werkzeug leaves it out of the link, so it is left out of the key (the
  counsellor's dashboard passes its filters so, 17 links a view built anew before);
- outside a request (mail rendered by a job): there is no script root to key by.

A URL that cannot be built raises as before (errors are not remembered).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from flask import Flask, current_app, has_request_context, request, url_for

# Every distinct link a worker builds, up to this many, least recently used dropped first.
CACHED_URLS = 4096


def remembered_url_for(app: Flask) -> Callable[..., str]:
    """The ``url_for`` templates get: Flask's, with plain links remembered (see the module)."""
    url_default_functions = app.url_default_functions

    @lru_cache(maxsize=256)  # endpoints: as many as the app has routes
    def cacheable(endpoint: str) -> bool:
        if endpoint.startswith(".") or url_default_functions.get(None):
            return False
        parts = endpoint.split(".")[:-1]
        blueprints = {".".join(parts[: index + 1]) for index in range(len(parts))}
        return not any(url_default_functions.get(name) for name in blueprints)

    @lru_cache(maxsize=CACHED_URLS)
    def built(script_root: str, endpoint: str, values: tuple) -> str:
        return url_for(endpoint, **dict(values))

    def template_url_for(endpoint: str, /, **values) -> str:
        # One plain loop, no comprehension or all(): this runs for every link of every page.
        key = []
        for name, value in values.items():
            if value is None:
                continue  # no value: Werkzeug leaves it out of the link
            if type(value) not in (str, int) or name.startswith("_"):
                return url_for(endpoint, **values)
            key.append((name, value))
        if not cacheable(endpoint) or not has_request_context():
            return url_for(endpoint, **values)
        return built(request.script_root, endpoint, tuple(key))

    template_url_for.cache_info = built.cache_info  # type: ignore[attr-defined]
    return template_url_for


def link_for(endpoint: str, /, **values) -> str:
    """The app's remembered ``url_for`` (the one its templates use), for HTML written in Python."""
    build: Callable[..., str] = current_app.jinja_env.globals["url_for"]  # type: ignore[assignment]
    return build(endpoint, **values)
