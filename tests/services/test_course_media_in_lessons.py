"""Images in lessons: the course rules (alt text, a known image, nothing remote), the rendered HTML,
and the files format's media/ folder through import, export and back without loss."""

from __future__ import annotations

import copy
import io
import re
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import Course, CourseMedia, CoursePublication, Lesson
from app.services import authoring
from app.services.authoring import DraftInvalid
from app.services.authoring.history import publication_restore, restore_preview
from app.services.course_export import course_export_files, course_files_zip
from app.services.course_files import load_course, load_course_zip, parse_course_data
from app.services.course_import import course_import
from app.services.course_media import image_check, media_delete, media_upload, media_version
from app.services.errors import CourseInvalid
from app.services.markdown import ImageSource, render_markdown
from app.services.progress import course_by_slug
from tests.conftest import make_test_config
from tests.factories import COURSE, default_lessons, write_course
from tests.images import SVG, jpeg_bytes, png_bytes, webp_bytes

IMAGE_LINE = "![A receptor with naltrexone in it](media/receptor.png)"


def course_folder(tmp_path: Path, *, body: str = IMAGE_LINE, images: dict[str, bytes] | None = None, help_text=None):
    """The tiny course with lesson one's body showing ``body``, and ``images`` in media/."""
    lessons = default_lessons()
    lessons["one"]["body"] = f"## Lesson one\n\n{body}\n"
    course = copy.deepcopy(COURSE)
    if help_text is not None:
        course["help"] = help_text
    folder = write_course(tmp_path, course, lessons)
    images = {"receptor.png": png_bytes((80, 60))} if images is None else images
    if images:
        (folder / "media").mkdir()
        for name, data in images.items():
            (folder / "media" / name).write_bytes(data)
    return folder


def problems(folder: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(CourseInvalid) as invalid:
        load_course(folder)
    return [(p.file, p.field, p.message) for p in invalid.value.problems]


# --- the rules -------------------------------------------------------------------------------


def test_a_course_folder_with_its_images_is_valid(tmp_path):
    spec = load_course(course_folder(tmp_path))
    image = spec.media["receptor.png"]
    assert (image.content_type, image.width, image.height) == ("image/png", 80, 60)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("![](media/receptor.png)", "“media/receptor.png” needs alt text"),
        ("![   ](media/receptor.png)", "needs alt text"),
        (
            "![A diagram](media/elsewhere.png)",
            "“media/elsewhere.png” is not among the course's images: put it in the course folder's media/ first",
        ),
        ("![A diagram](https://example.org/diagram.png)", "is on another site"),
        ("![A diagram](//cdn.example.org/diagram.png)", "is on another site"),
        ("![A diagram](diagram.png)", "must be one of the course's images, written media/<its name>"),
        ("![A diagram](data:image/png;base64,iVBORw0KGgo=)", "must be one of the course's images"),
    ],
    ids=["no-alt", "blank-alt", "missing-file", "remote", "protocol-relative", "not-in-media", "data-url"],
)
def test_each_image_problem_is_reported_at_the_lessons_body(tmp_path, body, says):
    found = problems(course_folder(tmp_path, body=body))
    assert {(file, field) for file, field, _ in found} == {("lessons/one.md", "body")}
    assert says in found[0][2]  # first; a data: URL is also named as a script link that would go


def test_an_image_shown_as_code_is_not_an_image(tmp_path):
    load_course(course_folder(tmp_path, body="Write `![](media/x.png)` to show an image."))


def test_the_help_text_follows_the_same_rules(tmp_path):
    found = problems(
        course_folder(
            tmp_path,
            body="No image.",
            help_text="Call us. ![Our sign](https://example.org/x.png) ![](media/receptor.png)",
        )
    )
    assert [(file, field) for file, field, _ in found] == [("course.yaml", "help"), ("course.yaml", "help")]
    assert "another site" in found[0][2] and "needs alt text" in found[1][2]


def test_every_bad_file_in_media_is_reported_with_its_path(tmp_path):
    folder = course_folder(
        tmp_path,
        body="No image.",
        images={
            "logo.png": SVG,  # an SVG, renamed
            "photo.jpg": png_bytes(),  # a PNG named .jpg
            "My Photo.png": png_bytes(),
            "notes.webp": b"hello",
            "fine.webp": webp_bytes(),
        },
    )
    found = problems(folder)
    by_file = {file: message for file, _, message in found}
    assert set(by_file) == {"media/logo.png", "media/photo.jpg", "media/My Photo.png", "media/notes.webp"}
    assert "SVG images are not accepted" in by_file["media/logo.png"]
    assert by_file["media/photo.jpg"] == "is a PNG image: its name must end in .png"
    assert "lower-case letters and digits" in by_file["media/My Photo.png"]
    assert "not a PNG, JPEG or WebP" in by_file["media/notes.webp"]


def test_hidden_files_in_media_are_not_the_courses(tmp_path):
    folder = course_folder(tmp_path)
    (folder / "media" / ".gitkeep").write_text("")
    assert set(load_course(folder).media) == {"receptor.png"}


def test_drafts_are_held_to_the_same_rules(session, tmp_path):
    course_import(session, load_course(course_folder(tmp_path)))
    course = course_by_slug(session, "tiny")
    with pytest.raises(DraftInvalid) as invalid:
        authoring.lesson_update(
            session, course=course, lesson_slug="two", title="Lesson two", minutes=5, body="![](media/receptor.png)"
        )
    assert any("needs alt text" in message for message in invalid.value.field_errors["body"])
    with pytest.raises(DraftInvalid) as invalid:
        authoring.lesson_update(
            session, course=course, lesson_slug="two", title="Lesson two", minutes=5, body="![Gone](media/gone.png)"
        )
    assert any("is not among the course's images" in message for message in invalid.value.field_errors["body"])
    authoring.lesson_update(
        session, course=course, lesson_slug="two", title="Lesson two", minutes=5, body="Again: " + IMAGE_LINE
    )


def test_a_draft_showing_an_image_that_has_gone_cannot_be_published(session, tmp_path):
    course_import(
        session,
        load_course(course_folder(tmp_path, images={"receptor.png": png_bytes(), "spare.png": png_bytes((9, 9))})),
    )
    course = course_by_slug(session, "tiny")
    authoring.lesson_update(
        session, course=course, lesson_slug="two", title="Lesson two", minutes=5, body="![Spare](media/spare.png)"
    )
    # Removed behind the page's back (the page refuses while a lesson shows it).
    session.delete(session.scalar(select(CourseMedia).where(CourseMedia.name == "spare.png")))
    session.commit()
    preview = authoring.publish_preview(session, course=course)
    assert not preview.can_publish
    assert any("“media/spare.png” is not among the course's images" in p.message for p in preview.problems)
    with pytest.raises(DraftInvalid):
        authoring.publish(session, course=course)


def test_the_validator_without_image_names_checks_everything_but_existence():
    data = {"course": copy.deepcopy(COURSE), "lessons": default_lessons()}
    data["lessons"]["one"]["body"] = "![A chart](media/anything.png)"
    parse_course_data(data)  # does not raise
    data["lessons"]["one"]["body"] = "![](media/anything.png)"
    with pytest.raises(CourseInvalid, match="problem"):
        parse_course_data(data)


# --- rendering -------------------------------------------------------------------------------


def test_an_imported_lesson_shows_the_image_at_its_versioned_url_with_its_size(session, tmp_path):
    course_import(session, load_course(course_folder(tmp_path)))
    row = session.scalar(select(CourseMedia))
    body_html = session.scalar(select(Lesson.body_html).where(Lesson.slug == "one"))
    url = f"/media/tiny/{media_version(row.sha256)}/receptor.png"
    assert (
        f'<img src="{url}" alt="A receptor with naltrexone in it" width="80" height="60" loading="lazy">' in body_html
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "![x](https://tracker.example/pixel.png)",
        "![x](//tracker.example/pixel.png)",
        "![x](media/unknown.png)",
        '<img src="https://tracker.example/pixel.png">',
        "[![x](https://tracker.example/p.png)](https://example.org)",
    ],
)
def test_no_rendered_page_can_ask_another_site_for_an_image(markdown):
    rendered = render_markdown(markdown, media={"known.png": ImageSource("/media/c/0123456789abcdef/known.png", 1, 1)})
    assert "<img" not in rendered and "tracker" not in rendered.split("href")[0]


def test_the_alt_text_of_an_image_that_cannot_be_shown_is_kept():
    assert render_markdown("Look: ![A chart of doses](https://example.org/x.png)") == "<p>Look: A chart of doses</p>\n"


# --- the files format: import, export, round trip --------------------------------------------


def exported(session) -> dict[str, str | bytes]:
    return course_export_files(session, course_by_slug(session, "tiny"))


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    for relative, content in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (folder / relative).write_bytes(content)
        else:
            (folder / relative).write_text(content, encoding="utf-8")
    return folder


def test_export_writes_media_and_import_export_gives_back_the_same_bytes(session, tmp_path):
    original = jpeg_bytes((50, 40))
    course_import(
        session,
        load_course(course_folder(tmp_path / "in", images={"receptor.png": png_bytes(), "photo.jpg": original})),
    )
    first = exported(session)
    assert {path for path in first if path.startswith("media/")} == {"media/photo.jpg", "media/receptor.png"}
    assert first["media/photo.jpg"] == image_check(original).data  # as stored: metadata already gone
    report = course_import(session, load_course(write_files(tmp_path / "out", first)))
    assert not report.changed
    assert exported(session) == first


def test_an_export_imported_into_an_empty_database_reproduces_the_images(session, tmp_path):
    from app import create_app

    course_import(session, load_course(course_folder(tmp_path / "in")))
    first = exported(session)
    html = session.scalar(select(Lesson.body_html).where(Lesson.slug == "one"))
    other = create_app(make_test_config(f"sqlite:///{tmp_path / 'empty.db'}"))
    with other.app_context():
        db.create_all()
        course_import(db.session, load_course(write_files(tmp_path / "out", first)))
        assert course_export_files(db.session, course_by_slug(db.session, "tiny")) == first
        assert db.session.scalar(select(Lesson.body_html).where(Lesson.slug == "one")) == html
        db.session.remove()
        db.engine.dispose()


def test_a_zip_export_carries_the_images_and_imports_back(session, tmp_path):
    course_import(session, load_course(course_folder(tmp_path)))
    archive = course_files_zip(exported(session), "tiny")
    assert "tiny/media/receptor.png" in zipfile.ZipFile(io.BytesIO(archive)).namelist()
    spec = load_course_zip(archive)
    assert spec.media["receptor.png"].data == session.scalar(select(CourseMedia.data))
    assert course_files_zip(exported(session), "tiny") == archive  # stable


def test_a_changed_image_file_replaces_the_image_and_moves_its_url(session, tmp_path):
    course_import(session, load_course(course_folder(tmp_path / "v1")))
    old_html = session.scalar(select(Lesson.body_html).where(Lesson.slug == "one"))
    version = session.scalar(select(Course.content_version))
    report = course_import(
        session, load_course(course_folder(tmp_path / "v2", images={"receptor.png": png_bytes((80, 60), (0, 0, 255))}))
    )
    assert "Image “receptor.png” replaced" in report.changes
    new_html = session.scalar(select(Lesson.body_html).where(Lesson.slug == "one"))
    assert new_html != old_html and re.search(r"/media/tiny/[0-9a-f]{16}/receptor\.png", new_html)
    assert session.scalar(select(Course.content_version)) == version + 1


def test_an_import_keeps_uploaded_images_its_folder_does_not_have(session, tmp_path):
    course_import(session, load_course(course_folder(tmp_path / "v1", body="No image.", images={})))
    course = course_by_slug(session, "tiny")
    media_upload(session, course=course, data=png_bytes(), filename="uploaded.png")
    report = course_import(session, load_course(course_folder(tmp_path / "v2", body="No image.", images={})))
    assert not report.changed
    assert session.scalar(select(CourseMedia.name)) == "uploaded.png"
    media_delete(session, course=course, name="uploaded.png")


def test_the_cli_exports_images_to_the_folder_and_removes_stale_ones(app, runner, tmp_path):
    with app.app_context():
        course_import(db.session, load_course(course_folder(tmp_path / "in")))
        db.session.remove()
    out = tmp_path / "out"
    (out / "media").mkdir(parents=True)
    (out / "media" / "old.png").write_bytes(png_bytes())
    (out / "media" / ".gitkeep").write_text("")
    result = runner.invoke(args=["courses", "export", "tiny", str(out)])
    assert result.exit_code == 0 and "3 lessons, 1 images" in result.output, result.output
    assert sorted(path.name for path in (out / "media").iterdir()) == [".gitkeep", "receptor.png"]
    with app.app_context():
        stored = db.session.scalar(select(CourseMedia).options(undefer(CourseMedia.data)))
        assert (out / "media" / "receptor.png").read_bytes() == stored.data
        db.session.remove()
    result = runner.invoke(args=["courses", "import", str(out)])
    assert result.exit_code == 0 and "nothing changed" in result.output, result.output


def test_restoring_a_version_that_showed_an_image_since_deleted_is_refused(session, tmp_path):
    course_import(
        session,
        load_course(course_folder(tmp_path, images={"receptor.png": png_bytes(), "old.png": png_bytes((9, 9))})),
    )
    course = course_by_slug(session, "tiny")
    for body in ("![The old diagram](media/old.png)", "No image any more."):
        authoring.lesson_update(session, course=course, lesson_slug="two", title="Lesson two", minutes=5, body=body)
        authoring.publish(session, course=course)
    with_image = session.scalars(select(CoursePublication).order_by(CoursePublication.id)).first()
    media_delete(session, course=course, name="old.png")  # no lesson shows it now

    preview = restore_preview(session, course=course, publication=with_image).preview
    assert any("“media/old.png” is not among the course's images" in p.message for p in preview.problems)
    with pytest.raises(DraftInvalid):
        publication_restore(session, course=course, publication=with_image, user_id=None, zone=ZoneInfo("UTC"))
