"""What every view that edits a course's draft does alike: open an edit form, save it to the draft,
show it again with its errors, run a one-click button, and answer for something no longer in the draft.

The views stay thin: they parse a form, call one function of app/services/authoring/, flash and
redirect; on a broken rule they put the service's errors beside their fields
(forms.populate_errors) and answer 400.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from app.author import bp
from app.author.forms import AuthoringForm, error_links, populate_errors
from app.errors import render_error
from app.forms import EmptyForm, confirmed
from app.services.authoring import DraftError, DraftInvalid, NotInDraft


@bp.errorhandler(NotInDraft)
def not_in_draft(error: NotInDraft):
    """An unknown module, lesson, question position or misconception is a 404.

    Confirming a removal of something no longer there (another admin, or another tab, removed
    it first) says so, rather than the bare "page not found".
    """
    if confirmed():
        return render_error(
            404,
            "Nothing was removed: it is no longer in the draft. Perhaps another admin, or you in another tab, "
            "removed it first.",
            title="Already removed",
            back=url_for("author.index"),
        )
    return render_error(404)


FormT = TypeVar("FormT", bound=FlaskForm)
Returned = TypeVar("Returned")


def opened_form(form_class: type[FormT], initial: Mapping[str, Any]) -> FormT:
    """The edit form: filled from the draft when the page is opened (GET), from what was posted otherwise."""
    return form_class(data=initial) if request.method == "GET" else form_class()


@dataclass(frozen=True)
class DraftSave(Generic[Returned]):
    """What became of an edit form posted to the draft."""

    saved: bool
    returned: Returned | None = None  # what the service returned, once saved
    other: list[str] = field(default_factory=list)  # the messages no field took, for the top of the page


def save_to_draft(form: AuthoringForm, save: Callable[[], Returned]) -> DraftSave[Returned]:
    """Save a valid posted form to the draft by calling ``save``, one function of app/services/authoring/.

    A rule the draft would break puts the service's errors beside their fields and the rest in
    ``other``. The caller says what was saved and where to go next, or shows the form again.
    """
    if not form.validate_on_submit():
        return DraftSave(saved=False)
    try:
        returned = save()
    except DraftInvalid as invalid:
        return DraftSave(saved=False, other=populate_errors(form, invalid))
    return DraftSave(saved=True, returned=returned)


def form_page(template: str, form, *, status: int | None = None, other=(), links=(), **context):
    """Render an edit page with every error listed at the top and shown beside its field.

    A POST that gets here did not save, so it answers 400 unless the caller says otherwise.
    """
    if status is None:
        status = 400 if request.method == "POST" else 200
    errors = error_links(form) + list(links)
    return render_template(template, form=form, errors=errors, other=list(other), **context), status


def one_click(action, success: str, back: str, *, form_class=EmptyForm):
    """Run a button's action (move, remove, delete), flash the outcome and go back."""
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(form)
    except DraftInvalid as invalid:  # a button has no fields: every message goes in the flash
        flash(" ".join(invalid.other or [m for ms in invalid.field_errors.values() for m in ms]), "error")
    except NotInDraft:
        raise  # a 404 (see not_in_draft), not a message
    except DraftError as error:
        flash(str(error), "warning")
    else:
        flash(success, "success")
    return redirect(back)
