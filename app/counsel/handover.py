"""The page where a counsellor (or an admin, for any counsellor) asks a caseload's clients to
share their progress with a colleague, and sees how each answered (app/services/handover.py)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.counsel import bp
from app.counsel.forms import HandoverForm
from app.extensions import db
from app.forms import confirmed
from app.models import User
from app.services.errors import ValidationError
from app.services.handover import (
    caseload_clients,
    colleagues,
    handover_request,
    handover_statuses,
    may_hand_over,
)
from app.services.sharing import INVITATION_LIFETIME

STATUS_WORDS = {
    "waiting": "Waiting for an answer",
    "accepted": "Accepted",
    "declined": "Declined",
    "expired": "Expired without an answer",
    "withdrawn": "Withdrawn: the colleague can no longer take on clients",
}


@bp.route("/caseloads/<id:counsellor_id>/handover", methods=["GET", "POST"])
def handover(counsellor_id: int):
    """Ask the counsellor's clients to share with a colleague: choose whom and which clients, then
    confirm (a POST without the confirmation only asks); list how each request stands.

    The counsellor's own caseload, or an admin for any counsellor's and for a former counsellor's
    clients (handover.may_hand_over); anyone else's is a 404.
    """
    from_counsellor = db.session.get(User, counsellor_id)
    if from_counsellor is None or not may_hand_over(db.session, actor=current_user, from_counsellor=from_counsellor):
        abort(404)  # not theirs, not a counsellor, or not there: the same answer, so ids cannot be probed
    clients = caseload_clients(db.session, counsellor=from_counsellor)
    others = colleagues(db.session, counsellor=from_counsellor)
    form = HandoverForm()
    form.colleague.choices = [(0, "Choose a colleague")] + [(c.id, _named(c)) for c in others]
    form.clients.choices = [(c.learner_id, c.name) for c in clients]
    if not form.is_submitted():
        form.clients.data = [c.learner_id for c in clients]  # every client, unless some are unticked
    elif form.validate() and form.colleague.data:
        if not confirmed():
            colleague = next(c for c in others if c.id == form.colleague.data)
            chosen = [c for c in clients if c.learner_id in set(form.clients.data or [])]
            return render_template(
                "counsel/handover_confirm.html",
                from_counsellor=from_counsellor,
                colleague=colleague,
                chosen=chosen,
                form=form,
                lifetime_days=INVITATION_LIFETIME.days,
            )
        try:
            result = handover_request(
                db.session,
                actor=current_user,
                from_counsellor=from_counsellor,
                to_counsellor_id=form.colleague.data,
                learner_ids=form.clients.data,
            )
        except ValidationError as problem:
            form[problem.field].errors = [problem.message]
        else:
            flash(_outcome(result.created, result.already_asked, result.already_declined), "success")
            return redirect(url_for("counsel.handover", counsellor_id=from_counsellor.id))
    elif form.colleague.data == 0 and not form.colleague.errors:
        form.colleague.errors = ["Choose the colleague to take over."]
    page = render_template(
        "counsel/handover.html",
        from_counsellor=from_counsellor,
        own=from_counsellor.id == current_user.id,
        clients=clients,
        form=form,
        statuses=handover_statuses(db.session, viewer=current_user, from_counsellor=from_counsellor),
        status_words=STATUS_WORDS,
        lifetime_days=INVITATION_LIFETIME.days,
    )
    return page, 400 if form.errors else 200


def _named(counsellor: User) -> str:
    """A colleague as the list names them: two of one name told apart by their address."""
    return f"{counsellor.display_name} ({counsellor.email})" if counsellor.email else counsellor.display_name


def _outcome(created: int, already_asked: int, already_declined: int) -> str:
    """What asking did, in a sentence or two.

    Never whether a client already shares with the colleague: that is the client's to tell, and the
    service asks them as any other (app/services/handover.py). Both reasons given here are on the
    page's own list of answers already.
    """
    asked = "No client was asked." if not created else f"{created} client{'s' if created != 1 else ''} asked."
    notes = []
    if already_asked:
        notes.append(f"{already_asked} already {'has' if already_asked == 1 else 'have'} a request waiting")
    if already_declined:
        notes.append(f"{already_declined} said no to that colleague when asked before")
    left = f" Not asked again: {'; '.join(notes)}." if notes else ""
    return f"{asked}{left} Nothing is shared until each client says yes on their own page."
