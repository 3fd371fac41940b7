"""Where a request's CPU goes, function by function, in the running app.

``make bench-cpu`` says how much CPU a page costs; this says which of its functions spend it.
Each target is named ``module:attribute`` (``module:Class.method`` for a method), and is
replaced, for the length of a ``timed`` block, by a wrapper that adds the process's CPU time
spent inside it (``time.process_time``: the function and everything it calls) to a total.

    BENCH_LEARNERS=1000 BENCH_CPU_PIECES=app.auth.routes:signed_in_user,flask.app:Flask.process_response \\
        python -m bench.cpu

Name the place the caller looks the function up: a module that did ``from x import f`` calls
its own name ``f``, so ``x:f`` would not be reached. Functions registered before the block
(hooks, decorated views) keep the object they were given; wrap what they call instead. The
figures are inclusive (a target inside another counts in both) and include the wrapper's own
cost, about a microsecond a call: compare targets with each other, and a change before and
after, rather than reading each as exact.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bench.settings import BenchError


@dataclass
class Spent:
    """The CPU seconds spent inside each target, and how many calls it took."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget what was counted so far (after a warm-up)."""
        self.seconds.clear()
        self.calls.clear()


def targets_from(text: str) -> list[str]:
    """The targets named in a comma-separated list (``BENCH_CPU_PIECES``), blanks left out."""
    return [name.strip() for name in text.split(",") if name.strip()]


def resolve(target: str) -> tuple[object, str]:
    """The object holding ``target``'s function and the function's name there; BenchError when there is none."""
    module_name, _, path = target.partition(":")
    if not module_name or not path:
        raise BenchError(f"BENCH_CPU_PIECES: {target!r} is not module:attribute (module:Class.method for a method).")
    try:
        owner: object = importlib.import_module(module_name)
    except ImportError as error:
        raise BenchError(f"BENCH_CPU_PIECES: cannot import {module_name!r} ({error}).") from None
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent, None)
        if owner is None:
            raise BenchError(f"BENCH_CPU_PIECES: {module_name} has no {path!r}.")
    if not callable(getattr(owner, name, None)):
        raise BenchError(f"BENCH_CPU_PIECES: {target!r} is not a function.")
    return owner, name


@contextmanager
def timed(targets: list[str]) -> Iterator[Spent]:
    """Count the CPU spent inside each of ``targets`` while the block runs; the originals are put back after.

    A target is a module's function or a class's plain method (one a class inherits is wrapped
    on that class alone); a static or class method is refused.
    """
    spent = Spent()
    replaced: list[tuple[object, str, object]] = []  # (owner, name, what its own __dict__ held, or _NONE)
    try:
        for target in targets:
            owner, name = resolve(target)
            own = vars(owner).get(name, _NONE)
            if isinstance(own, staticmethod | classmethod):
                raise BenchError(f"BENCH_CPU_PIECES: {target!r} is a static or class method; name a function.")
            current = getattr(owner, name)
            # A subclass's inherited method wraps the parent's own function, not the parent's
            # wrapper: each call counts once, under the class it was called through.
            setattr(owner, name, _counting(target, getattr(current, "pieces_original", current), spent))
            replaced.append((owner, name, own))
        yield spent
    finally:
        for owner, name, own in reversed(replaced):
            if own is _NONE:
                delattr(owner, name)  # inherited: the class's own attribute goes, the parent's shows again
            else:
                setattr(owner, name, own)


_NONE = object()  # an attribute the owner did not hold itself


def _counting(target: str, function: Callable, spent: Spent) -> Callable:
    """``function``, adding the CPU time of each call to ``spent`` under ``target``."""

    @functools.wraps(function)
    def counted(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent.seconds[target] = spent.seconds.get(target, 0.0) + time.process_time() - started
            spent.calls[target] = spent.calls.get(target, 0) + 1

    counted.pieces_original = function  # type: ignore[attr-defined]
    return counted


def pieces_report(page: str, targets: list[str], spent: Spent, requests: int, total_seconds: float) -> str:
    """Each target's CPU per request (us) and calls per request, most first, beside the request's whole CPU."""
    lines = [f"{page}: {total_seconds / requests * 1e6:.1f} us of CPU a request, in process ({requests:,} requests)"]
    for target in sorted(spent.seconds, key=spent.seconds.__getitem__, reverse=True):
        per_request = spent.seconds[target] / requests * 1e6
        lines.append(f"  {target:<72} {per_request:8.1f} us {spent.calls[target] / requests:6.2f} calls")
    lines.extend(f"  {target:<72} never called" for target in targets if target not in spent.calls)
    return "\n".join(lines)
