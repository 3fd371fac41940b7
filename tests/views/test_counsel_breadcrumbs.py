"""The counsellor area's breadcrumbs name the dashboard as its heading does for the viewer:
"All learners" for an admin, who sees everyone there, "Your clients" for a counsellor."""

from __future__ import annotations

import re

import pytest

from app.models import Role
from tests.conftest import create_user, login
from tests.views.test_counsel import counsellor, linked, log_in_as  # noqa: F401 - fixtures

__all__ = ["counsellor", "linked"]

# The pages under the dashboard that lead back to it; {learner} is the client's id.
PAGES = ["/counsel/clients/{learner}", "/counsel/invitations", "/counsel/requests"]


def crumb_and_heading(client, url: str) -> tuple[str, str]:
    """The breadcrumb's first link on ``url``, and the heading of the dashboard it leads to."""
    page = client.get(url).get_data(as_text=True)
    crumb = re.search(r'<nav class="breadcrumb" aria-label="Breadcrumb">\s*<a href="([^"]+)">([^<]+)</a>', page)
    dashboard = client.get(crumb.group(1)).get_data(as_text=True)
    return crumb.group(2), re.search(r"<h1>([^<]+)</h1>", dashboard).group(1)


@pytest.mark.parametrize("url", PAGES)
def test_an_admins_breadcrumb_says_all_learners_as_their_dashboard_does(client, app, course, learner, url):
    create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada Admin")
    assert login(client, "admin@example.org").status_code == 302

    assert crumb_and_heading(client, url.format(learner=learner)) == ("All learners", "All learners")


@pytest.mark.parametrize("url", PAGES)
def test_a_counsellors_breadcrumb_says_your_clients_as_their_dashboard_does(linked, learner, url):
    log_in_as(linked, "casey@example.org")

    assert crumb_and_heading(linked, url.format(learner=learner)) == ("Your clients", "Your clients")
