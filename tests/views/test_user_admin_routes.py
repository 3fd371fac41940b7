"""The admins' user pages over HTTP, with CSRF on: list, search, and each action."""

import html
import re
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CounsellorLink, Lesson, LessonProgress, Role, User
from app.models.types import utcnow
from app.services.sharing import link_revoke
from tests.conftest import count_queries, create_user, csrf_token, login
from tests.mail_server import body_of

ADMIN = "ada@example.org"
COUNSELLOR = "casey@example.org"
LOGIN_FAILED = "That e-mail and password do not match an account."


@pytest.fixture
def admin(app) -> int:
    return create_user(app, ADMIN, role=Role.ADMIN, name="Ada Admin")


@pytest.fixture
def counsellor(app) -> int:
    return create_user(app, COUNSELLOR, role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def admin_client(client, admin):
    assert login(client, ADMIN).status_code == 302
    return client


def post(client, user_id: int, action: str, **data):
    """POST an action from the account's page, with the CSRF token that page carries."""
    token = csrf_token(client, f"/author/users/{user_id}")
    return client.post(f"/author/users/{user_id}/{action}", data={"csrf_token": token, **data})


def account(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def audit_actions(app, user_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == user_id)))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_list_searches_and_filters_by_role(admin_client, learner, other_learner, counsellor):
    page = text(admin_client.get("/author/users"))
    assert all(name in page for name in ("Lee Learner", "Fred Other", "Casey Counsellor", "Ada Admin"))
    assert '<th scope="col">E-mail</th>' in page
    found = text(admin_client.get("/author/users?q=FRED"))
    assert "Fred Other" in found and "Lee Learner" not in found
    counsellors = text(admin_client.get("/author/users?role=counsellor"))
    assert "Casey Counsellor" in counsellors and "Lee Learner" not in counsellors
    assert admin_client.get("/author/users?role=wizard&page=abc").status_code == 200


def test_list_page_runs_the_same_queries_for_10_or_200_users(app, admin_client):
    def add(n: int, prefix: str) -> None:
        with app.app_context():
            db.session.add_all(
                User(email=f"{prefix}{i}@example.org", display_name=f"{prefix} {i}", password_hash="x")
                for i in range(n)
            )
            db.session.commit()

    def queries() -> int:
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as counted:
            assert admin_client.get("/author/users?q=example&page=2").status_code == 200
        return counted()

    add(10, "few")
    few = queries()
    add(190, "many")
    assert queries() == few


def test_detail_page_and_unknown_id(admin_client, learner, counsellor):
    page = text(admin_client.get(f"/author/users/{learner}"))
    assert "learner@example.org" in page and "Casey Counsellor (casey@example.org)" in page
    assert '<label class="label" for="role">Role</label>' in page
    assert admin_client.get("/author/users/999999").status_code == 404
    assert (
        admin_client.post(
            "/author/users/999999/deactivate", data={"csrf_token": csrf_token(admin_client, "/author/users")}
        ).status_code
        == 404
    )


def test_admin_changes_a_role(app, admin_client, learner):
    response = post(admin_client, learner, "role", role="counsellor")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/author/users/{learner}")
    assert account(app, learner).role == Role.COUNSELLOR
    page = text(admin_client.get(f"/author/users/{learner}"))
    assert "Lee Learner's role is now Counsellor." in page
    assert "Role changed from Learner to Counsellor" in page
    assert audit_actions(app, learner) == ["role_changed"]


def test_invalid_role_is_a_400_beside_the_field(app, admin_client, learner):
    response = post(admin_client, learner, "role", role="wizard")
    assert response.status_code == 400
    assert 'id="role-error">Choose learner, counsellor or admin.' in text(response)
    assert account(app, learner).role == Role.LEARNER


def test_admin_cannot_demote_or_deactivate_themselves(app, admin_client, admin):
    # Their own page offers neither: it says another admin can.
    own = admin_client.get(f"/author/users/{admin}").get_data(as_text=True)
    assert "This is your own account: another admin can change its role." in own
    assert "another admin can deactivate it." in own
    assert "Change role</button>" not in own and "Deactivate account</button>" not in own
    # A POST all the same (a page from before) is refused, and says why.
    demote = post(admin_client, admin, "role", role="learner")
    assert demote.status_code == 400
    assert "You cannot remove your own admin role." in text(demote)
    deactivate = post(admin_client, admin, "deactivate")
    assert deactivate.status_code == 400
    assert 'id="active-error">You cannot deactivate your own account.' in text(deactivate)
    assert (account(app, admin).role, account(app, admin).is_active) == (Role.ADMIN, True)
    assert audit_actions(app, admin) == []


def test_deactivated_learner_cannot_log_in_then_can_after_reactivation(app, admin_client, learner):
    assert post(admin_client, learner, "deactivate", confirm="yes").status_code == 302
    assert account(app, learner).is_active is False
    with app.test_client() as learner_client:
        refused = login(learner_client)
        assert refused.status_code == 400
        assert LOGIN_FAILED in text(refused)
    assert post(admin_client, learner, "reactivate").status_code == 302
    with app.test_client() as learner_client:
        assert login(learner_client).status_code == 302
    assert audit_actions(app, learner) == ["deactivated", "reactivated"]


def test_a_logged_in_learner_is_logged_out_on_their_next_request(app, admin_client, learner, course):
    learner_client = app.test_client()
    assert login(learner_client).status_code == 302
    assert learner_client.get("/me/").status_code == 200
    assert post(admin_client, learner, "deactivate", confirm="yes").status_code == 302
    response = learner_client.get("/me/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_remember_me_cookie_does_not_bring_a_deactivated_learner_back(app, admin_client, learner, course):
    learner_client = app.test_client()
    assert login(learner_client, remember="y").status_code == 302
    learner_client.delete_cookie("session")  # a new browser session: only the remember cookie is left
    assert learner_client.get("/me/").status_code == 200
    assert post(admin_client, learner, "deactivate", confirm="yes").status_code == 302
    learner_client.delete_cookie("session")
    response = learner_client.get("/me/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_linking_asks_first_naming_the_counsellor_and_their_address(app, admin_client, learner, counsellor):
    """It shared a learner's health information in one click, with a counsellor named only by a
    name that two people may have."""
    asked = post(admin_client, learner, "link", counsellor_id=str(counsellor))
    said = " ".join(text(asked).split())
    assert asked.status_code == 200 and "<title>Share Lee Learner's progress with Casey Counsellor?" in said
    assert "Casey Counsellor (casey@example.org) can open Lee Learner's full progress" in said
    assert "Do this only with Lee Learner's agreement" in said
    raw = asked.get_data(as_text=True)
    assert (
        f'<input type="hidden" name="counsellor_id" value="{counsellor}">' in raw
        and 'name="confirm" value="yes"' in raw
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CounsellorLink)) == 0
    assert audit_actions(app, learner) == []


def test_admin_links_a_learner_to_a_counsellor(app, admin_client, admin, learner, counsellor):
    response = post(admin_client, learner, "link", counsellor_id=str(counsellor), confirm="yes")
    assert response.status_code == 302
    assert "Lee Learner now shares their progress with Casey Counsellor." in text(
        admin_client.get(response.headers["Location"])
    )
    assert post(admin_client, learner, "link", counsellor_id=str(counsellor)).status_code == 302  # idempotent
    with app.app_context():
        links = db.session.execute(select(CounsellorLink.learner_id, CounsellorLink.created_by_id)).all()
    assert [tuple(link) for link in links] == [(learner, admin)]
    assert audit_actions(app, learner) == ["link_created"]


def test_the_learner_is_emailed_about_a_link_made_for_them_once(app, admin_client, learner, counsellor, inbox):
    assert post(admin_client, learner, "link", counsellor_id=str(counsellor), confirm="yes").status_code == 302
    assert post(admin_client, learner, "link", counsellor_id=str(counsellor)).status_code == 302  # nothing new

    [message] = inbox.wait_for(1)
    body = " ".join(body_of(message).split())
    assert message["To"] == "learner@example.org" and message["Subject"] == "Sharing your course progress"
    assert "Sharing of your progress on the online course has been set up" in body
    assert "The clinic set it up for you with Casey Counsellor" in body
    assert "http://localhost/me/" in body and "If you did not ask for this, stop sharing on your page" in body
    time.sleep(0.2)
    assert len(inbox.messages) == 1


def test_a_link_whose_notice_cannot_be_queued_stands_and_the_admin_is_told_to_say_so_another_way(
    app, admin_client, learner, counsellor, monkeypatch
):
    import redis

    import app.author.users as user_routes

    def refused(*args):
        raise redis.exceptions.ConnectionError("Connection refused.")

    monkeypatch.setattr(user_routes, "send_email", refused)
    response = post(admin_client, learner, "link", counsellor_id=str(counsellor), confirm="yes")
    assert response.status_code == 302
    page = text(admin_client.get(response.headers["Location"]))
    assert "Lee Learner now shares their progress with Casey Counsellor, but the e-mail telling them so" in page
    assert "let them know another way" in page
    assert audit_actions(app, learner) == ["link_created"]


def test_an_admin_cannot_relink_a_learner_who_stopped_sharing(app, admin_client, learner, counsellor):
    assert post(admin_client, learner, "link", counsellor_id=str(counsellor), confirm="yes").status_code == 302
    with app.app_context():
        link_id = db.session.scalar(select(CounsellorLink.id))
        link_revoke(db.session, learner=db.session.get(User, learner), link_id=link_id)

    response = post(admin_client, learner, "link", counsellor_id=str(counsellor))

    assert response.status_code == 400
    assert "stopped sharing with Casey Counsellor, so only they can share again" in text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(CounsellorLink.revoked_at.is_(None))) == 0


def test_linking_needs_a_real_counsellor(app, admin_client, learner, other_learner, counsellor):
    from_list, choose = "Choose a counsellor from the list.", "Choose a counsellor."
    for value, message in ((str(other_learner), from_list), ("nonsense", choose), ("", choose)):
        response = post(admin_client, learner, "link", counsellor_id=value)
        assert response.status_code == 400, value
        assert 'id="counsellor_id-error">' + message in text(response), value
    refused = post(admin_client, counsellor, "link", counsellor_id=str(counsellor))
    assert refused.status_code == 400
    assert "Only learner accounts can share their progress" in text(refused)
    assert audit_actions(app, learner) == []


def test_actions_without_csrf_token_are_refused(app, admin_client, learner):
    admin_client.get(f"/author/users/{learner}")
    for action, data in (("role", {"role": "admin"}), ("deactivate", {}), ("reactivate", {}), ("link", {})):
        response = admin_client.post(f"/author/users/{learner}/{action}", data=data)
        assert response.status_code == 400, action
        assert "This form was not sent" in text(response)
    assert (account(app, learner).role, account(app, learner).is_active) == (Role.LEARNER, True)


@pytest.mark.parametrize("who", ["learner", "counsellor"])
def test_non_admins_get_403(app, client, learner, counsellor, who):
    assert login(client, {"learner": "learner@example.org", "counsellor": COUNSELLOR}[who]).status_code == 302
    token = csrf_token(client, "/me/")
    assert client.get("/author/users").status_code == 403
    assert client.get(f"/author/users/{learner}").status_code == 403
    for action in ("role", "deactivate", "reactivate", "link"):
        response = client.post(f"/author/users/{learner}/{action}", data={"csrf_token": token, "role": "admin"})
        assert response.status_code == 403, action
    assert (account(app, learner).role, account(app, learner).is_active) == (Role.LEARNER, True)


def test_anonymous_visitors_are_sent_to_log_in(client, learner):
    for url in ("/author/users", f"/author/users/{learner}"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# Onboarding: creating an account, the e-mailed link, reset links, and the list's columns and orders.


def create(client, **data):
    token = csrf_token(client, "/author/users/new")
    return client.post("/author/users/new", data={"csrf_token": token, **data})


def link_in(message) -> str:
    return re.search(r"http://localhost(/auth/reset/\S+)", body_of(message)).group(1)


def test_admin_creates_an_account_whose_owner_chooses_the_password_from_the_email(app, admin_client, inbox):
    assert "New account" in text(admin_client.get("/author/users"))
    response = create(admin_client, display_name="Nia New", email="Nia@Example.org", role="counsellor")
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nia@example.org"))
        assert (user.display_name, user.role) == ("Nia New", Role.COUNSELLOR)
        new_id = user.id
    assert response.headers["Location"].endswith(f"/author/users/{new_id}")
    page = text(admin_client.get(f"/author/users/{new_id}"))
    assert "We have e-mailed nia@example.org a link to choose their password" in page
    assert "Account created as Counsellor" in page and "has not chosen a password yet" in page
    assert audit_actions(app, new_id) == ["created"]
    # Nobody knows a password for it until its owner chooses one.
    admin_client.post("/auth/logout", data={"csrf_token": csrf_token(admin_client, "/")})
    assert login(admin_client, "nia@example.org", password="").status_code == 400

    message = inbox.wait_for(1)[0]
    assert message["To"] == "nia@example.org" and "choose your password" in message["Subject"]
    owner = app.test_client()
    path = link_in(message)
    form = text(owner.get(path))
    assert "<h1>Choose your password</h1>" in form
    token = csrf_token(owner, path)
    chosen = "my own long passphrase"
    response = owner.post(path, data={"password": chosen, "confirm": chosen, "csrf_token": token})
    assert response.status_code == 302
    assert owner.get(path).status_code == 400  # the link works once
    assert login(app.test_client(), "nia@example.org", password=chosen).status_code == 302


def test_an_address_in_use_is_a_400_beside_the_email_field(app, admin_client, learner):
    response = create(admin_client, display_name="Twin", email="LEARNER@example.org", role="learner")
    assert response.status_code == 400
    page = text(response)
    assert 'id="email-error">An account already uses this e-mail address.' in page
    assert 'value="Twin"' in page  # what was typed stays
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.display_name == "Twin")) == 0


def test_creating_needs_a_name_an_address_a_role_and_the_csrf_token(app, admin_client):
    response = create(admin_client, display_name="", email="not an address", role="wizard")
    assert response.status_code == 400
    page = text(response)
    assert 'id="display_name-error">' in page and 'id="email-error">' in page and 'id="role-error">' in page
    no_token = admin_client.post("/author/users/new", data={"display_name": "N", "email": "n@example.org"})
    assert no_token.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_admin_sends_a_reset_link_that_works(app, admin_client, learner, inbox):
    response = post(admin_client, learner, "reset-link")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/author/users/{learner}")
    page = text(admin_client.get(f"/author/users/{learner}"))
    assert "We have e-mailed learner@example.org a link" in page
    assert "A link to choose a password was e-mailed" in page
    assert audit_actions(app, learner) == ["reset_link_sent"]
    message = inbox.wait_for(1)[0]
    assert message["To"] == "learner@example.org"
    other = app.test_client()
    assert "<h1>Choose a new password</h1>" in text(other.get(link_in(message)))
    no_token = admin_client.post(f"/author/users/{learner}/reset-link")
    assert no_token.status_code == 400
    assert audit_actions(app, learner) == ["reset_link_sent"]


def test_another_link_for_an_account_whose_owner_never_chose_a_password_is_the_welcome_again(app, admin_client, inbox):
    """It sent the reset e-mail: "someone asked to reset your password… ignore this and your password
    stays as it is", to someone who has none."""
    create(admin_client, display_name="Nia New", email="nia@example.org", role="learner")
    inbox.wait_for(1)
    with app.app_context():
        new_id = db.session.scalar(select(User.id).where(User.email == "nia@example.org"))
    assert post(admin_client, new_id, "reset-link").status_code == 302
    again = inbox.wait_for(2)[1]
    assert again["To"] == "nia@example.org" and again["Subject"] == "Your course account: choose your password"
    assert "<h1>Choose your password</h1>" in text(app.test_client().get(link_in(again)))


def test_no_reset_link_for_a_deactivated_account(app, admin_client, learner, inbox):
    assert post(admin_client, learner, "deactivate", confirm="yes").status_code == 302
    response = post(admin_client, learner, "reset-link")
    assert response.status_code == 400
    assert 'id="reset-error">This account is deactivated.' in text(response)
    assert audit_actions(app, learner) == ["deactivated"]
    assert inbox.messages == []


def test_list_shows_last_login_and_progress_and_sorts_and_filters(app, admin_client, learner, counsellor, course):
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).order_by(Lesson.id))
        now = utcnow()
        db.session.add(LessonProgress(user_id=learner, lesson_id=lesson.id, opened_at=now, completed_at=now))
        db.session.commit()
        live = db.session.scalar(select(func.count()).select_from(Lesson).where(Lesson.retired_at.is_(None)))
    assert post(admin_client, counsellor, "deactivate", confirm="yes").status_code == 302
    page = text(admin_client.get("/author/users"))
    assert '<th scope="col">Last login</th>' in page and '<th scope="col">Progress</th>' in page
    assert f"1 of {live} lessons" in page
    # Staff take no course: their rows say "–", not "0 of 6 lessons" as for a learner not started.
    assert f"0 of {live} lessons" not in page
    counsellor_row = page.split("<tbody>")[-1].split("Casey Counsellor", 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Progress">–</td>' in counsellor_row
    assert "No record" in page  # the learner and counsellor have no session; the admin has this one

    def order(query: str) -> list[str]:
        """The names the table lists, in its order (the page header names the admin too)."""
        table = text(admin_client.get(f"/author/users?{query}")).split("<tbody>")[-1]
        names = ("Ada Admin", "Casey Counsellor", "Lee Learner", "Zoe Zed")
        return [name for _, name in sorted((table.index(n), n) for n in names if n in table)]

    create_user(app, "zoe@example.org", role=Role.COUNSELLOR, name="Zoe Zed")
    assert order("") == ["Ada Admin", "Casey Counsellor", "Lee Learner", "Zoe Zed"]
    assert order("sort=role") == ["Ada Admin", "Casey Counsellor", "Zoe Zed", "Lee Learner"]
    learner_client = app.test_client()
    assert login(learner_client).status_code == 302  # the learner logs in after the admin...
    token = csrf_token(learner_client, "/me/")
    assert learner_client.post("/auth/logout", data={"csrf_token": token}).status_code == 302  # ...and out
    assert order("sort=last_login")[:2] == ["Lee Learner", "Ada Admin"]
    assert order("status=deactivated") == ["Casey Counsellor"]
    assert order("status=active&role=learner&q=lee") == ["Lee Learner"]
    assert admin_client.get("/author/users?sort=wizard&status=gone").status_code == 200


def test_sorted_filtered_list_runs_the_same_queries_for_10_or_200_users(app, admin_client, course):
    def add(n: int, prefix: str) -> None:
        with app.app_context():
            db.session.add_all(
                User(email=f"{prefix}{i}@example.org", display_name=f"{prefix} {i}", password_hash="x")
                for i in range(n)
            )
            db.session.commit()

    def queries() -> int:
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as counted:
            assert admin_client.get("/author/users?sort=last_login&status=active&page=2").status_code == 200
        return counted()

    add(10, "few")
    few = queries()
    add(190, "many")
    assert queries() == few


def test_making_someone_an_admin_asks_first_saying_what_the_role_opens(app, admin_client, learner):
    asked = post(admin_client, learner, "role", role="admin")
    assert asked.status_code == 200
    page = text(asked)
    assert "an admin?" in page and "Open every learner's full progress and quiz answers" in page
    assert account(app, learner).role == Role.LEARNER and audit_actions(app, learner) == []
    # The page's button says confirm; only then is the role changed and recorded.
    confirmed = post(admin_client, learner, "role", role="admin", confirm="yes")
    assert confirmed.status_code == 302
    assert account(app, learner).role == Role.ADMIN and audit_actions(app, learner) == ["role_changed"]


def test_other_role_changes_need_no_confirmation(app, admin_client, learner):
    assert post(admin_client, learner, "role", role="counsellor").status_code == 302
    assert account(app, learner).role == Role.COUNSELLOR


def test_creating_an_admin_asks_first_and_then_creates_it_as_typed(app, admin_client, inbox):
    asked = create(admin_client, display_name='Nell "Quote" Admin', email="nell@example.org", role="admin")
    assert asked.status_code == 200
    page = text(asked)
    assert "an admin?" in page and "Open every learner's full progress and quiz answers" in page
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "nell@example.org")) is None
    # The question's form carries what was typed (escaped), and says confirm.
    raw = asked.get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', raw))
    assert hidden["display_name"] == "Nell &#34;Quote&#34; Admin" and hidden["confirm"] == "yes"
    done = create(
        admin_client, display_name='Nell "Quote" Admin', email="nell@example.org", role="admin", confirm="yes"
    )
    assert done.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nell@example.org"))
        assert (user.display_name, user.role) == ('Nell "Quote" Admin', Role.ADMIN)


def link(app, learner_id: int, counsellor_id: int) -> None:
    """The learner shares with the counsellor, as an accepted invitation leaves it."""
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner_id, created_by_id=learner_id))
        db.session.commit()


def test_deactivating_asks_first_and_says_what_it_does(app, admin_client, learner, counsellor):
    """It logs the person out everywhere at once: one Enter on the account's page did it unasked."""
    link(app, learner, counsellor)
    asked = post(admin_client, learner, "deactivate")
    assert asked.status_code == 200 and account(app, learner).is_active is True
    said = text(asked)
    assert "<title>Deactivate Lee Learner" in said and "logged out at once, on every device" in said
    assert "Casey Counsellor" in said  # who still sees their progress
    assert audit_actions(app, learner) == []
    assert post(admin_client, learner, "deactivate", confirm="yes").status_code == 302
    assert account(app, learner).is_active is False and audit_actions(app, learner) == ["deactivated"]


@pytest.mark.parametrize("role", ["counsellor", "admin"])
def test_making_a_sharing_learner_staff_says_their_counsellors_stop_seeing_them(
    app, admin_client, learner, counsellor, role
):
    """Staff are nobody's clients: the learner silently left their counsellor's list."""
    link(app, learner, counsellor)
    asked = post(admin_client, learner, "role", role=role)
    assert asked.status_code == 200 and account(app, learner).role == Role.LEARNER
    said = text(asked)
    assert "Lee Learner shares their progress with Casey Counsellor" in said
    assert "will no longer see it" in said if role == "admin" else "stop seeing their progress" in said
    assert post(admin_client, learner, "role", role=role, confirm="yes").status_code == 302
    assert account(app, learner).role == role


def test_making_a_counsellor_with_clients_a_learner_asks_first_and_says_what_goes_dark(
    app, admin_client, learner, counsellor
):
    """It happened in one click: the clients' sharing went dark with nobody told."""
    link(app, learner, counsellor)
    asked = post(admin_client, counsellor, "role", role="learner")
    assert asked.status_code == 200 and account(app, counsellor).role == Role.COUNSELLOR
    said = " ".join(text(asked).split())
    assert "<title>Make Casey Counsellor a learner?" in said
    assert "1 learner shares their progress with Casey Counsellor" in said
    assert "If Casey Counsellor is made a counsellor or an admin again, they see the same clients again" in said
    assert audit_actions(app, counsellor) == []
    assert post(admin_client, counsellor, "role", role="learner", confirm="yes").status_code == 302
    assert account(app, counsellor).role == Role.LEARNER


def test_making_an_admin_with_clients_a_learner_asks_first_too(app, admin_client, learner):
    """Admins invite and hold clients as counsellors do: the question was asked of counsellors only."""
    other_admin = create_user(app, "bea@example.org", role=Role.ADMIN, name="Bea Admin")
    link(app, learner, other_admin)
    asked = post(admin_client, other_admin, "role", role="learner")
    assert asked.status_code == 200 and account(app, other_admin).role == Role.ADMIN
    assert "1 learner shares their progress with Bea Admin" in " ".join(text(asked).split())


def test_a_counsellor_with_no_clients_becomes_a_learner_without_the_question(app, admin_client, counsellor):
    assert post(admin_client, counsellor, "role", role="learner").status_code == 302
    assert account(app, counsellor).role == Role.LEARNER


def test_a_learner_sharing_with_nobody_changes_role_without_the_question(app, admin_client, learner):
    assert post(admin_client, learner, "role", role="counsellor").status_code == 302
    assert account(app, learner).role == Role.COUNSELLOR


def test_a_refused_link_says_error_first_in_the_title(app, admin_client, learner):
    refused = post(admin_client, learner, "link", counsellor_id="999999")
    assert refused.status_code == 400
    assert "<title>Error: Lee Learner" in text(refused)


def test_the_link_form_offers_only_counsellors_the_learner_does_not_share_with(app, admin_client, learner, counsellor):
    other = create_user(app, "robin@example.org", role=Role.COUNSELLOR, name="Robin Counsellor")
    link(app, learner, counsellor)
    page = text(admin_client.get(f"/author/users/{learner}"))
    offered = page.split('id="counsellor_id"', 1)[1].split("</select>", 1)[0]
    assert f'value="{other}"' in offered and f'value="{counsellor}"' not in offered
    link(app, learner, other)
    page = text(admin_client.get(f"/author/users/{learner}"))
    assert 'id="counsellor_id"' not in page and "shares with every active counsellor already" in page
