"""Small things a screen reader says: a page's title names the site once, and a field with an error
still has its hint read out."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from wtforms import Form, StringField
from wtforms.validators import InputRequired

PAGE = '{% extends "base.html" %}{% block title %}{{ name }}{% endblock %}'


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("Quiz: Boiling <water>", "Quiz: Boiling &lt;water&gt; · How Naltrexone Works"),
        ("How Naltrexone Works", "How Naltrexone Works"),  # a course named as the site: once
        ("Images · How Naltrexone Works", "Images · How Naltrexone Works"),
        ("", "How Naltrexone Works"),
    ],
)
def test_the_title_names_the_site_once(app, name, title):
    with app.test_request_context("/"):
        html = render_template_string(PAGE, name=name)
    assert re.search(r"<title>(.*?)</title>", html).group(1) == title


class _PhoneForm(Form):
    phone = StringField("Phone", validators=[InputRequired("Enter a phone number")])


def test_a_field_with_an_error_is_described_by_the_error_and_still_by_its_hint(app):
    template = '{% from "_macros/forms.html" import field %}{{ field(form.phone, hint="Only if you chose phone.") }}'
    failed, fresh = _PhoneForm(data={}), _PhoneForm(data={})
    failed.validate()
    with app.test_request_context("/"):
        with_error = render_template_string(template, form=failed)
        without = render_template_string(template, form=fresh)

    assert 'aria-describedby="phone-error phone-hint"' in with_error and 'aria-invalid="true"' in with_error
    assert 'id="phone-hint"' in with_error and 'id="phone-error"' in with_error
    assert 'aria-describedby="phone-hint"' in without and "aria-invalid" not in without
