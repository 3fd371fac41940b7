"""Security headers, error pages and the health check."""

import pytest

from tests.conftest import lesson_slugs


@pytest.mark.parametrize("url", ["/", "/auth/login", "/auth/register", "/courses/naltrexone/", "/no-such-page"])
def test_every_page_carries_the_security_headers(client, course, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(learner_client, app):
    first = lesson_slugs(app)[0]
    for url in (
        "/",
        "/courses/naltrexone/",
        f"/courses/naltrexone/lessons/{first}",
        f"/courses/naltrexone/lessons/{first}/quiz",
    ):
        page = learner_client.get(url).get_data(as_text=True)
        assert "<script" not in page and "<style" not in page and " style=" not in page, url
        assert "http://" not in page and "https://" not in page, url


def test_not_found_is_a_friendly_page(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_oversized_request_is_413(client, course):
    response = client.post("/auth/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}
