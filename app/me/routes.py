"""Views for the learner's own page and the consent screen for an invitation."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user
from markupsafe import Markup

from app.auth import guessing
from app.downloads import data_file
from app.extensions import db, limiter
from app.forms import EmptyForm
from app.framed_session import clear_session_keeping_frame
from app.learn.page_reads import outline_rows, own_rows, reads_outline_with_user
from app.me import bp
from app.me.data_page import data_sections, label_for, readable, review_card_view, shown
from app.me.forms import DeleteAccountForm, DeleteLmsAccountForm
from app.me.page_lists import attempt_summaries, progress_views, sharing_links
from app.models import COUNSELLING_ROLES
from app.models.types import utcnow
from app.page_shells import count_due_shown, draw_part, form_token, signed_in_page
from app.permissions import is_learner
from app.services.attempt_history import removed_lessons
from app.services.contact_requests import REQUESTER_LABELS, contact_requests_held
from app.services.errors import DomainError, ValidationError
from app.services.handover import HandoverUnusable, handover_respond, learner_handover
from app.services.my_page import my_page
from app.services.personal_data import account_delete, personal_data_export
from app.services.progress import course_outline_by_slug
from app.services.sharing import (
    LEARNERS_ONLY_MESSAGE,
    InvitationUnusable,
    SharingNotAllowed,
    active_link,
    invitation_by_code,
    invitation_respond,
    link_revoke,
    own_answer,
    shares_with_namesake,
)
from app.services.user_sessions import user_log_out_everywhere
from app.timefmt import current_zone


def _signed_in_account() -> str | None:
    """Rate-limit key for the signed-in account, so switching addresses does not help guess codes."""
    return f"user:{current_user.id}" if current_user.is_authenticated else None


@bp.get("/me/")
@reads_outline_with_user(with_reviews_due=True, with_my_page=True)
@login_required
def home():
    """Show the learner's progress, their quiz attempts lesson by lesson, whom they share it with, who has viewed it
    and their requests to the clinic.

    One read: the user with the course outline, the count of questions due for review and the
    rest of the page (app/learn/page_reads.py, app/services/my_page.py). Each lesson's full
    attempt history is on its own pages.
    """
    rows = outline_rows(None, with_attempts=False, with_reviews_due=True, with_my_page=True)  # read with the user
    outline = course_outline_by_slug(db.session, slug=None, learner=current_user, with_reviews_due=True, rows=rows)
    course_id = outline.course.id if outline else None
    page = my_page(db.session, learner_id=current_user.id, course_id=course_id, rows=own_rows())
    # Attempts at lessons since removed from the course stay listed (one query, only when there are any).
    gone = page.attempts.keys() - {entry.lesson.id for entry in outline.entries} if outline else set()
    removed = removed_lessons(db.session, lesson_ids=gone)
    due = (outline.reviews_due or 0) if outline else 0
    # The page is kept per what decides its text: the lesson states, a count due of none, one or
    # more (more is a hole, as on the overview), and which lists are empty. Each list that is
    # not is drawn now and put in.
    drawn = {
        "attempts_drawn": attempt_summaries(outline, page.attempts, removed) if outline else Markup(""),
        "links_drawn": sharing_links(page.sharing, form_token()) if page.sharing.links else Markup(""),
        "views_drawn": progress_views(page.sharing),
        "handovers_drawn": draw_part("me/_handover_requests.html", {"handovers": page.sharing.handovers})
        if page.sharing.handovers
        else Markup(""),
        "requests_drawn": draw_part(
            "me/_contact_requests.html", {"contact_requests": page.contact_requests, "contact_labels": REQUESTER_LABELS}
        )
        if page.contact_requests
        else Markup(""),
    }
    shown, due_hole, due_key = count_due_shown(due)
    # An account an LMS signs in has no password to change: the page says so, kept apart by the key.
    with_password = bool(current_user.signs_in_with_password)
    context = {
        "outline": outline,
        "with_password": with_password,
        **shown,
        **{name: part for name, part in drawn.items() if not part},
    }
    parts = {**due_hole, **{name: part for name, part in drawn.items() if part}}
    key = ((outline.states, outline.has_started, due_key) if outline else ()) + (with_password,)
    return signed_in_page(
        "me/home.html", context, content=outline.course if outline else None, key=(*key, *sorted(parts)), parts=parts
    )


@bp.get("/me/data.json")
@login_required
def data_download():
    """Download everything held about the signed-in person, as JSON."""
    return data_file(personal_data_export(db.session, user=current_user), filename="my-data.json")


@bp.get("/me/data")
@login_required
def data_page():
    """Everything the signed-in person's account holds, as a page to read or print: the JSON download's own data."""
    data = personal_data_export(db.session, user=current_user)
    zone = current_zone()
    now = utcnow()
    return render_template(
        "me/data.html",
        sections=data_sections(data),
        readable=lambda value: readable(value, zone),
        shown=lambda section, field, value: shown(section, field, value, zone),
        review_card=lambda card: review_card_view(card, zone, now),
        label_for=label_for,
        as_of=now,
    )


@bp.route("/me/delete", methods=["GET", "POST"])
@login_required
@guessing.per_address  # its password is counted with the guesses at login (app/auth/guessing.py)
@guessing.per_account
def delete_account():
    """Erase the account and everything in it, after the password is entered again."""
    form = DeleteAccountForm() if current_user.signs_in_with_password else DeleteLmsAccountForm()
    if form.validate_on_submit():
        try:
            password = form.password.data if isinstance(form, DeleteAccountForm) else None
            account_delete(db.session, user=current_user, password=password)
        except ValidationError as error:
            form.password.errors.append(error.message)
        else:
            # Cleared first, as logout_user then marks the remember-me cookie for deletion in the
            # session; framed by an LMS, the next page is shown in its frame too.
            clear_session_keeping_frame()
            logout_user()
            flash("Your account and everything in it have been deleted.", "success")
            return redirect(url_for("main.index"))
    # Staff who picked up contact requests hand them back by leaving (account_erase): say how many
    # first, as an admin is told before erasing them. A learner holds none: no query for them.
    held = contact_requests_held(db.session, holder_id=current_user.id) if current_user.role in COUNSELLING_ROLES else 0
    return render_template("me/delete.html", form=form, held_requests=held), 400 if form.errors else 200


@bp.post("/me/sharing/<id:link_id>/stop")
@login_required
def stop_sharing(link_id: int):
    """End a sharing link at once: the counsellor's next request for this learner is a 404."""
    try:
        link = link_revoke(db.session, learner=current_user, link_id=link_id)
    except LookupError:
        abort(404)
    counsellor = link.counsellor
    who = counsellor.display_name
    if counsellor.email and shares_with_namesake(db.session, learner_id=current_user.id, name=who):
        who = f"{who} ({counsellor.email})"  # not the other one of that name, still shared with
    flash(f"You have stopped sharing your progress with {who}.", "success")
    return redirect(url_for("me.home"))


@bp.post("/me/handovers/<id:handover_id>")
@login_required
def answer_handover(handover_id: int):
    """Accept or decline a request to share with a colleague of a counsellor's; only the learner's own."""
    # CSRFProtect has already checked the token of this POST.
    decision = request.form.get("decision")
    if decision not in ("accept", "decline"):
        # Someone else's request is not there, whatever was sent: ids cannot be probed.
        abort(400 if learner_handover(db.session, learner=current_user, request_id=handover_id) else 404)
    try:
        answered = handover_respond(
            db.session, learner=current_user, request_id=handover_id, accept=decision == "accept"
        )
    except LookupError:
        abort(404)  # not theirs, or not there: the same answer, so ids cannot be probed
    except (HandoverUnusable, SharingNotAllowed) as problem:
        flash(str(problem), "warning")
        return redirect(url_for("me.home"))
    name = answered.counsellor.display_name
    if answered.accepted:
        flash(f"You are now sharing your course progress with {name}. You can stop at any time here.", "success")
    else:
        flash(f"You declined. {name} cannot see your progress.", "info")
    return redirect(url_for("me.home"))


@bp.post("/me/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of the account, on every device, this one included."""
    # CSRFProtect has already checked the token of this POST.
    user_log_out_everywhere(db.session, user=current_user)
    logout_user()
    flash("You have logged out everywhere: on every device, you need to log in again.", "info")
    return redirect(url_for("main.index"))


@bp.get("/join/")
def join_with_code():
    """Let someone type the short code a counsellor gave them."""
    code = request.args.get("code", "").strip()[:40]
    if code:
        return redirect(url_for("me.join", code=code))
    return render_template("me/join_code.html")


@bp.route("/join/<code>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_JOIN"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_JOIN"],
    key_func=lambda: _signed_in_account() or "",
    exempt_when=lambda: not current_user.is_authenticated,  # visitors are counted by address above
)
def join(code: str):
    """Show exactly what the counsellor will and will not see; accept or decline."""
    secret_key = current_app.config["SECRET_KEY"]
    try:
        invitation = invitation_by_code(db.session, code=code, secret_key=secret_key)
    except InvitationUnusable as problem:
        status = 404 if problem.reason == "unknown" else 410
        signed_in = current_user.is_authenticated
        mine = own_answer(db.session, invitation=problem.invitation, viewer=current_user) if signed_in else None
        return render_template("me/join_unusable.html", problem=problem, mine=mine, code=code), status
    if not current_user.is_authenticated:
        return render_template("me/join.html", invitation=invitation, code=code, form=None)
    if request.method == "GET" and not is_learner(current_user):
        # Say so now, rather than offer Yes and No buttons that can only be refused.
        return render_template(
            "me/join.html", invitation=invitation, code=code, form=None, refusal=LEARNERS_ONLY_MESSAGE
        )
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        accept = request.form.get("decision") == "accept"
        if request.form.get("decision") not in ("accept", "decline"):
            abort(400)
        try:
            invitation_respond(db.session, code=code, learner=current_user, accept=accept, secret_key=secret_key)
        except InvitationUnusable:
            # Used, or cancelled, since this page was shown (another tab answered it): its page says
            # how, and to this learner how they answered.
            return redirect(url_for("me.join", code=code))
        except SharingNotAllowed as problem:
            flash(str(problem), "warning")
            return redirect(url_for("me.home"))
        except DomainError:  # pragma: no cover - every DomainError here is listed above
            abort(400)
        name = invitation.counsellor.display_name
        if accept:
            flash(f"You are now sharing your course progress with {name}. You can stop at any time here.", "success")
        elif active_link(db.session, counsellor_id=invitation.counsellor_id, learner_id=current_user.id):
            # An earlier invitation's sharing goes on: declining this one does not end it.
            flash(
                f"You declined this invitation, but you still share your progress with {name} through an "
                "earlier one. To stop, choose Stop sharing below.",
                "warning",
            )
        else:
            flash(f"You declined. {name} cannot see your progress, only that this invitation was declined.", "info")
        return redirect(url_for("me.home"))
    # Already sharing with this counsellor (an earlier invitation, or a link made for them): the
    # page must not promise that saying no keeps their progress from them.
    sharing = active_link(db.session, counsellor_id=invitation.counsellor_id, learner_id=current_user.id)
    return render_template(
        "me/join.html",
        invitation=invitation,
        code=code,
        form=form,
        sharing_since=sharing.created_at if sharing else None,
    )
