"""Every page's ids are unique and every ARIA reference finds its element.

A repeated id makes a label, a skip link or an error link point at the wrong element (the first
one), and a screen reader then reads one progress bar's label for another.
"""

import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from flask import render_template_string
from wtforms import Form, StringField
from wtforms.validators import InputRequired

from tests.conftest import login
from tests.views.test_access_matrix import EMAILS, ROLES, matrix, world  # noqa: F401 - world is a fixture

REFERENCES = ("aria-labelledby", "aria-describedby", "aria-controls", "for")


class _Ids(HTMLParser):
    """The ids a page defines, and the ids its ARIA attributes and labels refer to."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.references: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            elif name in REFERENCES and value:
                self.references.extend((name, target) for target in value.split())


def id_problems(html: str) -> list[str]:
    """Repeated ids, and references to ids the page does not have."""
    parser = _Ids()
    parser.feed(html)
    repeated = [f"id {name!r} {count} times" for name, count in Counter(parser.ids).items() if count > 1]
    known = set(parser.ids)
    dangling = [f"{attr}={target!r} has no element" for attr, target in parser.references if target not in known]
    return repeated + dangling


def test_the_check_finds_a_repeated_id_and_a_dangling_reference():
    page = '<p id="a">x</p><p id="a">y</p><progress aria-labelledby="b"></progress>'
    assert id_problems(page) == ["id 'a' 2 times", "aria-labelledby='b' has no element"]


@pytest.mark.parametrize("role", ["anonymous", "learner", "counsellor", "admin"])
def test_every_page_a_role_can_see_has_unique_ids(app, client, world, role):  # noqa: F811 - the fixture
    if role != "anonymous":
        assert login(client, EMAILS[role]).status_code == 302
    problems = []
    for (method, url), statuses in matrix(world).items():
        if method != "GET" or statuses[ROLES.index(role)] != 200:
            continue
        response = client.get(url)
        if response.mimetype == "text/html":
            problems += [f"{url}: {problem}" for problem in id_problems(response.get_data(as_text=True))]
    assert not problems, "\n".join(problems)


def test_two_progress_bars_on_one_page_each_keep_their_own_label(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "_macros/progress.html" import progress_bar %}'
            '{{ progress_bar(1, 4, "tea") }}{{ progress_bar(3, 3, "coffee", label="Other course") }}'
        )
    assert id_problems(html) == []
    assert 'id="progress-tea-label">Course progress: 1 of 4 lessons complete (25%)<' in html
    assert 'aria-labelledby="progress-tea-label">25%<' in html
    assert 'id="progress-coffee-label">Other course: 3 of 3 lessons complete (100%)<' in html
    assert 'aria-labelledby="progress-coffee-label">100%<' in html


class _NameForm(Form):
    name = StringField("Name", validators=[InputRequired("Enter a name")])


def test_the_error_summary_links_each_error_to_its_field(app):
    form = _NameForm(data={})
    form.validate()
    template = (
        '{% from "_macros/forms.html" import error_summary %}'
        '{{ error_summary(form, links=links, messages=messages, title="Nothing was saved", id=id) }}'
    )
    with app.test_request_context():
        html = render_template_string(
            template, form=form, links=[("sources", "Line 2 is not a link")], messages=["Try again"], id="top"
        )
        nothing = render_template_string(template, form=_NameForm(), links=[], messages=[], id=None)
    assert '<div class="error-summary" role="alert" tabindex="-1" id="top">' in html
    # Focus goes to the box when the page loads (the page's own script: the CSP allows no inline one).
    assert re.search(r'<script src="/assets/js/error-focus\.[0-9a-f]+\.js" defer></script>', html)
    assert "<h2>Nothing was saved</h2>" in html
    assert '<li><a href="#name">Enter a name</a></li>' in html
    assert '<li><a href="#sources">Line 2 is not a link</a></li>' in html
    assert "<li>Try again</li>" in html
    assert nothing.strip() == ""
