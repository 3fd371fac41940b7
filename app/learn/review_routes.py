"""The review of a learner's own mistakes: the due questions, their grading and their feedback.

Thin like the quiz views: the rules (which questions, grading, scheduling) are in
``app/services/review.py``. The page answers bad input as the quiz does: unanswered questions
are shown again with a message (200), a submission no page of ours could send is a 400.
"""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from app.errors import redirect_to_saved
from app.extensions import db
from app.learn import bp
from app.learn.forms import fresh_submission_key, parse_answers
from app.learn.kept_answers import kept_answers_owner
from app.models import Course
from app.parsing import parse_id
from app.services.default_course import course_or_default
from app.services.errors import QuizInputError
from app.services.quizzes import SUBMISSION_KEY_PATTERN, quiz_presentation
from app.services.review import (
    review_answers_for,
    review_submit,
    reviews_due,
    reviews_due_count,
    reviews_next_due,
    reviews_shown,
)

SHOWN_FIELD = "shown"  # the ids of the questions the page showed, in order


def _course_or_404(course_slug: str) -> Course:
    course = course_or_default(db.session, course_slug)
    if course is None:
        abort(404)
    return course


def _shown_ids(form) -> list[int]:
    """The question ids the review page says it showed; a value no page of ours sends is a 400."""
    ids = [parse_id(value) for value in form.getlist(SHOWN_FIELD)]
    if any(question_id is None for question_id in ids):
        raise QuizInputError("This submission does not list the questions it showed.", tampered=True)
    return [question_id for question_id in ids if question_id is not None]


@bp.route("/<course_slug>/review", methods=["GET", "POST"])
@login_required
def review(course_slug: str):
    """Show the learner's due questions; on POST grade them, reschedule them and show the feedback."""
    course = _course_or_404(course_slug)
    error, status, chosen, submission_key = None, 200, {}, fresh_submission_key()
    due = None
    if request.method == "POST":  # CSRFProtect has checked the token already
        try:
            shown_ids = _shown_ids(request.form)
            answers = parse_answers(MultiDict([(k, v) for k, v in request.form.items(multi=True) if k != SHOWN_FIELD]))
            chosen = answers
            result = review_submit(
                db.session,
                learner=current_user,
                course=course,
                shown_question_ids=shown_ids,
                answers=answers,
                submission_key=request.form.get("submission_key", ""),
            )
        except QuizInputError as problem:
            error, status = problem, (400 if problem.tampered else 200)
            if problem.tampered:
                chosen = {}
            else:
                # Nothing was recorded: the same questions again, their choices in the same order.
                submission_key = request.form["submission_key"]
                due = reviews_shown(db.session, user_id=current_user.id, course_id=course.id, question_ids=shown_ids)
        else:
            return redirect_to_saved(
                url_for("learn.review_result", course_slug=course.slug, submission_key=result.submission_key)
            )
    if due is None:
        due = reviews_due(db.session, user_id=current_user.id, course_id=course.id)
    next_due = None if due else reviews_next_due(db.session, user_id=current_user.id, course_id=course.id)
    return render_template(
        "learn/review.html",
        course=course,
        questions=quiz_presentation(due, submission_key),
        next_due=next_due,
        submission_key=submission_key,
        answers_owner=kept_answers_owner(current_user.id),
        error=error,
        chosen=chosen,
    ), status


@bp.get("/<course_slug>/review/answers/<submission_key>")
@login_required
def review_result(course_slug: str, submission_key: str):
    """Show the feedback on one review page's answers (the learner's own only) and what comes next."""
    course = _course_or_404(course_slug)
    if not SUBMISSION_KEY_PATTERN.fullmatch(submission_key):
        abort(404)
    answers = review_answers_for(
        db.session, user_id=current_user.id, course_id=course.id, submission_key=submission_key
    )
    if not answers:
        abort(404)
    still_due = reviews_due_count(db.session, user_id=current_user.id, course_id=course.id)
    next_due = None if still_due else reviews_next_due(db.session, user_id=current_user.id, course_id=course.id)
    return render_template(
        "learn/review_result.html",
        course=course,
        answers=answers,
        submission_key=submission_key,
        still_due=still_due,
        next_due=next_due,
    )


@bp.app_context_processor
def _review_due_count():
    """``reviews_due_for(course)`` for the course page and /me/: one count query when a page asks."""

    def reviews_due_for(course: Course | None) -> int:
        if course is None or not current_user.is_authenticated:
            return 0
        return reviews_due_count(db.session, user_id=current_user.id, course_id=course.id)

    return {"reviews_due_for": reviews_due_for}
