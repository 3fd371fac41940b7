"""LTI launch rules with small data: each check refuses on its own, accounts link by (platform, sub).

The platform's signature is made here with a key of the test's own; the platform's key set is
looked up through ``platform_signing_key``, replaced by that key (tests/test_lti_platform.py
runs the same flow against a real platform over HTTP).
"""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import Course, Lesson, LtiGradeTarget, LtiIdentity, LtiLaunchState, LtiPlatform, Role, User
from app.models.types import utcnow
from app.services.accounts import display_name_change
from app.services.errors import ValidationError
from app.services.lti import grade_targets, identities
from app.services.lti import launch as launch_checks
from app.services.lti.claims import AGS_ENDPOINT_CLAIM, AGS_SCORE_SCOPE, CLAIM, DEEP_LINKING_CLAIM
from app.services.lti.identities import lti_export
from app.services.lti.launch import DeepLinkingLaunch, TeacherLaunch, lti_launch, teacher_only
from app.services.lti.login import lti_login_start
from app.services.lti.platforms import PlatformDetails, lti_platform_register, lti_platform_usage
from app.services.lti.refusals import LtiLaunchError
from app.services.personal_data import account_delete, personal_data_export
from tests.conftest import lesson_slugs
from tests.lti_factories import down_platform, linked_person
from tests.lti_platform import rsa_pair
from tests.row_locks import wait_for_a_blocked_statement

ISSUER = "https://lms.example.org"
PLATFORM_KEY, PLATFORM_PUBLIC = rsa_pair()


def details(**changes) -> PlatformDetails:
    values = {
        "name": "Clinic Moodle",
        "issuer": ISSUER,
        "client_id": "tool-1",
        "auth_login_url": f"{ISSUER}/auth",
        "auth_token_url": f"{ISSUER}/token",
        "key_set_url": f"{ISSUER}/jwks",
        "deployment_ids": ["dep-1", "dep-2"],
    }
    return PlatformDetails(**{**values, **changes})


def an_admin(session) -> User:
    """The admin who registers the platforms (made on first use)."""
    admin = session.scalar(select(User).where(User.role == Role.ADMIN))
    if admin is None:
        admin = User(email="lti-admin@example.org", display_name="Lti Admin", password_hash="x", role=Role.ADMIN)
        session.add(admin)
        session.flush()
    return admin


@pytest.fixture
def platform(session, monkeypatch):
    monkeypatch.setattr(launch_checks, "platform_signing_key", lambda platform, token: PLATFORM_PUBLIC)
    return lti_platform_register(session, actor=an_admin(session), details=details())


def login(session) -> LtiLaunchState:
    _, state = lti_login_start(
        session, issuer=ISSUER, login_hint="u", target_link_uri="https://tool/x", launch_url="https://tool/lti/launch"
    )
    return session.get(LtiLaunchState, state)


def claims(row: LtiLaunchState, **changes) -> dict:
    now = int(time.time())
    values = {
        "iss": ISSUER,
        "aud": "tool-1",
        "iat": now,
        "exp": now + 300,
        "nonce": row.nonce,
        "sub": "sub-1",
        "name": "Pat Example",
        CLAIM + "deployment_id": "dep-1",
        CLAIM + "version": "1.3.0",
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "resource_link": {"id": "link-1"},
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def launch(session, row: LtiLaunchState, key: str = PLATFORM_KEY, **changes):
    token = jwt.encode(claims(row, **changes), key, algorithm="RS256")
    return lti_launch(session, id_token=token, state=row.state, browser_state=row.state, hash_method="scrypt:128:8:1")


def test_a_name_an_lms_sends_with_hidden_marks_is_kept_without_them_and_the_launch_works(session, platform, course):
    result = launch(session, login(session), name="Pat\u202e\nExample")
    assert result.user.display_name == "Pat Example"


def test_a_first_launch_makes_an_account_without_email_linked_to_the_platforms_user(session, platform, course):
    result = launch(session, login(session))
    assert result.user.email is None and result.user.display_name == "Pat Example"
    assert result.course_slug == course and result.lesson_slug is None
    identity = session.scalar(select(LtiIdentity))
    assert (identity.platform_id, identity.subject, identity.user_id) == (platform.id, "sub-1", result.user.id)


def test_a_name_changed_in_the_lms_is_followed_on_the_next_launch(session, platform, course):
    user = launch(session, login(session)).user
    launch(session, login(session), name="Pat Newname")
    session.refresh(user)
    assert user.display_name == "Pat Newname"
    # A launch that gives no name (a platform keeping names to itself) leaves it as it is.
    launch(session, login(session), name=None)
    session.refresh(user)
    assert user.display_name == "Pat Newname"


def test_a_name_chosen_here_is_kept_whatever_the_lms_sends_after(session, platform, course):
    user = launch(session, login(session)).user
    display_name_change(session, user=user, display_name="Patricia")
    launch(session, login(session), name="Pat Newname")
    session.refresh(user)
    assert user.display_name == "Patricia"
    assert session.scalar(select(LtiIdentity.lms_name)) == "Pat Newname"
    # And if they take the LMS's name again, the LMS's next change is theirs too.
    display_name_change(session, user=user, display_name="Pat Newname")
    launch(session, login(session), name="Pat Third")
    session.refresh(user)
    assert user.display_name == "Pat Third"


@pytest.mark.parametrize(
    ("first_name", "then", "shown"),
    [
        # Its name differs from the LMS's: changed here or there, nobody can tell now, so it stays.
        ("Chosen Here", ["Pat Example", "Pat Later"], "Chosen Here"),
        # Its name is the LMS's: from its next launch on, the LMS's changes are followed.
        ("Pat Example", ["Pat Example", "Pat Later"], "Pat Later"),
    ],
)
def test_a_link_from_before_lms_names_were_kept_follows_only_what_changes_after(
    session, platform, course, first_name, then, shown
):
    user = launch(session, login(session), name=first_name).user
    session.execute(update(LtiIdentity).values(lms_name=None))  # as the migration leaves older links
    session.commit()
    launch(session, login(session), name=then[0])
    session.refresh(user)
    assert user.display_name == first_name
    launch(session, login(session), name=then[1])
    session.refresh(user)
    assert user.display_name == shown


def test_the_same_subject_signs_in_to_the_same_account_and_another_gets_its_own(session, platform, course):
    first = launch(session, login(session)).user.id
    assert launch(session, login(session)).user.id == first
    assert launch(session, login(session), sub="sub-2").user.id != first


def test_a_lesson_named_in_the_custom_parameters_is_opened(app, session, platform, course):
    lesson = lesson_slugs(app, course)[1]
    result = launch(session, login(session), **{CLAIM + "custom": {"course": course, "lesson": lesson}})
    assert (result.course_slug, result.lesson_slug) == (course, lesson)


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"aud": "another-tool"}, "Audience"),
        ({"iss": "https://other.example.org"}, "Issuer"),
        ({"exp": int(time.time()) - 3600}, "Expiry"),
        ({"nonce": "not-the-nonce"}, "Nonce"),
        ({CLAIM + "deployment_id": "dep-9"}, "Deployment"),
        ({CLAIM + "version": "1.1"}, "Version"),
        ({CLAIM + "message_type": "LtiSubmissionReviewRequest"}, "Message type"),
        ({"sub": None}, "anonymous launches"),
        ({CLAIM + "custom": {"course": "no-such-course"}}, "course this site does not have"),
        # Several audiences: the token must say it was made for this tool (azp).
        ({"aud": ["tool-1", "another-tool"], "azp": "another-tool"}, "azp is not this tool's client id"),
        ({"aud": ["tool-1", "another-tool"]}, "azp is not this tool's client id"),
        ({CLAIM + "resource_link": None}, "lacks its resource link id"),
        ({CLAIM + "resource_link": {"title": "Week 1"}}, "lacks its resource link id"),
        ({CLAIM + "message_type": "LtiDeepLinkingRequest"}, "deep-linking request lacks its return URL"),
    ],
)
def test_each_check_refuses_on_its_own(session, platform, course, changes, check):
    with pytest.raises(LtiLaunchError, match=check):
        launch(session, login(session), **changes)
    assert session.scalar(select(User).where(User.role != Role.ADMIN)) is None  # nobody was made (but the admin)


def test_a_token_for_several_audiences_is_taken_when_its_azp_is_this_tool(session, platform, course):
    result = launch(session, login(session), aud=["another-tool", "tool-1"], azp="tool-1")
    assert result.user.display_name == "Pat Example"


INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


DEEP_LINK_REQUEST = {
    CLAIM + "message_type": "LtiDeepLinkingRequest",
    CLAIM + "resource_link": None,
    DEEP_LINKING_CLAIM + "deep_linking_settings": {"deep_link_return_url": f"{ISSUER}/return", "data": "d-1"},
}


def test_a_deep_linking_request_needs_no_resource_link(session, platform, course):
    result = launch(session, login(session), **DEEP_LINK_REQUEST)
    assert isinstance(result, DeepLinkingLaunch)
    assert (result.platform.id, result.deployment_id, result.return_url, result.data) == (
        platform.id,
        "dep-1",
        f"{ISSUER}/return",
        "d-1",
    )


@pytest.mark.parametrize("roles", [[], [INSTRUCTOR], [ADMINISTRATOR, INSTRUCTOR]])
def test_a_deep_linking_request_makes_no_account_and_no_link_whatever_roles_the_lms_gives(
    session, platform, course, roles
):
    """Whoever opens the picker (an LMS's instructor) learns nothing here: an account would count
    them among the learners, on the counsellors' and admins' pages and in the analytics."""
    endpoint = {AGS_ENDPOINT_CLAIM: {"lineitem": f"{ISSUER}/lineitems/1", "scope": [AGS_SCORE_SCOPE]}}
    result = launch(session, login(session), **DEEP_LINK_REQUEST, **endpoint, **{CLAIM + "roles": roles})
    assert isinstance(result, DeepLinkingLaunch) and not hasattr(result, "user")
    session.expire_all()
    assert session.scalars(select(User.id).where(User.id != an_admin(session).id)).all() == []
    assert session.scalar(select(func.count()).select_from(LtiIdentity)) == 0
    assert session.scalar(select(func.count()).select_from(LtiGradeTarget)) == 0
    assert session.scalar(select(LtiLaunchState)) is None  # its state is spent all the same


def test_a_deep_linking_request_leaves_the_account_of_a_learner_with_the_same_sub_alone(session, platform, course):
    """Someone who learns through the LMS and places links there too keeps their one account, untouched."""
    learner = launch(session, login(session)).user
    identity = session.scalar(select(LtiIdentity))
    last_launch = identity.last_launch_at
    result = launch(session, login(session), **DEEP_LINK_REQUEST)
    assert isinstance(result, DeepLinkingLaunch)
    session.expire_all()
    assert session.scalars(select(LtiIdentity.user_id)).all() == [learner.id]
    assert session.scalar(select(LtiIdentity.last_launch_at)) == last_launch
    assert session.scalar(select(func.count()).select_from(User).where(User.role == Role.LEARNER)) == 1


LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
TEACHING_ASSISTANT = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
FACULTY = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"


@pytest.mark.parametrize("roles", [[], [LEARNER], [INSTRUCTOR, LEARNER], [ADMINISTRATOR, "Learner"]])
def test_an_account_an_lms_makes_is_a_learners_whatever_roles_the_lms_gives(session, platform, course, roles):
    """An LMS's instructor or administrator is not this site's counsellor or admin: only an admin here makes those."""
    user = launch(session, login(session), **{CLAIM + "roles": roles}).user
    assert user.role == Role.LEARNER
    assert session.scalars(select(User.role).where(User.id != an_admin(session).id)).all() == [Role.LEARNER]


@pytest.mark.parametrize("roles", [[INSTRUCTOR], [ADMINISTRATOR, INSTRUCTOR], [TEACHING_ASSISTANT], [FACULTY]])
def test_someone_who_only_teaches_opens_the_course_as_a_visitor_with_no_account(session, platform, course, roles):
    """A teacher previewing a link in the LMS learns nothing here: no account, link or grade target,
    so they are never counted among the learners, and nothing goes to the gradebook for them."""
    endpoint = {AGS_ENDPOINT_CLAIM: {"lineitem": f"{ISSUER}/lineitems/1", "scope": [AGS_SCORE_SCOPE]}}
    result = launch(session, login(session), **{CLAIM + "roles": roles}, **endpoint)

    assert isinstance(result, TeacherLaunch) and result.course_slug == course
    assert session.scalar(select(func.count()).select_from(LtiIdentity)) == 0
    assert session.scalar(select(func.count()).select_from(LtiGradeTarget)) == 0
    assert session.scalars(select(User.id).where(User.role == Role.LEARNER)).all() == []


@pytest.mark.parametrize(
    ("roles", "teaches"),
    [
        ([], False),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Member"], False),
        ([INSTRUCTOR], True),
        ([INSTRUCTOR, LEARNER], False),  # an instructor enrolled as a learner too, or a student view
        ([FACULTY, "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"], False),
        (["Instructor"], True),  # the short names of LTI 1.1, which some platforms still send
        ([TEACHING_ASSISTANT], True),
    ],
)
def test_teacher_only_reads_the_roles_by_their_last_part(roles, teaches):
    assert teacher_only({CLAIM + "roles": roles}) is teaches


@pytest.mark.parametrize(
    ("names", "shown"),
    [
        ({"name": None, "given_name": "Pat"}, "Pat"),
        ({"name": None}, "Learner"),
        ({"name": "", "given_name": ""}, "Learner"),
        ({"name": "\u202e\n"}, "Learner"),  # nothing left once the hidden marks are out
    ],
)
def test_a_launch_without_a_name_gets_learner_as_its_name(session, platform, course, names, shown):
    assert launch(session, login(session), **names).user.display_name == shown


@pytest.mark.parametrize(("age", "taken"), [(timedelta(minutes=9), True), (timedelta(minutes=10, seconds=5), False)])
def test_a_login_must_be_finished_within_ten_minutes(session, platform, course, age, taken):
    """A state row is worth nothing after ten minutes, as the login's cookie (max-age 600)."""
    row = login(session)
    row.created_at = utcnow() - age
    session.commit()
    if taken:
        assert launch(session, row).user.display_name == "Pat Example"
        return
    with pytest.raises(LtiLaunchError, match="used already or has expired"):
        launch(session, row)
    assert session.scalar(select(LtiIdentity)) is None


@pytest.mark.parametrize("named_by", ["custom", "target_link_uri"])
def test_a_link_to_a_retired_lesson_is_refused(app, session, platform, course, named_by):
    """A lesson taken out of the course (retired) is not opened, however the link names it."""
    lesson = lesson_slugs(app, course)[1]
    if named_by == "custom":
        link = {CLAIM + "custom": {"course": course, "lesson": lesson}}
    else:
        link = {CLAIM + "target_link_uri": f"https://tool.example.org/courses/{course}/lessons/{lesson}"}
    assert launch(session, login(session), **link).lesson_slug == lesson  # while it is live
    session.execute(update(Lesson).where(Lesson.slug == lesson).values(retired_at=utcnow(), position=None))
    session.commit()
    with pytest.raises(LtiLaunchError, match=rf"a lesson this course does not have \({lesson}\)"):
        launch(session, login(session), **link)


ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DEEP_LINKING = {CLAIM + "message_type": "LtiDeepLinkingRequest", CLAIM + "resource_link": None}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({CLAIM + "custom": "course=tea"}, f"custom ({CLAIM}custom) must be a JSON object, not a string"),
        ({CLAIM + "custom": ["tea"]}, f"custom ({CLAIM}custom) must be a JSON object, not an array"),
        (
            {CLAIM + "launch_presentation": "iframe"},
            f"launch_presentation ({CLAIM}launch_presentation) must be a JSON object",
        ),
        ({CLAIM + "resource_link": "link-1"}, f"resource_link ({CLAIM}resource_link) must be a JSON object"),
        ({CLAIM + "context": 42}, f"context ({CLAIM}context) must be a JSON object, not a number"),
        ({CLAIM + "roles": "Learner"}, f"roles ({CLAIM}roles) must be a JSON array of strings, not a string"),
        ({CLAIM + "roles": [{"role": "Learner"}]}, f"roles ({CLAIM}roles) must be a JSON array of strings"),
        ({CLAIM + "target_link_uri": {"path": "/"}}, f"target_link_uri ({CLAIM}target_link_uri) must be a JSON string"),
        ({ENDPOINT: f"{ISSUER}/lineitems/7"}, f"endpoint ({ENDPOINT}) must be a JSON object, not a string"),
        ({ENDPOINT: {"lineitem": {"id": 7}, "scope": [AGS_SCORE_SCOPE]}}, f"lineitem in endpoint ({ENDPOINT}) must be"),
        ({ENDPOINT: {"lineitem": f"{ISSUER}/l", "scope": AGS_SCORE_SCOPE}}, f"scope in endpoint ({ENDPOINT}) must be"),
        ({**DEEP_LINKING, SETTINGS: f"{ISSUER}/return"}, f"deep_linking_settings ({SETTINGS}) must be a JSON object"),
        (
            {**DEEP_LINKING, SETTINGS: {"deep_link_return_url": [f"{ISSUER}/return"]}},
            f"deep_link_return_url in deep_linking_settings ({SETTINGS}) must be a JSON string, not an array",
        ),
    ],
)
def test_a_claim_of_another_json_type_is_refused_by_its_name(session, platform, course, changes, named):
    """The check names the claim, for the LMS's admin: before, reading it was a 500 (``.get`` on a string)."""
    with pytest.raises(LtiLaunchError, match=re.escape(f"Claims: {named}")):
        launch(session, login(session), **changes)
    assert session.scalar(select(LtiIdentity)) is None


@pytest.mark.parametrize("empty", [[], "", {}])
def test_an_empty_claim_of_another_type_is_taken_as_absent(session, platform, course, empty):
    """PHP platforms write an empty object as ``[]``: launches with one worked before and still do."""
    changes = {CLAIM + name: empty for name in ("custom", "launch_presentation", "context", "roles")}
    result = launch(session, login(session), **{**changes, ENDPOINT: empty})
    assert result.course_slug == course and result.document_target == ""


@pytest.mark.parametrize(
    "changes",
    [
        {CLAIM + "custom": {"course": "tea\x00"}},
        {"sub": "sub\x00-1"},
        {ENDPOINT: {"lineitem": f"{ISSUER}/lineitems/\x00", "scope": [AGS_SCORE_SCOPE]}},
    ],
)
def test_a_claim_holding_a_nul_character_is_refused(session, platform, course, changes):
    """No claim has one, and PostgreSQL can neither store nor compare one in text (a 500 there)."""
    with pytest.raises(LtiLaunchError, match="Claims: a value holds a NUL character"):
        launch(session, login(session), **changes)


def test_a_target_link_that_is_no_web_address_is_refused(session, platform, course):
    with pytest.raises(LtiLaunchError, match=re.escape(f"Claims: target_link_uri ({CLAIM}target_link_uri) is not")):
        launch(session, login(session), **{CLAIM + "target_link_uri": "https://[tool.example.org/courses/x"})


def test_a_line_item_address_longer_than_this_site_keeps_is_refused(session, platform, course):
    endpoint = {"lineitem": f"{ISSUER}/lineitems/{'7' * 1000}", "scope": [AGS_SCORE_SCOPE]}
    with pytest.raises(LtiLaunchError, match="longer than the 1000 characters"):
        launch(session, login(session), **{ENDPOINT: endpoint})
    assert session.scalar(select(LtiIdentity)) is None


def test_a_token_signed_by_another_key_is_refused(session, platform, course):
    other, _ = rsa_pair()
    with pytest.raises(LtiLaunchError, match="Signature"):
        launch(session, login(session), key=other)


def test_a_state_works_once_so_a_replayed_token_is_refused(session, platform, course):
    row = login(session)
    state, token = row.state, jwt.encode(claims(row), PLATFORM_KEY, algorithm="RS256")
    lti_launch(session, id_token=token, state=state, browser_state=state)
    with pytest.raises(LtiLaunchError, match="used already"):
        lti_launch(session, id_token=token, state=state, browser_state=state)


def test_a_launch_from_another_browser_is_refused(session, platform, course):
    row = login(session)
    token = jwt.encode(claims(row), PLATFORM_KEY, algorithm="RS256")
    with pytest.raises(LtiLaunchError, match="did not start in this browser"):
        lti_launch(session, id_token=token, state=row.state, browser_state=None)


def test_a_deactivated_account_is_refused(session, platform, course):
    user = launch(session, login(session)).user
    user.is_active = False
    session.commit()
    with pytest.raises(LtiLaunchError, match="deactivated"):
        launch(session, login(session))


def test_an_unregistered_issuer_cannot_start_a_login(session, platform):
    with pytest.raises(LtiLaunchError, match="not registered"):
        lti_login_start(session, issuer="https://x.example", login_hint="u", target_link_uri="t", launch_url="l")


def test_a_launch_with_a_score_line_item_records_where_scores_go(session, platform, course):
    endpoint = {"lineitem": f"{ISSUER}/lineitems/7", "scope": [AGS_SCORE_SCOPE]}
    launch(session, login(session), **{AGS_ENDPOINT_CLAIM: endpoint})
    launch(session, login(session), **{AGS_ENDPOINT_CLAIM: endpoint})  # the same item again: one row
    targets = session.scalars(select(LtiGradeTarget)).all()
    assert [(t.lineitem_url, t.lesson_id) for t in targets] == [(f"{ISSUER}/lineitems/7", None)]


def test_registration_refuses_bad_addresses_duplicates_and_no_deployment(session):
    with pytest.raises(ValidationError) as bad:
        lti_platform_register(session, actor=an_admin(session), details=details(key_set_url="not a url"))
    assert bad.value.field == "key_set_url"
    with pytest.raises(ValidationError) as none:
        lti_platform_register(session, actor=an_admin(session), details=details(deployment_ids=[" "]))
    assert none.value.field == "deployment_ids"
    lti_platform_register(session, actor=an_admin(session), details=details())
    with pytest.raises(ValidationError, match="registered already"):
        lti_platform_register(session, actor=an_admin(session), details=details(name="Again"))


def test_the_data_download_shows_the_lms_link_and_erasure_removes_it(session, platform, course):
    endpoint = {"lineitem": f"{ISSUER}/lineitems/{uuid.uuid4().hex}", "scope": [AGS_SCORE_SCOPE]}
    user = launch(session, login(session), **{AGS_ENDPOINT_CLAIM: endpoint}).user
    links = personal_data_export(session, user=user)["lms_links"]
    assert links == lti_export(session, user_id=user.id)["lms_links"]
    assert [(link["platform"], link["your_id_there"]) for link in links] == [("Clinic Moodle", "sub-1")]
    assert links[0]["your_name_there"] == "Pat Example"
    assert links[0]["scores_sent_to"][0]["line_item"] == endpoint["lineitem"]
    assert links[0]["scores_sent_to"][0]["last_score_sent"] is None  # nothing done yet, nothing sent
    target = session.scalar(select(LtiGradeTarget))
    target.sent_score, target.sent_at = 0.75, datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    session.commit()
    sent = personal_data_export(session, user=user)["lms_links"][0]["scores_sent_to"][0]
    assert (sent["last_score_sent"], sent["sent_at"]) == (0.75, "2026-12-01T09:30:00+00:00")
    # An LMS account has no password anyone knows: being signed in and confirming erases it.
    account_delete(session, user=user, password=None)
    assert session.scalar(select(LtiIdentity)) is None
    assert session.scalar(select(LtiGradeTarget)) is None


def test_a_platforms_usage_counts_its_people_and_their_line_items_and_no_one_elses(app, session, course):
    course_id = session.scalar(select(Course.id))
    lesson_ids = list(session.scalars(select(Lesson.id).order_by(Lesson.id)))
    mine, other = down_platform("Mine"), down_platform("Other")
    linked_person(mine, course_id)
    linked_person(mine, course_id, lesson_id=lesson_ids[0])
    linked_person(other, course_id)
    unused = down_platform("Unused")
    usage = lti_platform_usage(session, platform_id=mine.id)
    assert (usage.platform.name, usage.people, usage.line_items) == ("Mine", 2, 2)
    empty = lti_platform_usage(session, platform_id=unused.id)
    assert (empty.people, empty.line_items) == (0, 0)
    assert lti_platform_usage(session, platform_id=unused.id + 100) is None


# ---------------------------------------------------------------- platform addresses: https only


HTTPS_ONLY = "Enter a full address starting with https://."
LOOPBACK_TOO = "Plain http:// is accepted only for this machine (localhost, 127.0.0.1 or [::1])."
ADDRESSES = ("issuer", "auth_login_url", "auth_token_url", "key_set_url")


@pytest.mark.parametrize("name", ADDRESSES)
@pytest.mark.parametrize("loopback_http", [False, True])
def test_a_plain_http_address_off_this_machine_is_refused(session, name, loopback_http):
    """Over plain http, anyone on the path could hand the tool a key set of their own and sign in as anyone."""
    with pytest.raises(ValidationError) as refused:
        lti_platform_register(
            session,
            actor=an_admin(session),
            details=details(**{name: "http://lms.example.org/x"}),
            loopback_http=loopback_http,
        )
    assert refused.value.field == name
    assert refused.value.message.startswith(HTTPS_ONLY)
    assert (LOOPBACK_TOO in refused.value.message) == loopback_http
    assert session.scalar(select(LtiPlatform.id)) is None


@pytest.mark.parametrize(
    "address",
    [
        "ftp://lms.example.org/jwks",
        "https:///jwks",
        "https://[::1/jwks",  # no closing bracket: refused, not a crash
        "http://localhost.evil.example/jwks",
        "http://127.0.0.1.evil.example/jwks",
        "http://evil.example/?localhost",
        "http://10.0.0.5/jwks",
        "https://lms.example.org:99999/jwks",  # no such port: refused, not a crash when used
        "https://lms.example.org:port/jwks",
        "https://user:secret@lms.example.org/jwks",  # credentials in an address shown on a page
    ],
)
def test_addresses_that_are_not_https_or_loopback_are_refused_even_where_loopback_http_is_allowed(session, address):
    with pytest.raises(ValidationError) as refused:
        lti_platform_register(
            session, actor=an_admin(session), details=details(key_set_url=address), loopback_http=True
        )
    assert refused.value.field == "key_set_url"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_plain_http_on_loopback_is_taken_only_where_allowed(session, host):
    """Development and the tests' real platform (plain http on loopback); never in production."""
    loopback = {name: f"http://{host}:8000/{name}" for name in ADDRESSES}
    with pytest.raises(ValidationError) as refused:
        lti_platform_register(session, actor=an_admin(session), details=details(**loopback))
    assert refused.value.message == HTTPS_ONLY  # the default, and production's rule
    platform = lti_platform_register(session, actor=an_admin(session), details=details(**loopback), loopback_http=True)
    assert platform.key_set_url == f"http://{host}:8000/key_set_url"


def test_a_platform_kept_from_before_with_a_plain_http_key_set_cannot_launch(session, platform, course, monkeypatch):
    """Registrations made before http was refused: the key set is not even fetched."""

    def never(platform, token):
        raise AssertionError("the key set was fetched over plain http")

    monkeypatch.setattr(launch_checks, "platform_signing_key", never)
    platform.key_set_url = "http://lms.example.org/jwks"
    session.commit()
    with pytest.raises(LtiLaunchError, match=r"Signature: the platform's key set address is not https://") as refused:
        launch(session, login(session))
    # What to do, and not the harmful way: registering again would unlink its learners.
    assert "changes the platform's addresses to its https:// ones" in str(refused.value)
    assert "not by removing it and registering it again" in str(refused.value)
    assert session.scalar(select(LtiIdentity)) is None


# ---------------------------------------------------------------- two launches of one person at once


def test_two_first_launches_of_one_person_at_once_sign_in_to_one_account(session, platform, course, monkeypatch):
    """A double click in the LMS: the other launch makes the person's account and link between this
    launch's look-up (which found none) and its own insert. This one then signs in to that account."""
    real, theirs = identities._identity, {}

    def other_launch_meanwhile(session_, platform_id, subject):
        found = real(session_, platform_id, subject)
        if not theirs:  # the first look-up only (the other launch's own look-ups pass through)
            theirs["started"] = True
            with Session(session.get_bind()) as other:
                theirs["user"] = launch(other, login(other)).user.id
        return found

    monkeypatch.setattr(identities, "_identity", other_launch_meanwhile)
    mine = launch(session, login(session))
    assert mine.user.id == theirs["user"]
    assert session.scalars(select(LtiIdentity.user_id)).all() == [mine.user.id]
    # No second account was left behind, made for nobody.
    assert session.scalars(select(User.id).where(User.role == Role.LEARNER)).all() == [mine.user.id]


def test_two_launches_of_one_person_to_one_line_item_at_once_keep_one_row(app, session, platform, course, monkeypatch):
    """The other launch recorded the line item after this launch looked for it and found none."""
    endpoint = {"lineitem": f"{ISSUER}/lineitems/7", "scope": [AGS_SCORE_SCOPE]}
    launch(session, login(session), **{AGS_ENDPOINT_CLAIM: endpoint})  # the other launch: the whole course
    real, looked = grade_targets._grade_target, []

    def missed_once(*args):
        if not looked:
            looked.append(None)
            return None
        return real(*args)

    monkeypatch.setattr(grade_targets, "_grade_target", missed_once)
    lesson = lesson_slugs(app, course)[0]
    custom = {"course": course, "lesson": lesson}
    result = launch(session, login(session), **{AGS_ENDPOINT_CLAIM: endpoint, CLAIM + "custom": custom})
    assert looked and result.lesson_slug == lesson
    lesson_id = session.scalar(select(Lesson.id).where(Lesson.slug == lesson))
    targets = session.execute(select(LtiGradeTarget.lineitem_url, LtiGradeTarget.lesson_id)).all()
    assert targets == [(endpoint["lineitem"], lesson_id)]  # one row, now this launch's lesson


@pytest.mark.parametrize("race", ["account", "line item"])
def test_on_postgresql_a_launch_waits_for_the_other_launch_and_takes_what_it_made(session, platform, course, race):
    """The race as it runs on PostgreSQL: the other launch has inserted, not yet committed; this
    launch's insert waits on the unique index, then fails once the other commits, and uses its row."""
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the other tests cover its interleaving")
    endpoint = {"lineitem": f"{ISSUER}/lineitems/7", "scope": [AGS_SCORE_SCOPE]}
    if race == "line item":
        launch(session, login(session))  # the person has an account: the two launches race on the line item
    row = login(session)
    token = jwt.encode(claims(row, **{AGS_ENDPOINT_CLAIM: endpoint}), PLATFORM_KEY, algorithm="RS256")
    course_id = session.scalar(select(Course.id))
    with Session(engine) as other, Session(engine) as mine, ThreadPoolExecutor(1) as pool:
        identity = other.scalar(select(LtiIdentity))
        if identity is None:
            user = User(email=None, display_name="Pat Example", password_hash="!", role="learner")
            other.add(user)
            other.flush()
            identity = LtiIdentity(platform_id=platform.id, subject="sub-1", user_id=user.id)
            other.add(identity)
        other.flush()
        other.add(LtiGradeTarget(identity_id=identity.id, course_id=course_id, lineitem_url=endpoint["lineitem"]))
        other.flush()
        theirs = identity.user_id
        waiting = pool.submit(
            lti_launch, mine, id_token=token, state=row.state, browser_state=row.state, hash_method="scrypt:128:8:1"
        )
        wait_for_a_blocked_statement(engine, timeout=10, what="the launch")
        other.commit()
        assert waiting.result(timeout=10).user.id == theirs
    assert session.scalars(select(LtiIdentity.user_id)).all() == [theirs]
    assert session.scalars(select(User.id).where(User.role == Role.LEARNER)).all() == [theirs]
    assert session.scalars(select(LtiGradeTarget.lineitem_url)).all() == [endpoint["lineitem"]]


def test_the_pages_an_lms_names_for_itself_may_frame_the_session_besides_its_login_host(session, platform, course):
    """Canvas logs in on sso.canvaslms.com but shows its courses on the school's own host."""
    presentation = {CLAIM + "launch_presentation": {"return_url": "https://school.instructure.com/courses/1/x?y=1"}}
    result = launch(
        session, login(session), **presentation, **{CLAIM + "tool_platform": {"url": "https://Lms.Other.org"}}
    )
    assert result.frame_origins == (ISSUER, "https://school.instructure.com", "https://lms.other.org")
    assert launch(session, login(session)).frame_origins == (ISSUER,)  # only the login's, as before


@pytest.mark.parametrize(
    "url",
    [
        "http://school.example.org/return",  # not https
        "https://school.example.org; script-src *",  # would widen the policy
        "https://a b.example.org/",
        "javascript:alert(1)",
        "https://[::1/",  # no parser reads it
        "https://user@school.example.org/",
        "*",
        "http://127.0.0.1:8000/return",  # loopback: only where plain http on loopback is allowed
    ],
)
def test_an_origin_that_is_not_a_plain_https_host_never_frames_the_session(session, platform, course, url):
    result = launch(session, login(session), **{CLAIM + "launch_presentation": {"return_url": url}})
    assert result.frame_origins == (ISSUER,)


def test_a_platforms_addresses_and_deployments_change_and_its_people_stay_with_it(session, platform, course):
    from app.models import AuditEvent
    from app.services.lti.platforms import lti_platform_update

    person = launch(session, login(session)).user.id
    changes = details(
        name="Clinic Moodle (new host)",
        issuer="https://ignored.example.org",
        client_id="ignored",
        auth_token_url="https://new.lms.example.org/token",
        deployment_ids=["dep-1", "dep-3"],
    )
    assert lti_platform_update(session, actor=an_admin(session), platform_id=platform.id, details=changes) == [
        "name",
        "auth_token_url",
        "deployment_ids",
    ]
    session.expire_all()
    row = session.get(LtiPlatform, platform.id)
    assert (row.name, row.auth_token_url, row.deployment_list) == (
        "Clinic Moodle (new host)",
        "https://new.lms.example.org/token",
        ["dep-1", "dep-3"],
    )
    assert (row.issuer, row.client_id) == (ISSUER, "tool-1")  # which LMS it is: not changed here
    assert launch(session, login(session)).user.id == person  # the same account, as before the change
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "lti_platform_changed"))
    assert event.details == {
        "platform_id": platform.id,
        "issuer": ISSUER,
        "fields": ["name", "auth_token_url", "deployment_ids"],
    }
    # The same details again change nothing and record nothing.
    assert lti_platform_update(session, actor=an_admin(session), platform_id=platform.id, details=changes) == []
    assert (
        session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "lti_platform_changed"))
        == 1
    )


def test_a_change_to_a_bad_address_or_no_deployment_changes_nothing(session, platform):
    from app.services.lti.platforms import lti_platform_update

    for bad, field in (
        (details(key_set_url="http://lms.example.org/jwks"), "key_set_url"),
        (details(deployment_ids=[" "]), "deployment_ids"),
        (details(name=" "), "name"),
    ):
        with pytest.raises(ValidationError) as refused:
            lti_platform_update(session, actor=an_admin(session), platform_id=platform.id, details=bad)
        assert refused.value.field == field
    session.expire_all()
    assert session.get(LtiPlatform, platform.id).key_set_url == f"{ISSUER}/jwks"
    assert (
        lti_platform_update(session, actor=an_admin(session), platform_id=platform.id + 99, details=details()) is None
    )


def test_a_deep_linking_return_url_that_is_no_plain_https_address_is_refused(session, platform, course):
    """The picker's answer is posted there, and its page allows that origin as its form's action."""
    for url in ("http://lms.example.org/return", "https://lms.example.org;script-src */return"):
        settings = {"deep_link_return_url": url}
        request = {
            CLAIM + "message_type": "LtiDeepLinkingRequest",
            CLAIM + "resource_link": None,
            DEEP_LINKING_CLAIM + "deep_linking_settings": settings,
        }
        with pytest.raises(LtiLaunchError, match="return URL is not an https:// address"):
            launch(session, login(session), **request)
    assert session.scalar(select(LtiIdentity)) is None  # refused before any account is made
