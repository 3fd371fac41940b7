"""The flask sub-commands: validating and importing course folders, creating accounts."""

from __future__ import annotations

import copy

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import Course, CoursePublication, Lesson, LessonProgress, Module, Role, User
from tests.conftest import COURSE_SLUG, FACTORY_COURSE_DIR, PASSWORD, create_user, factory_course_spec, login
from tests.factories import COURSE, default_lessons, write_course


def broken_course(folder):
    """A course folder with three problems in two files."""
    lessons = default_lessons()
    lessons["one"]["front"]["quiz"][0]["choices"][0]["correct"] = False
    lessons["two"]["front"]["quiz"][1]["choices"][2]["misconception"] = "made-up"
    return write_course(folder, course={**copy.deepcopy(COURSE), "pass_mark": 80}, lessons=lessons)


def assert_failed_cleanly(result) -> None:
    """Exit status 1 from the command itself: no uncaught exception, no traceback."""
    assert result.exit_code == 1, result.output
    assert type(result.exception) is SystemExit, result.exception
    assert "Traceback" not in result.output


def row_count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_validate_a_course_succeeds_with_a_summary(runner):
    spec = factory_course_spec()
    questions = sum(len(lesson.quiz) for lesson in spec.lessons.values())

    result = runner.invoke(args=["courses", "validate", str(FACTORY_COURSE_DIR)])

    assert result.exit_code == 0, result.output
    summary = f"{len(spec.modules)} modules, {len(spec.lessons)} lessons, {questions} questions"
    assert result.output.startswith(f"{spec.slug}: valid ({summary}).")


def test_validate_broken_course_lists_each_problem_on_its_own_line(runner, tmp_path):
    folder = broken_course(tmp_path)

    result = runner.invoke(args=["courses", "validate", str(folder)])

    assert_failed_cleanly(result)
    lines = [line.strip() for line in result.stderr.splitlines()]
    assert lines[0] == f"{folder}: 3 problem(s) found:"
    assert sorted(lines[1:]) == [
        "course.yaml: pass_mark: must be a number above 0 and at most 1 (the share of questions right)",
        "lessons/one.md: quiz[1].choices: a one-answer question (kind: single) needs exactly one correct choice, "
        "found 0",
        "lessons/two.md: quiz[2].choices[3].misconception: unknown misconception code 'made-up' "
        "(define it in course.yaml)",
    ]


def test_validate_bad_yaml_gives_a_message_not_a_traceback(runner, tmp_path):
    folder = write_course(tmp_path)
    (folder / "course.yaml").write_text("slug: tiny\n  title: oops\n", encoding="utf-8")

    result = runner.invoke(args=["courses", "validate", str(folder)])

    assert_failed_cleanly(result)
    assert "course.yaml: line 2: bad YAML" in result.stderr


def test_validate_a_missing_folder_fails_cleanly(runner, tmp_path):
    result = runner.invoke(args=["courses", "validate", str(tmp_path / "nowhere")])

    assert_failed_cleanly(result)
    assert "is not a course folder" in result.stderr


def test_import_twice_second_run_says_nothing_changed(app, runner):
    spec = factory_course_spec()
    first = runner.invoke(args=["courses", "import", str(FACTORY_COURSE_DIR)])
    second = runner.invoke(args=["courses", "import", str(FACTORY_COURSE_DIR)])

    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"{spec.slug}: created ")
    assert second.exit_code == 0, second.output
    assert second.output == f"{spec.slug}: already up to date, nothing changed.\n"
    assert row_count(app, Lesson) == len(spec.lessons)
    # The first import is a version in the course's history (nobody published it: the files did);
    # the second changed nothing and adds none.
    with app.app_context():
        [publication] = db.session.scalars(select(CoursePublication)).all()
        assert publication.from_files and publication.published_by_id is None and publication.data


def test_import_of_a_broken_course_fails_and_writes_nothing(app, runner, tmp_path):
    result = runner.invoke(args=["courses", "import", str(broken_course(tmp_path))])

    assert_failed_cleanly(result)
    assert "3 problem(s) found" in result.stderr
    assert row_count(app, Course) == 0
    assert row_count(app, Lesson) == 0


def test_import_retires_a_dropped_lesson_learners_have_started(app, runner, tmp_path, learner):
    assert runner.invoke(args=["courses", "import", str(write_course(tmp_path / "v1"))]).exit_code == 0
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.slug == "three"))
        db.session.add(LessonProgress(user_id=learner, lesson_id=lesson_id))
        db.session.commit()
    course = copy.deepcopy(COURSE)
    course["modules"] = course["modules"][:1]
    lessons = default_lessons()
    del lessons["three"]

    result = runner.invoke(args=["courses", "import", str(write_course(tmp_path / "v2", course, lessons))])

    assert result.exit_code == 0, result.output
    assert "retired 1 lessons" in result.output
    assert row_count(app, Lesson) == 3  # kept, for the learner's history


def test_import_over_an_unpublished_draft_is_refused_unless_the_draft_is_discarded(app, runner, tmp_path):
    """Publishing a draft made before an import put back everything the import changed."""
    from app.services import authoring

    assert runner.invoke(args=["courses", "import", str(write_course(tmp_path / "v1"))]).exit_code == 0
    with app.app_context():
        course = db.session.scalar(select(Course))
        authoring.module_rename(db.session, course=course, module_slug=COURSE["modules"][0]["slug"], title="Edited")
        db.session.remove()
    unchanged = runner.invoke(args=["courses", "import", str(tmp_path / "v1")])
    assert unchanged.exit_code == 0 and "nothing changed" in unchanged.output  # `make run` does this each time
    lessons = default_lessons()
    lessons["one"]["front"]["minutes"] = 11

    refused = runner.invoke(args=["courses", "import", str(write_course(tmp_path / "v2", lessons=lessons))])

    assert_failed_cleanly(refused)
    assert "has unpublished changes in its draft. Publish or discard them first" in refused.stderr
    with app.app_context():
        assert db.session.scalar(select(Lesson.minutes).where(Lesson.slug == "one")) != 11  # nothing imported
        assert authoring.draft_get(db.session, db.session.scalar(select(Course))) is not None  # the draft kept

    done = runner.invoke(
        args=["courses", "import", "--discard-draft", str(write_course(tmp_path / "v3", lessons=lessons))]
    )

    assert done.exit_code == 0, done.output
    with app.app_context():
        assert db.session.scalar(select(Lesson.minutes).where(Lesson.slug == "one")) == 11
        assert authoring.draft_get(db.session, db.session.scalar(select(Course))) is None


def test_import_over_what_an_admin_published_is_refused_unless_told_to_keep_or_overwrite(app, runner, tmp_path):
    """An upgrade's `flask courses import` silently undid a fix an admin had published at /author/."""
    from app.services import authoring

    files = write_course(tmp_path / "v1")
    first_module = COURSE["modules"][0]
    assert runner.invoke(args=["courses", "import", str(files)]).exit_code == 0
    admin = create_user(app, "dana@example.org", role=Role.ADMIN, name="Dana Admin")

    def rename_and_publish(title: str) -> None:
        with app.app_context():
            course = db.session.scalar(select(Course))
            authoring.module_rename(db.session, course=course, module_slug=first_module["slug"], title=title)
            authoring.publish(db.session, course=course, user_id=admin)
            db.session.commit()
            db.session.remove()

    def published() -> tuple[str, str]:
        with app.app_context():
            title = db.session.scalar(select(Module.title).where(Module.slug == first_module["slug"]))
            return title, db.session.scalar(select(Course.summary))

    rename_and_publish("Fixed")
    refused = runner.invoke(args=["courses", "import", str(files)])
    assert_failed_cleanly(refused)
    assert "was last published by Dana Admin on" in refused.stderr
    assert "would undo what admins changed since the files were last imported: the modules." in refused.stderr
    assert "flask courses export tiny PATH" in refused.stderr and "--overwrite-published" in refused.stderr
    assert published()[0] == "Fixed"

    kept = runner.invoke(args=["courses", "import", "--keep-published", str(files)])  # as `make run` does
    assert kept.exit_code == 0 and "not imported, kept as admins published it" in kept.output
    assert published()[0] == "Fixed"

    # The published course written out, a change of the files' own made to it: the admin's fix is in
    # the files, so the import goes through, and brings the new change.
    merged = tmp_path / "merged"
    assert runner.invoke(args=["courses", "export", "tiny", str(merged)]).exit_code == 0
    course_yaml = merged / "course.yaml"
    course_yaml.write_text(
        course_yaml.read_text(encoding="utf-8").replace(COURSE["summary"], "A new summary."), encoding="utf-8"
    )
    imported = runner.invoke(args=["courses", "import", str(merged)])
    assert imported.exit_code == 0, imported.stderr
    assert published() == ("Fixed", "A new summary.")

    # An admin's change put back as the files have it: nothing of theirs left to undo.
    rename_and_publish("Fixed again")
    rename_and_publish("Fixed")
    course_yaml.write_text(
        course_yaml.read_text(encoding="utf-8").replace("A new summary.", "Another summary."), encoding="utf-8"
    )
    assert runner.invoke(args=["courses", "import", str(merged)]).exit_code == 0
    assert published() == ("Fixed", "Another summary.")

    rename_and_publish("Fixed again")
    overwritten = runner.invoke(args=["courses", "import", "--overwrite-published", str(files)])
    assert overwritten.exit_code == 0, overwritten.output
    assert published() == (first_module["title"], COURSE["summary"])


def test_users_create_admin_who_can_log_in(app, runner, client):
    result = runner.invoke(args=["users", "create", "Boss@Example.org", "--role", "admin", "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    assert result.output == "Created admin boss@example.org.\n"
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role, user.display_name) == ("boss@example.org", "admin", "Boss")
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith("scrypt:")
        assert check_password_hash(user.password_hash, PASSWORD)
    response = login(client, "boss@example.org", PASSWORD)
    assert response.status_code == 302
    assert "/auth/login" not in response.headers["Location"]


def test_users_create_prompts_for_the_password_when_not_given(app, runner):
    result = runner.invoke(args=["users", "create", "lee@example.org"], input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.role == "learner"
        assert check_password_hash(user.password_hash, PASSWORD)


def test_users_create_refuses_a_duplicate_email(app, runner):
    args = ["users", "create", "lee@example.org", "--password", PASSWORD]
    assert runner.invoke(args=args).exit_code == 0

    result = runner.invoke(args=[*args[:2], "LEE@example.org", *args[3:]])

    assert_failed_cleanly(result)
    assert "Not created: An account with this e-mail already exists." in result.stderr
    assert row_count(app, User) == 1


def test_users_create_refuses_a_short_password(app, runner):
    result = runner.invoke(args=["users", "create", "lee@example.org", "--password", "short"])

    assert_failed_cleanly(result)
    assert "Not created: Use at least 10 characters." in result.stderr
    assert row_count(app, User) == 0


def test_users_create_refuses_an_unknown_role(app, runner):
    result = runner.invoke(args=["users", "create", "lee@example.org", "--role", "owner", "--password", PASSWORD])

    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output
    assert row_count(app, User) == 0


def test_validate_lists_quality_warnings_and_still_succeeds(runner, tmp_path):
    lessons = default_lessons()
    lessons["one"]["front"]["quiz"] = lessons["one"]["front"]["quiz"][:2]  # a 2-question quiz
    folder = write_course(tmp_path / "warned", lessons=lessons)

    result = runner.invoke(args=["courses", "validate", str(folder)])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "tiny: valid (2 modules, 3 lessons, 8 questions)."
    assert "warning: course.yaml: review: no review is recorded" in result.output
    assert "warning: lessons/one.md: quiz: the quiz has only 2 question(s): 3 or more tell learning from luck" in lines
    assert "warning: lessons/two.md: sources: the lesson lists no sources: say where its facts come from" in lines
    assert lines[-1].endswith("warning(s): the course works, but fix these before learners rely on it.")


def test_validate_says_nothing_more_for_a_course_without_warnings(runner, tmp_path):
    result = runner.invoke(args=["courses", "validate", str(FACTORY_COURSE_DIR)])

    assert "warning" not in result.output


def test_xapi_status_counts_the_outbox_and_retry_refused_puts_them_back(app, runner, learner):
    """What an operator has when the store refuses statements: how many, why, and a way to resend."""
    import uuid as uuid_module
    from datetime import UTC, datetime

    from app.extensions import db
    from app.models import XapiStatement

    refused_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with app.app_context():
        for n in range(3):
            db.session.add(
                XapiStatement(
                    id=str(uuid_module.uuid4()),
                    user_id=learner,
                    statement={"verb": {"id": "x"}},
                    created_at=datetime(2026, 12, 1, 8, n, tzinfo=UTC),
                    attempts=1 if n < 2 else 0,
                    last_error="HTTP 400: bad statement" if n < 2 else None,
                    refused_at=refused_at if n < 2 else None,
                )
            )
        db.session.commit()

    status = runner.invoke(args=["xapi", "status"])
    assert status.exit_code == 0, status.output
    assert "Waiting to be sent: 1, the oldest from 2026-12-01 08:02 UTC." in status.output
    assert "Refused by the store (set aside): 2." in status.output
    assert "2 x HTTP 400: bad statement" in status.output and "flask xapi retry-refused" in status.output

    again = runner.invoke(args=["xapi", "retry-refused"])
    assert "Statements to send again: 2." in again.output
    assert "Waiting to be sent: 3" in runner.invoke(args=["xapi", "status"]).output


def test_export_onto_a_file_that_is_no_folder_says_so_without_a_traceback(app, runner, tmp_path):
    assert runner.invoke(args=["courses", "import", str(FACTORY_COURSE_DIR)]).exit_code == 0
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")

    result = runner.invoke(args=["courses", "export", COURSE_SLUG, str(taken)])

    assert result.exit_code == 1 and "is a file: give a folder" in result.output
    assert "Traceback" not in result.output and taken.read_text() == "mine"


def test_an_import_that_changes_content_under_the_old_review_date_warns(app, runner, tmp_path):
    review = {"reviewed_by": "Clinical panel", "reviewed_on": "2026-12-04", "next_review_on": "2099-12-04"}
    course = {**copy.deepcopy(COURSE), "review": review}
    assert runner.invoke(args=["courses", "import", str(write_course(tmp_path / "v1", course))]).exit_code == 0
    lessons = default_lessons()
    lessons["one"]["body"] = "## Lesson one\n\nChanged words.\n"

    same_date = runner.invoke(args=["courses", "import", str(write_course(tmp_path / "v2", course, lessons))])

    assert same_date.exit_code == 0, same_date.output
    assert (
        "warning: course.yaml: review.reviewed_on: the content changes, but its review is still dated 2026-12-04"
        in (same_date.output)
    )
    lessons["one"]["body"] = "## Lesson one\n\nChanged again, and reviewed.\n"
    reviewed = {**course, "review": {**review, "reviewed_on": "2026-12-07"}}
    new_date = runner.invoke(args=["courses", "import", str(write_course(tmp_path / "v3", reviewed, lessons))])
    assert new_date.exit_code == 0 and "updated" in new_date.output
    assert "warning" not in new_date.output


def test_an_import_that_changes_only_the_reviews_details_does_not_warn(app, runner, tmp_path):
    review = {"reviewed_by": "Clinical panel", "reviewed_on": "2026-12-04", "next_review_on": "2099-12-04"}
    course = {**copy.deepcopy(COURSE), "review": review}
    assert runner.invoke(args=["courses", "import", str(write_course(tmp_path / "v1", course))]).exit_code == 0
    renamed = {**course, "review": {**review, "reviewed_by": "Clinical review panel", "next_review_on": "2098-01-01"}}

    result = runner.invoke(args=["courses", "import", str(write_course(tmp_path / "v2", renamed))])

    assert result.exit_code == 0 and "updated 1 courses" in result.output, result.output
    assert "warning" not in result.output
