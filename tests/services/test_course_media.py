"""Course images: what is accepted (by content, never by name), what is stored, who may delete what.

The upload page's HTTP behaviour is in tests/views/test_author_media.py; lessons that show images,
their rules and the files format are in test_course_media_in_lessons.py.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Course, CourseMedia, Role, User
from app.services import authoring
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.course_media import (
    MediaInUse,
    MediaRefused,
    MediaTooLarge,
    image_check,
    media_delete,
    media_for_serving,
    media_list,
    media_name,
    media_upload,
    media_url,
    strip_metadata,
)
from tests.conftest import count_queries, create_user
from tests.factories import write_course
from tests.images import (
    GPS,
    MAKE,
    SVG,
    animated_png_bytes,
    bomb_png,
    gif_bytes,
    jpeg_bytes,
    pixels,
    png_bytes,
    webp_bytes,
)


@pytest.fixture
def tiny(session, tmp_path) -> Course:
    course_import(session, load_course(write_course(tmp_path)))
    return session.scalar(select(Course).where(Course.slug == "tiny"))


# --- what is accepted --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "content_type"),
    [(png_bytes, "image/png"), (jpeg_bytes, "image/jpeg"), (webp_bytes, "image/webp")],
    ids=["png", "jpeg", "webp"],
)
def test_png_jpeg_and_webp_are_accepted_with_their_type_and_size_read_from_the_content(make, content_type):
    checked = image_check(make((40, 30)))
    assert (checked.content_type, checked.width, checked.height) == (content_type, 40, 30)
    assert checked.sha256 and len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (SVG, "SVG images are not accepted"),
        (b"\xef\xbb\xbf  \n" + SVG.lower(), "SVG images are not accepted"),  # byte-order mark, spaces
        (gif_bytes(), "not a PNG, JPEG or WebP"),
        (b"%PDF-1.7 not an image at all", "not a PNG, JPEG or WebP"),
        (b"<html><script>alert(1)</script></html>", "not a PNG, JPEG or WebP"),
        (b"", "empty"),
        (png_bytes()[:-30], "damaged or incomplete"),
        (animated_png_bytes(), "Animated images are not accepted"),
        (bomb_png(), "pixels"),
        (bomb_png(5000, 5000), "5000 × 5000 pixels; the limit is 16 million"),
    ],
    ids=["svg", "svg-with-bom", "gif", "pdf", "html", "empty", "truncated", "animated", "bomb", "too-many-pixels"],
)
def test_anything_else_is_refused_with_a_reason(data, says):
    with pytest.raises(MediaRefused, match=says) as refused:
        image_check(data)
    assert refused.value.status == 400 and refused.value.field == "image"


def test_an_image_over_the_limit_is_too_large_with_the_sizes_said():
    data = png_bytes((200, 200))
    with pytest.raises(MediaTooLarge) as refused:
        image_check(data, max_bytes=len(data) - 1)
    assert refused.value.status == 413
    assert "the limit is" in refused.value.message
    assert image_check(data, max_bytes=len(data)).width == 200  # the limit itself is allowed


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    data = bomb_png(100_000, 100_000)  # 10 gigapixels in a few hundred bytes
    assert len(data) < 2000
    with pytest.raises(MediaRefused, match="pixels"):
        image_check(data)


# --- metadata ----------------------------------------------------------------------------------


def test_a_photos_gps_position_maker_and_comment_are_removed_and_its_pixels_kept():
    original = jpeg_bytes((64, 48), progressive=True)
    assert b"PhoneMaker" in original and b"taken at home" in original
    stored = image_check(original).data
    assert b"PhoneMaker" not in stored and b"taken at home" not in stored
    exif = Image.open(io.BytesIO(stored)).getexif()
    assert GPS not in exif and MAKE not in exif
    assert pixels(stored) == pixels(original)  # not re-encoded: nothing lost


def test_png_text_and_webp_exif_and_xmp_are_removed_with_the_pixels_untouched():
    png = png_bytes(text="Taken at 12 Clinic Road")
    webp = webp_bytes()
    stored_png, stored_webp = image_check(png).data, image_check(webp).data
    assert b"Clinic Road" not in stored_png and pixels(stored_png) == pixels(png)
    assert b"PhoneMaker" not in stored_webp and b"GPSLatitude" not in stored_webp
    assert pixels(stored_webp) == pixels(webp)
    assert not Image.open(io.BytesIO(stored_webp)).getexif()


@pytest.mark.parametrize("make", [png_bytes, jpeg_bytes, webp_bytes], ids=["png", "jpeg", "webp"])
def test_stripping_a_stripped_image_changes_nothing(make):
    """So exporting a course and importing it again gives back the very same bytes."""
    once = image_check(make()).data
    assert image_check(once).data == once
    content_type = image_check(once).content_type
    assert strip_metadata(once, content_type) == once


def test_a_photo_stored_sideways_is_turned_upright_once():
    sideways = jpeg_bytes((40, 30), orientation=6)  # "turn 90 degrees to show"
    checked = image_check(sideways)
    assert (checked.width, checked.height) == (30, 40)
    assert b"PhoneMaker" not in checked.data
    assert image_check(checked.data).data == checked.data


def test_whatever_follows_the_image_is_dropped():
    """Bytes after the image's end (a polyglot's second file) are not stored."""
    tail = b"<script>alert(1)</script>"
    for make, content_type in ((png_bytes, "image/png"), (jpeg_bytes, "image/jpeg")):
        stored = image_check(make() + tail).data
        assert tail not in stored, content_type


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "filename", "content_type", "name"),
    [
        ("", "Diagram 1.PNG", "image/png", "diagram-1.png"),
        ("", "C:\\Users\\me\\Pictures\\Receptor map.jpeg", "image/jpeg", "receptor-map.jpg"),
        ("How the blocker works", "x.png", "image/png", "how-the-blocker-works.png"),
        ("", "photo.png", "image/jpeg", "photo.jpg"),  # the name follows the content
        ("", "../../etc/passwd", "image/webp", "passwd.webp"),
        ("", "", "image/png", "image.png"),
        ("", "ÜBER ☺.png", "image/png", "ber.png"),
        ("", "a" * 300 + ".png", "image/png", "a" * 96 + ".png"),
    ],
)
def test_names_are_made_safe_and_end_in_what_the_image_really_is(requested, filename, content_type, name):
    assert media_name(requested, filename, content_type) == name


# --- upload and delete -------------------------------------------------------------------------


def test_an_upload_is_stored_under_a_safe_name_with_its_uploader(app, session, tiny):
    admin_id = create_user(app, "ada@example.org", role=Role.ADMIN)
    row = media_upload(session, course=tiny, data=jpeg_bytes(), filename="Clinic photo.JPG", user_id=admin_id)
    assert (row.name, row.content_type, row.uploaded_by_id) == ("clinic-photo.jpg", "image/jpeg", admin_id)
    assert row.size_bytes == len(row.data) and b"PhoneMaker" not in row.data


def test_an_svg_named_png_is_still_refused(session, tiny):
    with pytest.raises(MediaRefused, match="SVG"):
        media_upload(session, course=tiny, data=SVG, filename="harmless.png")
    assert session.scalar(select(CourseMedia)) is None


def test_a_png_named_jpg_is_stored_as_the_png_it_is(session, tiny):
    row = media_upload(session, course=tiny, data=png_bytes(), filename="picture.jpg")
    assert (row.name, row.content_type) == ("picture.png", "image/png")


def test_another_image_under_a_name_in_use_is_refused_and_the_same_one_changes_nothing(session, tiny):
    first = media_upload(session, course=tiny, data=png_bytes(), filename="chart.png")
    assert media_upload(session, course=tiny, data=png_bytes(), filename="chart.png").id == first.id
    with pytest.raises(MediaRefused, match="already has a different image") as refused:
        media_upload(session, course=tiny, data=png_bytes(colour=(0, 0, 0)), filename="chart.png")
    assert refused.value.field == "name"
    other = media_upload(session, course=tiny, data=png_bytes(colour=(0, 0, 0)), filename="chart.png", name="chart-2")
    assert other.name == "chart-2.png"


def test_an_unused_image_can_be_deleted_and_an_unknown_one_is_not_found(session, tiny):
    media_upload(session, course=tiny, data=png_bytes(), filename="spare.png")
    media_delete(session, course=tiny, name="spare.png")
    assert session.scalar(select(CourseMedia)) is None
    with pytest.raises(LookupError):
        media_delete(session, course=tiny, name="spare.png")


def test_an_image_a_draft_lesson_shows_cannot_be_deleted(session, tiny):
    media_upload(session, course=tiny, data=png_bytes(), filename="chart.png")
    authoring.lesson_update(
        session, course=tiny, lesson_slug="one", title="Lesson one", minutes=5, body="![A chart](media/chart.png)"
    )
    with pytest.raises(MediaInUse, match="“Lesson one”"):
        media_delete(session, course=tiny, name="chart.png")
    assert session.scalar(select(CourseMedia.name)) == "chart.png"


def test_an_image_learners_see_cannot_be_deleted_even_once_the_draft_drops_it(session, tiny):
    media_upload(session, course=tiny, data=png_bytes(), filename="chart.png")
    authoring.course_update(
        session,
        course=tiny,
        title="A tiny course",
        summary="Short.",
        pass_mark=0.8,
        help="![Our phone line](media/chart.png)",
    )
    authoring.publish(session, course=tiny)
    authoring.course_update(
        session, course=tiny, title="A tiny course", summary="Short.", pass_mark=0.8, help="Call us."
    )
    item = media_list(session, course=tiny)[0]
    assert (item.published_in, item.draft_in) == (["Where to get help"], [])
    with pytest.raises(MediaInUse, match="publish"):
        media_delete(session, course=tiny, name="chart.png")


def test_the_list_says_where_each_image_is_shown_in_three_queries_whatever_their_number(app, session, tiny):
    admin_id = create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    media_upload(session, course=tiny, data=png_bytes(), filename="first.png", user_id=admin_id)
    authoring.lesson_update(
        session, course=tiny, lesson_slug="two", title="Lesson two", minutes=5, body="![One](media/first.png)"
    )
    session.expire_all()
    session.refresh(tiny)  # as a page has it: loaded once per request
    with count_queries(db.engine) as one:
        items = media_list(session, course=tiny)
    assert [(i.media.name, i.uploaded_by, i.draft_in, i.published_in) for i in items] == [
        ("first.png", "Ada Admin", ["Lesson two"], [])
    ]
    assert items[0].snippet == "![](media/first.png)"
    for number in range(5):
        media_upload(session, course=tiny, data=png_bytes(colour=(number, 0, 0)), filename=f"more-{number}.png")
    session.expire_all()
    session.refresh(tiny)
    with count_queries(db.engine) as six:
        assert len(media_list(session, course=tiny)) == 6
    assert one() == six() == 3


def test_an_uploaders_erased_account_leaves_the_image_in_the_course(app, session, tiny):
    admin_id = create_user(app, "ada@example.org", role=Role.ADMIN)
    media_upload(session, course=tiny, data=png_bytes(), filename="chart.png", user_id=admin_id)
    session.delete(session.get(User, admin_id))
    session.commit()
    assert session.scalar(select(CourseMedia.uploaded_by_id).where(CourseMedia.name == "chart.png")) is None


# --- serving -----------------------------------------------------------------------------------


def test_an_image_is_found_only_at_its_current_url(session, tiny):
    row = media_upload(session, course=tiny, data=png_bytes(), filename="chart.png")
    url = media_url("tiny", row.name, row.sha256)
    _, _, course_slug, version, name = url.split("/")
    found = media_for_serving(session, course_slug=course_slug, version=version, name=name)
    assert found is not None and found.data == row.data
    for wrong in [
        {"course_slug": "other", "version": version, "name": name},
        {"course_slug": course_slug, "version": "0" * 16, "name": name},
        {"course_slug": course_slug, "version": version[:8], "name": name},
        {"course_slug": course_slug, "version": version, "name": "CHART.png"},
        {"course_slug": course_slug, "version": version, "name": "../chart.png"},
    ]:
        assert media_for_serving(session, **wrong) is None, wrong
