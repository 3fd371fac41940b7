"""Certificates: issued once on completing the course, renewed only on request, verified by code."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from app.models import Certificate, Course, Lesson, LessonProgress, NameDisplay, User
from app.services.certificates import (
    CODE_PATTERN,
    certificate_by_code,
    certificate_for,
    certificate_issue_if_complete,
    certificate_public_view,
    certificate_reissue,
    certificate_revoke,
    certificate_settings_update,
    initials,
    shown_name,
)
from app.services.errors import ValidationError
from app.services.progress import course_by_slug, course_outline, lesson_record_completion
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.conftest import COURSE_SLUG

WHEN = datetime(2026, 12, 1, 19, 15, tzinfo=UTC)


def lessons_in_order(session):
    return [
        e.lesson for e in course_outline(session, course=course_by_slug(session, COURSE_SLUG), learner=None).entries
    ]


def certificates_of(session, user):
    return session.scalars(select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)).all()


def complete_course(session, user, when=WHEN):
    for lesson in lessons_in_order(session):
        lesson_record_completion(session, learner=user, lesson=lesson, when=when)
    session.commit()


@pytest.fixture
def me(session, learner):
    return session.get(User, learner)


@pytest.fixture
def course_id(session, course):
    return course_by_slug(session, course).id


def test_completing_the_last_lesson_issues_one_certificate(session, course, me, course_id):
    *first, last = lessons_in_order(session)
    for lesson in first:
        lesson_record_completion(session, learner=me, lesson=lesson, when=WHEN)
    session.commit()
    assert certificates_of(session, me) == []  # not complete yet
    lesson_record_completion(session, learner=me, lesson=last, when=WHEN)
    session.commit()
    [certificate] = certificates_of(session, me)
    assert certificate.course_id == course_id and certificate.issued_at == WHEN
    assert certificate.revoked_at is None
    assert certificate.name_at_issue == me.display_name
    # The privacy-first defaults: private, and the full name once the learner makes it public.
    assert certificate.public is False and certificate.name_display == NameDisplay.FULL


def test_the_code_is_unguessable_and_unique(session, course, me, other_learner):
    complete_course(session, me)
    complete_course(session, session.get(User, other_learner))
    codes = session.scalars(select(Certificate.code)).all()
    assert len(set(codes)) == 2
    for code in codes:
        assert CODE_PATTERN.fullmatch(code) and len(code) >= 32  # token_urlsafe(24): 192 bits


def test_completing_again_does_not_issue_another(session, course, me):
    complete_course(session, me)
    complete_course(session, me)  # already complete: nothing new
    last = lessons_in_order(session)[-1]
    # Even a completion recorded afresh (its row gone and made again) finds the certificate there.
    session.execute(delete(LessonProgress).where(LessonProgress.lesson_id == last.id))
    lesson_record_completion(session, learner=me, lesson=last)
    session.commit()
    assert len(certificates_of(session, me)) == 1


def test_passing_the_last_quiz_issues_it_in_the_same_transaction(session, course, me):
    *first, last = lessons_in_order(session)
    for lesson in first:
        lesson_record_completion(session, learner=me, lesson=lesson, when=WHEN)
    session.commit()
    questions = quiz_questions(session, last)
    assert questions, "the factory course's last lesson has a quiz"
    result = quiz_submit_attempt(
        session,
        learner=me,
        lesson=last,
        questions=questions,
        answers={q.id: [c.id for c in q.live_choices if c.is_correct] for q in questions},
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    assert result.attempt.passed
    [certificate] = certificates_of(session, me)
    assert certificate.issued_at == result.attempt.submitted_at


def test_a_revoked_certificate_is_not_replaced_by_completing_again(session, course, me, course_id):
    complete_course(session, me)
    certificate_revoke(session, learner=me, course_id=course_id)
    assert certificate_issue_if_complete(session, learner=me, course_id=course_id) is None
    [only] = certificates_of(session, me)
    assert only.revoked_at is not None


def test_reissue_revokes_the_old_and_keeps_the_choices(session, course, me, course_id):
    complete_course(session, me)
    old = certificate_settings_update(
        session, learner=me, course_id=course_id, name_display=NameDisplay.INITIALS, public=True
    )
    old_code = old.code
    me.display_name = "New Name"
    session.commit()
    fresh = certificate_reissue(session, learner=me, course_id=course_id)
    assert fresh.code != old_code
    assert fresh.revoked_at is None and fresh.name_at_issue == "New Name"
    assert (fresh.name_display, fresh.public) == (NameDisplay.INITIALS, True)
    assert certificate_by_code(session, old_code).revoked_at is not None
    assert certificate_for(session, learner=me, course_id=course_id).code == fresh.code
    assert certificate_public_view(session, old_code).is_valid is False  # still public: shows as revoked


def test_a_fresh_certificate_keeps_the_date_the_course_was_completed(session, course, me, course_id):
    """It took the day it was asked for: the page, PDF and credential then dated the completion wrongly."""
    complete_course(session, me)
    assert certificate_reissue(session, learner=me, course_id=course_id).issued_at == WHEN
    certificate_revoke(session, learner=me, course_id=course_id)
    assert certificate_reissue(session, learner=me, course_id=course_id).issued_at == WHEN


def test_a_revoked_certificate_names_nobody_to_a_stranger(session, course, me, course_id):
    """A learner replaces a certificate whose code went somewhere they did not want: its old code
    kept showing their name beside the course, with no way to hide it."""
    complete_course(session, me)
    code = certificate_settings_update(
        session, learner=me, course_id=course_id, name_display=NameDisplay.FULL, public=True
    ).code
    assert certificate_public_view(session, code).holder_name == me.display_name
    assert certificate_revoke(session, learner=me, course_id=course_id) is True  # it was public: people are told
    shown = certificate_public_view(session, code)
    assert shown.is_valid is False and shown.holder_name is None
    fresh = certificate_reissue(session, learner=me, course_id=course_id)
    certificate_settings_update(session, learner=me, course_id=course_id, name_display="full", public=False)
    assert certificate_revoke(session, learner=me, course_id=course_id) is False  # private: nobody is told
    assert certificate_public_view(session, fresh.code) is None


def test_reissue_after_revoking_gives_a_live_one_and_never_two(session, course, me, course_id):
    complete_course(session, me)
    certificate_revoke(session, learner=me, course_id=course_id)
    certificate_reissue(session, learner=me, course_id=course_id)
    certificate_reissue(session, learner=me, course_id=course_id)
    live = session.scalar(select(func.count()).where(Certificate.user_id == me.id, Certificate.revoked_at.is_(None)))
    assert live == 1 and len(certificates_of(session, me)) == 3


def test_certificate_for_prefers_the_live_one(session, course, me, course_id):
    assert certificate_for(session, learner=me, course_id=course_id) is None
    complete_course(session, me)
    certificate_revoke(session, learner=me, course_id=course_id)
    assert certificate_for(session, learner=me, course_id=course_id).revoked_at is not None
    fresh = certificate_reissue(session, learner=me, course_id=course_id)
    assert certificate_for(session, learner=me, course_id=course_id).id == fresh.id


def test_nothing_to_revoke_or_reissue_without_a_certificate(session, course, me, course_id):
    with pytest.raises(LookupError):
        certificate_revoke(session, learner=me, course_id=course_id)
    with pytest.raises(LookupError):
        certificate_reissue(session, learner=me, course_id=course_id)
    with pytest.raises(LookupError):
        certificate_settings_update(session, learner=me, course_id=course_id, name_display="full", public=True)


def test_settings_refuse_an_unknown_name_choice(session, course, me, course_id):
    complete_course(session, me)
    with pytest.raises(ValidationError):
        certificate_settings_update(session, learner=me, course_id=course_id, name_display="nickname", public=True)
    assert certificate_for(session, learner=me, course_id=course_id).public is False


def test_the_public_view_shows_only_a_public_certificate(session, course, me, course_id):
    complete_course(session, me)
    code = certificate_for(session, learner=me, course_id=course_id).code
    assert certificate_public_view(session, code) is None  # private by default
    certificate_settings_update(session, learner=me, course_id=course_id, name_display="full", public=True)
    shown = certificate_public_view(session, code)
    title = session.get(Course, course_id).title
    assert (shown.course_title, shown.issued_at, shown.holder_name, shown.is_valid) == (
        title,
        WHEN,
        me.display_name,
        True,
    )
    certificate_settings_update(session, learner=me, course_id=course_id, name_display="initials", public=True)
    assert certificate_public_view(session, code).holder_name == initials(me.display_name)
    certificate_settings_update(session, learner=me, course_id=course_id, name_display="none", public=True)
    assert certificate_public_view(session, code).holder_name is None
    certificate_revoke(session, learner=me, course_id=course_id)
    assert certificate_public_view(session, code).is_valid is False


@pytest.mark.parametrize("code", ["", "short", "x" * 65, "not a code!", "A" * 32, "%" * 32, "\u00e9" * 32])
def test_the_public_view_of_an_unknown_code_is_none(session, course, code):
    assert certificate_public_view(session, code) is None
    assert certificate_by_code(session, code) is None


def test_deleting_the_account_erases_its_certificates(session, course, me, course_id):
    complete_course(session, me)
    certificate_settings_update(session, learner=me, course_id=course_id, name_display="full", public=True)
    code = certificate_for(session, learner=me, course_id=course_id).code
    session.execute(delete(User).where(User.id == me.id))  # what account_delete does
    session.commit()
    assert certificate_public_view(session, code) is None
    assert session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_a_course_without_live_lessons_is_never_complete(session, course, me, course_id):
    complete_course(session, me)
    session.execute(delete(Certificate))
    for lesson in session.scalars(select(Lesson).where(Lesson.course_id == course_id)):
        lesson.retired_at, lesson.position = WHEN, None
    session.commit()
    assert certificate_issue_if_complete(session, learner=me, course_id=course_id) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ada Lovelace", "A. L."),
        ("ada king lovelace", "A. K. L."),
        ("Jean-Luc Picard", "J. L. P."),
        ("Łukasz Żółw", "Ł. Ż."),
        ("  ", ""),
        ("Мария Иванова", "М. И."),
    ],
)
def test_initials(name, expected):
    assert initials(name) == expected


def test_shown_name_follows_the_choice():
    assert shown_name("Ada Lovelace", "full") == "Ada Lovelace"
    assert shown_name("Ada Lovelace", "initials") == "A. L."
    assert shown_name("Ada Lovelace", "none") is None
    assert shown_name("!!", "initials") is None  # no letters: no name rather than an empty one


def test_the_verification_url_is_the_promised_public_path(app):
    # Printed on PDFs and signed into credentials: the path must never move with a route's name.
    from app.services.certificates import verification_url

    app.config["PUBLIC_URL"] = "https://course.example.org/"
    with app.app_context():
        assert verification_url("abc_DEF-123") == "https://course.example.org/certificates/abc_DEF-123"
