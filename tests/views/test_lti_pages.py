"""LTI pages over HTTP: the admins' /author/lti, the key set, and accounts an LMS made (no e-mail)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

import app.lti.routes as lti_routes
from app.extensions import db
from app.lti.routes import DEEP_LINK_KEY
from app.models import LtiIdentity, LtiPlatform, Role, User
from app.models.types import utcnow
from app.security import CONTENT_SECURITY_POLICY
from app.services.lti import launch as launch_checks
from app.services.lti.claims import CLAIM, DEEP_LINKING_CLAIM
from app.services.lti.keys import configured_tool_key
from app.services.lti.platforms import PlatformDetails, lti_platform_register
from app.services.reminders import reminder_settings_of
from app.services.user_sessions import SessionLimits, user_session_start
from tests.conftest import count_queries, create_user, csrf_token, lesson_slugs, login, visible_text
from tests.services.test_lti import ISSUER, PLATFORM_KEY, PLATFORM_PUBLIC, details
from tests.services.test_lti import claims as launch_claims
from tests.views.test_session_end import any_copy_works, replayed, saved_cookies, signed_in

FORM = {
    "name": "Clinic Moodle",
    "issuer": "https://moodle.example.org",
    "client_id": "abc123",
    "auth_login_url": "https://moodle.example.org/mod/lti/auth.php",
    "auth_token_url": "https://moodle.example.org/mod/lti/token.php",
    "key_set_url": "https://moodle.example.org/mod/lti/certs.php",
    "deployment_ids": "1\n2",
}


@pytest.fixture
def admin_client(app, client):
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


def register(app, n: int, first: int = 0) -> None:
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
        for i in range(first, first + n):
            lti_platform_register(
                db.session,
                actor=admin,
                details=PlatformDetails(
                    name=f"LMS {i}",
                    issuer=f"https://lms{i}.example.org",
                    client_id="c",
                    auth_login_url=f"https://lms{i}.example.org/auth",
                    auth_token_url=f"https://lms{i}.example.org/token",
                    key_set_url=f"https://lms{i}.example.org/jwks",
                    deployment_ids=["1"],
                ),
            )
        db.session.remove()


def test_an_admin_registers_a_platform_and_sees_it_listed(app, admin_client):
    token = csrf_token(admin_client, "/author/lti")
    answer = admin_client.post("/author/lti", data={**FORM, "csrf_token": token})
    assert answer.status_code == 302
    page = admin_client.get("/author/lti").get_data(as_text=True)
    assert "Clinic Moodle" in page and "https://moodle.example.org" in page and "1, 2" in page
    # The page gives the LMS the tool's addresses.
    assert "http://localhost/lti/login" in page and "http://localhost/lti/jwks" in page
    with app.app_context():
        assert db.session.scalar(select(LtiPlatform.deployment_ids)) == "1\n2"


def test_an_admin_corrects_a_platforms_address_from_its_prefilled_form(app, admin_client):
    """Removing and registering again would unlink its people: a change keeps the platform."""
    register(app, 1)
    with app.app_context():
        platform_id = db.session.scalar(select(LtiPlatform.id))
    listed = admin_client.get("/author/lti").get_data(as_text=True)
    assert "https://lms0.example.org/token" in listed and f"/author/lti/{platform_id}/edit" in listed
    url = f"/author/lti/{platform_id}/edit"
    form = admin_client.get(url).get_data(as_text=True)
    assert 'value="https://lms0.example.org/token"' in form and 'name="issuer"' not in form
    data = {
        "csrf_token": csrf_token(admin_client, url),
        "name": "LMS 0",
        "auth_login_url": "https://lms0.example.org/auth",
        "auth_token_url": "https://lms0.example.org/oauth2/token",
        "key_set_url": "http://lms0.example.org/jwks",  # plain http: refused beside its field
        "deployment_ids": "1\n2",
    }
    refused = admin_client.post(url, data=data)
    assert refused.status_code == 400 and 'id="key_set_url-error"' in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(LtiPlatform, platform_id).auth_token_url == "https://lms0.example.org/token"
    saved = admin_client.post(url, data={**data, "key_set_url": "https://lms0.example.org/jwks"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/author/lti")
    listed = visible_text(admin_client.get("/author/lti").get_data(as_text=True))
    assert "LMS 0 is saved: its launches use the new details from now on." in listed
    assert "https://lms0.example.org/oauth2/token" in listed
    activity = visible_text(admin_client.get("/author/activity").get_data(as_text=True))
    assert "changed the access token URL and the deployments of the LMS platform ‘LMS 0’" in activity


def test_missing_or_bad_fields_are_shown_beside_them_and_nothing_is_registered(app, admin_client):
    token = csrf_token(admin_client, "/author/lti")
    answer = admin_client.post("/author/lti", data={**FORM, "key_set_url": "certs.php", "csrf_token": token})
    assert answer.status_code == 400
    assert 'id="key_set_url-error"' in answer.get_data(as_text=True)
    answer = admin_client.post("/author/lti", data={"csrf_token": token})
    assert answer.status_code == 400
    assert "This is needed." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(LtiPlatform.id)) is None


def test_every_wrong_field_is_named_in_one_go(app, admin_client):
    """Before, the addresses were checked one at a time after the rest of the form passed, so an
    admin fixed one problem per try and a bad key set address hid behind an empty field."""
    token = csrf_token(admin_client, "/author/lti")
    form = {
        **FORM,
        "issuer": "http://moodle.example.org",
        "auth_token_url": "not a url",
        "key_set_url": "ftp://moodle.example.org/certs",
        "deployment_ids": "",
        "csrf_token": token,
    }
    answer = admin_client.post("/author/lti", data=form)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    for name in ("issuer", "auth_token_url", "key_set_url", "deployment_ids"):
        assert f'id="{name}-error"' in page, name
    assert 'id="auth_login_url-error"' not in page  # a good address is left alone
    with app.app_context():
        assert db.session.scalar(select(LtiPlatform.id)) is None


def test_the_same_issuer_and_client_id_twice_is_refused_with_a_message(app, admin_client):
    token = csrf_token(admin_client, "/author/lti")
    admin_client.post("/author/lti", data={**FORM, "csrf_token": token})
    again = admin_client.post("/author/lti", data={**FORM, "name": "Again", "csrf_token": token})
    assert again.status_code == 400
    assert "registered already" in again.get_data(as_text=True)


def test_the_admin_page_runs_the_same_queries_whatever_the_number_of_platforms(app, admin_client):
    with app.app_context():
        engine = db.engine
    register(app, 1)
    admin_client.get("/author/lti")
    with count_queries(engine) as one:
        assert admin_client.get("/author/lti").status_code == 200
    register(app, 5, first=1)
    with count_queries(engine) as six:
        assert admin_client.get("/author/lti").status_code == 200
    assert one() == six() <= 4
    # A platform's change form reads that platform alone, however many there are.
    with count_queries(engine) as edit:
        assert admin_client.get("/author/lti/1/edit").status_code == 200
    assert edit() <= 3


def test_removing_a_platform_keeps_the_accounts_it_made(app, admin_client):
    register(app, 1)
    with app.app_context():
        platform_id = db.session.scalar(select(LtiPlatform.id))
        user = User(email=None, display_name="From the LMS", password_hash="x", role="learner")
        db.session.add(user)
        db.session.flush()
        db.session.add(LtiIdentity(platform_id=platform_id, subject="s", user_id=user.id))
        db.session.commit()
        db.session.remove()
    url = f"/author/lti/{platform_id}/delete"
    token = csrf_token(admin_client, "/author/lti")
    # The list's Remove is a link to a page that says what stops, and asks.
    assert f'href="{url}"' in admin_client.get("/author/lti").get_data(as_text=True)
    page = admin_client.get(url).get_data(as_text=True)
    assert "Remove the platform “LMS 0”?" in page
    assert "The 1 person it launched keeps their" in page and "makes a new, empty account" in page
    # A bare POST (a button from a page served before the question) asks too, and removes nothing.
    assert admin_client.post(url, data={"csrf_token": token}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(LtiIdentity.id)) is not None
    assert admin_client.post(url, data={"csrf_token": token, "confirm": "yes"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(LtiIdentity.id)) is None
        assert db.session.scalar(select(User.id).where(User.display_name == "From the LMS")) is not None
    # Removed already (another admin, another tab): nothing to remove, and the page says so.
    again = admin_client.post(url, data={"csrf_token": token, "confirm": "yes"})
    assert again.status_code == 404 and "Already removed" in again.get_data(as_text=True)


def test_the_key_set_publishes_the_public_half_only(app, client):
    keys = client.get("/lti/jwks").get_json()["keys"]
    with app.app_context():
        key = configured_tool_key(app.config)
    assert [k["kid"] for k in keys] == [key.kid]
    assert keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0])


def test_a_bare_login_or_launch_is_a_clear_400(client):
    login_answer = client.get("/lti/login")
    assert login_answer.status_code == 400
    assert "lacks iss, login_hint or target_link_uri" in login_answer.get_data(as_text=True)
    launch_answer = client.post("/lti/launch", data={"id_token": "x.y.z", "state": "nope"})
    assert launch_answer.status_code == 400
    assert "State" in launch_answer.get_data(as_text=True)


# ---------------------------------------------------------------- accounts without e-mail


def lms_account(app, *, platform_id: int | None = None) -> int:
    """An account with no e-mail address, as a launch makes; signed in by ``platform_id``'s platform if given."""
    with app.app_context():
        user = User(email=None, display_name="Pat From Moodle", password_hash="!", role="learner")
        db.session.add(user)
        db.session.flush()
        if platform_id is not None:
            db.session.add(LtiIdentity(platform_id=platform_id, subject=f"sub-{user.id}", user_id=user.id))
        db.session.commit()
        user_id = user.id
        db.session.remove()
        return user_id


def shown_email(html: str) -> list[str]:
    """The e-mail cells and facts of an admin's page about accounts, in order."""
    return [part.split(">", 1)[1].split("</", 1)[0] for part in html.split('class="user-email"')[1:]]


def test_the_users_pages_say_an_lms_account_has_no_address_and_when_nobody_can_sign_in(app, admin_client):
    register(app, 1)
    with app.app_context():
        platform_id = db.session.scalar(select(LtiPlatform.id))
        db.session.remove()
    signed_in_by_lms = lms_account(app, platform_id=platform_id)
    stranded = lms_account(app)  # its platform was removed: removal takes the identities with it
    linked, removed = "None (signs in through an LMS)", "None (its LMS was removed: nobody can sign in to this account)"
    listed = admin_client.get("/author/users?q=Pat").get_data(as_text=True)
    assert sorted(shown_email(listed)) == sorted([linked, removed])
    for path in (f"/author/users/{signed_in_by_lms}", f"/author/users/{signed_in_by_lms}/erase"):
        assert shown_email(admin_client.get(path).get_data(as_text=True)) == [linked], path
    for path in (f"/author/users/{stranded}", f"/author/users/{stranded}/erase"):
        assert shown_email(admin_client.get(path).get_data(as_text=True)) == [removed], path
    assert admin_client.get("/author/users?search=example").status_code == 200


def test_no_password_link_can_be_sent_to_an_lms_account(app, admin_client):
    user_id = lms_account(app)
    token = csrf_token(admin_client, "/author/users")
    page = " ".join(admin_client.get(f"/author/users/{user_id}").get_data(as_text=True).split())
    assert "signs in through their learning platform (LMS): this account has no password" in page
    assert "E-mail a link to choose a password" not in page  # a button that could only fail
    answer = admin_client.post(f"/author/users/{user_id}/reset-link", data={"csrf_token": token})
    assert answer.status_code == 400
    assert "no e-mail address" in answer.get_data(as_text=True)


def sign_in_as(app, client, user_id: int) -> None:
    """Sign the client in to an account with no password, as a launch does (a recorded session)."""
    with app.app_context():
        token = user_session_start(
            db.session,
            user=db.session.get(User, user_id),
            remember=False,
            now=utcnow(),
            limits=SessionLimits.from_config(app.config),
        )
        db.session.remove()
    with client.session_transaction() as stored:
        stored["_user_id"] = token
        stored["_fresh"] = True


def test_an_lms_account_deletes_itself_without_a_password(app, client):
    """Its password is unknown to everyone, so the page asks only for the confirmation."""
    user_id = lms_account(app)
    sign_in_as(app, client, user_id)
    page = client.get("/me/delete")
    assert page.status_code == 200
    assert 'name="password"' not in page.get_data(as_text=True)
    csrf = csrf_token(client, "/me/delete")
    assert client.post("/me/delete", data={"csrf_token": csrf}).status_code == 400  # the box not ticked
    assert client.post("/me/delete", data={"csrf_token": csrf, "understood": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id) is None


def test_an_lms_account_is_offered_no_email_reminders_it_could_never_receive(app, client):
    """It could turn them on and was told "we will e-mail you": the job skips an account with no address."""
    user_id = lms_account(app)
    sign_in_as(app, client, user_id)
    home = " ".join(client.get("/me/").get_data(as_text=True).split())
    assert "we have no e-mail address to send you reminders" in home and "Choose e-mail reminders" not in home
    page = client.get("/me/reminders")
    assert page.status_code == 200
    assert "cannot send reminders" in " ".join(page.get_data(as_text=True).split())
    assert 'name="away_reminders"' not in page.get_data(as_text=True)
    token = csrf_token(client, "/me/")
    refused = client.post("/me/reminders", data={"csrf_token": token, "away_reminders": "y"})
    assert refused.status_code == 400
    with app.app_context():
        assert reminder_settings_of(db.session, user_id=user_id).away_reminders is False


# ---------------------------------------------------------------- https addresses, launches off, PUBLIC_URL


def test_each_platform_address_says_what_it_takes_and_plain_http_elsewhere_is_refused(app, admin_client):
    rule = "Enter a full address starting with https://. Plain http:// is accepted only for this machine"
    page = admin_client.get("/author/lti").get_data(as_text=True)
    for name in ("issuer", "auth_login_url", "auth_token_url", "key_set_url"):
        hint = page.split(f'id="{name}-hint">', 1)[1].split("</p>", 1)[0]
        assert rule in hint, name
    token = csrf_token(admin_client, "/author/lti")
    answer = admin_client.post(
        "/author/lti", data={**FORM, "key_set_url": "http://moodle.example.org/certs.php", "csrf_token": token}
    )
    assert answer.status_code == 400
    error = answer.get_data(as_text=True).split('id="key_set_url-error">', 1)[1].split("</p>", 1)[0]
    assert rule in error
    loopback = {**FORM, "key_set_url": "http://127.0.0.1:8000/certs.php", "csrf_token": token}
    assert admin_client.post("/author/lti", data=loopback).status_code == 302  # development and tests
    with app.app_context():
        assert db.session.scalar(select(LtiPlatform.key_set_url)) == "http://127.0.0.1:8000/certs.php"


def test_production_takes_https_platform_addresses_only_even_on_loopback(app, admin_client):
    app.config["LTI_LOOPBACK_HTTP"] = False  # as ProductionConfig
    page = admin_client.get("/author/lti").get_data(as_text=True)
    assert "Plain http://" not in page
    token = csrf_token(admin_client, "/author/lti")
    loopback = {**FORM, "key_set_url": "http://127.0.0.1:8000/certs.php", "csrf_token": token}
    answer = admin_client.post("/author/lti", data=loopback)
    assert answer.status_code == 400
    error = answer.get_data(as_text=True).split('id="key_set_url-error">', 1)[1].split("</p>", 1)[0]
    assert error == "Enter a full address starting with https://."
    with app.app_context():
        assert db.session.scalar(select(LtiPlatform.id)) is None


def test_production_config_refuses_loopback_http_and_other_configs_take_it():
    from config import DevelopmentConfig, ProductionConfig, TestConfig

    assert not ProductionConfig.LTI_LOOPBACK_HTTP
    assert DevelopmentConfig.LTI_LOOPBACK_HTTP and TestConfig.LTI_LOOPBACK_HTTP


def test_without_the_tool_key_the_page_says_launches_are_off_and_shows_no_address(app, admin_client):
    """Production without LTI_PRIVATE_KEY: /lti/* answers 404, and the page must not pretend otherwise."""
    app.config.update(LTI_PRIVATE_KEY="", LTI_PRIVATE_KEY_FILE=None)
    assert admin_client.get("/lti/jwks").status_code == 404
    page = admin_client.get("/author/lti").get_data(as_text=True)
    assert "LMS launches are switched off on this site." in page
    assert "<code>LTI_PRIVATE_KEY</code>" in page and "docs/integrations.md" in page
    assert "/lti/login" not in page and "/lti/launch" not in page and "/lti/jwks" not in page
    # Registering still works, ready for the key; the message says its launches wait for it.
    token = csrf_token(admin_client, "/author/lti")
    answer = admin_client.post("/author/lti", data={**FORM, "csrf_token": token}, follow_redirects=True)
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "Clinic Moodle is registered." in text and "refused until LTI_PRIVATE_KEY is set" in text
    assert "accepted from now on" not in text


def test_with_the_tool_key_the_page_says_nothing_of_launches_being_off(admin_client):
    page = admin_client.get("/author/lti").get_data(as_text=True)
    assert "switched off" not in page and "http://localhost/lti/jwks" in page


class InternalHostClient(FlaskClient):
    """A test client whose requests come by Host 10.0.0.5 (unless a test says otherwise)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", "http://10.0.0.5")
        return super().open(*args, **kwargs)


def test_the_tool_addresses_come_from_public_url_whatever_host_the_request_used(app):
    """Another trusted Host (a health check's, an internal address) must not change what the LMS is told."""
    app.config.update(PUBLIC_URL="https://learn.example.org", TRUSTED_HOSTS=["learn.example.org", "10.0.0.5"])
    client = InternalHostClient(app, app.response_class, use_cookies=True)
    assert client.get("/auth/login", base_url="http://evil.example").status_code == 400  # hosts are checked
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    page = client.get("/author/lti").get_data(as_text=True)
    for path in ("/lti/login", "/lti/launch", "/lti/jwks"):
        assert f"<code>https://learn.example.org{path}</code>" in page
    assert "10.0.0.5" not in page
    # The redirect_uri sent to the platform at login is PUBLIC_URL's too, as registered in the LMS.
    register(app, 1)
    answer = client.get(
        "/lti/login", query_string={"iss": "https://lms0.example.org", "login_hint": "u", "target_link_uri": "x"}
    )
    assert answer.status_code == 302
    assert "redirect_uri=https%3A%2F%2Flearn.example.org%2Flti%2Flaunch" in answer.headers["Location"]


# ---------------------------------------------------------------- launches over HTTP


@pytest.fixture
def lms(app, monkeypatch):
    """A platform registered here whose launches the test signs (its key set is the test's key)."""
    monkeypatch.setattr(launch_checks, "platform_signing_key", lambda platform, token: PLATFORM_PUBLIC)
    admin = create_user(app, "lti-admin@example.org", role=Role.ADMIN)
    with app.app_context():
        platform = lti_platform_register(db.session, actor=db.session.get(User, admin), details=details())
        platform_id = platform.id
        db.session.remove()
    return platform_id


def lms_login(client, **params):
    """The platform's login initiation, as the browser makes it."""
    query = {"iss": ISSUER, "client_id": "tool-1", "login_hint": "u", "target_link_uri": "http://localhost/lti/launch"}
    return client.get("/lti/login", query_string={**query, **params})


def lms_launch(client, **changes):
    """A login initiation and the launch the platform posts back, its id_token signed with ``changes``."""
    sent = lms_login(client)
    assert sent.status_code == 302, sent.get_data(as_text=True)
    answer = parse_qs(urlsplit(sent.headers["Location"]).query)
    nonce = SimpleNamespace(nonce=answer["nonce"][0])
    token = jwt.encode(launch_claims(nonce, **changes), PLATFORM_KEY, algorithm="RS256")
    return client.post("/lti/launch", data={"id_token": token, "state": answer["state"][0]})


DEEP_LINK_REQUEST = {
    CLAIM + "message_type": "LtiDeepLinkingRequest",
    CLAIM + "resource_link": None,
    DEEP_LINKING_CLAIM + "deep_linking_settings": {"deep_link_return_url": f"{ISSUER}/return", "data": "d-1"},
}


def test_the_picker_signs_one_answer_only(app, client, lms, course):
    """The answer goes back to the LMS once: sending the form again (back, then Add) signs nothing."""
    launched = lms_launch(client, **DEEP_LINK_REQUEST)
    assert launched.status_code == 303 and launched.headers["Location"] == "/lti/deep-link"
    token = csrf_token(client, "/lti/deep-link")
    form = {"csrf_token": token, "items": [course]}
    sent = client.post("/lti/deep-link", data=form)
    assert sent.status_code == 200
    assert f'action="{ISSUER}/return"' in sent.get_data(as_text=True)
    assert 'name="JWT"' in sent.get_data(as_text=True)
    again = client.post("/lti/deep-link", data=form)
    assert again.status_code == 410
    assert 'name="JWT"' not in again.get_data(as_text=True)


@pytest.mark.parametrize("minutes", [61, None], ids=["an hour after the launch", "a picker kept without its time"])
def test_a_picker_works_for_an_hour_then_signs_nothing(app, client, lms, course, monkeypatch, minutes):
    """The picker lives in the signed cookie alone: a copy of it must not sign answers for the
    session's whole lifetime. After an hour it says so (410), and nothing is signed."""
    launched = lms_launch(client, **DEEP_LINK_REQUEST)
    assert launched.status_code == 303
    token = csrf_token(client, "/lti/deep-link")  # within the hour: shown
    if minutes is None:
        with client.session_transaction() as session:
            session[DEEP_LINK_KEY] = {k: v for k, v in session[DEEP_LINK_KEY].items() if k != "at"}
    else:
        later = time.time() + minutes * 60
        monkeypatch.setattr(lti_routes.time, "time", lambda: later)

    answer = client.post("/lti/deep-link", data={"csrf_token": token, "items": [course]})

    assert answer.status_code == 410
    text = " ".join(answer.get_data(as_text=True).split())
    assert "This picker has expired" in text and "Nothing was sent to Clinic Moodle" in text
    assert 'name="JWT"' not in text
    assert client.get("/lti/deep-link").status_code == 404  # and it is forgotten


SENT_ALREADY = (
    "Your choice was sent already What you chose to add was sent to Clinic Moodle, and a choice is sent only "
    "once. To add more, open this tool's picker in Clinic Moodle again."
)


def test_going_back_to_the_picker_after_sending_says_the_choice_was_sent(client, lms, course):
    """Reload or Back after sending: not "It may have moved", but what happened and what to do."""
    assert lms_launch(client, **DEEP_LINK_REQUEST).status_code == 303
    token = csrf_token(client, "/lti/deep-link")
    assert client.post("/lti/deep-link", data={"csrf_token": token, "items": [course]}).status_code == 200
    back = client.get("/lti/deep-link")
    assert back.status_code == 410
    assert SENT_ALREADY in visible_text(back.get_data(as_text=True))
    assert "It may have moved" not in back.get_data(as_text=True)
    # The LMS's picker opened again: a new choice to make.
    assert lms_launch(client, **DEEP_LINK_REQUEST).status_code == 303
    again = client.get("/lti/deep-link")
    assert again.status_code == 200 and "Choose what to add" in again.get_data(as_text=True)


def test_the_picker_never_opened_from_an_lms_is_still_not_found(app, client, lms):
    """Nobody needs to log in to use it, and logging in does not open it: only a launch does."""
    for logged_in in (False, True):
        if logged_in:
            create_user(app, "learner@example.org")
            login(client, "learner@example.org")
        answer = client.get("/lti/deep-link")
        assert answer.status_code == 404, logged_in
        assert "sent already" not in answer.get_data(as_text=True)


INSTRUCTOR = {CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]}


def test_the_picker_signs_nobody_in_and_makes_no_account_yet_sends_its_signed_answer(app, client, lms, course):
    """An instructor placing links learns nothing here: an account made for them was a learner's,
    counted in the learner lists, on the counsellors' and admins' pages and in the analytics."""
    launched = lms_launch(client, **DEEP_LINK_REQUEST, **INSTRUCTOR, **FRAMED)
    assert launched.status_code == 303 and launched.headers["Location"] == "/lti/deep-link"
    me = client.get("/me/")
    assert me.status_code == 302 and me.headers["Location"].startswith("/auth/login")
    picker = client.get("/lti/deep-link")
    assert picker.status_code == 200 and framing_of(picker) == ISSUER
    page = visible_text(picker.get_data(as_text=True))
    assert "Choose what to add" in page
    # Nobody to log out, and nothing to log in to: a log-in would start a session without the request.
    for link in ("Log in", "Create account", "Log out"):
        assert link not in page, link
    # The form still needs its CSRF token.
    forged = client.post("/lti/deep-link", data={"items": [course]})
    assert forged.status_code == 400 and 'name="JWT"' not in forged.get_data(as_text=True)
    sent = client.post("/lti/deep-link", data={"csrf_token": csrf_token(client, "/lti/deep-link"), "items": [course]})
    assert sent.status_code == 200 and framing_of(sent) == ISSUER
    token = sent.get_data(as_text=True).split('name="JWT" value="', 1)[1].split('"', 1)[0]
    with app.app_context():
        tool = configured_tool_key(app.config)
    claims = jwt.decode(token, tool.private_key.public_key(), algorithms=["RS256"], audience=ISSUER)
    assert (claims["iss"], claims[DEEP_LINKING_CLAIM + "data"]) == ("tool-1", "d-1")
    assert [item["custom"] for item in claims[DEEP_LINKING_CLAIM + "content_items"]] == [{"course": course}]
    assert "Log in" not in visible_text(sent.get_data(as_text=True))
    assert client.get("/lti/deep-link").status_code == 410
    assert client.get("/me/").status_code == 302  # still nobody
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == ["lti-admin@example.org"]  # the lms fixture's
        assert db.session.scalar(select(LtiIdentity)) is None


def test_a_teacher_opening_a_link_sees_the_course_as_a_visitor_and_is_told_why(app, client, lms, course):
    """A teacher previewing a link in the LMS gets no account (it would count them among the
    learners): the course's outline, in the LMS's frame, and a note of what a learner gets."""
    launched = lms_launch(client, **INSTRUCTOR, **FRAMED)
    assert launched.status_code == 303 and launched.headers["Location"] == f"/courses/{course}/"
    page = client.get(f"/courses/{course}/")
    assert page.status_code == 200 and framing_of(page) == ISSUER
    text = visible_text(page.get_data(as_text=True))
    assert "You opened this link as a teacher in Clinic Moodle, so you see the course as a visitor" in text
    assert "no account is made for you here, and nothing goes to the gradebook" in text
    assert client.get("/me/").status_code == 302
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == ["lti-admin@example.org"]  # the lms fixture's
        assert db.session.scalar(select(LtiIdentity)) is None


def test_a_deep_linking_launch_logs_out_whoever_was_logged_in_in_the_browser(app, client, lms, course):
    """Nobody's account carries over into the picker, and their session ends on the server too:
    the cookies it had, saved before, no longer sign anyone in."""
    create_user(app, "learner@example.org")
    assert login(client, "learner@example.org", remember="y").status_code == 302
    saved = saved_cookies(client)
    assert any_copy_works(app, saved)
    assert lms_launch(client, **DEEP_LINK_REQUEST, **INSTRUCTOR).status_code == 303
    assert client.get("/me/").status_code == 302
    assert not any_copy_works(app, saved)
    assert client.get("/lti/deep-link").status_code == 200


def test_a_learner_an_lms_signed_in_who_opens_its_picker_next_is_logged_out_and_keeps_their_account(
    app, client, lms, course
):
    """The same browser, the same LMS: first a course link as a learner, then the picker."""
    assert lms_launch(client, sub="sub-2", **FRAMED).status_code == 303
    assert client.get("/me/").status_code == 200
    saved = saved_cookies(client)
    assert lms_launch(client, sub="sub-2", **DEEP_LINK_REQUEST, **FRAMED).status_code == 303
    assert client.get("/me/").status_code == 302
    assert not signed_in(replayed(app, saved))
    picker = client.get("/lti/deep-link")
    assert picker.status_code == 200 and framing_of(picker) == ISSUER
    with app.app_context():
        assert db.session.scalars(select(LtiIdentity.subject)).all() == ["sub-2"]


@pytest.mark.parametrize("claim", ["custom", "launch_presentation", "resource_link", "context", "roles"])
def test_a_launch_whose_claim_has_another_json_type_is_a_400_naming_the_claim(client, lms, course, claim):
    """A string where the standard gives an object (or an array, for roles) was a 500."""
    answer = lms_launch(client, **{CLAIM + claim: "not-an-object"})
    assert answer.status_code == 400
    reason = answer.get_data(as_text=True).split('class="lti-reason">', 1)[1].split("</p>", 1)[0]
    assert reason.startswith(f"Claims: {claim} ({CLAIM}{claim}) must be a JSON ")
    assert reason.endswith(", not a string.")


def refusals(caplog) -> list[str]:
    """The refusals logged for the site's admin, one line each."""
    return [r.getMessage() for r in caplog.records if r.name == "app.services.lti" and r.levelname == "WARNING"]


def test_a_refused_launch_is_logged_with_its_check_and_platform_but_not_its_token(client, lms, course, caplog):
    """What an admin needs to answer "the course will not open from Moodle": which check, which LMS."""
    caplog.set_level("WARNING", logger="app.services.lti")
    sent = lms_login(client)
    answer = parse_qs(urlsplit(sent.headers["Location"]).query)
    claims = launch_claims(SimpleNamespace(nonce=answer["nonce"][0]), **{CLAIM + "deployment_id": "dep-9"})
    token = jwt.encode(claims, PLATFORM_KEY, algorithm="RS256")
    assert client.post("/lti/launch", data={"id_token": token, "state": answer["state"][0]}).status_code == 400
    assert refusals(caplog) == [
        "LTI launch refused: Deployment: dep-9 is not registered for this platform. "
        f"(issuer {ISSUER}, client id tool-1, deployment id dep-9)"
    ]
    for secret in (token, claims["sub"], claims["name"], answer["state"][0], answer["nonce"][0]):
        assert secret not in caplog.text


def test_a_refused_login_is_logged_with_the_platform_it_named(client, lms, caplog):
    caplog.set_level("WARNING", logger="app.services.lti")
    answer = lms_login(client, iss="https://unknown.example.org", client_id="c-7", lti_deployment_id="d-3")
    assert answer.status_code == 400
    assert refusals(caplog) == [
        "LTI login refused: This platform (issuer and client id) is not registered with this site. "
        "(issuer https://unknown.example.org, client id c-7, deployment id d-3)"
    ]


def test_a_refusal_with_nothing_readable_is_logged_too_on_one_line(client, lms, caplog):
    """A token that is no JWT names no platform; a value with a line break cannot forge a log line."""
    caplog.set_level("WARNING", logger="app.services.lti")
    assert client.post("/lti/launch", data={"id_token": "x.y.z", "state": "s"}).status_code == 400
    assert lms_login(client, iss="https://lms.example.org\nLTI launch accepted").status_code == 400
    assert refusals(caplog) == [
        "LTI launch refused: State: this launch did not start in this browser (or the browser refused the "
        "cookie). Open the link in a new window. (issuer (none), client id (none), deployment id (none))",
        "LTI login refused: This platform (issuer and client id) is not registered with this site. "
        "(issuer https://lms.example.org?LTI launch accepted, client id tool-1, deployment id (none))",
    ]


def test_a_refusal_can_be_read_in_the_lms_frame_and_nothing_else_is_loosened(app, client, lms, course):
    """The LMS shows the refusal in its iframe: any site may frame that page (which LMS it is may be
    what failed), and it has nothing to click, not even a signed-in person's Log out."""
    create_user(app, "learner@example.org")
    assert login(client, "learner@example.org").status_code == 302
    strict = client.get("/")
    assert "Log out" in strict.get_data(as_text=True)
    refused = [
        lms_launch(client, **{CLAIM + "deployment_id": "dep-9"}),
        client.post("/lti/launch", data={"id_token": "x.y.z", "state": "s"}),
        lms_login(client, iss="https://unknown.example.org"),
    ]
    for answer in refused:
        assert answer.status_code == 400
        assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY.replace(
            "frame-ancestors 'none'", "frame-ancestors *"
        )
        assert "X-Frame-Options" not in answer.headers
        for name in ("X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy"):
            assert answer.headers[name] == strict.headers[name], name
        assert answer.headers["Cache-Control"] == "no-store"
        page = answer.get_data(as_text=True)
        assert "The launch from your LMS did not work" in page
        assert "<form" not in page and "Log out" not in page and 'href="/me/"' not in page
    # Every other page still refuses every frame.
    for url in ("/", "/lti/jwks", "/me/"):
        answer = client.get(url)
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"], url
        assert answer.headers["X-Frame-Options"] == "DENY", url


def test_the_picker_says_lessons_open_in_order_as_a_launch_to_a_later_lesson_shows(app, client, lms, course):
    """A link to lesson 2 does not land on lesson 2 for a learner who has not completed lesson 1:
    the instructor placing it is told so, in the words the learner will see."""
    assert lms_launch(client, **DEEP_LINK_REQUEST).status_code == 303
    picker = visible_text(client.get("/lti/deep-link").get_data(as_text=True))
    assert (
        "Lessons open in order. A learner who opens a link to a lesson before completing the lesson before it "
        "lands on the course page instead, where they are told the lesson opens once they complete the one before it."
    ) in picker
    learner = app.test_client()
    second = lesson_slugs(app, course)[1]
    launched = lms_launch(learner, sub="sub-2", **{CLAIM + "custom": {"course": course, "lesson": second}})
    assert launched.headers["Location"] == f"/courses/{course}/lessons/{second}"
    shown = learner.get(launched.headers["Location"], follow_redirects=True)
    assert shown.request.path == f"/courses/{course}/"
    assert "opens when you complete the lesson before it." in visible_text(shown.get_data(as_text=True))


def test_a_framed_session_may_be_framed_by_the_host_the_lms_shows_its_courses_on(app, client, lms, course):
    """Canvas logs in on one host (sso.canvaslms.com) and frames the tool from another."""
    presentation = {"document_target": "iframe", "return_url": "https://school.instructure.com/courses/1"}
    answer = lms_launch(client, **{CLAIM + "launch_presentation": presentation})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    policy = client.get(answer.headers["Location"]).headers["Content-Security-Policy"]
    assert f"frame-ancestors {ISSUER} https://school.instructure.com;" in policy + ";"
    assert "X-Frame-Options" not in client.get("/me/").headers


FRAMED = {CLAIM + "launch_presentation": {"document_target": "iframe"}}


def framing_of(response) -> str:
    return response.headers["Content-Security-Policy"].split("frame-ancestors ", 1)[1].split(";", 1)[0]


def test_logging_out_in_the_lms_frame_shows_it_there_and_says_the_way_back_is_the_lms(app, client, lms, course):
    """Cleared with the session, the framing went too: the LMS showed the browser's error instead."""
    assert lms_launch(client, **FRAMED).status_code == 303
    answer = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    assert answer.status_code == 302
    landing = client.get(answer.headers["Location"])
    assert framing_of(landing) == ISSUER and "X-Frame-Options" not in landing.headers
    said = visible_text(landing.get_data(as_text=True))
    assert "You have logged out. To open the course again, use its link in your LMS." in said
    assert client.get("/me/").status_code == 302  # logged out all the same
    login_page = client.get("/auth/login")
    assert "Came here from your LMS? To open the course, use its link there" in visible_text(
        login_page.get_data(as_text=True)
    )
    # Outside an LMS's frame, neither says so.
    plain = app.test_client()
    assert "Came here from your LMS" not in plain.get("/auth/login").get_data(as_text=True)


def test_deleting_the_account_in_the_lms_frame_shows_that_it_is_gone_there(app, client, lms, course):
    assert lms_launch(client, **FRAMED).status_code == 303
    sent = client.post("/me/delete", data={"csrf_token": csrf_token(client, "/me/delete"), "understood": "y"})
    assert sent.status_code == 302
    landing = client.get(sent.headers["Location"])
    assert framing_of(landing) == ISSUER
    assert "Your account and everything in it have been deleted." in visible_text(landing.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(LtiIdentity)) is None


def sent_items(page: str) -> list[dict]:
    """The content items of the signed answer the picker posts back to the LMS."""
    token = page.split('name="JWT" value="', 1)[1].split('"', 1)[0]
    return jwt.decode(token, options={"verify_signature": False})[DEEP_LINKING_CLAIM + "content_items"]


def test_a_platform_that_takes_one_item_gets_one_and_no_line_item_when_it_takes_none(app, client, lms, course):
    """Canvas's assignment placement takes one resource; some placements ignore line items."""
    settings = {"deep_link_return_url": f"{ISSUER}/return", "accept_multiple": False, "accept_lineitem": False}
    request = {**DEEP_LINK_REQUEST, DEEP_LINKING_CLAIM + "deep_linking_settings": settings}
    assert lms_launch(client, **request).status_code == 303
    page = client.get("/lti/deep-link").get_data(as_text=True)
    assert 'type="radio"' in page and 'type="checkbox"' not in page
    assert "Clinic Moodle takes one choice at a time" in page
    lesson = lesson_slugs(app, course)[0]
    token = csrf_token(client, "/lti/deep-link")
    two = client.post("/lti/deep-link", data={"csrf_token": token, "items": [course, f"{course}/{lesson}"]})
    assert two.status_code == 400 and 'name="JWT"' not in two.get_data(as_text=True)
    assert "Clinic Moodle takes one choice at a time: choose one." in two.get_data(as_text=True)
    one = client.post("/lti/deep-link", data={"csrf_token": token, "items": [course]})
    assert one.status_code == 200
    [item] = sent_items(one.get_data(as_text=True))
    assert item["custom"] == {"course": course} and "lineItem" not in item


def test_a_platform_that_says_nothing_of_either_gets_checkboxes_and_line_items_as_before(app, client, lms, course):
    assert lms_launch(client, **DEEP_LINK_REQUEST).status_code == 303
    assert 'type="checkbox"' in client.get("/lti/deep-link").get_data(as_text=True)
    sent = client.post("/lti/deep-link", data={"csrf_token": csrf_token(client, "/lti/deep-link"), "items": [course]})
    [item] = sent_items(sent.get_data(as_text=True))
    assert item["lineItem"]["scoreMaximum"] == 1
