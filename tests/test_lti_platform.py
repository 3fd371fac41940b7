"""The LTI 1.3 tool against a real platform (lti1p3platform on loopback): launch, deep linking, grades.

The platform and the app are each served once for the module (the app on its own SQLite file);
every test uses people and links of its own, so they do not depend on each other's order.
"""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import urlsplit
from wsgiref.simple_server import make_server

import jwt
import pytest

from app import create_app
from app.extensions import db
from app.models import LtiGradeTarget, LtiIdentity, LtiPlatform, Role, User
from app.services.lti.platforms import PlatformDetails, lti_platform_register
from tests.conftest import factory_course_spec, import_course, lesson_slugs, make_test_config, quiz_form
from tests.e2e.conftest import QuietRequestHandler, ThreadingWSGIServer
from tests.lti_platform import LmsBrowser, platform_missing, read_form, start_platform
from tests.serving import REQUIRED, free_port, stop


@pytest.fixture(scope="module")
def world(tmp_path_factory, sqlite_template) -> Iterator[SimpleNamespace]:
    """The app served on loopback with the factory course, and the platform registered in it."""
    missing = platform_missing()
    if missing:
        if REQUIRED:
            pytest.fail(missing)
        pytest.skip(missing)
    folder = tmp_path_factory.mktemp("lti")
    database = folder / "app.db"
    shutil.copyfile(sqlite_template, database)
    port = free_port()
    app = create_app(make_test_config(f"sqlite:///{database}", PUBLIC_URL=f"http://127.0.0.1:{port}"))
    course = import_course(app, factory_course_spec())
    server = make_server("127.0.0.1", port, app, server_class=ThreadingWSGIServer, handler_class=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="lti-tool", daemon=True)
    thread.start()
    tool_url = f"http://127.0.0.1:{port}"
    platform = start_platform(folder, tool_url=tool_url)
    try:
        with app.app_context():
            admin = User(email="lti-admin@example.org", display_name="Lti Admin", password_hash="x", role=Role.ADMIN)
            db.session.add(admin)
            db.session.flush()
            lti_platform_register(
                db.session,
                actor=admin,
                details=PlatformDetails(
                    name="Test LMS",
                    issuer=platform.issuer,
                    client_id=platform.client_id,
                    auth_login_url=f"{platform.base_url}/authorize",
                    auth_token_url=f"{platform.base_url}/token",
                    key_set_url=f"{platform.base_url}/jwks",
                    deployment_ids=[platform.deployment_id],
                ),
                loopback_http=True,  # the platform serves plain http on loopback, as the test config allows
            )
            db.session.remove()
        yield SimpleNamespace(app=app, tool_url=tool_url, platform=platform, course=course)
    finally:
        server.shutdown()
        server.server_close()
        stop(platform.process)
        with app.app_context():
            db.engine.dispose()


def browser(world) -> LmsBrowser:
    return LmsBrowser(world.platform)


def someone() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


def test_a_launch_signs_a_new_person_in_without_an_email_and_opens_the_lesson(world):
    who = someone()
    lms = browser(world)
    answer = lms.launch(kind="launch", user=who, name="Sam Learner", course=world.course, link=f"link-{who}")
    assert answer.status_code == 303, answer.text
    assert urlsplit(answer.headers["Location"]).path == f"/courses/{world.course}/"
    page = lms.get(world.tool_url + answer.headers["Location"])
    assert page.status_code == 200
    assert "Sam Learner" in page.text
    with world.app.app_context():
        identity = db.session.query(LtiIdentity).filter_by(subject=who).one()
        user = db.session.get(User, identity.user_id)
        assert user.email is None
        assert user.display_name == "Sam Learner"
        db.session.remove()


def test_the_same_person_comes_back_to_the_same_account(world):
    who = someone()
    for _ in range(2):
        assert browser(world).launch(kind="launch", user=who, course=world.course).status_code == 303
    with world.app.app_context():
        assert db.session.query(LtiIdentity).filter_by(subject=who).count() == 1
        db.session.remove()


def test_a_framed_launch_gets_a_cross_site_session_cookie_and_lets_only_its_platform_frame_it(world):
    lms = browser(world)
    answer = lms.launch(kind="launch", user=someone(), course=world.course, target="iframe")
    cookie = answer.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie
    page = lms.get(world.tool_url + answer.headers["Location"])
    policy = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors {world.platform.base_url}" in policy
    assert "X-Frame-Options" not in page.headers
    # Outside that session, nothing may frame the site.
    elsewhere = LmsBrowser(world.platform).get(world.tool_url + "/")
    assert "frame-ancestors 'none'" in elsewhere.headers["Content-Security-Policy"]
    assert elsewhere.headers["X-Frame-Options"] == "DENY"


def test_a_launch_in_a_new_window_keeps_the_sites_lax_cookie(world):
    answer = browser(world).launch(kind="launch", user=someone(), course=world.course, target="window")
    assert answer.status_code == 303
    assert "SameSite=Lax" in answer.headers["Set-Cookie"]


def _pass_quiz(world, lms: LmsBrowser, lesson_slug: str) -> None:
    """Answer a lesson's quiz rightly over HTTP, as the learner in ``lms``."""
    quiz_url = f"{world.tool_url}/courses/{world.course}/lessons/{lesson_slug}/quiz"
    page = lms.get(quiz_url).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page).group(1)
    form = quiz_form(world.app, lesson_slug, right=True, course_slug=world.course)
    answer = lms.post(quiz_url, {**form, "csrf_token": token, "submission_key": key})
    assert answer.status_code in (302, 303), answer.text


def test_passing_a_lessons_quiz_posts_the_score_to_the_line_item(world):
    first = lesson_slugs(world.app, world.course)[0]
    who, link = someone(), f"link-{uuid.uuid4().hex[:8]}"
    lms = browser(world)
    assert lms.launch(kind="launch", user=who, course=world.course, lesson=first, link=link).status_code == 303
    _pass_quiz(world, lms, first)
    scores = [s for s in world.platform.received()["scores"] if s["lineitem"] == link]
    assert len(scores) == 1, world.platform.received()
    score = scores[0]
    assert score["content_type"] == "application/vnd.ims.lis.v1.score+json"
    assert score["score"]["userId"] == who
    assert score["score"]["scoreGiven"] == 1.0 and score["score"]["scoreMaximum"] == 1
    assert score["score"]["activityProgress"] == "Completed"
    assert score["score"]["gradingProgress"] == "FullyGraded"


def test_a_course_link_gets_the_share_of_lessons_complete(world):
    first = lesson_slugs(world.app, world.course)[0]
    total = len(lesson_slugs(world.app, world.course))
    who, link = someone(), f"course-{uuid.uuid4().hex[:8]}"
    lms = browser(world)
    assert lms.launch(kind="launch", user=who, course=world.course, link=link).status_code == 303
    _pass_quiz(world, lms, first)
    scores = [s["score"] for s in world.platform.received()["scores"] if s["lineitem"] == link]
    assert len(scores) == 1
    assert scores[0]["scoreGiven"] == round(1 / total, 4)
    assert scores[0]["activityProgress"] == "InProgress"
    with world.app.app_context():
        target = db.session.query(LtiGradeTarget).filter(LtiGradeTarget.lineitem_url.endswith(link)).one()
        assert target.lesson_id is None
        db.session.remove()


def test_an_accepted_score_is_remembered_and_a_lost_one_sent_again(world):
    from app.jobs.lti import resend_scores_not_accepted

    first = lesson_slugs(world.app, world.course)[0]
    who, link = someone(), f"link-{uuid.uuid4().hex[:8]}"
    lms = browser(world)
    assert lms.launch(kind="launch", user=who, course=world.course, lesson=first, link=link).status_code == 303
    _pass_quiz(world, lms, first)

    def received() -> list[dict]:
        return [s["score"] for s in world.platform.received()["scores"] if s["lineitem"] == link]

    with world.app.app_context():
        target = db.session.query(LtiGradeTarget).filter(LtiGradeTarget.lineitem_url.endswith(link)).one()
        assert target.sent_score == 1.0 and target.sent_at is not None
        target_id = target.id
        resend_scores_not_accepted()  # the platform has it: nothing is sent again
        assert len(received()) == 1
        lost = db.session.get(LtiGradeTarget, target_id)
        lost.sent_score = lost.sent_at = None  # as a first passback lost for good leaves it
        db.session.commit()
        sent, failures = resend_scores_not_accepted()
        assert len(received()) == 2 and failures == []
        assert received()[1]["userId"] == who and received()[1]["scoreGiven"] == 1.0
        assert db.session.get(LtiGradeTarget, target_id).sent_score == 1.0
        db.session.remove()


def learner_accounts(world) -> int:
    with world.app.app_context():
        count = db.session.query(User).filter_by(role=Role.LEARNER).count()
        db.session.remove()
    return count


def test_a_teacher_opening_a_link_gets_the_course_outline_and_no_account(world):
    """The real platform's launch with the Instructor role: the course as a visitor sees it."""
    learners = learner_accounts(world)
    lms = browser(world)
    answer = lms.launch(kind="launch", user=someone(), course=world.course, role="Instructor")
    assert answer.status_code == 303
    assert urlsplit(answer.headers["Location"]).path == f"/courses/{world.course}/"
    outline = lms.get(world.tool_url + f"/courses/{world.course}/")
    assert outline.status_code == 200 and "as a teacher" in outline.text
    me = lms.get(world.tool_url + "/me/")
    assert me.status_code == 302 and urlsplit(me.headers["Location"]).path == "/auth/login"
    assert learner_accounts(world) == learners


def test_deep_linking_returns_the_chosen_lesson_signed_by_the_tool(world):
    """The instructor who picks is signed in to no account, and none is made for them: they learn
    nothing here, and a learner's account would count them among the learners."""
    first = lesson_slugs(world.app, world.course)[0]
    learners = learner_accounts(world)
    instructor = someone()
    lms = browser(world)
    answer = lms.launch(kind="deeplink", user=instructor, role="Instructor")
    assert answer.status_code == 303
    assert urlsplit(answer.headers["Location"]).path == "/lti/deep-link"
    me = lms.get(world.tool_url + "/me/")
    assert me.status_code == 302 and urlsplit(me.headers["Location"]).path == "/auth/login"
    picker = lms.get(world.tool_url + "/lti/deep-link")
    assert picker.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', picker.text).group(1)
    chosen = lms.post(
        world.tool_url + "/lti/deep-link", {"csrf_token": token, "items": [world.course, f"{world.course}/{first}"]}
    )
    assert chosen.status_code == 200, chosen.text
    action, form = read_form(chosen.text[chosen.text.find('id="lti-return"') - 200 :])
    assert action == f"{world.platform.base_url}/deep-link-return"
    assert f"form-action 'self' {world.platform.base_url}" in chosen.headers["Content-Security-Policy"]
    returned = lms.post(action, form)
    assert returned.status_code == 200, returned.text
    items = world.platform.received()["deep_links"][-1]
    assert [item["custom"] for item in items] == [{"course": world.course}, {"course": world.course, "lesson": first}]
    assert all(item["type"] == "ltiResourceLink" and item["url"] == world.tool_url + "/lti/launch" for item in items)
    assert items[0]["lineItem"]["scoreMaximum"] == 1
    assert learner_accounts(world) == learners
    with world.app.app_context():
        assert db.session.query(LtiIdentity).filter_by(subject=instructor).count() == 0
        db.session.remove()


def test_the_platform_fetched_the_tools_published_key(world):
    keys = LmsBrowser(world.platform).get(world.tool_url + "/lti/jwks").json()["keys"]
    assert [key["kty"] for key in keys] == ["RSA"] and "d" not in keys[0]
    # The platform checked the tool's signatures with it: no refusal so far.
    assert world.platform.received()["refused"] == []


# ---------------------------------------------------------------- refused


def _refused(answer, check: str) -> None:
    assert answer.status_code == 400, answer.text
    assert check in answer.text


def test_a_tampered_id_token_is_refused(world):
    lms = browser(world)
    action, fields, _ = lms.id_token_form(kind="launch", user=someone(), course=world.course)
    header, payload, signature = fields["id_token"].split(".")
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    claims["sub"] = "someone-else"
    forged = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()
    _refused(lms.post(action, {**fields, "id_token": f"{header}.{forged}.{signature}"}), "Signature")


def test_a_token_signed_by_another_key_is_refused(world):
    lms = browser(world)
    action, fields, _ = lms.id_token_form(kind="launch", user=someone(), course=world.course)
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(fields["id_token"])
    from tests.lti_platform import rsa_pair

    other, _ = rsa_pair()
    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": header["kid"]})
    _refused(lms.post(action, {**fields, "id_token": forged}), "Signature")


def test_a_replayed_launch_is_refused(world):
    lms = browser(world)
    action, fields, _ = lms.id_token_form(kind="launch", user=someone(), course=world.course)
    assert lms.post(action, fields).status_code == 303
    _refused(lms.post(action, fields), "State: this launch was used already")


def test_a_launch_from_an_unknown_deployment_is_refused(world):
    answer = browser(world).launch(kind="launch", user=someone(), course=world.course, deployment="deploy-elsewhere")
    _refused(answer, "Deployment: deploy-elsewhere is not registered")


def test_a_launch_without_the_state_cookie_is_refused(world):
    lms = browser(world)
    action, fields, _ = lms.id_token_form(kind="launch", user=someone(), course=world.course)
    lms.cookies.pop("lti_state")
    _refused(lms.post(action, fields), "State: this launch did not start in this browser")


def test_a_login_from_an_unregistered_issuer_is_refused(world):
    answer = browser(world).get(
        world.tool_url + "/lti/login?iss=https://lms.invalid&login_hint=x&target_link_uri=" + world.tool_url
    )
    _refused(answer, "not registered")


def test_the_platforms_row_is_there(world):
    with world.app.app_context():
        assert db.session.query(LtiPlatform).count() == 1
        db.session.remove()
