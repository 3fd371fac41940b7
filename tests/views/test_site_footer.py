"""The footer every page ends with: its helplines say where NHS 111 works, as the course's help
block does, each number is tap-to-call, and /contact lists the same lines (one list, both places).

A reviewer found the footer offering "NHS 111 for urgent medical advice" with no word that the
number does not work in Northern Ireland, while the help block said so."""

from __future__ import annotations

import re

from flask import render_template


def plain(html: str) -> str:
    """The text as read: tags dropped (a link's text runs on into its sentence), spaces folded."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def footer_of(page: str) -> str:
    return page.split('<footer class="site-footer">')[1].split("</footer>")[0]


def helplines_of(html: str) -> str:
    return re.search(r'<ul class="helplines">.*?</ul>', html, re.S).group(0)


def test_the_footer_says_where_nhs_111_works_and_what_to_do_in_northern_ireland(app, client):
    for url in ("/", "/auth/login", "/no-such-page"):
        text = plain(footer_of(client.get(url).get_data(as_text=True)))
        assert "NHS 111 Urgent medical advice, day and night, in England, Scotland and Wales." in text, url
        assert "In Northern Ireland, call your GP, or the GP out-of-hours service when the surgery is closed." in text


def test_every_number_in_the_footer_is_tap_to_call_with_its_hours(app, client):
    footer = footer_of(client.get("/").get_data(as_text=True))
    linked = dict(re.findall(r'<a href="tel:(\d+)">([^<]+)</a>', footer))
    assert linked == {
        "999": "999",
        "111": "NHS 111",
        "116123": "116 123",
        "03001231110": "0300 123 1110",
        "03001236600": "0300 123 6600",
    }
    text = plain(footer)
    assert "Drinkline 0300 123 1110 Advice about drinking. Weekdays 9am to 8pm, weekends 11am to 4pm." in text
    assert "Samaritans 116 123 Someone to listen. Free, 24 hours." in text
    assert "FRANK 0300 123 6600 Advice about drugs. 24 hours, normal national rate." in text
    assert "Emergency 999 When someone cannot be woken" in text


def test_the_contact_page_lists_the_same_helplines_as_the_footer(app, client):
    page = client.get("/contact").get_data(as_text=True)
    main = page.split('<footer class="site-footer">')[0]
    assert helplines_of(main) == helplines_of(footer_of(page))


def test_the_page_shown_while_the_database_is_down_has_the_helplines_too(app):
    with app.test_request_context("/"):
        page = render_template("errors/unavailable.html", status=503, title="Down", message="Try later")
    assert "In Northern Ireland, call your GP" in plain(footer_of(page))
