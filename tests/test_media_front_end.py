"""Behind nginx (deploy/nginx.conf), the image upload page alone takes bodies over the site's 1 MiB.

Uses the gunicorn-behind-nginx site test_front_end.py uses (conftest.py's ``site``); skipped, saying why, without nginx.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request

from app.author.media import FORM_ROOM
from config import Config
from tests.serving import NGINX_TEMPLATE

UNITS = {"": 1, "k": 1024, "m": 1024 * 1024}


def post(url: str, size: int) -> int:
    """POST ``size`` bytes; the status of the answer (nginx's own 413, or whatever the app said)."""
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=b"a" * size, method="POST", headers={"Content-Type": "application/octet-stream"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_the_upload_location_allows_an_image_at_the_limit_and_its_form():
    config = NGINX_TEMPLATE.read_text()
    block = re.search(r"location ~ \^/author/courses/\[\^/\]\+/media\$ \{(.*?)\}", config, re.S)
    assert block, "deploy/nginx.conf has a location for the image upload page"
    size = re.search(r"client_max_body_size (\d+)([km]?);", block.group(1))
    assert int(size.group(1)) * UNITS[size.group(2)] >= Config.MEDIA_MAX_BYTES + FORM_ROOM


def test_nginx_passes_a_big_upload_to_the_app_and_refuses_it_elsewhere(site):
    size = Config.MAX_CONTENT_LENGTH + 512 * 1024
    # Reaching the app, which refuses it for its own reasons (no CSRF token): not nginx's 413.
    assert post(f"{site['front']}/author/courses/any/media", size) == 400
    assert post(f"{site['front']}/author/courses/any/edit", size) == 413
    assert post(f"{site['front']}/author/courses/any/media/x.png/delete", size) == 413
