"""Every route against every role: the status each must get.

One test per role walks the whole matrix, so a new route without a rule shows up as a
missing row (see test_every_route_is_in_the_matrix).
"""

import secrets
import time
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.lti.routes import DEEP_LINK_KEY
from app.models import (
    Certificate,
    CounsellorLink,
    Course,
    CoursePublication,
    HandoverRequest,
    Lesson,
    Question,
    ReviewCard,
    Role,
    User,
)
from app.services.api_tokens import token_create
from app.services.authoring.draft import published_data
from app.services.contact_requests import ContactDetails, contact_request_create
from app.services.course_media import media_upload, media_version
from app.services.handover import handover_request
from app.services.lti.platforms import PlatformDetails, lti_platform_register
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.services.review import review_submit
from app.services.sharing import invitation_create
from tests.conftest import create_user, csrf_token, factory_course_spec, lesson_slugs, login
from tests.images import png_bytes

ROLES = ["anonymous", "learner", "other_learner", "counsellor", "other_counsellor", "admin"]
EMAILS = {
    "learner": "learner@example.org",
    "other_learner": "fred@example.org",
    "counsellor": "casey@example.org",
    "other_counsellor": "olive@example.org",
    "admin": "admin@example.org",
}
LOGIN = 302  # anonymous users are sent to log in


@pytest.fixture
def world(app, course):
    """A learner linked to a counsellor, with one quiz attempt; everyone else unlinked."""
    ids = {
        "learner": create_user(app, EMAILS["learner"]),
        "other_learner": create_user(app, EMAILS["other_learner"]),
        "counsellor": create_user(app, EMAILS["counsellor"], role=Role.COUNSELLOR),
        "other_counsellor": create_user(app, EMAILS["other_counsellor"], role=Role.COUNSELLOR),
        "admin": create_user(app, EMAILS["admin"], role=Role.ADMIN),
    }
    first = lesson_slugs(app)[0]
    with app.app_context():
        learner = db.session.get(User, ids["learner"])
        link = CounsellorLink(counsellor_id=ids["counsellor"], learner_id=learner.id, created_by_id=learner.id)
        db.session.add(link)
        db.session.commit()
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == first))
        questions = quiz_questions(db.session, lesson)
        attempt = quiz_submit_attempt(
            db.session,
            learner=learner,
            lesson=lesson,
            questions=questions,
            answers={q.id: [q.choices[0].id] for q in questions},
            submission_key=uuid.uuid4().hex,
            pass_mark=0.8,
        ).attempt
        # Its wrong answers made review cards; one answered on the review page.
        card = db.session.scalar(select(ReviewCard).where(ReviewCard.user_id == learner.id))
        review_key = uuid.uuid4().hex
        review_submit(
            db.session,
            learner=learner,
            course=db.session.get(Course, lesson.course_id),
            shown_question_ids=[card.question_id],
            answers={card.question_id: [db.session.get(Question, card.question_id).live_choices[0].id]},
            submission_key=review_key,
        )
        _, code = invitation_create(
            db.session, counsellor=db.session.get(User, ids["counsellor"]), secret_key=app.config["SECRET_KEY"]
        )
        # A second invitation of the counsellor's, for the cancel row (the first stays usable for /join/).
        to_cancel, _ = invitation_create(
            db.session, counsellor=db.session.get(User, ids["counsellor"]), secret_key=app.config["SECRET_KEY"]
        )
        world = {"ids": ids, "first": first, "attempt": attempt.id, "link": link.id, "code": code, "review": review_key}
        world["invitation"] = to_cancel.id
        # The counsellor's client asked to share with their colleague, for the answer row.
        counsellor = db.session.get(User, ids["counsellor"])
        handover_request(
            db.session, actor=counsellor, from_counsellor=counsellor, to_counsellor_id=ids["other_counsellor"]
        )
        world["handover"] = db.session.scalar(select(HandoverRequest.id))
        # The learner's request to be contacted, with progress attached (the counsellor's link shows it).
        world["contact_request"] = contact_request_create(
            db.session,
            details=ContactDetails(contact_by="phone", phone="07700 900123", topic="alcohol", attach_progress=True),
            requester=learner,
        ).id
        # A course image no lesson shows: its page, its public URL, and the delete row.
        image = media_upload(
            db.session, course=db.session.get(Course, lesson.course_id), data=png_bytes(), filename="diagram.png"
        )
        world["media"], world["media_version"] = image.name, media_version(image.sha256)
        # The learner's API token, for the revoke row (the API's own matrix is test_api_access_matrix.py).
        world["api_token"] = token_create(db.session, user=learner, name="Matrix", scopes=["read:progress"])[0].id
        # An earlier version in the publication history (another title), for the restore rows.
        earlier = published_data(db.session, db.session.get(Course, lesson.course_id))
        earlier["course"]["title"] = "An earlier title"
        publication = CoursePublication(course_id=lesson.course_id, summary="Earlier.", data=earlier, changes=[])
        db.session.add(publication)
        db.session.flush()
        world["publication"] = publication.id
        # A registered LMS (LTI), for its remove row.
        world["lti_platform"] = lti_platform_register(
            db.session,
            actor=db.session.get(User, ids["admin"]),
            details=PlatformDetails(
                name="Matrix LMS",
                issuer="https://lms.example.org",
                client_id="matrix",
                auth_login_url="https://lms.example.org/auth",
                auth_token_url="https://lms.example.org/token",
                key_set_url="https://lms.example.org/jwks",
                deployment_ids=["1"],
            ),
        ).id
        # The learner's certificate is public; the other learner's is private (the default).
        world["certificate"], world["private_certificate"] = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        for holder, code_, public in [
            (learner.id, world["certificate"], True),
            (ids["other_learner"], world["private_certificate"], False),
        ]:
            db.session.add(
                Certificate(user_id=holder, course_id=lesson.course_id, code=code_, name_at_issue="A N", public=public)
            )
        db.session.commit()
        db.session.remove()
    spec = factory_course_spec()
    # A module with lessons, and a misconception a choice outside the first lesson points at, so
    # their removal is refused whatever the rows before them do to the first lesson.
    later_questions = [q for slug in lesson_slugs(app)[1:] for q in spec.lessons[slug].quiz]
    world["course"] = course
    world["module"] = spec.modules[0].slug
    world["misconception"] = next(c.misconception for q in later_questions for c in q.choices if c.misconception)
    return world


def matrix(w):
    """(method, url) -> expected status per role, in ROLES order."""
    c = f"/courses/{w['course']}"
    first = f"{c}/lessons/{w['first']}"
    learner, other = w["ids"]["learner"], w["ids"]["other_learner"]
    a = f"/author/courses/{w['course']}"
    module, misconception = w["module"], w["misconception"]
    a_first = f"{a}/lessons/{w['first']}"
    return {
        ("GET", "/"): [200, 200, 200, 200, 200, 200],
        ("GET", "/healthz"): [200, 200, 200, 200, 200, 200],
        ("GET", "/assets/css/app.0000000000.css"): [404, 404, 404, 404, 404, 404],  # a stale fingerprint
        ("GET", "/auth/login"): [200, 302, 302, 302, 302, 302],
        ("GET", "/auth/register"): [200, 302, 302, 302, 302, 302],
        ("GET", "/auth/register/sent"): [200, 200, 200, 200, 200, 200],
        ("GET", "/auth/register/finish/not-a-token"): [400, 400, 400, 400, 400, 400],
        ("GET", f"{c}/"): [200, 200, 200, 200, 200, 200],
        ("GET", f"{c}/continue"): [LOGIN, 302, 302, 302, 302, 302],
        ("GET", first): [LOGIN, 200, 200, 200, 200, 200],
        ("GET", f"{first}/quiz"): [LOGIN, 200, 200, 200, 200, 200],
        ("GET", f"{first}/quiz/attempts/{w['attempt']}"): [LOGIN, 200, 404, 404, 404, 404],
        # Each person's own attempts at the lesson (the URL names no one); a page past the last is none.
        ("GET", f"{first}/quiz/attempts"): [LOGIN, 200, 200, 200, 200, 200],
        ("GET", f"{first}/quiz/attempts?page=2"): [LOGIN, 404, 404, 404, 404, 404],
        # Each learner's own certificate (the URL names no one): the two learners have one, nobody else.
        ("GET", f"{c}/certificate"): [LOGIN, 200, 200, 302, 302, 302],
        ("GET", f"{c}/certificate.pdf"): [LOGIN, 200, 200, 404, 404, 404],
        # The check by code needs no login: a public code answers everyone, a private or unknown one nobody.
        ("GET", f"/certificates/{w['certificate']}"): [200, 200, 200, 200, 200, 200],
        ("GET", f"/certificates/{w['private_certificate']}"): [404, 404, 404, 404, 404, 404],
        ("GET", "/certificates/not-a-certificate-code-at-all"): [404, 404, 404, 404, 404, 404],
        ("GET", f"{c}/review"): [LOGIN, 200, 200, 200, 200, 200],  # each person's own due questions
        ("GET", f"{c}/review/answers/{w['review']}"): [LOGIN, 200, 404, 404, 404, 404],
        ("GET", f"{c}/review/answers/not-a-key"): [LOGIN, 404, 404, 404, 404, 404],
        # Only the holder's own live certificate (both learners hold one here).
        ("GET", f"{c}/certificate/credential.json"): [LOGIN, 200, 200, 404, 404, 404],
        # What any verifier fetches: the issuer's key and the revocation list, no login.
        ("GET", "/.well-known/did.json"): [200, 200, 200, 200, 200, 200],
        ("GET", "/credentials/status/0"): [200, 200, 200, 200, 200, 200],
        ("GET", "/me/"): [LOGIN, 200, 200, 200, 200, 200],
        ("GET", "/me/data.json"): [LOGIN, 200, 200, 200, 200, 200],
        ("GET", "/me/data"): [LOGIN, 200, 200, 200, 200, 200],  # each person's own data: no id in the URL
        ("GET", "/me/delete"): [LOGIN, 200, 200, 200, 200, 200],
        ("GET", "/me/reminders"): [LOGIN, 200, 200, 200, 200, 200],
        ("GET", "/me/tokens"): [LOGIN, 200, 200, 200, 200, 200],
        # Each person's own account settings: no id in the URL.
        ("GET", "/me/password"): [LOGIN, 200, 200, 200, 200, 200],
        ("GET", "/me/name"): [LOGIN, 200, 200, 200, 200, 200],
        ("GET", "/me/email"): [LOGIN, 200, 200, 200, 200, 200],
        # A link that changes an address: logging in first, then the page for links that do not work.
        ("GET", "/me/email/confirm/not-a-token"): [LOGIN, 400, 400, 400, 400, 400],
        # The API's description and docs are public; its operations ignore the cookie (test_api_access_matrix.py).
        ("GET", "/api/v1/openapi.json"): [200, 200, 200, 200, 200, 200],
        ("GET", "/api/v1/docs"): [200, 200, 200, 200, 200, 200],
        ("GET", "/reminders/unsubscribe/not-a-token"): [400, 400, 400, 400, 400, 400],  # no login needed; a bad link
        ("GET", "/auth/reset"): [200, 200, 200, 200, 200, 200],
        ("GET", "/auth/reset/not-a-token"): [400, 400, 400, 400, 400, 400],
        ("GET", f"/join/{w['code']}"): [200, 200, 200, 200, 200, 200],
        ("GET", "/join/AAAA-BBBB"): [404, 404, 404, 404, 404, 404],
        ("GET", "/join/"): [200, 200, 200, 200, 200, 200],
        ("GET", "/counsel/"): [LOGIN, 403, 403, 200, 200, 200],
        ("GET", "/counsel/clients.csv"): [LOGIN, 403, 403, 200, 200, 200],
        ("GET", "/counsel/invitations"): [LOGIN, 403, 403, 200, 200, 200],
        # One invitation's page: only the counsellor who made it may open it; to anyone else it is not there.
        ("GET", f"/counsel/invitations/{w['invitation']}"): [LOGIN, 403, 403, 200, 404, 404],
        ("GET", "/counsel/invitations/999999"): [LOGIN, 403, 403, 404, 404, 404],
        # Cancelling asks first; only the counsellor who made the invitation sees the page.
        ("GET", f"/counsel/invitations/{w['invitation']}/cancel"): [LOGIN, 403, 403, 200, 404, 404],
        ("GET", f"/counsel/clients/{learner}"): [LOGIN, 403, 403, 200, 404, 200],
        # A caseload handed to a colleague: the counsellor's own, or an admin for any counsellor's.
        ("GET", f"/counsel/caseloads/{w['ids']['counsellor']}/handover"): [LOGIN, 403, 403, 200, 404, 200],
        # Not a counsellor and nobody shares with them: no caseload, to an admin too; to its learner, the area is shut.
        ("GET", f"/counsel/caseloads/{learner}/handover"): [LOGIN, 403, 403, 404, 404, 404],
        ("GET", f"/counsel/caseloads/{w['ids']['admin']}/handover"): [LOGIN, 403, 403, 404, 404, 404],
        ("GET", f"/counsel/clients/{other}"): [LOGIN, 403, 403, 404, 404, 200],
        ("GET", f"/counsel/clients/{w['ids']['counsellor']}"): [LOGIN, 403, 403, 404, 404, 404],
        ("GET", "/counsel/clients/999999"): [LOGIN, 403, 403, 404, 404, 404],
        # A client's attempts at a lesson: as the client page; an unknown lesson or a page past the last is none.
        # Only a counsellor's own client: an admin sees every learner, with no link to end.
        ("GET", f"/counsel/clients/{learner}/stop"): [LOGIN, 403, 403, 200, 404, 404],
        ("GET", f"/counsel/clients/{other}/stop"): [LOGIN, 403, 403, 404, 404, 404],
        # The counsellor's private label for their own client: an admin has no link to label.
        ("GET", f"/counsel/clients/{learner}/label"): [LOGIN, 403, 403, 200, 404, 404],
        ("GET", f"/counsel/clients/{other}/label"): [LOGIN, 403, 403, 404, 404, 404],
        ("GET", f"/counsel/clients/{learner}/lessons/{w['first']}/attempts"): [LOGIN, 403, 403, 200, 404, 200],
        ("GET", f"/counsel/clients/{other}/lessons/{w['first']}/attempts"): [LOGIN, 403, 403, 404, 404, 200],
        ("GET", f"/counsel/clients/{learner}/lessons/no-such-lesson/attempts"): [LOGIN, 403, 403, 404, 404, 404],
        ("GET", f"/counsel/clients/{learner}/lessons/{w['first']}/attempts?page=2"): [LOGIN, 403, 403, 404, 404, 404],
        # The clinic's queue: every counsellor and admin sees every request; nobody else sees any.
        ("GET", "/counsel/requests"): [LOGIN, 403, 403, 200, 200, 200],
        ("GET", "/counsel/requests?show=ended"): [LOGIN, 403, 403, 200, 200, 200],
        ("GET", f"/counsel/requests/{w['contact_request']}"): [LOGIN, 403, 403, 200, 200, 200],
        ("GET", "/counsel/requests/999999"): [LOGIN, 403, 403, 404, 404, 404],
        # Anyone may ask the clinic to contact them, with or without an account.
        ("GET", "/contact"): [200, 200, 200, 200, 200, 200],
        ("GET", "/contact/sent"): [200, 200, 200, 200, 200, 200],
        # The link in a request's acknowledgement withdraws it without an account; a bad link is a 400.
        ("GET", "/contact/withdraw/not-a-token"): [400, 400, 400, 400, 400, 400],
        ("GET", "/author/"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/analytics"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/analytics?range=30d"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/analytics?range=7d"): [LOGIN, 403, 403, 403, 403, 400],  # no such range
        ("GET", "/author/analytics.csv"): [LOGIN, 403, 403, 403, 403, 200],  # jobs run inline here: figures at once
        ("GET", "/author/analytics.csv?range=90d"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/analytics.csv?range=7d"): [LOGIN, 403, 403, 403, 403, 400],
        ("GET", "/author/analytics.csv?course=nope"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", "/author/users"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"/author/users/{other}"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/users/999999"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", "/author/users/new"): [LOGIN, 403, 403, 403, 403, 200],
        # Erasing an account asks first, saying what goes and what stays.
        ("GET", f"/author/users/{other}/erase"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/users/999999/erase"): [LOGIN, 403, 403, 403, 403, 404],
        # The site-wide activity log; a kind it does not have, or a page cursor it did not make, is a 400.
        ("GET", "/author/activity"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/activity?kind=accounts"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/activity?kind=nope"): [LOGIN, 403, 403, 403, 403, 400],
        ("GET", "/author/activity?before=not-a-cursor"): [LOGIN, 403, 403, 403, 403, 400],
        ("GET", f"{a}/export.zip"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/courses/nope/export.zip"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", f"{a}/edit"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/courses/nope/edit"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", f"{a}/publish"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a}/publications"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a}/publications/{w['publication']}/restore"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a}/publications/999999/restore"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", f"{a}/media"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/courses/nope/media"): [LOGIN, 403, 403, 403, 403, 404],
        # A course image is course content, the same for everyone, at a URL naming its version.
        ("GET", f"/media/{w['course']}/{w['media_version']}/{w['media']}"): [200, 200, 200, 200, 200, 200],
        ("GET", f"/media/{w['course']}/0000000000000000/{w['media']}"): [404, 404, 404, 404, 404, 404],
        ("GET", f"{a}/modules/new"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/lti"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"/author/lti/{w['lti_platform']}/delete"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/lti/999999/delete"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", f"/author/lti/{w['lti_platform']}/edit"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", "/author/lti/999999/edit"): [LOGIN, 403, 403, 403, 403, 404],
        # The LTI tool: its key set is public; login and launch take only a platform's requests
        # (a bare one is refused with the check that failed); the picker needs no login but a
        # deep-linking launch in the session, which nobody here has (see the test after this one).
        ("GET", "/lti/jwks"): [200, 200, 200, 200, 200, 200],
        ("GET", "/lti/login"): [400, 400, 400, 400, 400, 400],
        ("GET", "/lti/deep-link"): [404, 404, 404, 404, 404, 404],
        ("GET", f"{a}/modules/{module}/edit"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a}/modules/nope/edit"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", f"{a}/lessons/new"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a_first}/edit"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a}/lessons/nope/edit"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", f"{a_first}/questions/new"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a_first}/questions/1/edit"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a_first}/questions/99/edit"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", f"{a}/misconceptions/new"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a}/misconceptions/{misconception}/edit"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a}/misconceptions/nope/edit"): [LOGIN, 403, 403, 403, 403, 404],
        # What discarding or a removal would lose, asked before it happens.
        ("GET", f"{a}/discard"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a_first}/remove"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a}/lessons/nope/remove"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", f"{a_first}/questions/1/remove"): [LOGIN, 403, 403, 403, 403, 200],
        ("GET", f"{a_first}/questions/99/remove"): [LOGIN, 403, 403, 403, 403, 404],
        # Mutations last: they change the world for the rows after them.
        # Made, then sent to the new invitation's page (Post/Redirect/Get).
        ("POST", "/counsel/invitations"): [LOGIN, 403, 403, 302, 302, 302],
        # No colleague or client chosen: shown again with the errors, nobody asked.
        ("POST", f"/counsel/caseloads/{w['ids']['counsellor']}/handover"): [LOGIN, 403, 403, 400, 404, 400],
        # Only the client asked may answer; a bare POST (no decision) answers nothing.
        ("POST", f"/me/handovers/{w['handover']}"): [LOGIN, 400, 404, 404, 404, 404],
        # Only the counsellor who made it may cancel it; to anyone else it is not there. Unconfirmed
        # (a bare POST), it only asks: 200, and the invitation still waits.
        ("POST", f"/counsel/invitations/{w['invitation']}/cancel"): [LOGIN, 403, 403, 200, 404, 404],
        # Unconfirmed (a bare POST), it only asks: 200, and the client is still shared.
        ("POST", f"/counsel/clients/{learner}/stop"): [LOGIN, 403, 403, 200, 404, 404],
        # No label field sent (an empty one clears the label): 400, and the label stays as it was.
        ("POST", f"/counsel/clients/{learner}/label"): [LOGIN, 403, 403, 400, 404, 404],
        ("POST", f"/counsel/clients/{other}/label"): [LOGIN, 403, 403, 404, 404, 404],
        ("POST", f"{first}/done"): [LOGIN, 302, 302, 302, 302, 302],  # a quiz lesson: sent to its quiz
        ("POST", f"{c}/review"): [LOGIN, 400, 400, 400, 400, 400],  # no form key or questions: nothing recorded
        # A holder's bare POST: no name choice is a 400, and revoke or renew unconfirmed changes nothing.
        ("POST", f"{c}/certificate/settings"): [LOGIN, 400, 400, 404, 404, 404],
        ("POST", f"{c}/certificate/revoke"): [LOGIN, 302, 302, 404, 404, 404],
        ("POST", f"{c}/certificate/reissue"): [LOGIN, 302, 302, 404, 404, 404],
        ("POST", f"/me/sharing/{w['link']}/stop"): [LOGIN, 302, 404, 404, 404, 404],
        ("POST", "/contact"): [400, 400, 400, 400, 400, 400],  # nothing chosen: shown again with the errors
        ("POST", "/contact/withdraw/not-a-token"): [400, 400, 400, 400, 400, 400],
        # Staff actions on the learner's request: a pick-up (refused, with a message, once taken), a
        # hand-back, a bare status change (400: no status), an empty note (400: shown again with the error).
        ("POST", f"/counsel/requests/{w['contact_request']}/pick-up"): [LOGIN, 403, 403, 302, 302, 302],
        ("POST", f"/counsel/requests/{w['contact_request']}/release"): [LOGIN, 403, 403, 302, 302, 302],
        ("POST", f"/counsel/requests/{w['contact_request']}/status"): [LOGIN, 403, 403, 400, 400, 400],
        ("POST", f"/counsel/requests/{w['contact_request']}/notes"): [LOGIN, 403, 403, 400, 400, 400],
        # Only the person who asked may withdraw it; to anyone else it is not there.
        ("POST", f"/me/contact-requests/{w['contact_request']}/withdraw"): [LOGIN, 302, 404, 404, 404, 404],
        ("POST", "/author/analytics"): [LOGIN, 403, 403, 403, 403, 302],  # recalculate now: enqueued, back to the page
        ("POST", "/me/delete"): [LOGIN, 400, 400, 400, 400, 400],  # no password given: nothing deleted
        ("POST", "/me/reminders"): [LOGIN, 302, 302, 302, 302, 302],  # no box ticked: reminders stay off
        ("POST", "/me/tokens"): [LOGIN, 400, 400, 400, 400, 400],  # no name, no scope: nothing made
        ("POST", "/me/password"): [LOGIN, 400, 400, 400, 400, 400],  # no passwords given: nothing changed
        ("POST", "/me/name"): [LOGIN, 400, 400, 400, 400, 400],  # no name given: nothing changed
        ("POST", "/me/email"): [LOGIN, 400, 400, 400, 400, 400],  # no address or password given: nothing sent
        ("POST", "/me/email/confirm/not-a-token"): [LOGIN, 400, 400, 400, 400, 400],
        ("POST", f"/me/tokens/{w['api_token']}/revoke"): [LOGIN, 302, 404, 404, 404, 404],  # the learner's own
        ("POST", "/reminders/unsubscribe/not-a-token"): [400, 400, 400, 400, 400, 400],
        # Admin actions on the other learner; role and link need a field, so a bare POST is 400.
        ("POST", f"/author/users/{other}/role"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"/author/users/{other}/link"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", "/author/users/new"): [LOGIN, 403, 403, 403, 403, 400],  # no name, e-mail or role
        ("POST", f"/author/users/{other}/reset-link"): [LOGIN, 403, 403, 403, 403, 302],  # before deactivate
        ("POST", f"/author/users/{other}/deactivate"): [LOGIN, 403, 403, 403, 403, 200],  # asks first
        ("POST", f"/author/users/{other}/reactivate"): [LOGIN, 403, 403, 403, 403, 302],
        # Unconfirmed (a bare POST), erasing only asks; an unknown account is a 404 either way.
        ("POST", f"/author/users/{other}/erase"): [LOGIN, 403, 403, 403, 403, 200],
        ("POST", "/author/users/999999/erase"): [LOGIN, 403, 403, 403, 403, 404],
        # Downloading a person's data for them: a POST only (recorded), the file itself for an admin.
        ("POST", f"/author/users/{other}/data.json"): [LOGIN, 403, 403, 403, 403, 200],
        ("POST", "/author/users/999999/data.json"): [LOGIN, 403, 403, 403, 403, 404],
        ("GET", f"/author/users/{other}/data.json"): [405, 405, 405, 405, 405, 405],
        # Authoring: a bare POST lacks the form's fields (400); the one-click removals change only
        # the draft (or are refused with a message); a lesson's or question's removal and discarding
        # the draft need their confirmation, so a bare POST only shows it (200) and changes nothing.
        ("POST", f"{a}/edit"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a}/modules/new"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a}/modules/{module}/edit"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a}/modules/{module}/move"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a}/lessons/new"): [LOGIN, 403, 403, 403, 403, 400],
        # The lesson editor's live preview: saves nothing; a bare POST has no text to preview.
        ("POST", f"{a}/lessons/preview"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a_first}/edit"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a_first}/move"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a_first}/questions/new"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a_first}/questions/1/edit"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a_first}/questions/1/move"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a}/misconceptions/new"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a}/misconceptions/{misconception}/edit"): [LOGIN, 403, 403, 403, 403, 400],
        ("POST", f"{a_first}/questions/99/remove"): [LOGIN, 403, 403, 403, 403, 404],
        ("POST", f"{a_first}/questions/1/remove"): [LOGIN, 403, 403, 403, 403, 200],
        ("POST", f"{a_first}/remove"): [LOGIN, 403, 403, 403, 403, 200],
        ("POST", f"{a}/modules/{module}/delete"): [LOGIN, 403, 403, 403, 403, 302],  # refused: has lessons
        ("POST", f"{a}/misconceptions/{misconception}/remove"): [LOGIN, 403, 403, 403, 403, 302],  # refused: in use
        ("POST", f"{a}/media"): [LOGIN, 403, 403, 403, 403, 400],  # no file chosen: nothing uploaded
        ("POST", f"{a}/media/nope.png/delete"): [LOGIN, 403, 403, 403, 403, 404],
        ("POST", f"{a}/media/{w['media']}/delete"): [LOGIN, 403, 403, 403, 403, 302],  # no lesson shows it: deleted
        ("POST", f"{a}/discard"): [LOGIN, 403, 403, 403, 403, 200],
        ("POST", "/lti/launch"): [400, 400, 400, 400, 400, 400],  # no id_token or state
        ("POST", "/lti/deep-link"): [404, 404, 404, 404, 404, 404],
        ("POST", "/author/lti"): [LOGIN, 403, 403, 403, 403, 400],  # no fields: nothing registered
        ("POST", "/author/lti/999999/delete"): [LOGIN, 403, 403, 403, 403, 404],
        ("POST", f"/author/lti/{w['lti_platform']}/edit"): [LOGIN, 403, 403, 403, 403, 400],  # no fields: kept as it is
        ("POST", "/author/lti/999999/edit"): [LOGIN, 403, 403, 403, 403, 404],
        ("POST", f"/author/lti/{w['lti_platform']}/delete"): [LOGIN, 403, 403, 403, 403, 200],  # unconfirmed: asks
        ("POST", f"{a}/publish"): [LOGIN, 403, 403, 403, 403, 302],  # nothing left to publish
        # With no draft left, the earlier version is published again; back to the history.
        ("POST", f"{a}/publications/{w['publication']}/restore"): [LOGIN, 403, 403, 403, 403, 302],
        ("POST", "/me/logout-everywhere"): [LOGIN, 302, 302, 302, 302, 302],  # ends the session: last
        ("POST", "/auth/logout"): [LOGIN, 302, 302, 302, 302, 302],
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_role_as_it_must(app, client, world, role):
    if role != "anonymous":
        assert login(client, EMAILS[role]).status_code == 302
    token = csrf_token(client, "/auth/login" if role == "anonymous" else "/me/")
    wrong = []
    for (method, url), statuses in matrix(world).items():
        expected = statuses[ROLES.index(role)]
        response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
        if response.status_code != expected:
            wrong.append(f"{method} {url}: got {response.status_code}, expected {expected}")
        if expected == LOGIN and role == "anonymous" and url.startswith(("/counsel", "/me", "/courses")):
            assert "/auth/login" in response.headers["Location"], url
    assert not wrong, "\n".join(wrong)


def test_the_picker_lets_anyone_whose_session_holds_a_deep_linking_request_answer_it(app, client, world):
    """Anonymous with a pending picker: allowed. Only a deep-linking launch that passed every check
    puts one in the (signed) session (tests/views/test_lti_pages.py opens the picker that way), and
    nobody is logged in to use it: an instructor gets no account here."""
    with client.session_transaction() as session:
        session[DEEP_LINK_KEY] = {
            "at": int(time.time()),
            "platform_id": world["lti_platform"],
            "deployment_id": "1",
            "return_url": "https://lms.example.org/return",
            "data": "",
            "multiple": True,
            "lineitems": True,
        }
    assert client.get("/lti/deep-link").status_code == 200
    assert client.post("/lti/deep-link", data={"items": [world["course"]]}).status_code == 400  # no CSRF token
    token = csrf_token(client, "/lti/deep-link")
    assert client.post("/lti/deep-link", data={"csrf_token": token}).status_code == 400  # nothing chosen
    assert client.post("/lti/deep-link", data={"csrf_token": token, "items": [world["course"]]}).status_code == 200
    assert client.get("/lti/deep-link").status_code == 410  # answered: sent once
    assert client.get("/me/").status_code == LOGIN


def test_every_route_is_in_the_matrix(app, world):
    """A new route must get a row here, so nobody forgets to decide who may use it."""
    from tests.views.test_api_access_matrix import api_matrix

    covered = {url.split("?")[0] for _, url in [*matrix(world), *api_matrix(world)]}
    placeholders = {
        "<course_slug>": world["course"],
        "<lesson_slug>": world["first"],
        "<id:attempt_id>": str(world["attempt"]),
        "<submission_key>": world["review"],
        "<id:learner_id>": str(world["ids"]["learner"]),
        "<id:link_id>": str(world["link"]),
        "<id:invitation_id>": str(world["invitation"]),
        "<id:request_id>": str(world["contact_request"]),
        "<id:handover_id>": str(world["handover"]),
        "<id:counsellor_id>": str(world["ids"]["counsellor"]),
        "<id:token_id>": str(world["api_token"]),
        "<id:platform_id>": str(world["lti_platform"]),
        "<id:publication_id>": str(world["publication"]),
        "<code>": world["code"],
        "<certificate_code>": world["certificate"],
        "<int:list_number>": "0",
        "<token>": "not-a-token",
        "<id:user_id>": str(world["ids"]["other_learner"]),
        "<module_slug>": world["module"],
        "<id:position>": "1",
        "<misconception_code>": world["misconception"],
        "<media_name>": world["media"],
        "<version>": world["media_version"],
        "<path:filename>": "css/app.0000000000.css",
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = rule.rule
        for placeholder, value in placeholders.items():
            url = url.replace(placeholder, value)
        if url not in covered:
            missing.append(rule.rule)
    assert not missing, f"routes missing from the access matrix: {missing}"
