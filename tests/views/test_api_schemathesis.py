"""Schemathesis runs every API operation from its own OpenAPI description, in-process.

Positive and negative requests, with a token of each role whose scope the operation needs, so the
authorised paths run too; no 500, every response as its schema says, no undocumented status.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES

from app import create_app
from app.extensions import db
from app.models import CounsellorLink, Role
from app.services import authoring
from app.services.progress import course_by_slug
from tests.api_support import make_token
from tests.conftest import (
    COURSE_SLUG,
    create_user,
    factory_course_spec,
    login,
    make_test_config,
    quiz_form,
    submit_quiz,
)

MAX_EXAMPLES = 10
# The world's own things, so that the authorised paths are taken (the fuzz test varies paths).
FIRST_LESSON = factory_course_spec().modules[0].lesson_slugs[0]
LEARNER_ID = 1  # the first account made on a fresh database (the fixture checks)


def _schema():
    app = create_app(make_test_config("sqlite://"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES,
        deterministic=True,
        # The tokens are the test's (below), one per scope; the access matrix tests their absence.
        with_security_parameters=False,
    )
    # Schema-valid changes may still break a course rule (a module the draft lacks, an empty title):
    # the services' rules, not the schema's, refused with 422 as documented. And an If-Match it
    # makes up names an ETag the draft does not have: a stale one, refused with 412 as documented.
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=[*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "412", "422"]
    )
    schema.config.update(parameters={"course_slug": COURSE_SLUG, "lesson_slug": FIRST_LESSON, "learner_id": LEARNER_ID})
    return schema


schema = _schema()


@pytest.fixture
def tokens(app, course):
    """A learner sharing with a counsellor, with a quiz attempt; an admin with a draft to publish; and a
    token for each scope, held by a role that may use it."""
    learner = create_user(app, "learner@example.org")
    assert learner == LEARNER_ID
    counsellor = create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner))
        db.session.commit()
        course_row = course_by_slug(db.session, course)
        authoring.course_update(
            db.session, course=course_row, title="A new title", summary=course_row.summary, pass_mark=0.8
        )
        db.session.remove()
    browser = app.test_client()
    login(browser)
    submit_quiz(browser, FIRST_LESSON, quiz_form(app, FIRST_LESSON, right=False))
    return {
        "read:progress": make_token(app, learner, "read:progress"),
        "read:clients": make_token(app, counsellor, "read:clients"),
        **{scope: make_token(app, admin, scope) for scope in ("read:course", "read:analytics", "write:draft")},
    }


@schema.parametrize()
@settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_its_description(case, app, tokens):
    definition = case.operation.definition.raw
    token = tokens.get(definition.get("x-required-scope")) or (
        tokens["read:progress"] if definition.get("security") else None
    )
    # Identity: the in-process client does not undo Flask-Compress's gzip.
    headers = {"Accept-Encoding": "identity", **({"Authorization": f"Bearer {token}"} if token else {})}
    case.call_and_validate(app=app, headers=headers)
