"""Whole learner pages kept per course content, with holes for the learner's own parts.

A lesson page is the same for every learner in the same state, but for a few parts: their
name in the header, the form token of the log-out form, and the part below the article
(what to do next, their attempts). Drawing the whole page through Jinja for every request
costs more than everything else the page does. So the page is drawn once per key with a
marker in each hole (``holes()``), cut at the markers into a ``Shell``, and each request
joins the shell's text with its own values (``Shell.fill``): the same bytes the template
would give, by construction, since the template is what drew the shell.

A marker is a NUL character around the hole's name. No text of ours holds a NUL (the course
files are checked, requests with one are refused: app/security.py), so a marker cannot be
confused with content; a shell whose markers do not pair up is refused as a bug. The values
put in are HTML already escaped (Markup), as the template would have output them.

Shells live in the app's PageFragments (app/page_fragments.py) under the course content they
were drawn from, so a publish or a restore draws them afresh, and the store stays bounded.
A page whose learner has a flashed message is drawn in full (the message is theirs).

``signed_in_page`` serves a page this way; the page's template outputs each learner part as a
variable (drawn by the caller with ``draw_part``), and everything else it shows must follow
from its context and the key the caller gives (the equality tests in
tests/views/test_page_shells.py and test_page_fragments.py hold each page to it).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from flask import current_app, render_template, session
from flask_login import current_user
from markupsafe import Markup, escape

from app.page_fragments import EXTENSION_KEY, PageFragments
from app.permissions import can_counsel
from app.staff_nav import HOLE as STAFF_NAV_HOLE
from app.staff_nav import contact_requests_nav

MARK = "\x00"


def holes(*names: str) -> dict[str, Markup]:
    """A marker per hole name, to draw a shell with in place of each value."""
    return {name: Markup(f"{MARK}{name}{MARK}") for name in names}  # noqa: S704 - our own fixed text  # nosec B704


@dataclass(frozen=True)
class Shell:
    """A page cut at its holes: text, hole name, text, hole name, ..., text."""

    parts: tuple[str, ...]

    @classmethod
    def cut(cls, html: str, names: frozenset[str]) -> Shell:
        """The shell of a page drawn with ``holes(*names)``; ValueError if a marker is unpaired or unknown."""
        parts = tuple(html.split(MARK))
        if len(parts) % 2 != 1 or not set(parts[1::2]) <= names:
            raise ValueError("a page shell's hole markers do not pair up")
        return cls(parts)

    def fill(self, values: Mapping[str, str]) -> str:
        """The page with each hole's value put in (a KeyError names a hole left without one)."""
        parts = list(self.parts)
        for index in range(1, len(parts), 2):
            parts[index] = values[parts[index]]
        return "".join(parts)


def page_shell(
    name: str, content: object, *key: Hashable, names: frozenset[str], draw: Callable[[], str]
) -> Shell | None:
    """The shell of page ``name`` for ``key``, drawn by ``draw`` (with ``holes(*names)``) the first time.

    None when the app keeps nothing (a PageFragments of size 0): the caller draws the page in full.
    """
    fragments: PageFragments = current_app.extensions[EXTENSION_KEY]
    if fragments.size == 0:
        return None
    return fragments.kept(f"shell:{name}", content, *key, make=lambda: Shell.cut(draw(), names))


# Every signed-in page's header shows the user's name and a log-out form with its token.
_HEADER_HOLES = ("display_name", "csrf_token")


@dataclass(frozen=True)
class _ShellUser:
    """Whom a shell's header is drawn for: a signed-in user of this role, named by a hole."""

    role: object
    display_name: Markup
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False


def form_token() -> str:
    """The form token as templates' ``csrf_token()`` gives it (app/security.py's)."""
    make: Callable[[], str] = current_app.jinja_env.globals["csrf_token"]  # type: ignore[assignment]
    return make()


def draw_part(template: str, context: Mapping) -> Markup:
    """A learner's own part of a page, drawn for this request from ``context`` and the app's template globals."""
    return Markup(current_app.jinja_env.get_template(template).render(context))  # noqa: S704  # nosec B704 - autoescaped


def count_due_shown(due: int) -> tuple[dict[str, int], dict[str, Markup], int]:
    """How a kept page shows the learner's count of questions due for review (``reviews_due_count``).

    None and one are drawn into the kept page (one reads "question", not "questions"); more is a
    hole. Gives the template's value when drawn in (else nothing), the hole's value when a hole
    (else nothing), and the part of the page's key that tells them apart (0, 1 or 2).
    """
    if due < 2:
        return {"reviews_due_count": due}, {}, due
    return {}, {"reviews_due_count": Markup(int(due))}, 2  # noqa: S704  # nosec B704 - a number


def signed_in_page(
    template: str, context: Mapping, *, content: object, key: tuple[Hashable, ...], parts: Mapping[str, Markup]
) -> str:
    """``render_template(template, **context, **parts)`` for the signed-in user, from a kept shell when it can be.

    ``parts``: the learner's own parts, drawn for this request; the rest of the page must follow
    from ``content`` (the course content drawn from), ``key`` and the user's role: the shell is
    kept per those and filled with the parts, the user's name and the form token (and, for the
    clinic's staff, the header's link to the queue with its count: app/staff_nav.py). With a
    flashed message waiting, or an app that keeps nothing, the page is drawn in full.
    """
    user = current_user._get_current_object()  # looked up once: through the proxy, each use loads it again
    if can_counsel(user):
        parts = {**parts, STAFF_NAV_HOLE: contact_requests_nav()}
    if "_flashes" not in session:
        role = user.role
        names = frozenset((*_HEADER_HOLES, *parts))

        def draw() -> str:
            marks = holes(*names)
            shown_as = _ShellUser(role=role, display_name=marks["display_name"])
            parts_marked = {name: marks[name] for name in parts}
            token = marks["csrf_token"]
            return render_template(template, **context, **parts_marked, current_user=shown_as, csrf_token=lambda: token)

        shell = page_shell(template, content, *key, role, names=names, draw=draw)
        if shell is not None:
            return shell.fill({"display_name": escape(user.display_name), "csrf_token": escape(form_token()), **parts})
    return render_template(template, **context, **parts)
