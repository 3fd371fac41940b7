"""An admin registers an LMS platform at /author/lti in a real browser: the tool's addresses to give
the LMS, an error beside a bad field, the platform listed, then removed after a page that asks.

axe-core checks the page empty, with the error and with a platform, at 1280 px and 375 px.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import log_in_quickly
from tests.e2e.test_author_media import NarrowAudit

pytestmark = pytest.mark.e2e

ADMIN_EMAIL = "ada.admin@example.org"


def test_register_and_remove_a_platform(page, app, axe_source):
    audit = NarrowAudit(axe_source)
    create_user(app, ADMIN_EMAIL, role=Role.ADMIN, name="Ada Admin")
    log_in_quickly(page, ADMIN_EMAIL, PASSWORD)
    page.goto("/author/")
    page.get_by_role("link", name="LMS platforms (LTI)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("LMS platforms (LTI 1.3)")
    expect(page.get_by_text(re.compile(r"/lti/login$"))).to_be_visible()
    expect(page.get_by_text("No platform is registered yet")).to_be_visible()
    audit(page, "lti-admin-empty")

    page.get_by_label("Name (for you)").fill("Clinic Moodle")
    page.get_by_label("Issuer (iss)").fill("https://moodle.example.org")
    page.get_by_label("Client id").fill("abc123")
    page.get_by_label("Authorisation (OIDC auth) URL").fill("https://moodle.example.org/mod/lti/auth.php")
    page.get_by_label("Access token URL").fill("https://moodle.example.org/mod/lti/token.php")
    page.get_by_label("Public key set (JWKS) URL").fill("certs.php")
    page.get_by_label("Deployment ids, one per line").fill("1\n2")
    page.get_by_role("button", name="Register the platform").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a full address starting with https://")
    audit(page, "lti-admin-error")

    page.get_by_label("Public key set (JWKS) URL").fill("https://moodle.example.org/mod/lti/certs.php")
    page.get_by_role("button", name="Register the platform").click()
    expect(page.get_by_text("Clinic Moodle is registered")).to_be_visible()
    row = page.locator(".lti-platform", has_text="Clinic Moodle")
    expect(row).to_contain_text("1, 2")
    audit(page, "lti-admin-listed")

    # Remove asks first, on a page saying what stops; "Keep it" goes back with nothing removed.
    row.get_by_role("link", name=re.compile("Remove")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove the platform “Clinic Moodle”?")
    expect(page.get_by_text("Nobody has launched the course from it yet.")).to_be_visible()
    audit(page, "lti-admin-remove")
    page.get_by_role("link", name="Keep it").click()
    row = page.locator(".lti-platform", has_text="Clinic Moodle")
    row.get_by_role("link", name=re.compile("Remove")).click()
    page.get_by_role("button", name="Remove the platform").click()
    expect(page.get_by_text("No platform is registered yet")).to_be_visible()
    audit.check()
