"""Static files under fingerprinted names with long cache lifetimes; compressed responses."""

import gzip
import re

from flask import Response, stream_with_context

BROWSER = "gzip, deflate, br, zstd"  # what Chromium and Firefox send


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


def test_a_fingerprinted_stylesheet_is_gzipped_whole(client, app):
    page = client.get("/").get_data(as_text=True)
    url = re.search(r'href="(/assets/css/app\.[0-9a-f]{10}\.css)"', page).group(1)
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) == len(response.data)
    with open(f"{app.static_folder}/css/app.css", "rb") as original:
        assert gzip.decompress(response.data) == original.read()


def test_pages_vary_on_accept_encoding_whether_or_not_they_are_compressed(client):
    """A shared cache must not hand a gzipped page to a client that cannot read it, or the reverse."""
    assert "Accept-Encoding" in client.get("/").headers["Vary"]
    assert "Accept-Encoding" in client.get("/", headers={"Accept-Encoding": "gzip"}).headers["Vary"]


def test_only_text_is_compressed_and_streams_are_not(app):
    """A zip or a PNG is compressed already; a stream goes out as it is made."""
    body = b"x" * 5000
    app.add_url_rule("/t/zip", "t_zip", lambda: Response(body, mimetype="application/zip"))
    app.add_url_rule("/t/png", "t_png", lambda: Response(body, mimetype="image/png"))
    app.add_url_rule("/t/csv", "t_csv", lambda: Response(body, mimetype="text/csv"))
    app.add_url_rule("/t/stream", "t_stream", lambda: Response(stream_with_context(iter([body])), mimetype="text/csv"))
    client = app.test_client()
    encodings = {
        url: client.get(url, headers={"Accept-Encoding": BROWSER}).headers.get("Content-Encoding")
        for url in ("/t/zip", "/t/png", "/t/csv", "/t/stream")
    }
    assert encodings == {"/t/zip": None, "/t/png": None, "/t/csv": "gzip", "/t/stream": None}


def test_a_browser_offering_only_other_encodings_gets_the_page_as_it_is(client):
    response = client.get("/", headers={"Accept-Encoding": "br, zstd"})
    assert "Content-Encoding" not in response.headers
    assert b"How Naltrexone Works" in response.data
