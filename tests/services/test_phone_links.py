"""Phone numbers in any course's Markdown become tap-to-call links; other numbers stay text."""

from __future__ import annotations

import pytest

from app.services.markdown import render_markdown


@pytest.mark.parametrize(
    ("written", "href"),
    [
        ("0300 123 1110", "tel:03001231110"),
        ("0300 123 6600", "tel:03001236600"),
        ("116 123", "tel:116123"),
        ("999", "tel:999"),
        ("111", "tel:111"),
        ("NHS 111", "tel:111"),
        ("020 7946 0000", "tel:02079460000"),
        ("07700 900123", "tel:07700900123"),
    ],
)
def test_a_phone_number_becomes_a_tel_link(written, href):
    html = render_markdown(f"Call {written} for help.")

    assert f'<a href="{href}" rel="noopener noreferrer">{written}</a>' in html


def test_a_texting_line_becomes_an_sms_link():
    assert '<a href="sms:82111" rel="noopener noreferrer">82111</a>' in render_markdown("Or text 82111.")


@pytest.mark.parametrize(
    "text",
    ["In 1999 it changed.", "22.1 per 100", "It cost £111.", "999,000 people", "A rate of 111.5", "`999`"],
)
def test_other_numbers_are_left_alone(text):
    assert "href" not in render_markdown(text)


def test_a_number_already_inside_a_link_is_not_linked_again():
    html = render_markdown("[Ring 999](https://example.org)")

    assert html.count("<a ") == 1 and "tel:" not in html


def test_numbers_in_lists_and_tables_are_linked():
    html = render_markdown("- Samaritans: 116 123\n\n| Line | Number |\n| --- | --- |\n| FRANK | 0300 123 6600 |\n")

    assert 'href="tel:116123"' in html and 'href="tel:03001236600"' in html
