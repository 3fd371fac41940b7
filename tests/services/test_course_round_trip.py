"""Export and import round-trip the course files without loss."""

import io
import zipfile

from app.extensions import db
from app.services.course_export import course_data_to_files, course_files_zip, course_to_data
from app.services.course_files import load_course, load_course_zip, read_course_folder
from app.services.course_import import course_import
from app.services.progress import course_by_slug
from tests.conftest import COURSE_SLUG, FACTORY_COURSE_DIR, factory_course_spec, make_test_config, real_course_spec


def export_files(session, slug=COURSE_SLUG) -> dict[str, str]:
    return course_data_to_files(course_to_data(session, course_by_slug(session, slug)))


def write(folder, files):
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    return folder


def test_export_then_import_then_export_gives_identical_files(session, course, tmp_path):
    first = export_files(session)
    report = course_import(session, load_course(write(tmp_path / "exported", first)))
    assert not report.changed
    assert export_files(session) == first


def test_the_export_is_a_valid_course_folder_with_every_lesson(session, course, tmp_path):
    files = export_files(session)
    originals = read_course_folder(FACTORY_COURSE_DIR)
    assert set(files) == set(originals)
    spec = load_course(write(tmp_path / "exported", files))
    assert spec == factory_course_spec()


def test_the_real_course_exports_without_loss(session, real_course, tmp_path):
    """The exporter keeps everything the real course's authors actually write."""
    files = export_files(session, real_course)
    assert load_course(write(tmp_path / "exported", files)) == real_course_spec()


def test_importing_an_export_into_an_empty_database_reproduces_the_course(session, course, tmp_path):
    from app import create_app

    files = export_files(session)
    data = course_to_data(session, course_by_slug(session, course))
    other = create_app(make_test_config(f"sqlite:///{tmp_path / 'empty.db'}"))
    with other.app_context():
        db.create_all()
        course_import(db.session, load_course(write(tmp_path / "exported", files)))
        copy = course_by_slug(db.session, course)
        assert course_to_data(db.session, copy) == data
        assert course_data_to_files(course_to_data(db.session, copy)) == files
        db.session.remove()
        db.engine.dispose()


def test_zip_export_round_trips_and_is_stable(session, course):
    files = export_files(session)
    archive = course_files_zip(files, course)
    assert course_files_zip(export_files(session), course) == archive
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert f"{course}/course.yaml" in names
    assert load_course_zip(archive) == factory_course_spec()


def test_cli_export_writes_a_folder_and_a_zip_that_import_back(app, runner, course, tmp_path):
    result = runner.invoke(args=["courses", "export", course, str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "course.yaml").is_file()
    result = runner.invoke(args=["courses", "export", course, str(tmp_path / "out.zip")])
    assert result.exit_code == 0, result.output
    for path in (tmp_path / "out", tmp_path / "out.zip"):
        result = runner.invoke(args=["courses", "import", str(path)])
        assert result.exit_code == 0 and "nothing changed" in result.output, result.output


def test_cli_export_of_an_unknown_course_fails_cleanly(runner, course, tmp_path):
    result = runner.invoke(args=["courses", "export", "nope", str(tmp_path / "out")])
    assert result.exit_code == 1 and "No course with slug 'nope'" in result.output


def test_a_broken_zip_is_reported_not_raised(runner, tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    result = runner.invoke(args=["courses", "import", str(tmp_path / "bad.zip")])
    assert result.exit_code == 1 and "is not a zip file" in result.output


def test_admin_downloads_the_course_as_a_zip(client, app, course):
    from app.models import Role
    from tests.conftest import create_user, login

    create_user(app, "admin@example.org", role=Role.ADMIN)
    login(client, "admin@example.org")
    response = client.get(f"/author/courses/{course}/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert f'filename="{course}.zip"' in response.headers["Content-Disposition"]
    assert load_course_zip(response.data) == factory_course_spec()


def test_text_of_several_lines_is_exported_as_written_line_for_line(session, course, tmp_path):
    """The course's help (Markdown of several lines) comes out as a literal block an author can edit
    in git, not as one quoted string of \\n escapes; it still reads back exactly."""
    data = course_to_data(session, course_by_slug(session, course))
    assert "\n" in data["course"]["help"].rstrip("\n")
    course_yaml = export_files(session)["course.yaml"]
    assert "help: |" in course_yaml
    for line in data["course"]["help"].splitlines():
        assert f"  {line}".rstrip() + "\n" in course_yaml
    assert "\\n" not in course_yaml
    spec = load_course(write(tmp_path / "exported", export_files(session)))
    assert spec == factory_course_spec()


def test_text_a_literal_block_cannot_hold_stays_quoted_and_reads_back_exactly():
    """A line ending in a space, or a carriage return, cannot be written as a literal block: such
    text stays a quoted string, so nothing of it is lost."""
    import yaml

    from app.services.course_export import _dump

    for text in ["one line", "two\nlines\n", "trailing space \nnext", "a\r\nb", "  indented\nthen not", "a\n\n\nb\n\n"]:
        assert yaml.safe_load(_dump({"help": text, "after": 1})) == {"help": text, "after": 1}
    # YAML's other line breaks, NEL (U+0085) above all: PyYAML's own style read it back as a space.
    for text in ["a\x85b", "a\x85b\nc\n", "a\u2028b\nc", "a\u2029b", "x\x85"]:
        assert yaml.safe_load(_dump({"help": text, "after": 1})) == {"help": text, "after": 1}, repr(text)
