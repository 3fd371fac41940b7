"""No cache may keep a private response: every page, and every download, of a signed-in user.

The routes come from the access matrix, so a new route is checked here as soon as it has a row.
"""

import pytest

from tests.conftest import COURSE_SLUG, login
from tests.views.test_access_matrix import EMAILS, matrix, world  # noqa: F401 - world is a fixture

# Stand-in values, only to list the matrix's rows at collection time; the test uses the real ones.
_LISTING = {
    "course": COURSE_SLUG,
    "module": "module",
    "misconception": "code",
    "first": "first",
    "attempt": 1,
    "link": 1,
    "code": "CODE",
    "invitation": 1,
    "contact_request": 1,
    "media": "image.png",
    "media_version": "0123456789abcdef",
    "api_token": 1,
    "publication": 1,
    "lti_platform": 1,
    "review": "KEY",
    "certificate": "CERTIFICATE",
    "private_certificate": "PRIVATE",
    "ids": dict.fromkeys(EMAILS, 1),
}
GET_ROWS = [url for method, url in matrix(_LISTING) if method == "GET"]
# Answers that never look at who is asking: the health check, and what credential verifiers fetch
# (the site's DID document and the revocation list, the same for everyone and meant to be cached),
# and the API's OpenAPI description, and the LTI tool's public key set.
SHARED = {"/healthz", "/.well-known/did.json", "/credentials/status/0", "/api/v1/openapi.json", "/lti/jwks"}
DOWNLOADS = {
    "/me/data.json": "learner",
    f"/courses/{COURSE_SLUG}/certificate.pdf": "learner",
    "/counsel/clients.csv": "counsellor",
    f"/author/courses/{COURSE_SLUG}/export.zip": "admin",
    "/author/analytics.csv": "admin",
}


@pytest.mark.parametrize("row", range(len(GET_ROWS)), ids=GET_ROWS)
def test_every_response_to_a_signed_in_user_is_no_store(app, client, world, row):  # noqa: F811
    url = [url for method, url in matrix(world) if method == "GET"][row]
    assert login(client, EMAILS["admin"]).status_code == 302
    response = client.get(url)
    # A course image at its current URL is course content, the same for everyone (app/main/media.py).
    image = f"/media/{world['course']}/{world['media_version']}/{world['media']}"
    if url in SHARED or url == image:
        assert "no-store" not in response.headers.get("Cache-Control", ""), url
        # A cache may keep it, so it must carry nothing of this person's session.
        assert "Set-Cookie" not in response.headers, url
    else:
        assert response.headers.get("Cache-Control") == "no-store", (url, response.status_code)


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
