"""No cache may keep a private response: every page, and every download, of a signed-in user.

The routes come from the access matrix, so a new route is checked here as soon as it has a row.
"""

import pytest

from tests.conftest import COURSE_SLUG, login
from tests.views.test_access_matrix import EMAILS, matrix, world  # noqa: F401 - world is a fixture

# Answers that never look at who is asking: what credential verifiers fetch (the site's DID
# document and the revocation list, the same for everyone and meant to be cached), the API's
# OpenAPI description, and the LTI tool's public key set. (The health check looks at where the
# request comes from, so it is no-store like a private page.)
SHARED = {"/.well-known/did.json", "/credentials/status/0", "/api/v1/openapi.json", "/lti/jwks"}
DOWNLOADS = {
    "/me/data.json": "learner",
    f"/courses/{COURSE_SLUG}/certificate.pdf": "learner",
    "/counsel/clients.csv": "counsellor",
    f"/author/courses/{COURSE_SLUG}/export.zip": "admin",
    "/author/analytics.csv": "admin",
}


def test_every_response_to_a_signed_in_user_is_no_store(app, world):  # noqa: F811
    """Every page the matrix lists, in one world: no GET changes what a later page's headers are.

    (One world for all the rows, as the GET fuzzing does: building it per row was most of this
    test's time.)
    """
    # A course image at its current URL is course content, the same for everyone (app/main/media.py).
    image = f"/media/{world['course']}/{world['media_version']}/{world['media']}"
    urls = [url for method, url in matrix(world) if method == "GET"]
    wrong = []
    for url in urls:
        client = app.test_client()  # signed in afresh: an earlier row may have ended the session
        assert login(client, EMAILS["admin"]).status_code == 302, url
        response = client.get(url)
        headers = response.headers
        if url in SHARED or url == image:
            # A cache may keep it, so it must carry nothing of this person's session.
            if "no-store" in headers.get("Cache-Control", "") or "Set-Cookie" in headers:
                wrong.append((url, headers.get("Cache-Control"), headers.get("Set-Cookie")))
        elif headers.get("Cache-Control") != "no-store":
            wrong.append((url, response.status_code, headers.get("Cache-Control")))
        response.close()
    assert not wrong, wrong


@pytest.mark.parametrize("url", sorted(DOWNLOADS))
def test_downloads_are_no_store_for_the_role_that_may_download_them(app, client, world, url):  # noqa: F811
    assert login(client, EMAILS[DOWNLOADS[url]]).status_code == 302
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype != "text/html", url
    assert response.headers["Cache-Control"] == "no-store", url
    response.close()  # the CSV is streamed


@pytest.mark.parametrize("url", ["/", "/auth/login", f"/courses/{COURSE_SLUG}/", "/no-such-page"])
def test_pages_are_no_store_for_visitors_too(client, course, url):
    assert client.get(url).headers["Cache-Control"] == "no-store"


def test_logging_in_is_no_store(client, learner):
    response = login(client)
    assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"


def test_a_views_own_cache_header_does_not_survive_on_a_private_response(app, client, learner, monkeypatch):
    from flask import session

    @app.get("/test-only/private")
    def private():
        session["seen"] = True
        return {"mine": 1}, 200, {"Cache-Control": "public, max-age=600"}

    assert client.get("/test-only/private").headers["Cache-Control"] == "no-store"


def test_fingerprinted_assets_stay_cacheable_for_signed_in_users(app, learner_client):
    from flask import url_for

    with app.test_request_context():
        from app.assets import asset_url

        url = asset_url("css/app.css")
        assert url != url_for("static", filename="css/app.css")
    response = learner_client.get(url)
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"] and "no-store" not in response.headers["Cache-Control"]
