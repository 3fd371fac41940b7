"""A client whose account an admin deactivated, in a browser: the dashboard's tag is seen, in words, and
passes axe's contrast rules in the light and the dark palette; "At a glance" says what it means."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import axe_violations, describe_violations, log_in_quickly, save_screenshots
from tests.e2e.test_client_summary_print import COUNSELLOR, linked_client

pytestmark = pytest.mark.e2e


def deactivate(app, learner_id: int) -> None:
    """An admin deactivates the learner's account (the admin's page is tested over HTTP)."""
    from app.extensions import db
    from app.models import Role, User
    from app.services.user_admin import user_deactivate

    admin_id = create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    with app.app_context():
        user_deactivate(db.session, actor=db.session.get(User, admin_id), user=db.session.get(User, learner_id))
        db.session.remove()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_deactivated_client_is_tagged_in_words_that_can_be_read(page, app, axe_source, scheme):
    learner_id = linked_client(app)
    deactivate(app, learner_id)
    page.emulate_media(color_scheme=scheme)
    log_in_quickly(page, COUNSELLOR, PASSWORD)

    page.goto("/counsel/")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Lee Learner"))
    expect(row.locator(".flag-deactivated")).to_have_text("Account deactivated")
    violations = axe_violations(page, axe_source)
    save_screenshots(page, f"{scheme}-counsel-deactivated-client")
    assert not violations, describe_violations(f"the dashboard ({scheme})", violations)

    page.goto(f"/counsel/clients/{learner_id}")
    expect(page.get_by_role("region", name="At a glance")).to_contain_text("they cannot log in until it is reactivated")
