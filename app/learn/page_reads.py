"""A learner page's two reads in one: the signed-in user and the course's rows for them.

A learner page needs the signed-in user (read by Flask-Login's user loader the first time
anything looks at ``current_user``) and then its course's content version with the learner's
progress (progress.course_outline_by_slug). Both are keyed by the login session, so the
loader reads them together (signed_in_user.py) when the view said beforehand which course
rows it will want: ``@reads_outline_with_user`` goes above ``@login_required``, which is
where the user is first looked at. The view takes the rows with ``outline_rows``.

Whatever goes differently (no one signed in, a view that did not ask, a user loaded earlier
by something else) the rows are simply not there and the page reads them itself, as before.

Such a view (a learner page, a lesson done, a quiz submitted) only reads the user, never
changes it, so the loader reads it as a detached value, outside the ORM session
(app/auth/routes.py, signed_in_user.py's ``attach``). A view that changes the user must not
use this decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g

from app.services.signed_in_user import OutlineWanted

_WANTED = "outline_wanted"  # set by the decorator, read by the user loader (app/auth/routes.py)
_READ = "outline_read"  # (what was wanted, its rows, the page's own rows), set by the user loader
_OWN = "own_rows_read"  # the page's own rows (/me/'s lists, a submission's cards), once outline_rows ran


def reads_outline_with_user(
    *,
    with_attempts: bool = False,
    lesson_attempts_only: bool = False,
    with_reviews_due: bool = False,
    with_my_page: bool = False,
    with_cards: bool = False,
) -> Callable:
    """Have the user loader read this view's course rows with the user.

    The rows of the view's ``course_slug``, or of the first course when it has none; with
    ``lesson_attempts_only``, only the attempts at the view's ``lesson_slug`` (all a lesson or
    quiz page shows of them); ``with_reviews_due``, the count of questions due for review too;
    ``with_my_page``, /me/'s other rows as well; ``with_cards``, the learner's review cards for
    the live questions of the view's ``lesson_slug`` (a quiz submission's). Those two: ``own_rows``.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            attempts_of = kwargs.get("lesson_slug") if lesson_attempts_only else None
            wanted = OutlineWanted(
                slug=kwargs.get("course_slug"),
                with_attempts=with_attempts,
                attempts_of=attempts_of,
                with_reviews_due=with_reviews_due,
                with_my_page=with_my_page,
                cards_of=kwargs.get("lesson_slug") if with_cards else None,
            )
            setattr(g, _WANTED, wanted)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def outline_wanted() -> OutlineWanted | None:
    """What the view said it will want, if it said (for the user loader)."""
    return g.get(_WANTED)


def outline_was_read(wanted: OutlineWanted, rows: list[tuple], own_rows: list[tuple] | None = None) -> None:
    """Keep the rows the user loader read for the view (and the page's own rows, when it asked for them)."""
    setattr(g, _READ, (wanted, rows, own_rows))


def outline_rows(
    slug: str | None,
    *,
    with_attempts: bool,
    attempts_of: str | None = None,
    with_reviews_due: bool = False,
    with_my_page: bool = False,
    cards_of: str | None = None,
) -> list[tuple] | None:
    """The course rows read with the user for exactly this slug and attempts choice, once; else None.

    With ``with_my_page`` or ``cards_of`` (a lesson's slug), the page's own rows read with them
    are kept for ``own_rows``.
    """
    read = g.pop(_READ, None)
    wanted = OutlineWanted(
        slug=slug,
        with_attempts=with_attempts,
        attempts_of=attempts_of,
        with_reviews_due=with_reviews_due,
        with_my_page=with_my_page,
        cards_of=cards_of,
    )
    if read is None or read[0] != wanted:
        return None
    if wanted.own is not None:
        setattr(g, _OWN, read[2])
    return read[1]


def own_rows() -> list[tuple] | None:
    """The page's own rows read with the user, once ``outline_rows`` took the course's (asked with
    ``with_my_page`` or ``cards_of``); else None."""
    return g.pop(_OWN, None)
