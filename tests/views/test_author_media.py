"""The course's images over HTTP with CSRF on: upload and its refusals, the list, delete, serving,
and an image shown in a lesson from the editor to the learner's page."""

from __future__ import annotations

import html
import io
import random
import re

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import CourseMedia, CoursePublication, Lesson, Role
from tests.conftest import count_queries, create_user, csrf_token, factory_course_spec, login
from tests.images import SVG, jpeg_bytes, png_bytes
from tests.views.test_author_routes import lesson_form

SPEC = factory_course_spec()
PAGE = f"/author/courses/{SPEC.slug}/media"
FIRST = SPEC.modules[0].lesson_slugs[0]
EDIT_FIRST = f"/author/courses/{SPEC.slug}/lessons/{FIRST}/edit"


@pytest.fixture
def admin(app, client, course):
    """A client logged in as an admin, with the factory course published."""
    create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada Admin")
    assert login(client, "admin@example.org").status_code == 302
    return client


def upload(client, data: bytes, filename: str, name: str = "", **extra):
    return client.post(
        PAGE,
        data={"csrf_token": csrf_token(client, PAGE), "image": (io.BytesIO(data), filename), "name": name, **extra},
        content_type="multipart/form-data",
    )


def stored(app) -> list[CourseMedia]:
    with app.app_context():
        rows = list(db.session.scalars(select(CourseMedia).order_by(CourseMedia.id).options(undefer(CourseMedia.data))))
        db.session.expunge_all()
        return rows


def image_url(client, name: str) -> str:
    """The image's serving URL, as the images page links it."""
    page = client.get(PAGE).get_data(as_text=True)
    return re.search(rf'href="(/media/[^"]+/{re.escape(name)})"', page).group(1)


def test_an_uploaded_image_is_listed_with_its_markdown_and_served_with_its_headers(app, admin):
    response = upload(admin, jpeg_bytes(), "Clinic photo.JPG")
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Image “clinic-photo.jpg” uploaded" in html.unescape(page)
    assert "![](media/clinic-photo.jpg)" in html.unescape(page)
    assert "Not shown in any lesson yet." in page and "by Ada Admin" in page
    assert 'data-copy="snippet-' in page and "js/copy." in page  # the copy button, hidden without script

    served = admin.get(image_url(admin, "clinic-photo.jpg"))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "Set-Cookie" not in served.headers
    assert served.data == stored(app)[0].data and b"PhoneMaker" not in served.data


def test_a_served_image_answers_a_revalidation_with_304(admin):
    upload(admin, png_bytes(), "chart.png")
    url = image_url(admin, "chart.png")
    etag = admin.get(url).headers["ETag"]
    assert admin.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_unknown_names_versions_and_courses_are_404(admin):
    upload(admin, png_bytes(), "chart.png")
    url = image_url(admin, "chart.png")
    _, _, course_slug, version, name = url.split("/")
    for wrong in [
        f"/media/{course_slug}/{version}/other.png",
        f"/media/{course_slug}/{'0' * 16}/{name}",
        f"/media/nope/{version}/{name}",
        f"/media/{course_slug}/{version}/..%2Fchart.png",
    ]:
        assert admin.get(wrong).status_code == 404, wrong


@pytest.mark.parametrize(
    ("data", "filename", "says"),
    [
        (SVG, "drawing.svg", "SVG images are not accepted"),
        (SVG, "harmless.png", "SVG images are not accepted"),  # renamed: still SVG
        (b"just some text", "notes.png", "not a PNG, JPEG or WebP image"),
        (png_bytes()[:-30], "broken.png", "damaged or incomplete"),
    ],
    ids=["svg", "svg-renamed-png", "text-renamed-png", "truncated"],
)
def test_a_refused_image_gets_400_with_its_reason_beside_the_field(app, admin, data, filename, says):
    response = upload(admin, data, filename)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "The image was not uploaded" in page and says in page
    assert re.search(r'id="image-error"[^>]*>[^<]*' + re.escape(says), page)
    assert stored(app) == []


def test_no_file_chosen_is_400(app, admin):
    response = admin.post(PAGE, data={"csrf_token": csrf_token(admin, PAGE)}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose an image file to upload." in response.get_data(as_text=True)
    assert stored(app) == []


def test_an_image_over_the_limit_is_413_with_the_limit_said(app, admin):
    app.config["MEDIA_MAX_BYTES"] = 2000
    big = png_bytes((300, 300), colour=(1, 2, 3))
    big = big + b"\0" * max(0, 2500 - len(big))  # over 2000 bytes, within the body the page takes
    response = upload(admin, big, "big.png")
    assert response.status_code == 413
    assert "the limit is 2 KB" in html.unescape(response.get_data(as_text=True))
    assert stored(app) == []


def test_a_body_too_big_to_read_is_413_with_a_clear_page_not_a_500(app, admin):
    app.config["MEDIA_MAX_BYTES"] = 2000
    response = upload(admin, b"\x89PNG" + b"\0" * 200_000, "huge.png")
    assert response.status_code == 413
    assert "Images can be at most 1 KB" in html.unescape(response.get_data(as_text=True))


def test_the_upload_page_takes_images_larger_than_the_sites_usual_limit(app, admin):
    """The site refuses bodies over MAX_CONTENT_LENGTH (1 MiB); the upload page alone takes MEDIA_MAX_BYTES."""
    app.config.update(MAX_CONTENT_LENGTH=50_000, MEDIA_MAX_BYTES=400_000)
    noisy = random.Random(1).randbytes(256_000)  # noise does not compress: a PNG of it is about this big
    buffer = io.BytesIO()
    Image.frombytes("L", (512, 500), noisy).save(buffer, "PNG")
    assert 50_000 < len(buffer.getvalue()) < 400_000
    assert upload(admin, buffer.getvalue(), "noise.png").status_code == 302
    # Elsewhere the site-wide limit still holds.
    other = admin.post(EDIT_FIRST, data={"csrf_token": csrf_token(admin, EDIT_FIRST), "body": "x" * 60_000})
    assert other.status_code == 413


def test_an_upload_without_a_csrf_token_is_refused(app, admin):
    response = admin.post(PAGE, data={"image": (io.BytesIO(png_bytes()), "a.png")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert stored(app) == []


def test_a_name_in_use_for_another_image_is_refused_beside_the_name(app, admin):
    assert upload(admin, png_bytes(), "chart.png").status_code == 302
    response = upload(admin, png_bytes(colour=(0, 0, 0)), "chart.png")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert re.search(r'id="name-error"[^>]*>[^<]*already has a different image', page)
    assert upload(admin, png_bytes(colour=(0, 0, 0)), "chart.png", name="Chart, darker").status_code == 302
    assert [row.name for row in stored(app)] == ["chart.png", "chart-darker.png"]


def test_an_image_a_lesson_shows_cannot_be_deleted_and_an_unused_one_can(app, admin):
    upload(admin, png_bytes(), "chart.png")
    upload(admin, png_bytes(colour=(9, 9, 9)), "spare.png")
    saved = admin.post(EDIT_FIRST, data=lesson_form(admin, body="Look:\n\n![A bar chart of doses](media/chart.png)\n"))
    assert saved.status_code == 302
    page = " ".join(html.unescape(admin.get(PAGE).get_data(as_text=True)).split())
    assert f"Shown in “{SPEC.lessons[FIRST].title}” (draft)." in page
    token = csrf_token(admin, PAGE)
    refused = admin.post(f"{PAGE}/chart.png/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "is still shown in" in html.unescape(refused.get_data(as_text=True))
    deleted = admin.post(f"{PAGE}/spare.png/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "Image “spare.png” deleted." in html.unescape(deleted.get_data(as_text=True))
    assert [row.name for row in stored(app)] == ["chart.png"]
    assert admin.post(f"{PAGE}/spare.png/delete", data={"csrf_token": token}).status_code == 404
    assert admin.post(f"{PAGE}/chart.png/delete", data={}).status_code == 400  # no CSRF token


@pytest.mark.parametrize("email", ["learner@example.org", "casey@example.org"])
def test_only_admins_may_upload(app, client, course, email):
    create_user(app, email, role=Role.COUNSELLOR if email.startswith("casey") else Role.LEARNER)
    login(client, email)
    token = csrf_token(client, "/me/")
    response = client.post(
        PAGE,
        data={"csrf_token": token, "image": (io.BytesIO(png_bytes()), "a.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert stored(app) == []


def test_the_images_page_runs_the_same_queries_for_one_image_or_six(app, admin):
    upload(admin, png_bytes(), "first.png")
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as one:
        assert admin.get(PAGE).status_code == 200
    for number in range(5):
        upload(admin, png_bytes(colour=(number, 1, 1)), f"more-{number}.png")
    with count_queries(engine) as six:
        page = admin.get(PAGE).get_data(as_text=True)
    assert page.count('class="media-item"') == 6
    assert one() == six()
    # The signed-in user (one read), the course, then the images, the live lessons and the draft; the
    # header's count of contact requests waiting (app/staff_nav.py).
    assert six() == 6


# --- an image in a lesson, from the editor to the learner ------------------------------------


def test_a_lesson_shows_an_uploaded_image_once_published_and_the_rules_guard_it(app, admin):
    upload(admin, png_bytes((80, 60)), "receptor.png")
    url = image_url(admin, "receptor.png")

    no_alt = admin.post(EDIT_FIRST, data=lesson_form(admin, body="See:\n\n![](media/receptor.png)\n"))
    assert no_alt.status_code == 400
    assert "needs alt text" in html.unescape(no_alt.get_data(as_text=True))
    missing = admin.post(EDIT_FIRST, data=lesson_form(admin, body="See:\n\n![A diagram](media/nowhere.png)\n"))
    assert missing.status_code == 400
    assert "is not among the course's images: upload it first, on the course's Images page" in html.unescape(
        missing.get_data(as_text=True)
    )
    remote = admin.post(EDIT_FIRST, data=lesson_form(admin, body="See:\n\n![A diagram](https://example.org/x.png)\n"))
    assert remote.status_code == 400
    assert "is on another site" in html.unescape(remote.get_data(as_text=True))

    # The unsaved preview shows the image as learners will.
    preview = admin.post(
        EDIT_FIRST, data=lesson_form(admin, body="See:\n\n![A receptor, blocked](media/receptor.png)\n", preview="y")
    )
    assert preview.status_code == 200
    assert f'<img src="{url}" alt="A receptor, blocked" width="80" height="60" loading="lazy">' in preview.get_data(
        as_text=True
    )

    saved = admin.post(EDIT_FIRST, data=lesson_form(admin, body="See:\n\n![A receptor, blocked](media/receptor.png)\n"))
    assert saved.status_code == 302
    token = csrf_token(admin, f"/author/courses/{SPEC.slug}/publish")
    assert admin.post(f"/author/courses/{SPEC.slug}/publish", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        body_html = db.session.scalar(select(Lesson.body_html).where(Lesson.slug == FIRST))
    assert f'<img src="{url}" alt="A receptor, blocked"' in body_html

    learner = app.test_client()
    create_user(app, "learner@example.org")
    login(learner)
    lesson_page = learner.get(f"/courses/{SPEC.slug}/lessons/{FIRST}").get_data(as_text=True)
    assert f'src="{url}"' in lesson_page
    assert learner.get(url).status_code == 200


def test_restoring_a_version_whose_image_was_deleted_says_to_upload_it_on_the_images_page(app, admin):
    upload(admin, png_bytes(), "old.png")
    publish = f"/author/courses/{SPEC.slug}/publish"
    for body in ("See:\n\n![The old diagram](media/old.png)\n", "No image any more.\n"):
        assert admin.post(EDIT_FIRST, data=lesson_form(admin, body=body)).status_code == 302
        assert admin.post(publish, data={"csrf_token": csrf_token(admin, publish)}).status_code == 302
    assert admin.post(f"{PAGE}/old.png/delete", data={"csrf_token": csrf_token(admin, PAGE)}).status_code == 302
    with app.app_context():
        with_image = db.session.scalars(select(CoursePublication.id).order_by(CoursePublication.id)).all()[-2]
        db.session.remove()

    page = html.unescape(
        admin.get(f"/author/courses/{SPEC.slug}/publications/{with_image}/restore").get_data(as_text=True)
    )

    assert "“media/old.png” is not among the course's images: upload it first, on the course's Images page" in page
    assert ", lesson text: image “media/old.png”" in page  # placed as the editor names it, not lessons/<slug>.md
    assert "course folder" not in page and f"lessons/{FIRST}.md" not in page
