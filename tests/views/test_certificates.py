"""Certificate pages over HTTP, CSRF on: the learner's page and actions, the PDF, the public check."""

import io
import re

import pypdf
import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Certificate, User
from tests.conftest import (
    COURSE_SLUG,
    count_queries,
    csrf_token,
    lesson_slugs,
    login,
    quiz_form,
    submit_quiz,
    visible_text,
)

PAGE = f"/courses/{COURSE_SLUG}/certificate"


def finish_course(client, app):
    """Complete every lesson through the quiz forms, as the learner would."""
    for slug in lesson_slugs(app):
        response = submit_quiz(client, slug, quiz_form(app, slug, right=True))
        assert response.status_code == 302


def the_certificate(app, email="learner@example.org") -> dict:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        row = db.session.scalar(
            select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id.desc()).limit(1)
        )
        found = {
            "code": row.code,
            "revoked": row.revoked_at is not None,
            "public": row.public,
            "shows": row.name_display,
        }
        db.session.remove()
        return found


def post(client, path, **data):
    return client.post(f"{PAGE}{path}", data={"csrf_token": csrf_token(client, PAGE), **data})


@pytest.fixture
def finished(learner_client, app):
    finish_course(learner_client, app)
    return learner_client


def test_before_completing_the_page_sends_the_learner_to_the_course(learner_client):
    response = learner_client.get(PAGE)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/courses/{COURSE_SLUG}/")


def test_finishing_the_course_shows_the_code_and_the_verification_url(finished, app):
    code = the_certificate(app)["code"]
    page = finished.get(PAGE).get_data(as_text=True)
    assert code in page
    assert f"http://localhost/certificates/{code}" in page  # from PUBLIC_URL, not the request's Host
    assert "Nobody yet: it is private" in page
    assert f'href="/courses/{COURSE_SLUG}/certificate.pdf"' in page


def test_a_private_certificate_is_the_same_404_as_an_unknown_code(finished, app, client):
    code = the_certificate(app)["code"]
    private = finished.get(f"/certificates/{code}")
    unknown = finished.get(f"/certificates/{'x' * len(code)}")
    assert private.status_code == unknown.status_code == 404
    assert private.get_data() == unknown.get_data()


def test_private_and_unknown_codes_take_the_same_path(finished, app):
    """Same status, body, headers and queries: nothing tells a private code from one never issued."""
    code = the_certificate(app)["code"]
    stranger = app.test_client()
    with app.app_context():
        engine = db.engine
    answers = []
    for asked in (code, code[::-1]):
        with count_queries(engine) as counted:
            response = stranger.get(f"/certificates/{asked}")
        answers.append((response.status_code, response.get_data(), sorted(response.headers.items()), counted()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 404 and answers[0][3] == 1


def test_made_public_anyone_can_check_it_with_the_name_as_chosen(finished, app):
    code = the_certificate(app)["code"]
    assert post(finished, "/settings", name_display="initials", public="yes").status_code == 302
    with app.test_client() as stranger:
        page = stranger.get(f"/certificates/{code}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "This certificate is valid" in text and "L. L." in text
        assert "Learner" not in re.sub(r"<header.*?</header>", "", text, flags=re.S)  # initials, not the name
        assert "How Naltrexone Works" in text  # the issuer (ISSUER_NAME's default)
        assert page.headers["Cache-Control"] == "no-store"  # a revocation shows at once
        assert page.headers["X-Robots-Tag"] == "noindex, nofollow, noarchive"  # a name, never in a search index
    post(finished, "/settings", name_display="none", public="yes")
    assert "The holder chose not to show a name" in app.test_client().get(f"/certificates/{code}").get_data(
        as_text=True
    )
    post(finished, "/settings", name_display="full")  # the box unticked: private again
    assert app.test_client().get(f"/certificates/{code}").status_code == 404


def test_settings_refuse_a_choice_no_form_of_ours_sends(finished, app):
    assert post(finished, "/settings", name_display="nickname", public="yes").status_code == 400
    assert the_certificate(app)["public"] is False


def test_every_action_needs_the_csrf_token(finished, app):
    for path in ["/settings", "/revoke", "/reissue"]:
        assert finished.post(f"{PAGE}{path}", data={"confirm": "yes", "name_display": "full"}).status_code == 400
    assert the_certificate(app)["revoked"] is False


def test_revoking_needs_the_box_ticked_and_then_shows_as_revoked(finished, app):
    code = the_certificate(app)["code"]
    post(finished, "/settings", name_display="full", public="yes")
    post(finished, "/revoke")
    assert the_certificate(app)["revoked"] is False  # not confirmed: nothing happened
    response = post(finished, "/revoke", confirm="yes")
    assert response.status_code == 302 and the_certificate(app)["revoked"] is True
    check = app.test_client().get(f"/certificates/{code}")
    assert check.status_code == 200 and "This certificate was revoked" in check.get_data(as_text=True)
    page = finished.get(PAGE).get_data(as_text=True)
    assert "Your certificate is revoked" in page and "Get a fresh certificate" in page
    assert finished.get(f"{PAGE}.pdf").status_code == 404  # no PDF of a revoked certificate


def test_a_fresh_certificate_has_a_new_code_and_revokes_the_old(finished, app):
    old = the_certificate(app)["code"]
    post(finished, "/settings", name_display="initials", public="yes")
    post(finished, "/reissue")
    assert the_certificate(app)["code"] == old  # not confirmed
    post(finished, "/reissue", confirm="yes")
    fresh = the_certificate(app)
    assert fresh["code"] != old and not fresh["revoked"] and fresh["public"] and fresh["shows"] == "initials"
    assert "was revoked" in app.test_client().get(f"/certificates/{old}").get_data(as_text=True)
    assert "is valid" in app.test_client().get(f"/certificates/{fresh['code']}").get_data(as_text=True)


def test_a_revoked_certificate_s_check_page_names_nobody_and_says_when_only_by_the_day(finished, app):
    code = the_certificate(app)["code"]
    post(finished, "/settings", name_display="full", public="yes")
    valid = app.test_client().get(f"/certificates/{code}").get_data(as_text=True)
    assert "Lee Learner" in valid
    # The day alone: the exact time would match the learning record of the completion (xAPI).
    assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}">', valid) and "T" not in re.search(
        r'<time datetime="([^"]*)"', valid
    ).group(1)
    revoked = post(finished, "/revoke", confirm="yes")
    assert "Anyone who opens its link is told so, without your name." in finished.get(
        revoked.headers["Location"]
    ).get_data(as_text=True)
    check = app.test_client().get(f"/certificates/{code}").get_data(as_text=True)
    assert "This certificate was revoked" in check and "Issued to" not in check
    assert "Lee Learner" not in re.sub(r"<header.*?</header>", "", check, flags=re.S)


def test_a_fresh_certificate_after_revoking_does_not_say_the_old_link_changes_now(finished, app):
    post(finished, "/settings", name_display="full", public="yes")
    post(finished, "/revoke", confirm="yes")
    fresh = post(finished, "/reissue", confirm="yes")
    page = visible_text(finished.get(fresh.headers["Location"]).get_data(as_text=True))
    assert "Here is your fresh certificate, with a new code." in page and "now shows as revoked" not in page


def test_revoking_a_private_certificate_does_not_say_anyone_is_told(finished, app):
    response = post(finished, "/revoke", confirm="yes")
    page = visible_text(finished.get(response.headers["Location"]).get_data(as_text=True))
    assert "Your certificate is revoked." in page and "is told" not in page
    assert "Its link shows “Page not found”, as it did while it was private." in page


def pdf_text(client) -> str:
    """The text of the learner's certificate PDF, as a PDF reader extracts it."""
    response = client.get(f"{PAGE}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    [page] = pypdf.PdfReader(io.BytesIO(response.get_data())).pages
    return page.extract_text()


def test_the_pdf_carries_the_verification_url_and_code(finished, app):
    code = the_certificate(app)["code"]
    assert post(finished, "/settings", name_display="full", public="yes").status_code == 302
    response = finished.get(f"{PAGE}.pdf")
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(finished)
    assert f"http://localhost/certificates/{code}" in text and "Learner" in text
    assert "Check this certificate at" in text


def test_a_private_certificate_s_pdf_sends_nobody_to_a_page_not_found(finished, app):
    """While checking is off the link is a 404, so the PDF leaves it out and says checking is off."""
    code = the_certificate(app)["code"]
    text = " ".join(pdf_text(finished).split())
    assert "/certificates/" not in text and "Check this certificate at" not in text
    assert "cannot be checked online" in text and f"Code: {code}" in text
    [page] = pypdf.PdfReader(io.BytesIO(finished.get(f"{PAGE}.pdf").get_data())).pages
    assert len(page.images) == 0  # no QR code of the link either
    assert app.test_client().get(f"/certificates/{code}").status_code == 404


def test_another_learner_reaches_nothing_of_it(finished, app, other_learner, client):
    finished.post("/auth/logout", data={"csrf_token": csrf_token(finished, "/me/")})
    assert login(client, "fred@example.org").status_code == 302
    assert client.get(f"{PAGE}.pdf").status_code == 404
    token = csrf_token(client, "/me/")
    for path in ["/settings", "/revoke", "/reissue"]:
        response = client.post(f"{PAGE}{path}", data={"csrf_token": token, "confirm": "yes", "name_display": "full"})
        assert response.status_code == 404, path
    untouched = the_certificate(app)
    assert untouched["revoked"] is False and untouched["public"] is False


def test_a_learner_who_completed_before_certificates_existed_gets_one_on_the_page(finished, app):
    with app.app_context():
        db.session.execute(delete(Certificate))
        db.session.commit()
        db.session.remove()
    assert finished.get(PAGE).status_code == 200
    assert the_certificate(app)["revoked"] is False


def test_an_unknown_course_is_404(finished):
    assert finished.get("/courses/nope/certificate.pdf").status_code == 404
    token = csrf_token(finished, PAGE)
    assert finished.post("/courses/nope/certificate/settings", data={"csrf_token": token}).status_code == 404


def test_the_certificate_page_runs_two_queries(finished, app):
    """The signed-in user with the course version and the learner's progress, then the certificate."""
    finished.get(PAGE)  # the course content is cached from here on
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counted:
        assert finished.get(PAGE).status_code == 200
    assert counted() == 2
