"""The app's Flask class: Flask, asking once per function whether it must be run as a coroutine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

# Functions known to be plain (not coroutine functions), remembered up to this many: the app's
# views, hooks and error handlers number a few hundred.
REMEMBERED_PLAIN = 4096


class App(Flask):
    """Flask, with ``ensure_sync`` remembering the plain functions it has seen.

    Flask asks ``inspect.iscoroutinefunction`` of every hook, view and error handler on every
    request (about 2.5 us each, a dozen a page: 4% of a lesson's CPU). A function's kind
    never changes, so a plain one is remembered and handed back at once; anything else (a
    coroutine function, something unhashable) goes through Flask's own ``ensure_sync``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` itself if it is a plain function, else Flask's wrapper for running it."""
        try:
            if func in self._plain:
                return func
        except TypeError:  # unhashable: asked every time, as Flask does
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if synced is func and len(self._plain) < REMEMBERED_PLAIN:
            self._plain.add(func)
        return synced
