"""What tells a counsellor's clients apart when their names do not.

Display names are first names or nicknames, by design, so a counsellor may have two clients called
Sam. Their pages then name each client with (``ClientIdentity``):

- the counsellor's own label for the client, when they gave one: kept from the invitation the
  client accepted (``CounsellorLink.label``), private to the counsellor, shown always;
- where another client the viewer sees has the same name (``has_namesake``, any case, as the
  dashboard sorts names), since when the client shares with them and the client's ID, the one
  the dashboard's CSV gives: two links made the same day still differ by it.

Nothing else: not an e-mail address, which the client never agreed to show their counsellor.
Each is a column of a query the page runs anyway (the dashboard's, a client page's first read),
so no page runs a query more for them.

An admin sees every learner, and no index holds their names to compare (see ``has_namesake``):
their list tells apart the rows whose names clash on the page shown (``namesakes_on_page``), in
Python, with no query; a single client's page, with nobody beside to compare, always gives the ID.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, ColumnExpressionArgument, Label, ScalarSelect, and_, literal, select
from sqlalchemy.orm import aliased

from app.models import CounsellorLink, Role, User


def _own_link(
    link, viewer_id: int | ColumnElement[int], learner_id: ColumnExpressionArgument[int]
) -> ColumnElement[bool]:
    """``link`` is the viewer's live link with the learner (at most one: a unique index)."""
    return and_(link.counsellor_id == viewer_id, link.learner_id == learner_id, link.revoked_at.is_(None))


def link_label(
    viewer_id: int | ColumnElement[int], learner_id: ColumnExpressionArgument[int]
) -> ScalarSelect[str | None]:
    """The viewer's label for the learner, from their live link; NULL with none, or no link (an admin's view)."""
    return select(CounsellorLink.label).where(_own_link(CounsellorLink, viewer_id, learner_id)).scalar_subquery()


def sharing_since(
    viewer_id: int | ColumnElement[int], learner_id: ColumnExpressionArgument[int]
) -> ScalarSelect[datetime]:
    """Since when the learner shares with the viewer (their live link's start); NULL without a link."""
    return select(CounsellorLink.created_at).where(_own_link(CounsellorLink, viewer_id, learner_id)).scalar_subquery()


def has_namesake(
    role: str, viewer_id: int | ColumnElement[int], learner_id: ColumnExpressionArgument[int]
) -> ColumnElement[bool]:
    """Whether another client the viewer sees has the learner's name, in any case (the rule).

    A counsellor's: another live link of theirs with the same client name key, read from the index
    their dashboard pages by (app/models/caseload_names.py), so across their whole caseload, not the
    page shown: a filter showing one of two Sams still tells which Sam it is. An admin sees every
    learner, and no index holds every learner's name to compare with (a probe per row would read
    every user): true here, so a single client's page gives the ID, and the admin's list narrows it
    to the rows whose names clash on the page (``namesakes_on_page``).
    """
    if role == Role.ADMIN:
        return literal(True)
    if role != Role.COUNSELLOR:
        return literal(False)
    own = aliased(CounsellorLink, name="own_link")
    other = aliased(CounsellorLink, name="namesake_link")
    # The client's name key as a value compared with the index's (a subquery, not a join: joined,
    # PostgreSQL read the other links in full and filtered them).
    name_key = (
        select(own.client_name_key)
        .where(_own_link(own, viewer_id, learner_id))
        .correlate_except(own)  # the learner's table is the outer query's, two levels up
        .scalar_subquery()
    )
    return (
        select(other.id)
        .where(
            other.counsellor_id == viewer_id,
            other.revoked_at.is_(None),
            other.client_name_key == name_key,
            other.learner_id != learner_id,
        )
        .exists()
    )


def identity_columns(
    role: str, viewer_id: int | ColumnElement[int], learner_id: ColumnExpressionArgument[int]
) -> tuple[Label[Any], ...]:
    """The columns that tell the learner apart for a viewer of ``role``: ``label``,
    ``sharing_since`` and ``namesake``, as every read that names a client adds them (the
    dashboard's statement, ``sharing.viewable_client``), so the pages agree on what they show."""
    return (
        link_label(viewer_id, learner_id).label("label"),
        sharing_since(viewer_id, learner_id).label("sharing_since"),
        has_namesake(role, viewer_id, learner_id).label("namesake"),
    )


class _ListedClient(Protocol):
    name: str
    namesake: bool


def namesakes_on_page(rows: Sequence[_ListedClient]) -> None:
    """Mark as a namesake each row whose name another row of the same page has, in any case (as
    lower() folds it on both databases), and no other: an admin's list, where ``has_namesake``
    cannot look across every learner. No query: the page's rows hold the names."""
    counts = Counter(row.name.lower() for row in rows)
    for row in rows:
        row.namesake = counts[row.name.lower()] > 1


@dataclass(frozen=True)
class ClientIdentity:
    """A client as a counsellor's page names them: their name, with what tells them apart (above).

    The templates name a client with counsel/_client_name.html, which reads ``name``, ``label``,
    ``sharing_since``, ``namesake`` and ``learner_id``: the dashboard's ``ClientRow`` has them too.
    """

    learner: User
    label: str | None
    sharing_since: datetime | None
    namesake: bool

    @property
    def name(self) -> str:
        return self.learner.display_name

    @property
    def learner_id(self) -> int:
        return self.learner.id
