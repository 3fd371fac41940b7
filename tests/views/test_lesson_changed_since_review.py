"""Under every lesson, after "Reviewed <date>": when the content changed since, and that the review is to come."""

from dataclasses import replace
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import CoursePublication, Role
from app.models.types import utcnow
from app.services import authoring
from app.services.authoring import ReviewInput
from app.services.course_import import course_import
from app.services.progress import course_by_slug
from app.timefmt import MONTHS
from tests.conftest import count_queries, create_user, csrf_token, factory_course_spec, lesson_slugs, login

SPEC = factory_course_spec()
NOTE = "these changes are waiting for the clinical review"


def import_with_change_recorded(app, day: date | None) -> None:
    """Import the factory course with ``review.changed_since_review_on`` set to ``day``."""
    with app.app_context():
        course_import(db.session, replace(SPEC, review=replace(SPEC.review, changed_since_review_on=day)))
        db.session.remove()


def lesson_page(client, app, course: str) -> str:
    return " ".join(client.get(f"/courses/{course}/lessons/{lesson_slugs(app)[0]}").get_data(as_text=True).split())


def test_a_recorded_change_is_shown_after_the_review_line(learner_client, app, course):
    assert NOTE not in lesson_page(learner_client, app, course)

    import_with_change_recorded(app, date(2026, 12, 7))

    page = lesson_page(learner_client, app, course)
    reviewed = page.index('class="review-dates"')
    note = page.index(
        '<p class="review-pending">Changed on <time datetime="2026-12-07">7 Dec 2026</time>; '
        "these changes are waiting for the clinical review.</p>"
    )
    assert reviewed < note


def test_the_note_costs_the_lesson_page_no_query(learner_client, app, course):
    url = f"/courses/{course}/lessons/{lesson_slugs(app)[0]}"
    with app.app_context():
        engine = db.engine

    def queries() -> int:
        learner_client.get(url)  # the first visit after an import reads the new version
        with count_queries(engine) as counted:
            assert learner_client.get(url).status_code == 200
        return counted()

    without = queries()
    import_with_change_recorded(app, date(2026, 12, 7))
    assert queries() == without


def test_an_admin_publishing_a_change_under_the_old_review_tells_learners(learner_client, app, course):
    admin = app.test_client()
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(admin, "admin@example.org").status_code == 302
    with app.app_context():
        first = SPEC.lessons[lesson_slugs(app)[0]]
        authoring.lesson_update(
            db.session,
            course=course_by_slug(db.session, course),
            lesson_slug=first.slug,
            title=first.title,
            minutes=first.minutes,
            body="Changed words.\n",
        )
        db.session.remove()
    publish = f"/author/courses/{course}/publish"
    publish_page = " ".join(admin.get(publish).get_data(as_text=True).split())
    today = utcnow().date()
    assert f"changed on {today.isoformat()}" in publish_page  # said before it is done

    assert admin.post(publish, data={"csrf_token": csrf_token(admin, publish)}).status_code == 302

    shown = f"{today.day} {MONTHS[today.month - 1]} {today.year}"
    assert f'Changed on <time datetime="{today.isoformat()}">{shown}</time>; {NOTE}.' in lesson_page(
        learner_client, app, course
    )


def test_the_course_details_page_says_how_to_take_the_note_away(client, app, course):
    import_with_change_recorded(app, date(2026, 12, 7))
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302

    page = " ".join(client.get(f"/author/courses/{course}/edit").get_data(as_text=True).split())

    assert "The content changed on 7 Dec 2026, after this review" in page
    assert "Once a review covers them, give its date here" in page


def test_a_restored_version_shows_its_own_review_and_changes(learner_client, app, course):
    """Restoring the words of an older version brings back what lessons said of them: the review
    they had and the day they changed since, not the newer review that covered other words."""
    changed_on = date(2026, 1, 8)  # after the factory course's review of 5 Jan 2026
    today = utcnow().date()
    with app.app_context():
        older = authoring.import_from_files(
            db.session, replace(SPEC, review=replace(SPEC.review, changed_since_review_on=changed_on))
        )
        older_id = db.session.scalars(select(CoursePublication.id).order_by(CoursePublication.id.desc())).first()
        row = course_by_slug(db.session, course)
        first = SPEC.lessons[lesson_slugs(app)[0]]
        authoring.lesson_update(
            db.session,
            course=row,
            lesson_slug=first.slug,
            title=first.title,
            minutes=first.minutes,
            body="New words.\n",
        )
        review = SPEC.review
        authoring.course_update(
            db.session,
            course=row,
            title=SPEC.title,
            summary=SPEC.summary,
            pass_mark=SPEC.pass_mark,
            review=ReviewInput(reviewed_by=review.reviewed_by, reviewed_on=today, next_review_on=review.next_review_on),
        )
        authoring.publish(db.session, course=row)
        db.session.remove()
    assert older.changed
    newer = lesson_page(learner_client, app, course)
    assert f'Reviewed <time datetime="{today.isoformat()}">' in newer and NOTE not in newer

    admin = app.test_client()
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(admin, "admin@example.org").status_code == 302
    restore = f"/author/courses/{course}/publications/{older_id}/restore"
    assert "review date, unreviewed-changes date changed" in admin.get(restore).get_data(as_text=True)  # said first
    assert admin.post(restore, data={"csrf_token": csrf_token(admin, restore)}).status_code == 302

    page = lesson_page(learner_client, app, course)
    assert 'Reviewed <time datetime="2026-01-05">5 Jan 2026</time>' in page
    assert f'Changed on <time datetime="2026-01-08">8 Jan 2026</time>; {NOTE}.' in page
    assert "New words." not in page
