"""Personal access tokens for the JSON API, on /me/tokens: make one (shown once), list, revoke.

The rules (who may give which scope, the name, how many) are app/services/api_tokens.py's; this
page only asks and shows.
"""

from __future__ import annotations

import re
import secrets

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import EmptyForm
from app.me import bp
from app.me.token_forms import TokenForm
from app.services.api_tokens import SCOPES, TokenAlreadyMade, scopes_for, token_create, token_revoke, tokens_of
from app.services.errors import ValidationError

# Each form's own key, kept on the token it makes: a reload of the page that showed a new token
# sends its POST again, and a double-click sends it twice; neither may make a second token.
_FORM_KEY = re.compile(r"[0-9a-f]{32}")
ALREADY_MADE = (
    "That form made its token already, and a token's text is shown only once, on the page that "
    "answered the form. If you did not copy it, revoke it below and make another."
)


def _form(*, empty: bool = False) -> TokenForm:
    """The form (``empty``: not filled from the request) with the scopes this account may give; a
    form not sent yet gets a new key (``once``)."""
    form = TokenForm(formdata=None) if empty else TokenForm()
    form.scopes.choices = [(scope.name, scope.label) for scope in scopes_for(current_user)]
    if not _FORM_KEY.fullmatch(form.once.data or ""):
        # Not one of ours (none yet, or changed by hand): a fresh one, so nothing else is ever kept.
        form.once.data = secrets.token_hex(16)
    return form


@bp.route("/me/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """List the person's API tokens; make one (POST), showing it this once."""
    form = _form()
    created = None
    if form.validate_on_submit():
        try:
            token, text = token_create(
                db.session, user=current_user, name=form.name.data, scopes=form.scopes.data, form_key=form.once.data
            )
        except TokenAlreadyMade:
            flash(ALREADY_MADE, "info")
            return redirect(url_for("me.tokens"))
        except ValidationError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            created = {"name": token.name, "token": text, "scopes": [SCOPES[s].label for s in token.scopes.split()]}
            form = _form(empty=True)  # the next token is another: start its form empty, with a new key
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
