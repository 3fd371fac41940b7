"""Static files under fingerprinted names with long cache lifetimes; compressed responses."""

import gzip
import re


def test_pages_link_fingerprinted_assets_that_are_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    url = re.search(r'href="(/assets/css/app\.[0-9a-f]{10}\.css)"', page).group(1)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert "max-age=31536000" in response.headers["Cache-Control"] and "immutable" in response.headers["Cache-Control"]


def test_an_old_or_unknown_fingerprint_is_404(client):
    assert client.get("/assets/css/app.0000000000.css").status_code == 404
    assert client.get("/assets/css/app.css").status_code == 404
    assert client.get("/assets/../config.0000000000.py").status_code == 404


def test_the_fingerprint_changes_with_the_content(app, tmp_path):
    from app.assets import fingerprint

    (tmp_path / "a.css").write_text("body { color: red }")
    first = fingerprint(str(tmp_path), "a.css")
    (tmp_path / "a.css").write_text("body { color: blue }")
    assert fingerprint(str(tmp_path), "a.css") != first


def test_html_and_css_are_gzipped_when_the_browser_accepts_it(client):
    response = client.get("/", headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert b"How Naltrexone Works" in gzip.decompress(response.data)
    plain = client.get("/")
    assert "Content-Encoding" not in plain.headers


def test_small_responses_are_not_compressed(client):
    response = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
