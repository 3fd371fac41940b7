"""Views for the learner's journey. Thin: load, call a service, render."""

from __future__ import annotations

from functools import partial

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from app.credentials.issuing import learner_credential
from app.errors import redirect_to_saved
from app.extensions import db
from app.jobs.lti import lti_scores_enqueue
from app.learn import bp
from app.learn.attempt_rows import attempt_rows, attempts_url
from app.learn.forms import fresh_submission_key, parse_answers
from app.learn.lesson_page import lesson_page
from app.learn.page_reads import outline_rows, own_rows, reads_outline_with_user
from app.learn.quiz_page import quiz_page
from app.page_shells import count_due_shown, signed_in_page
from app.parsing import parse_page
from app.services.attempt_history import attempts_page, removed_lesson
from app.services.certificates import certificate_for, certificate_issue_if_complete, name_choices, verification_url
from app.services.errors import NEXT_FOR_YOU, LessonLocked, QuizInputError
from app.services.live_questions import graded_questions, learner_cards, learner_cards_from_rows, live_questions
from app.services.pass_rule import pass_rule_text
from app.services.progress import (
    CourseOutline,
    LessonNeedsQuiz,
    LessonState,
    course_outline_by_slug,
    lesson_mark_done,
    lesson_record_opened,
    require_unlocked,
)
from app.services.quizzes import (
    QUIZ_SHOWN_FIELD,
    SUBMISSION_KEY_PATTERN,
    attempt_for_learner,
    quiz_presentation,
    quiz_submit_attempt,
)
from app.services.result_help import result_help


def _outline_or_404(
    course_slug: str, *, attempts_of: str | None = None, with_reviews_due: bool = False, cards_of: str | None = None
) -> CourseOutline:
    """The course as the learner sees it; ``attempts_of``: with the attempts at this lesson (its slug);
    ``with_reviews_due``: with the count of questions due for review; ``cards_of``: the view asked
    for the learner's cards of this lesson with the user (``own_rows`` then gives them)."""
    user = current_user._get_current_object()  # looked up once: through the proxy, each use loads it again
    learner = user if user.is_authenticated else None
    with_attempts = attempts_of is not None
    # Read with the user when the view asked (@reads_outline_with_user): then no query here.
    rows = (
        outline_rows(
            course_slug,
            with_attempts=with_attempts,
            attempts_of=attempts_of,
            with_reviews_due=with_reviews_due,
            cards_of=cards_of,
        )
        if learner is not None
        else None
    )
    outline = course_outline_by_slug(
        db.session,
        slug=course_slug,
        learner=learner,
        with_attempts=with_attempts,
        attempts_of=attempts_of,
        with_reviews_due=with_reviews_due,
        rows=rows,
    )
    if outline is None:
        abort(404)
    return outline


def _open_entry(outline: CourseOutline, lesson_slug: str):
    """Return the learner's open lesson, or a redirect to the course if it is locked."""
    try:
        return require_unlocked(outline, lesson_slug), None
    except LookupError:
        abort(404)
    except LessonLocked as locked:
        flash(_locked_message(locked, outline.course.slug), "warning")
        return None, redirect(url_for("learn.course", course_slug=outline.course.slug))


def _locked_message(locked: LessonLocked, course_slug: str) -> str:
    """A locked lesson's message, the lesson to take first a link (the course page shows it)."""
    if locked.next_slug is None:
        return str(locked)
    url = url_for("learn.lesson", course_slug=course_slug, lesson_slug=locked.next_slug)
    link = Markup('<a href="{}">“{}”</a>').format(url, locked.next_title)
    return Markup(NEXT_FOR_YOU).format(reason=locked.reason, next=link)  # noqa: S704  # nosec B704 - our constant wording


@bp.get("/<course_slug>/")
@reads_outline_with_user(with_reviews_due=True)
def course(course_slug: str):
    """Show the modules and lessons, each lesson's state, and overall progress."""
    outline = _outline_or_404(course_slug, with_reviews_due=True)
    due = outline.reviews_due or 0
    page = {"outline": outline, "LessonState": LessonState}
    if not current_user.is_authenticated:
        return render_template("learn/course.html", **page, reviews_due_count=due)
    # The same for every learner with these lessons' states but their name, token and count due.
    shown, holes, due_key = count_due_shown(due)
    return signed_in_page(
        "learn/course.html",
        {**page, **shown},
        content=outline.course,
        key=(outline.states, outline.has_started, due_key),
        parts=holes,
    )


@bp.get("/<course_slug>/continue")
@reads_outline_with_user()
@login_required
def continue_course(course_slug: str):
    """Take the learner to the first lesson they have not completed."""
    outline = _outline_or_404(course_slug)
    entry = outline.continue_entry()
    if entry is None:
        return redirect(url_for("learn.certificate", course_slug=course_slug))
    return redirect(url_for("learn.lesson", course_slug=course_slug, lesson_slug=entry.lesson.slug))


@bp.get("/<course_slug>/lessons/<lesson_slug>")
@reads_outline_with_user(with_attempts=True, lesson_attempts_only=True)
@login_required
def lesson(course_slug: str, lesson_slug: str):
    """Show a lesson's stored, sanitised HTML with previous and next navigation, and the learner's attempts."""
    outline = _outline_or_404(course_slug, attempts_of=lesson_slug)
    entry, locked = _open_entry(outline, lesson_slug)
    if locked:
        return locked
    page = lesson_page(outline, entry)
    # Recorded after rendering: the commit would otherwise make the page reload what it shows.
    lesson_record_opened(db.session, learner=current_user, entry=entry)
    return page


@bp.post("/<course_slug>/lessons/<lesson_slug>/done")
@reads_outline_with_user()
@login_required
def lesson_done(course_slug: str, lesson_slug: str):
    """Complete a lesson that has no quiz."""
    outline = _outline_or_404(course_slug)
    entry, locked = _open_entry(outline, lesson_slug)
    if locked:
        return locked
    learner_id, lesson_id = current_user.id, entry.lesson.id  # before the commit expires them
    try:
        lesson_mark_done(db.session, learner=current_user, entry=entry)
    except LessonNeedsQuiz as error:
        flash(str(error), "warning")
        return redirect(url_for("learn.quiz", course_slug=course_slug, lesson_slug=lesson_slug))
    lti_scores_enqueue(user_id=learner_id, lesson_id=lesson_id)
    flash(f"You completed “{entry.lesson.title}”.", "success")
    return redirect(url_for("learn.continue_course", course_slug=course_slug))


@bp.get("/<course_slug>/lessons/<lesson_slug>/quiz")
@reads_outline_with_user(with_attempts=True, lesson_attempts_only=True)
@login_required
def quiz(course_slug: str, lesson_slug: str):
    """Show the quiz and the learner's past attempts (a submission is ``quiz_submit``, on the same URL)."""
    outline = _outline_or_404(course_slug, attempts_of=lesson_slug)
    entry, locked = _open_entry(outline, lesson_slug)
    if locked:
        return locked
    if not entry.lesson.has_quiz:
        abort(404)
    return _quiz_page(outline, entry, fresh_submission_key())


# Without the attempts: a recorded submission only redirects; the page shown again on an error
# reads the outline with them then (one query more, on that rarer path). With the learner's
# review cards for the lesson's questions, which the attempt moves on: no query of their own.
@bp.post("/<course_slug>/lessons/<lesson_slug>/quiz")
@reads_outline_with_user(with_cards=True)
@login_required
def quiz_submit(course_slug: str, lesson_slug: str):
    """Grade a submission of the quiz, record the attempt and send the learner to its feedback.

    Input the learner can fix (a question left unanswered) shows the quiz again with their
    choices and the error; input no form of ours could send is refused with 400.
    """
    outline = _outline_or_404(course_slug, cards_of=lesson_slug)
    cards_read = own_rows()  # the learner's cards for the lesson's questions, read with the user
    entry, locked = _open_entry(outline, lesson_slug)
    if locked:
        return locked
    if not entry.lesson.has_quiz:
        abort(404)
    # CSRFProtect has checked the token already.
    form = request.form
    sent_key = form.get("submission_key", "")
    answers: dict[int, list[int]] = {}
    try:
        answers = parse_answers(form)
        # Read before the commit, which expires them: after it, reading them is a query.
        learner_id, lesson_id = current_user.id, entry.lesson.id
        submit = partial(
            quiz_submit_attempt,
            db.session,
            learner=current_user,
            lesson=entry.lesson,
            answers=answers,
            submission_key=sent_key,
            pass_mark=outline.course.pass_mark,
            lesson_opened=entry.opened_at is not None,
            lesson_completed=entry.completed_at is not None,
            # Published anew since the page was shown: not graded (nor kept) as wording never seen.
            shown=form.get(QUIZ_SHOWN_FIELD),
        )
        # Graded against the live questions of the course's version this request read with the learner.
        course = outline.course
        questions = graded_questions(
            db.session, course_id=course.id, version=course.content_version, lesson_id=lesson_id
        )
        cards = (
            learner_cards_from_rows(cards_read)
            if cards_read is not None
            else learner_cards(db.session, lesson_id=lesson_id, learner_id=learner_id)
        )
        try:
            result = submit(questions=questions, card_rows=cards)
        except IntegrityError:
            # An author's change published since this request's first read removed a row the
            # attempt points at (a question nobody had answered yet is deleted, not retired):
            # graded again against the live rows, the submission meets the quiz as it is now,
            # and is held to what its page showed as the first try was.
            db.session.rollback()
            result = submit(questions=live_questions(db.session, entry.lesson))
    except QuizInputError as problem:
        return _quiz_input_refused(course_slug, lesson_slug, problem, sent_key, answers)
    if result.passed:
        lti_scores_enqueue(user_id=learner_id, lesson_id=lesson_id)
    # Saved: from here on, whatever fails, the learner is sent to their attempt.
    return redirect_to_saved(f"{attempts_url(course_slug, lesson_slug)}{int(result.attempt_id)}")


def _quiz_input_refused(
    course_slug: str, lesson_slug: str, problem: QuizInputError, sent_key: str, answers: dict[int, list[int]]
):
    """The quiz shown again with the problem: 200 with the learner's choices, or 400 when tampered."""
    outline = _outline_or_404(course_slug, attempts_of=lesson_slug)  # the page lists the attempts
    entry, locked = _open_entry(outline, lesson_slug)
    if locked:
        return locked
    if problem.tampered:
        return _quiz_page(outline, entry, fresh_submission_key(), error=problem, status=400)
    # Nothing was recorded: the same key shows the choices in the same order again.
    submission_key = sent_key if SUBMISSION_KEY_PATTERN.fullmatch(sent_key) else fresh_submission_key()
    # A quiz changed since its page was shown: 409, the quiz as it is now with the choices still in it ticked.
    return _quiz_page(
        outline, entry, submission_key, error=problem, chosen=answers, status=409 if problem.changed else 200
    )


def _quiz_page(outline: CourseOutline, entry, submission_key: str, *, error=None, chosen=None, status: int = 200):
    """Render the quiz page for ``entry``, and note the lesson opened (opening its quiz opens it)."""
    questions = entry.lesson.questions
    page = quiz_page(
        outline,
        entry,
        questions=quiz_presentation(questions, submission_key),
        pass_rule=pass_rule_text(outline.course.pass_mark, len(questions)),
        submission_key=submission_key,
        error=error,
        chosen=chosen,
    )
    # After rendering, as on the lesson page.
    lesson_record_opened(db.session, learner=current_user, entry=entry)
    return page, status


@bp.get("/<course_slug>/lessons/<lesson_slug>/quiz/attempts")
@reads_outline_with_user()
@login_required
def attempts(course_slug: str, lesson_slug: str):
    """List all the learner's own attempts at a lesson's quiz, newest first, a page at a time.

    The lesson and quiz pages list the latest few and link here. A page past the last is 404;
    a page number that is not one shows the first page. A lesson since removed from the course
    keeps this page for the learners who tried it (/me/ links to it).
    """
    outline = _outline_or_404(course_slug)
    entry = outline.entry_for(lesson_slug)
    lesson = entry.lesson if entry is not None else _removed_lesson_or_404(outline, lesson_slug)
    listed = attempts_page(
        db.session,
        learner_id=current_user.id,
        lesson_ids=[lesson.id],
        number=parse_page(request.args.get("page")),
    )
    # A removed lesson's page is for those who tried it: to anyone else the lesson is gone.
    if listed is None or (entry is None and not listed.total):
        abort(404)
    rows = attempt_rows(listed.attempts, attempts_url(course_slug, lesson_slug), first_number=listed.first_number)
    return render_template(
        "learn/attempts.html",
        outline=outline,
        entry=entry,
        lesson=lesson,
        listed=listed,
        rows=rows,
        LessonState=LessonState,
    )


def _removed_lesson_or_404(outline: CourseOutline, lesson_slug: str):
    """The course's lesson of this slug since removed from it (its learners' attempts stay theirs to read), or 404."""
    lesson = removed_lesson(db.session, course_id=outline.course.id, slug=lesson_slug)
    if lesson is None:
        abort(404)
    return lesson


@bp.get("/<course_slug>/lessons/<lesson_slug>/quiz/attempts/<id:attempt_id>")
@reads_outline_with_user(with_attempts=True, lesson_attempts_only=True)
@login_required
def attempt(course_slug: str, lesson_slug: str, attempt_id: int):
    """Show one of the learner's own attempts: score, and per question what they chose and why
    (at a lesson since removed from the course too: the attempt is kept as it was shown), and,
    after a dangerous answer or a quiz failed again and again, where to get help."""
    # With the lesson's latest attempts and their count, read with the user in the same query:
    # how many times the quiz was failed (result_help) costs no query of its own.
    outline = _outline_or_404(course_slug, attempts_of=lesson_slug)
    entry = outline.entry_for(lesson_slug)
    lesson = entry.lesson if entry is not None else _removed_lesson_or_404(outline, lesson_slug)
    recorded = attempt_for_learner(db.session, learner=current_user, lesson=lesson, attempt_id=attempt_id)
    if recorded is None:
        abort(404)
    following = outline.neighbours(entry)[1] if entry is not None else None
    return render_template(
        "learn/attempt.html",
        outline=outline,
        entry=entry,
        lesson=lesson,
        attempt=recorded,
        pass_rule=pass_rule_text(recorded.pass_mark, recorded.question_count),
        following=following,
        help_offer=result_help(answers=recorded.answers, entry=entry),
        LessonState=LessonState,
    )


@bp.get("/<course_slug>/certificate")
@reads_outline_with_user()
@login_required
def certificate(course_slug: str):
    """The learner's certificate: its code and verification URL, their choices, the PDF, revoke or renew."""
    outline = _outline_or_404(course_slug)
    held = certificate_for(db.session, learner=current_user, course_id=outline.course.id)
    if held is None and outline.is_complete:
        # Completed before certificates existed: issued on the first visit, dated at completion.
        held = certificate_issue_if_complete(
            db.session, learner=current_user, course_id=outline.course.id, when=outline.completed_at
        )
        db.session.commit()
    if held is None:
        flash("Your certificate appears here when you have completed every lesson.", "info")
        return redirect(url_for("learn.course", course_slug=course_slug))
    return render_template(
        "learn/certificate.html",
        outline=outline,
        certificate=held,
        verification_url=verification_url(held.code),
        name_choices=name_choices(held.name_at_issue),
    )


@bp.get("/<course_slug>/certificate/credential.json")
@login_required
def certificate_credential(course_slug: str):
    """The learner's certificate as a signed Open Badges 3.0 credential, to download (theirs only)."""
    credential = learner_credential(db.session, learner=current_user, course_slug=course_slug)
    if credential is None:
        abort(404)
    response = jsonify(credential)
    response.headers["Content-Disposition"] = f'attachment; filename="certificate-{course_slug}.json"'
    return response
