"""The one rule for ids and page numbers: ASCII digits, 1 to 2**31 - 1."""

import pytest

from app.parsing import ID_MAX, parse_id, parse_page


@pytest.mark.parametrize("text, number", [("1", 1), ("42", 42), ("007", 7), (str(ID_MAX), ID_MAX)])
def test_ascii_digits_in_range_are_ids(text, number):
    assert parse_id(text) == number


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1\n",
        "²",
        "١",
        "1.0",
        "1e3",
        str(ID_MAX + 1),
        "9" * 30,
        None,
        True,
        0,
        ID_MAX + 1,
    ],
)
def test_anything_else_is_not_an_id(text):
    assert parse_id(text) is None


def test_a_page_that_is_not_a_number_is_the_first():
    assert parse_page("²") == 1 and parse_page(None) == 1 and parse_page("3") == 3 and parse_page("0") == 1
