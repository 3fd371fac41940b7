"""The counsellor's private label for a client, changed from the client's page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.counsel import bp
from app.counsel.forms import ClientLabelForm
from app.extensions import db
from app.services.link_labels import link_label_change
from app.services.sharing import counsellor_client_link


@bp.route("/clients/<id:learner_id>/label", methods=["GET", "POST"])
def client_label(learner_id: int):
    """Save the counsellor's label for a client (POST, empty clears it) and go back to the client's
    page; show the form alone for a GET, or again with what was wrong (400).

    Only a counsellor's own live link has a label: another counsellor's client, an ended link or
    an admin (who sees every learner through no link of their own) is 404, whatever was sent.
    """
    course = request.args.get("course") or None
    form = ClientLabelForm()
    if form.validate_on_submit():  # CSRFProtect, and the form, have checked the token
        try:
            label = link_label_change(db.session, counsellor=current_user, learner_id=learner_id, label=form.label.data)
        except LookupError:
            abort(404)  # not yours, ended, or not there: the same answer, so ids cannot be probed
        # Not the label itself, which often names the client: a flash message travels in the
        # session cookie, which is signed, not sealed. The page it leads to shows the label.
        flash("Your label is saved. Only you see it." if label else "Your label is removed.", "success")
        return redirect(url_for("counsel.client", learner_id=learner_id, course=course))
    link = counsellor_client_link(db.session, counsellor=current_user, learner_id=learner_id)
    if link is None:
        abort(404)
    if request.method == "GET":
        form.label.data = link.label
    page = render_template("counsel/client_label.html", form=form, link=link, course_arg=course)
    return page, 400 if form.errors else 200
