"""Two clients called Sam in a browser: the dashboard's links have names of their own (what a screen
reader lists), in words that pass axe's contrast rules in the light and the dark palette, and each
Sam's page, on screen and on paper, says which Sam it is."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import axe_violations, describe_violations, log_in_quickly, save_screenshots
from tests.e2e.test_certificate_print import printed
from tests.e2e.test_client_summary_print import COUNSELLOR, drawn_today

pytestmark = pytest.mark.e2e


def two_sams_and_alex(app) -> dict[str, int]:
    """Sam (labelled), Sam and Alex (labelled) share with the counsellor, all today; their ids."""
    from app.extensions import db
    from app.models import CounsellorLink, Role

    counsellor_id = create_user(app, COUNSELLOR, role=Role.COUNSELLOR, name="Casey Counsellor")
    ids = {
        "sam": create_user(app, "sam1@example.org", name="Sam"),
        "other_sam": create_user(app, "sam2@example.org", name="Sam"),
        "alex": create_user(app, "alex@example.org", name="Alex"),
    }
    labels = {"sam": "Tuesday group", "other_sam": None, "alex": "Referred by Dr Ng"}
    with app.app_context():
        db.session.add_all(
            CounsellorLink(counsellor_id=counsellor_id, learner_id=learner_id, label=labels[who])
            for who, learner_id in ids.items()
        )
        db.session.commit()
        db.session.remove()
    return ids


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_sam_has_a_link_named_apart_that_can_be_read(page, app, axe_source, scheme):
    ids = two_sams_and_alex(app)
    today = drawn_today(app)
    page.emulate_media(color_scheme=scheme)
    log_in_quickly(page, COUNSELLOR, PASSWORD)

    page.goto("/counsel/")
    names = {
        "sam": f"Sam (Your label: Tuesday group · sharing since {today} · client ID {ids['sam']})",
        "other_sam": f"Sam (sharing since {today} · client ID {ids['other_sam']})",
        "alex": "Alex (Your label: Referred by Dr Ng)",
    }
    for who, name in names.items():
        link = page.get_by_role("link", name=name, exact=True)
        expect(link).to_have_attribute("href", f"/counsel/clients/{ids[who]}")
    violations = axe_violations(page, axe_source)
    save_screenshots(page, f"{scheme}-counsel-namesake-clients")
    assert not violations, describe_violations(f"the dashboard ({scheme})", violations)

    page.get_by_role("link", name=names["other_sam"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sam")
    expect(page).to_have_title(f"Sam (sharing since {today} · client ID {ids['other_sam']}) · How Naltrexone Works")
    expect(page.locator(".client-notes-line")).to_have_text(f"sharing since {today} · client ID {ids['other_sam']}")
    violations = axe_violations(page, axe_source)
    assert not violations, describe_violations(f"the client page ({scheme})", violations)


def test_the_printed_summary_says_which_sam(page, app):
    ids = two_sams_and_alex(app)
    log_in_quickly(page, COUNSELLOR, PASSWORD)
    page.goto(f"/counsel/clients/{ids['sam']}")
    [summary] = printed(page)  # still one page
    text = " ".join(summary.split())
    # The name with the date it was drawn beside it, then which Sam under both.
    notes = f"Your label: Tuesday group · sharing since {drawn_today(app)} · client ID {ids['sam']}"
    assert re.search(rf"Sam Summary as of [^·]+ {re.escape(notes)}", text), text
