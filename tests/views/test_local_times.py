"""Pages show times in the site's zone (London by default), the way people write them, and never "UTC"."""

from datetime import UTC, datetime

from sqlalchemy import select, update

from app.extensions import db
from app.models import Certificate, LessonProgress, ProgressView, QuizAttempt, Role
from tests.conftest import COURSE_SLUG, create_user, lesson_slugs, login, quiz_form, submit_quiz, visible_text
from tests.views.test_counsel import answer, invite, log_in_as

# Half past eleven at night in UTC, in summer: half past midnight the next day in London (BST).
LATE_SUMMER_EVENING = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
AS_READ = "2 Jul 2026, 12:30am"


def _move_history_to(app, moment: datetime) -> None:
    with app.app_context():
        db.session.execute(update(QuizAttempt).values(submitted_at=moment))
        db.session.execute(update(LessonProgress).values(opened_at=moment))
        db.session.execute(update(ProgressView).values(viewed_at=moment))
        db.session.commit()
        db.session.remove()


def test_a_quiz_result_shows_when_in_london_time_and_keeps_the_utc_instant_for_machines(learner_client, app):
    first = lesson_slugs(app)[0]
    result = submit_quiz(learner_client, first, quiz_form(app, first)).headers["Location"]
    _move_history_to(app, LATE_SUMMER_EVENING)
    page = learner_client.get(result).get_data(as_text=True)
    assert f'<time datetime="2026-07-01T23:30:00+00:00">{AS_READ}</time>' in page
    assert "UTC" not in visible_text(page)


def test_the_learner_and_the_counsellor_read_the_same_local_time(client, app, course, learner):
    create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "learner@example.org")
    assert answer(client, code, "accept").status_code == 302
    first = lesson_slugs(app)[0]
    client.get(f"/courses/{course}/lessons/{first}")  # opens the lesson
    submit_quiz(client, first, quiz_form(app, first, right=False))
    log_in_as(client, "casey@example.org")
    assert client.get(f"/counsel/clients/{learner}").status_code == 200  # recorded as a view
    _move_history_to(app, LATE_SUMMER_EVENING)

    counsellor_page = client.get(f"/counsel/clients/{learner}").get_data(as_text=True)
    assert f"Opened {AS_READ}" in counsellor_page
    assert AS_READ in counsellor_page.split("Attempt 1", 1)[1]
    assert "UTC" not in visible_text(counsellor_page)

    log_in_as(client, "learner@example.org")
    with app.app_context():
        assert db.session.scalar(select(ProgressView.viewed_at).limit(1)) == LATE_SUMMER_EVENING
    my_page = client.get("/me/").get_data(as_text=True)
    assert f'<time datetime="2026-07-01T23:30:00+00:00">{AS_READ}</time>' in my_page
    assert "UTC" not in visible_text(my_page)


def test_a_certificate_is_dated_by_the_day_in_london(learner_client, app):
    from tests.views.test_certificates import finish_course, post, the_certificate

    finish_course(learner_client, app)
    assert post(learner_client, "/settings", name_display="initials", public="yes").status_code == 302
    with app.app_context():
        db.session.execute(update(Certificate).values(issued_at=LATE_SUMMER_EVENING))
        db.session.commit()
        db.session.remove()
    own = learner_client.get(f"/courses/{COURSE_SLUG}/certificate").get_data(as_text=True)
    public = app.test_client().get(f"/certificates/{the_certificate(app)['code']}").get_data(as_text=True)
    assert "on 2 Jul 2026." in own
    # The day in London, and only the day (the instant would match the completion's learning record).
    assert '<time datetime="2026-07-02">2 Jul 2026</time>' in public
    credential = learner_client.get(f"/courses/{COURSE_SLUG}/certificate/credential.json").get_json()
    assert credential["validFrom"] == "2026-07-01T23:00:00Z"  # the start of 2 July in London
