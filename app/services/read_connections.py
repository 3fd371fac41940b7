"""Connections kept in autocommit for the Reads run on psycopg (app/services/reads.py).

A Read run on one of the pool's connections pays for the checkout and the check-in, for
switching the connection into autocommit and back, and for a new cursor: more CPU than the
query itself (35-40 us), and 11.5% of a lesson's in all (docs/performance.md). Reads instead take a
connection from a small stack of their own, always in autocommit, each with one cursor that
is used again, and put it back when done.

- Each connection comes from the engine's pool once and is detached from it, so it was made
  by the same creator and connect events as any other and the pool's own count is untouched.
- At most ``KEPT`` stay idle per engine (more are closed on their way back): a sync worker
  uses one; a threaded server as many as it has requests reading at the same moment.
- A connection that fails is closed and never used again; the caller runs the read the
  ordinary way, which reports the error or retries as before.
- After a fork a process never uses the connections its parent opened, nor closes them
  (that would end them for the parent too): they are kept aside, untouched.
- ``engine.dispose()`` closes the engine's idle ones, as it does the pool's (the tests drop
  their database at the end).
"""

from __future__ import annotations

import os
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event

# Idle connections kept per engine; a request holds one only while its read runs.
KEPT = 4


@dataclass(eq=False)
class KeptConnection:
    """A driver connection in autocommit, outside the pool, and the cursor its reads use."""

    connection: Any  # psycopg.Connection
    cursor: Any  # psycopg.RawCursor on it


@dataclass(eq=False)
class _Stack:
    """The idle connections of one engine in one process."""

    # os.getpid looked up each time: a test can stand in for a fork.
    pid: int = field(default_factory=lambda: os.getpid())
    idle: list[KeptConnection] = field(default_factory=list)


_STACKS: WeakKeyDictionary[Engine, _Stack] = WeakKeyDictionary()
_LOCK = threading.Lock()  # only for finding or making a stack: taking and putting back are atomic list calls
_INHERITED: list[_Stack] = []  # a parent process's stacks: never used nor closed by this one


def take(engine: Engine) -> KeptConnection | None:
    """An idle kept connection of ``engine``, or a new one.

    None if none could be opened: the caller reads the ordinary way.
    """
    stack = _stack(engine)
    try:
        return stack.idle.pop()
    except IndexError:
        pass
    return _open(engine)


def give_back(engine: Engine, kept: KeptConnection) -> None:
    """Put back a connection whose read went well, to be used again (closed if enough are idle)."""
    stack = _stack(engine)
    if len(stack.idle) < KEPT:
        stack.idle.append(kept)
    else:
        discard(kept)


def discard(kept: KeptConnection) -> None:
    """Close a connection that failed, or is not wanted: it is never used again."""
    with suppress(Exception):  # already broken: nothing more to do
        kept.connection.close()


def idle(engine: Engine) -> tuple[KeptConnection, ...]:
    """The connections of ``engine`` waiting for a read in this process, the next one to be taken last."""
    stack = _STACKS.get(engine)
    return tuple(stack.idle) if stack is not None and stack.pid == os.getpid() else ()


def _stack(engine: Engine) -> _Stack:
    stack = _STACKS.get(engine)
    if stack is not None and stack.pid == os.getpid():
        return stack
    with _LOCK:
        stack = _STACKS.get(engine)
        if stack is None:
            event.listen(engine, "engine_disposed", _close_idle)
        elif stack.pid != os.getpid():
            _INHERITED.append(stack)  # the parent's: referenced forever, so never closed by this process
        else:
            return stack
        stack = _STACKS[engine] = _Stack()
        return stack


def _open(engine: Engine) -> KeptConnection | None:
    import psycopg  # only here: connections are kept on psycopg alone

    try:
        pooled = engine.raw_connection()
    except Exception:  # noqa: BLE001 - no connection (a stopped database): the ordinary path says so
        return None
    try:
        pooled.detach()  # ours from now on: the pool opens another when it needs one
        connection: Any = pooled.dbapi_connection  # a psycopg.Connection: the dialect's
        if connection is None:  # only after an invalidation, never fresh from the pool
            return None
        connection.autocommit = True
        return KeptConnection(connection, psycopg.RawCursor(connection))
    except Exception:  # noqa: BLE001 - as above
        with suppress(Exception):
            pooled.close()
        return None


def _close_idle(engine: Engine) -> None:
    stack = _STACKS.get(engine)
    if stack is None or stack.pid != os.getpid():
        return
    while True:
        try:
            kept = stack.idle.pop()
        except IndexError:
            return
        discard(kept)
