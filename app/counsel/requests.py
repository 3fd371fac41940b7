"""The clinic's queue of contact requests, for counsellors and admins (the blueprint guard checks the role).

Every change is the service's (app/services/contact_requests.py), audited there; these views
only read the form, call it, and say what happened.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from app.counsel import bp
from app.extensions import db
from app.forms import EmptyForm
from app.models import ContactStatus
from app.parsing import parse_page
from app.services.contact_requests import (
    ENDED_STATUSES,
    METHOD_LABELS,
    QUEUE_VIEWS,
    STAFF_NOTE_MAX_LENGTH,
    STAFF_STATUSES,
    STATUS_LABELS,
    TOPIC_LABELS,
    ContactRequestRefused,
    contact_queue,
    contact_queue_entry,
    contact_request_add_note,
    contact_request_pick_up,
    contact_request_release,
    contact_request_set_status,
)
from app.services.errors import ValidationError
from app.staff_nav import contact_requests_waiting_known

LABELS = {"topics": TOPIC_LABELS, "methods": METHOD_LABELS, "statuses": STATUS_LABELS}
# What a status button's click did, said as the person who clicked it would.
STATUS_DONE = {
    **{status: f"The request is marked {label.lower()}." for status, label in STATUS_LABELS.items()},
    ContactStatus.NO_ANSWER: "Your try is recorded: the request stays open, and yours, to try again.",
}


class BackForm(FlaskForm):
    """Where to return after a one-click action: the request's own page, or the queue (and which view)."""

    back = HiddenField(validators=[Optional(), AnyOf(["detail", *QUEUE_VIEWS])])


class StatusForm(BackForm):
    """The status a button sets (its name and value: status=contacted)."""

    status = StringField(validators=[InputRequired(), AnyOf([str(s) for s in STAFF_STATUSES])])


class StaffNoteForm(FlaskForm):
    """A private note to add to one request (the notes already there stay as they are)."""

    staff_note = TextAreaField(
        "Add a note (only the clinic's staff see notes)",
        validators=[
            InputRequired(message="Write the note to add."),
            Length(max=STAFF_NOTE_MAX_LENGTH, message=f"Keep the note to {STAFF_NOTE_MAX_LENGTH} characters."),
        ],
    )


def _back(form: BackForm, request_id: int, *, status: str | None = None):
    """Back where the action was taken: the request's page, or its place in the queue's view. A
    request whose new ``status`` moved it out of that view (closed from the open ones, say) has
    no place there: back to the top of the view, where the message saying so is."""
    if form.back.data == "detail":
        return redirect(url_for("counsel.contact_request", request_id=request_id))
    view = form.back.data if form.back.data in QUEUE_VIEWS and form.back.data != "open" else None
    moved_out = status is not None and (status in ENDED_STATUSES) != (view == "ended")
    anchor = None if moved_out else f"request-{request_id}"
    return redirect(url_for("counsel.contact_requests", show=view, _anchor=anchor))


@bp.get("/requests")
def contact_requests():
    """The clinic's queue: open requests, new ones first (or, with ?show=ended, closed and withdrawn ones)."""
    view = request.args.get("show", "open")
    page = contact_queue(db.session, viewer=current_user, view=view, page=parse_page(request.args.get("page")))
    contact_requests_waiting_known(page.waiting)  # counted with the queue's figures: the header need not ask
    return render_template("counsel/requests.html", queue=page, labels=LABELS, form=EmptyForm())


@bp.get("/requests/<id:request_id>")
def contact_request(request_id: int):
    """One request with its audit trail, its status buttons, the staff's private notes and a form to add one."""
    entry = contact_queue_entry(db.session, viewer=current_user, request_id=request_id)
    if entry is None:
        abort(404)
    return render_template(
        "counsel/request.html", entry=entry, labels=LABELS, note_form=StaffNoteForm(), form=EmptyForm()
    )


def _refused_or_404(action, request_id: int, form: BackForm, done: str, *, status: str | None = None):
    try:
        action()
    except LookupError:
        abort(404)
    except ContactRequestRefused as refused:
        flash(refused.message, "warning")
        status = None  # nothing moved
    else:
        flash(done, "success")
    return _back(form, request_id, status=status)


@bp.post("/requests/<id:request_id>/pick-up")
def pick_up_request(request_id: int):
    """Pick the request up: the queue shows who is dealing with it (audited)."""
    form = BackForm()
    if not form.validate():
        abort(400)
    return _refused_or_404(
        lambda: contact_request_pick_up(db.session, staff=current_user, request_id=request_id),
        request_id,
        form,
        "You picked the request up.",
    )


@bp.post("/requests/<id:request_id>/release")
def release_request(request_id: int):
    """Hand the request back to the queue (audited)."""
    form = BackForm()
    if not form.validate():
        abort(400)
    return _refused_or_404(
        lambda: contact_request_release(db.session, staff=current_user, request_id=request_id),
        request_id,
        form,
        "The request is back in the queue for anyone to pick up.",
    )


@bp.post("/requests/<id:request_id>/status")
def set_request_status(request_id: int):
    """Mark the request new, tried with no answer, contacted or closed (audited)."""
    form = StatusForm()
    if not form.validate():
        abort(400)
    status = form.status.data
    return _refused_or_404(
        lambda: contact_request_set_status(db.session, staff=current_user, request_id=request_id, status=status),
        request_id,
        form,
        STATUS_DONE[status],
        status=status,
    )


@bp.post("/requests/<id:request_id>/notes")
def add_request_note(request_id: int):
    """Add a private note to the request (audited): anyone on the staff, whoever holds it."""
    form = StaffNoteForm()
    if form.validate():
        try:
            contact_request_add_note(
                db.session, staff=current_user, request_id=request_id, text=form.staff_note.data or ""
            )
        except LookupError:
            abort(404)
        except ValidationError as error:
            form.staff_note.errors.append(error.message)
        except ContactRequestRefused as refused:
            # Withdrawn, or changed at the same moment: the note is not added. The page shows the
            # request as it now is, with the note still in the form (unless withdrawn: no form then).
            form.staff_note.errors.append(refused.message)
        else:
            flash("Note added.", "success")
            return redirect(url_for("counsel.contact_request", request_id=request_id, _anchor="notes"))
    entry = contact_queue_entry(db.session, viewer=current_user, request_id=request_id)
    if entry is None:
        abort(404)
    if entry.request.status == "withdrawn":
        flash("The person withdrew this request: notes cannot be added to it.", "warning")
        return redirect(url_for("counsel.contact_request", request_id=request_id))
    return render_template("counsel/request.html", entry=entry, labels=LABELS, note_form=form, form=EmptyForm()), 400
