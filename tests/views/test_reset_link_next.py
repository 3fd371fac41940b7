"""Where a reset link leads once the password is chosen: the page the learner was going to, which
is sealed in the link's token. Beside it, in the clear, a course page's path would say in the
inbox what the course is about."""

import re

from app.extensions import db
from app.models import User
from app.services.accounts import password_reset_token
from tests.conftest import csrf_token
from tests.mail_server import body_of, readable_forms
from tests.views.test_password_reset import choose, link_from, wait_for


def ask_for_reset(client, asked: str) -> None:
    token = csrf_token(client, asked)
    assert client.post(asked, data={"email": "learner@example.org", "csrf_token": token}).status_code == 302


def test_a_reset_begun_on_the_way_to_an_invitation_ends_there(client, app, inbox, learner):
    """The log-in page's "Forgotten your password?" keeps its next, through the e-mail, to the end."""
    join = "/join/ABCD-EFGH"
    login_page = client.get(f"/auth/login?next={join}").get_data(as_text=True)
    forgot = re.search(r'href="(/auth/reset[^"]*)">Forgotten your password', login_page).group(1)
    assert forgot == f"/auth/reset?next={join}"
    ask_for_reset(client, forgot)
    path = link_from(wait_for(inbox)[0])
    assert "?" not in path and join not in path
    assert choose(client, path).headers["Location"] == join


def test_the_course_page_is_sealed_in_the_link_not_written_in_the_email(client, app, inbox, learner, course):
    going_to = f"/courses/{course}/continue"
    ask_for_reset(client, f"/auth/reset?next={going_to}")
    body = body_of(wait_for(inbox)[0])
    assert "next=" not in body and "/courses/" not in body and course not in body
    path = link_from(wait_for(inbox)[0])
    assert not any(b"/courses/" in form for form in readable_forms(path.rsplit("/", 1)[1]))
    assert choose(client, path).headers["Location"] == going_to


def test_a_next_off_the_site_is_dropped_from_the_reset_link(client, app, inbox, learner):
    ask_for_reset(client, "/auth/reset?next=https://evil.example/")
    body = body_of(wait_for(inbox)[0])
    assert "evil.example" not in body and "next=" not in body
    assert choose(client, link_from(wait_for(inbox)[0])).headers["Location"] == "/"


def test_a_link_with_nothing_sealed_still_works_and_a_next_beside_it_is_not_followed(client, app, learner):
    """A link mailed before next was sealed (or an admin's welcome link) sets the password and
    lands on the home page; a next written beside the token is no longer read."""
    with app.app_context():
        token = password_reset_token(db.session.get(User, learner), secret_key=app.config["SECRET_KEY"])
        db.session.remove()
    assert choose(client, f"/auth/reset/{token}?next=/join/ABCD-EFGH").headers["Location"] == "/"
