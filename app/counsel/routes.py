"""Views for counsellors. The blueprint guard has already checked the role."""

from __future__ import annotations

import csv
import io

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from app.counsel import bp
from app.counsel.forms import SEARCH_MAX_LENGTH, ClientLabelForm, InvitationForm, dashboard_query
from app.extensions import db, limiter
from app.forms import confirmed
from app.jobs.mail import send_email
from app.models import Course
from app.parsing import parse_page
from app.services.counselling import (
    VISIT_GAP,
    client_attempts_view,
    client_view,
    counsellor_course,
    counsellor_courses,
)
from app.services.dashboard import dashboard_export_audit, dashboard_export_rows, dashboard_page, flag_labels
from app.services.sealing import seal, unseal
from app.services.sharing import (
    INVITATION_LIFETIME,
    OUTCOMES_KEPT,
    InvitationUnusable,
    counsellor_client_link,
    counsellor_invitation,
    invitation_cancel,
    invitation_create,
    invitation_is_waiting,
    link_end_by_counsellor,
    pending_invitations,
    recent_invitation_outcomes,
    viewable_client,
)
from app.spreadsheet import neutralise
from app.urls import external_url


def _course_or_404() -> Course:
    course = counsellor_course(db.session, slug=request.args.get("course"))
    if course is None:
        abort(404)
    return course


def _named_course(course: Course) -> str | None:
    """The course slug for this page's links, when its address named one: every link on a page
    about another course than the default keeps it (a sort, a page, the client's own page would
    otherwise show the default course's figures); a default-course page's links stay short."""
    return course.slug if request.args.get("course") else None


@bp.get("/")
def dashboard():
    """List the counsellor's clients with progress, last activity, quiz average and flags, in one
    course (?course=slug, else the default), with a link to each other course."""
    courses = counsellor_courses(db.session)
    slug = request.args.get("course")
    course = next((c for c in courses if c.slug == slug), None) if slug else next(iter(courses), None)
    if course is None:
        abort(404)
    query = dashboard_query(request.args)
    page = dashboard_page(db.session, viewer=current_user, course=course, query=query)
    return render_template(
        "counsel/dashboard.html",
        courses=courses,
        course=course,
        course_arg=_named_course(course),
        page=page,
        query=query,
        search_max_length=SEARCH_MAX_LENGTH,
    )


@bp.get("/clients.csv")
def export():
    """Download the dashboard (same filters, every page) as CSV, streamed; an admin's download is audited."""
    course = _course_or_404()
    query = dashboard_query(request.args)
    dashboard_export_audit(db.session, viewer=current_user, course=course, query=query)
    rows = dashboard_export_rows(db.session, viewer=current_user, course=course, query=query)

    labels = flag_labels()

    def generate():
        # A byte-order mark first: without it Excel reads UTF-8 as the local code page, and
        # "Zoë Ångström" comes out as "ZoÃ« Ã…ngstrÃ¶m". Other spreadsheets and csv readers
        # (utf-8-sig) take it as it is meant.
        yield "\ufeff"
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "Name",
                "Lessons complete",
                "Percent complete",
                "Current lesson",
                "Last active (UTC)",
                "Quiz average (%)",
                "Flags",
                # After the columns there were, so a spreadsheet reading them by position still
                # can; the ID tells clients of one name apart (the pages show it where names clash).
                "Your label",
                "Sharing since (UTC)",
                "Client ID",
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    neutralise(row.name),
                    f"{row.completed} of {row.total}",
                    row.percent,
                    neutralise(row.current_lesson or "Finished"),
                    row.last_active.strftime("%Y-%m-%d %H:%M") if row.last_active else "Not started",
                    "" if row.quiz_average is None else round(100 * row.quiz_average),
                    # In the page's words and order, not the codes the query string uses.
                    "; ".join(label for flag, label in labels.items() if flag in row.flags),
                    neutralise(row.label or ""),
                    row.sharing_since.strftime("%Y-%m-%d %H:%M") if row.sharing_since else "",
                    row.learner_id,
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
        yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{course.slug}-clients.csv"'
    return response


@bp.get("/clients/<id:learner_id>")
def client(learner_id: int):
    """Show one client at a glance, then lesson by lesson with the latest attempts and their misconceptions;
    audit the view."""
    page = client_view(
        db.session,
        viewer=current_user,
        learner_id=learner_id,
        course_slug=request.args.get("course"),
        draw=lambda view: render_template(
            "counsel/client.html",
            course=view.course,
            course_arg=_named_course(view.course),
            client=view.client,
            report=view.report,
            status=view.status,
            visit_gap_minutes=int(VISIT_GAP.total_seconds() // 60),
            # The label as the page's first read found it (no query more).
            label_form=ClientLabelForm(formdata=None, data={"label": view.client.label}),
        ),
        with_status=True,
    )
    if page is None:
        abort(404)  # not yours, revoked, or not there: the same answer, so ids cannot be probed
    return page


@bp.route("/clients/<id:learner_id>/stop", methods=["GET", "POST"])
def stop_seeing_client(learner_id: int):
    """Ask first, naming the client; once confirmed, stop seeing their progress: the link ends at once.

    Only a counsellor's own live link can be ended here: an admin sees every learner without one,
    so has none to end (404, as for anyone else's client). A GET, or a bare POST, only asks.
    """
    course = request.args.get("course") or None
    if not confirmed():
        link = counsellor_client_link(db.session, counsellor=current_user, learner_id=learner_id)
        if link is None:
            abort(404)  # not yours, ended, or not there: the same answer, so ids cannot be probed
        return render_template("counsel/client_stop.html", link=link, course_arg=course)
    # CSRFProtect has already checked the token of this POST. The client as the pages named them,
    # read first: ending the link clears its label, which the message names them by.
    client = viewable_client(db.session, viewer=current_user, learner_id=learner_id)
    try:
        link = link_end_by_counsellor(db.session, counsellor=current_user, learner_id=learner_id)
    except LookupError:
        abort(404)
    notes = []
    if client is not None:  # None only for a link to an account no longer a learner's
        notes = [f"your label: {client.label}"] if client.label else []
        if client.namesake:  # another client of that name is still listed: say which one went
            notes.append(f"client ID {client.learner_id}")
    name = link.learner.display_name
    whose = f"the progress of {name} ({'; '.join(notes)})" if notes else f"{name}'s progress"
    flash(f"You no longer see {whose}. To see it again, invite them again.", "success")
    return redirect(url_for("counsel.dashboard", course=course))


@bp.get("/clients/<id:learner_id>/lessons/<lesson_slug>/attempts")
def client_attempts(learner_id: int, lesson_slug: str):
    """Every attempt of one client at one lesson, newest first, a page at a time; audit the view.

    The client page lists each lesson's latest attempts and links here. Not theirs, an unknown
    lesson or a page past the last is 404; a page number that is not one shows the first page.
    """
    page = client_attempts_view(
        db.session,
        viewer=current_user,
        learner_id=learner_id,
        course_slug=request.args.get("course"),
        lesson_slug=lesson_slug,
        number=parse_page(request.args.get("page")),
        # A page past the last is recorded as a view, and answered with a 404 below.
        draw=lambda view: (
            None
            if view.listed is None
            else render_template("counsel/client_attempts.html", view=view, listed=view.listed)
        ),
    )
    if page is None:
        abort(404)
    return page


# The session key of the invitation this counsellor made last: "<id>:<code>", sealed (the session
# cookie is only signed, and the code is what lets a client share: it must not be readable there).
NEW_INVITATION = "new_invitation"
_SEALED_FOR = "new-invitation-code"


def _inviting_account() -> str:
    """Rate-limit key for the counsellor sending invitation e-mails, from whichever address."""
    return f"invite-email:user:{getattr(current_user, 'id', '')}"


@bp.route("/invitations", methods=["GET", "POST"])
# The app sends these e-mails to any address typed in, so each account may send only so many:
# a taken-over or careless account cannot use the site to spam people.
@limiter.limit(
    lambda: current_app.config["RATELIMIT_INVITE_EMAIL"],
    methods=["POST"],
    key_func=_inviting_account,
    exempt_when=lambda: not (current_user.is_authenticated and request.form.get("email", "").strip()),
)
def invitations():
    """Create an invitation (POST), optionally e-mail it, and list the ones still waiting.

    After creating, redirect to the new invitation's page: reloading that page shows it again,
    where reloading this POST's answer would have made (and e-mailed) a second invitation.
    """
    form = InvitationForm()
    if form.validate_on_submit():
        invitation, code = invitation_create(
            db.session, counsellor=current_user, secret_key=current_app.config["SECRET_KEY"], label=form.label.data
        )
        # The database keeps only the code's hash, so the page after the redirect reads the code
        # from this counsellor's own session, sealed; each new invitation replaces the last one's.
        secret_key = current_app.config["SECRET_KEY"]
        session[NEW_INVITATION] = seal(f"{invitation.id}:{code}", secret_key=secret_key, purpose=_SEALED_FOR)
        if form.email.data:
            body = render_template(
                "counsel/invitation_email.txt",
                counsellor=current_user,
                code=code,
                url=external_url("me.join", code=code),
                # Where to type the code, for a client who cannot open the link (a mail read on another device).
                code_page=external_url("me.join_with_code"),
                expires_at=invitation.expires_at,
            )
            # Sent by a worker, which retries if the SMTP server is down: the page does not wait for it.
            try:
                send_email(form.email.data, "An invitation to share your progress", body)
                # Not the address itself: a flash message travels in the session cookie.
                flash("We are e-mailing the invitation to the address you gave.", "info")
            except Exception:  # the queue itself is unreachable (Redis down): the code below still works
                current_app.logger.exception("Invitation e-mail could not be queued")
                flash("We could not send the e-mail. Give your client the code or link below instead.", "warning")
        return redirect(url_for("counsel.show_invitation", invitation_id=invitation.id))
    return _invitations_page(form, created=None), 400 if form.errors else 200


@bp.get("/invitations/<id:invitation_id>")
def show_invitation(invitation_id: int):
    """Show an invitation the counsellor made, with its code while their session still holds it."""
    invitation = counsellor_invitation(db.session, counsellor=current_user, invitation_id=invitation_id)
    if invitation is None:
        abort(404)  # not yours or not there: the same answer, so ids cannot be probed
    held = unseal(session.get(NEW_INVITATION, ""), secret_key=current_app.config["SECRET_KEY"], purpose=_SEALED_FOR)
    held_id, _, code = (held or "").partition(":")
    waiting = invitation_is_waiting(invitation)
    if held_id != str(invitation.id) or not waiting:
        if held_id == str(invitation.id):
            session.pop(NEW_INVITATION, None)  # answered, cancelled or expired: the code is of no more use
        code = ""
    created = {
        "code": code,
        "url": external_url("me.join", code=code) if code else None,
        "expires_at": invitation.expires_at,
        "label": invitation.label,
        "waiting": waiting,
    }
    return _invitations_page(InvitationForm(formdata=None), created=created)


def _invitations_page(form: InvitationForm, *, created: dict | None) -> str:
    return render_template(
        "counsel/invitations.html",
        form=form,
        created=created,
        pending=pending_invitations(db.session, counsellor=current_user),
        outcomes=recent_invitation_outcomes(db.session, counsellor=current_user),
        outcomes_days=OUTCOMES_KEPT.days,
        lifetime_days=INVITATION_LIFETIME.days,
    )


@bp.route("/invitations/<id:invitation_id>/cancel", methods=["GET", "POST"])
def cancel_invitation(invitation_id: int):
    """Ask first, naming the invitation; once confirmed, cancel it: its code stops working at once.

    A GET, or a bare POST (the button of a page served before this step), only asks.
    """
    if not confirmed():
        invitation = counsellor_invitation(db.session, counsellor=current_user, invitation_id=invitation_id)
        if invitation is None:
            abort(404)  # not yours or not there: the same answer, so ids cannot be probed
        return render_template(
            "counsel/invitation_cancel.html", invitation=invitation, waiting=invitation_is_waiting(invitation)
        )
    # CSRFProtect has already checked the token of this POST.
    try:
        invitation = invitation_cancel(db.session, counsellor=current_user, invitation_id=invitation_id)
    except LookupError:
        abort(404)  # not yours or not there: the same answer, so ids cannot be probed
    except InvitationUnusable as problem:
        flash(problem.message, "warning")
        return redirect(url_for("counsel.invitations"))
    what = f"The invitation for {invitation.label}" if invitation.label else "The invitation"
    flash(f"{what} is cancelled: its code and link no longer work.", "success")
    return redirect(url_for("counsel.invitations"))
