"""Parts of learner pages drawn once per course content and reused: ``{% call fragment(...) %}``.

A lesson page draws the same article, breadcrumb and lesson navigation for every learner in
the same state, and the course overview the same list of lessons; only the learner's own parts
(their name, form token, attempts, messages) differ. A template wraps such a part in

    {% call fragment("lesson-article", outline.course, entry.lesson.id, entry.state) %}
      ... drawn from the course content and the key's values only ...
    {% endcall %}

and the body is drawn the first time that key is asked for, then the same HTML is returned.
The key is the fragment's name, the course content it is drawn from and whatever else the body
reads (a lesson, its state). The rule for a body: it reads nothing that is not in its key or
fixed for the worker (the app's config, the request's script root, which is in every key).

The fragments of a course are kept with the content object they were drawn from
(app/services/course_content.py hands out one object per loaded version and a new one when the
version changes, a lower one included): given another object, the course's fragments are
dropped, so a publish or a restore shows at once. ``None`` as the content: a part that reads
no course at all (the site footer). Bounded: the least recently used fragment goes first.
Whole pages kept with holes for the learner's parts (app/page_shells.py) are kept here too,
through ``PageFragments.kept``, under the same rules.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from contextlib import suppress
from typing import Any, TypeVar

from flask import Flask, has_request_context, request

T = TypeVar("T")

EXTENSION_KEY = "page_fragments"
# Fragments kept per course (and for parts of no course): enough for every lesson in each of its
# states, every overview a learner can see, and the lesson navigation, of a course of hundreds of lessons.
FRAGMENTS_PER_COURSE = 2048


class PageFragments:
    """Drawn fragments, per course content; called from templates as ``fragment``."""

    def __init__(self, size: int = FRAGMENTS_PER_COURSE) -> None:
        self.size = size
        # course id (None: no course) -> (the content drawn from, {key: html})
        self._by_course: dict[object, tuple[object, OrderedDict[tuple, Any]]] = {}

    def __call__(self, name: str, content: object, *key: Hashable, caller: Callable[[], str]) -> str:
        """The fragment ``name`` of ``content`` for ``key``: drawn by ``caller`` the first time, then kept."""
        if not has_request_context():  # no script root to key by (mail drawn by a job)
            return caller()
        # Kept as the body gave it: Markup from an autoescaped template, whose values it escaped.
        return self.kept(name, content, *key, make=caller)

    def kept(self, name: str, content: object, *key: Hashable, make: Callable[[], T]) -> T:
        """What ``make`` gives for ``name`` of ``content`` and ``key`` (in a request): made once, then kept."""
        return self._kept_in(self._made_for(content), (name, request.script_root, *key), make)

    def kept_each(self, name: str, content: object, wanted: Iterable[tuple[tuple, Callable[[], T]]]) -> list[T]:
        """``kept`` for each (key, make) of ``wanted``, in order: the course's store and the script
        root looked up once for them all (a quiz page's questions)."""
        made, root = self._made_for(content), request.script_root
        return [self._kept_in(made, (name, root, *key), make) for key, make in wanted]

    def _made_for(self, content: object) -> OrderedDict[tuple, Any]:
        """The fragments kept for ``content``: a new store when its course's content changed."""
        course_id = getattr(content, "id", None)
        kept = self._by_course.get(course_id)
        if kept is None or kept[0] is not content:
            kept = (content, OrderedDict())
            self._by_course[course_id] = kept
        return kept[1]

    def _kept_in(self, made: OrderedDict[tuple, Any], full_key: tuple, make: Callable[[], T]) -> T:
        value = made.get(full_key)
        if value is not None:
            # Not contextlib.suppress on this path, taken for every fragment of every page: its
            # context manager costs 0.28 us a use, a try 0.02.
            try:  # noqa: SIM105
                made.move_to_end(full_key)
            except KeyError:  # dropped by another thread meanwhile
                pass
            return value
        value = make()
        made[full_key] = value
        if len(made) > self.size:
            with suppress(KeyError):  # another thread emptied it first
                made.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every fragment (the next page draws afresh)."""
        self._by_course.clear()


def register(app: Flask) -> None:
    """Give templates ``fragment`` (the app's own PageFragments, in ``app.extensions``)."""
    fragments = PageFragments()
    app.extensions[EXTENSION_KEY] = fragments
    app.jinja_env.globals["fragment"] = fragments
