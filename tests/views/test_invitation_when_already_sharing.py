"""A second invitation from a counsellor the learner already shares with, over HTTP with CSRF on:
the consent page says declining does not stop the sharing, both buttons work as before, and the
counsellor's list does not make a "no" look like the client stopped."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import CounsellorLink, Role
from app.models.types import utcnow
from app.timefmt import format_date, format_short_date, site_zone
from tests.conftest import count_queries, create_user, csrf_token, login, visible_text
from tests.views.test_counsel import answer, counsellor, invite, log_in_as  # noqa: F401 - a fixture

__all__ = ["counsellor"]

ALREADY = (
    "You already share your progress with Casey Counsellor (since {since}). Accepting changes nothing. "
    "Declining this invitation does not stop that sharing: to stop it, use ‘Stop sharing’ on your page. "
    "If you decline, Casey Counsellor sees that it was declined by someone who shares with them already."
)


def live_links(app, learner_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(CounsellorLink.id).where(
                    CounsellorLink.learner_id == learner_id, CounsellorLink.revoked_at.is_(None)
                )
            )
        )


def sharing_then_invited_again(client, app) -> str:
    """The learner accepts a first invitation; the counsellor makes a second. The client ends logged
    in as the learner; the second invitation's code."""
    login(client, "casey@example.org")
    first = invite(client)
    log_in_as(client, "learner@example.org")
    assert answer(client, first, "accept").status_code == 302
    log_in_as(client, "casey@example.org")
    second = invite(client)
    log_in_as(client, "learner@example.org")
    return second


def today(app) -> str:
    return format_date(utcnow(), site_zone(app.config["SITE_TIMEZONE"]))


def test_the_consent_page_says_declining_does_not_stop_sharing_already_given(client, app, course, counsellor, learner):
    code = sharing_then_invited_again(client, app)
    page = client.get(f"/join/{code}").get_data(as_text=True)
    text = visible_text(page).replace(" .", ".")  # "<a>your page</a>." reads "your page ."
    assert ALREADY.format(since=today(app)) in text
    assert re.search(r'class="flash flash-info already-sharing">.*?<a href="/me/">your page</a>', page, re.S)
    assert "sees only that this invitation was declined" not in text
    assert "Nothing is shared unless you say yes" not in text
    assert "What Casey Counsellor can see now" in text
    # Both answers are still offered.
    assert 'value="accept"' in page and 'value="decline"' in page


def test_declining_keeps_the_sharing_and_says_so(client, app, course, counsellor, learner):
    code = sharing_then_invited_again(client, app)
    [link] = live_links(app, learner)
    response = answer(client, code, "decline")
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/")
    assert live_links(app, learner) == [link]
    me = visible_text(client.get("/me/").get_data(as_text=True))
    assert "you still share your progress with Casey Counsellor through an earlier one" in me


def test_accepting_changes_nothing(client, app, course, counsellor, learner):
    code = sharing_then_invited_again(client, app)
    [link] = live_links(app, learner)
    assert answer(client, code, "accept").status_code == 302
    assert live_links(app, learner) == [link]  # the same link, not a second one


def test_the_answer_still_needs_the_csrf_token(client, app, course, counsellor, learner):
    code = sharing_then_invited_again(client, app)
    assert client.post(f"/join/{code}", data={"decision": "decline"}).status_code == 400
    assert client.post(f"/join/{code}", data={"csrf_token": "forged", "decision": "decline"}).status_code == 400


def test_sharing_with_another_counsellor_does_not_change_this_page(client, app, course, counsellor, learner):
    create_user(app, "robin@example.org", role=Role.COUNSELLOR, name="Robin Counsellor")
    login(client, "robin@example.org")
    robins = invite(client)
    log_in_as(client, "learner@example.org")
    assert answer(client, robins, "accept").status_code == 302
    log_in_as(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "learner@example.org")
    text = visible_text(client.get(f"/join/{code}").get_data(as_text=True))
    assert "You already share" not in text
    assert "If you say no, Casey Counsellor sees only that this invitation was declined" in text


def outcome_lines(page: str) -> list[str]:
    return [visible_text(line) for line in re.findall(r'<p class="invitation-outcome">(.*?)</p>', page, re.S)]


def test_the_counsellor_sees_a_decline_from_someone_still_sharing_as_such(
    client, app, course, counsellor, learner, other_learner
):
    code = sharing_then_invited_again(client, app)
    assert answer(client, code, "decline").status_code == 302
    log_in_as(client, "casey@example.org")
    stranger = invite(client)
    log_in_as(client, "fred@example.org")
    assert answer(client, stranger, "decline").status_code == 302
    log_in_as(client, "casey@example.org")

    day = format_short_date(utcnow(), site_zone(app.config["SITE_TIMEZONE"]))
    page = client.get("/counsel/invitations").get_data(as_text=True)
    assert outcome_lines(page) == [
        f"Declined {day}",  # Fred, who shares nothing
        f"Declined {day} — still shares through an earlier invitation",
        f"Accepted {day} · See their progress",
    ]
    assert "Fred" not in page and "Lee Learner" not in page  # still never who declined

    # Once they stop sharing, the decline is a plain one.
    log_in_as(client, "learner@example.org")
    [link] = live_links(app, learner)
    stop = client.post(f"/me/sharing/{link}/stop", data={"csrf_token": csrf_token(client, "/me/")})
    assert stop.status_code == 302 and live_links(app, learner) == []
    log_in_as(client, "casey@example.org")
    lines = outcome_lines(client.get("/counsel/invitations").get_data(as_text=True))
    assert lines == [f"Declined {day}", f"Declined {day}", f"Accepted {day} · no longer sharing"]


def test_the_invitations_page_reads_the_same_queries_however_many_outcomes(client, app, course, counsellor, learner):
    code = sharing_then_invited_again(client, app)
    assert answer(client, code, "decline").status_code == 302
    log_in_as(client, "casey@example.org")
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        assert client.get("/counsel/invitations").status_code == 200
    for _ in range(3):
        again = invite(client)
        log_in_as(client, "learner@example.org")
        assert answer(client, again, "decline").status_code == 302
        log_in_as(client, "casey@example.org")
    with count_queries(engine) as more:
        page = client.get("/counsel/invitations").get_data(as_text=True)
    assert page.count("still shares through an earlier invitation") == 4
    assert more() == few()


def test_a_decline_followed_by_sharing_through_a_later_invitation_names_nobody(
    client, app, course, counsellor, learner
):
    """When they declined they shared nothing, and the consent page promised the counsellor would see
    only "declined": "shares now, since ..." beside the later "accepted" named them."""
    login(client, "casey@example.org")
    declined = invite(client)
    log_in_as(client, "learner@example.org")
    assert answer(client, declined, "decline").status_code == 302
    log_in_as(client, "casey@example.org")
    accepted = invite(client)
    log_in_as(client, "learner@example.org")
    assert answer(client, accepted, "accept").status_code == 302
    log_in_as(client, "casey@example.org")

    day = format_short_date(utcnow(), site_zone(app.config["SITE_TIMEZONE"]))
    lines = outcome_lines(client.get("/counsel/invitations").get_data(as_text=True))
    assert lines == [f"Accepted {day} · See their progress", f"Declined {day}"]
