"""Phone numbers in any course's Markdown become tap-to-call links; other numbers stay text."""

from __future__ import annotations

import pytest

from app.services.markdown import phone_links, render_markdown


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


@pytest.mark.parametrize(
    ("written", "href"), [("999", "tel:999"), ("NHS 111", "tel:111"), ("0300 123 1110", "tel:03001231110")]
)
def test_quiz_feedback_text_gets_the_same_links(written, href):
    """Feedback and explanations are plain text: escaped, and their numbers made links all the same."""
    html = phone_links(f"Get help now: <b>call</b> {written}. In 1999 it cost £111.")

    assert html == f'Get help now: &lt;b&gt;call&lt;/b&gt; <a href="{href}">{written}</a>. In 1999 it cost £111.'


def test_the_quiz_result_links_the_numbers_in_its_feedback(app):
    from types import SimpleNamespace

    choice = SimpleNamespace(
        chosen=True,
        correct=False,
        safety_critical=True,
        text="Wait it out",
        feedback="Please call 999 now.",
        misconception_text="Call NHS 111 for advice.",
    )
    answer = SimpleNamespace(
        is_correct=False, prompt="What now?", kind="single", explanation="Ring 116 123.", choices_shown=[choice]
    )
    with app.test_request_context():
        macro = app.jinja_env.get_template("_macros/answers.html").module.answer_feedback
        html = str(macro(answer, 1))

    assert '<strong>Safety warning.</strong> Please call <a href="tel:999">999</a> now.' in html
    assert 'Call <a href="tel:111">NHS 111</a> for advice.' in html and '<a href="tel:116123">116 123</a>' in html
