"""Personal access tokens for the JSON API, on /me/tokens: make one (shown once), list, revoke.

The rules (who may give which scope, the name, how many) are app/services/api_tokens.py's; this
page only asks and shows.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import EmptyForm
from app.me import bp
from app.me.token_forms import TokenForm
from app.services.api_tokens import SCOPES, scopes_for, token_create, token_revoke, tokens_of
from app.services.errors import ValidationError


@bp.route("/me/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """List the person's API tokens; make one (POST), showing it this once."""
    form = TokenForm()
    form.scopes.choices = [(scope.name, scope.label) for scope in scopes_for(current_user)]
    created = None
    if form.validate_on_submit():
        try:
            token, text = token_create(db.session, user=current_user, name=form.name.data, scopes=form.scopes.data)
        except ValidationError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            created = {"name": token.name, "token": text, "scopes": [SCOPES[s].label for s in token.scopes.split()]}
            form = TokenForm(formdata=None)  # the next token is another: start its form empty
            form.scopes.choices = [(scope.name, scope.label) for scope in scopes_for(current_user)]
    status = 201 if created else (400 if form.errors else 200)
    return render_template(
        "me/tokens.html",
        form=form,
        created=created,
        tokens=tokens_of(db.session, user=current_user),
        scope_labels={name: scope.label for name, scope in SCOPES.items()},
    ), status


@bp.post("/me/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of the person's tokens: it stops working at once."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        token = token_revoke(db.session, user=current_user, token_id=token_id)
    except LookupError:
        abort(404)  # not yours or not there: the same answer, so ids cannot be probed
    flash(f"The token “{token.name}” is revoked: it no longer works.", "success")
    return redirect(url_for("me.tokens"))
