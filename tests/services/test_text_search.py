"""Searching for typed text: LIKE's wildcards are taken literally, case is ignored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import User
from app.services.text_search import contains_text, escape_like

NAMES = ["50% sure", "500 sure", "Ann a_b", "Ann axb", "Back\\slash"]


@pytest.mark.parametrize(
    ("typed", "escaped"),
    [("plain", "plain"), ("50%", "50\\%"), ("a_b", "a\\_b"), ("back\\slash", "back\\\\slash"), ("\\%", "\\\\\\%")],
)
def test_escape_like_escapes_the_wildcards_and_the_escape_character(typed, escaped):
    assert escape_like(typed) == escaped


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("50%", ["50% sure"]),
        ("a_b", ["Ann a_b"]),
        ("\\", ["Back\\slash"]),
        ("%", ["50% sure"]),
        ("_", ["Ann a_b"]),
        ("ANN", ["Ann a_b", "Ann axb"]),
        ("", NAMES),
    ],
)
def test_contains_text_finds_the_characters_typed_and_nothing_else(session, typed, found):
    session.add_all(User(email=f"u{n}@example.org", display_name=s, password_hash="x") for n, s in enumerate(NAMES))
    session.flush()
    matched = session.scalars(
        select(User.display_name).where(contains_text(User.display_name, typed)).order_by(User.display_name)
    ).all()
    assert matched == found
