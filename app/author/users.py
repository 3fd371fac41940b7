"""User administration for admins: list and search, creating an account, one account's page,
and its actions.

The blueprint guard has already checked that the caller is an admin. Every action is a
POST with a CSRF token that calls one service, then flashes and redirects; a refused or
invalid action re-renders the account's page with the message beside its control (400).
Erasing an account asks first, on a page of its own that says what goes and what stays.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app.author import bp
from app.author.user_forms import (
    ROLE_LABELS,
    LinkCounsellorForm,
    NewUserForm,
    RoleForm,
    UserSearchForm,
    user_query,
)
from app.downloads import data_file
from app.errors import render_error
from app.extensions import db
from app.forms import EmptyForm, confirmed
from app.jobs.mail import send_email, send_password_reset, send_welcome
from app.jobs.queue import queued
from app.models import COUNSELLING_ROLES, Role, User
from app.services.contact_requests import contact_requests_held
from app.services.errors import ValidationError
from app.services.sharing import clients_sharing_count, learner_links
from app.services.user_admin import (
    AccountGone,
    counsellor_choices,
    learner_link_checked,
    learner_link_counsellor,
    lms_linked,
    password_not_chosen,
    user_audit_events,
    user_data_download,
    user_deactivate,
    user_erase,
    user_onboard,
    user_reactivate,
    user_reset_link_audit,
    user_role_change,
    users_search,
)
from app.urls import external_url


def _user_or_404(user_id: int) -> User:
    return db.get_or_404(User, user_id)


def _render_detail(
    user: User,
    *,
    role_form: RoleForm | None = None,
    link_form: LinkCounsellorForm | None = None,
    active_error: str | None = None,
    reset_error: str | None = None,
    status: int = 200,
):
    """Render an account's page; forms passed in keep what was sent and its errors."""
    links = learner_links(db.session, learner=user) if user.role == Role.LEARNER else []
    if link_form is None and user.role == Role.LEARNER:
        link_form = LinkCounsellorForm(formdata=None)
    if link_form is not None:
        # Not the counsellors the learner shares with already: linking them again changes nothing.
        sharing = {link.counsellor_id for link in links}
        link_form.set_counsellors([c for c in counsellor_choices(db.session) if c.id not in sharing])
    return render_template(
        "author/user_detail.html",
        user=user,
        role_labels=ROLE_LABELS,
        role_form=role_form or RoleForm(formdata=None, role=user.role),
        active_form=EmptyForm(formdata=None),
        active_error=active_error,
        reset_error=reset_error,
        password_not_chosen=password_not_chosen(user),
        lms_linked=_lms_linked(user),
        link_form=link_form,
        links=links,
        clients=clients_sharing_count(db.session, counsellor=user),
        events=user_audit_events(db.session, user=user),
    ), status


def _sharing_counsellors(user: User) -> list[str]:
    """The names of the counsellors a learner shares their progress with now (none for staff)."""
    if user.role != Role.LEARNER:
        return []
    return [link.counsellor.display_name for link in learner_links(db.session, learner=user)]


def _show_beside_field(form: FlaskForm, error: ValidationError) -> None:
    """Put a service's refusal beside the control it belongs to."""
    field = form[error.field]
    field.errors = [*field.errors, error.message]


@bp.get("/users")
def users():
    """List and search accounts, filtered by role and status, sorted by name, last login or role, 50 a page."""
    query = user_query(request.args)
    form = UserSearchForm(request.args)
    page = users_search(db.session, query=query)
    return render_template("author/users.html", form=form, query=query, page=page, role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Create an account and e-mail its owner a link to choose their password."""
    form = NewUserForm()
    if form.validate_on_submit():
        if form.role.data == Role.ADMIN and not confirmed():
            # A new admin can open every learner's health information from their first login: ask first.
            return render_template(
                "author/user_make_admin.html",
                name=form.display_name.data,
                action=url_for("author.user_new"),
                hidden={"display_name": form.display_name.data, "email": form.email.data, "role": Role.ADMIN.value},
                back=url_for("author.users"),
                back_text="Do not create it",
            )
        try:
            user = user_onboard(
                db.session,
                actor=current_user,
                email=form.email.data,
                display_name=form.display_name.data,
                role=form.role.data,
            )
        except ValidationError as error:
            _show_beside_field(form, error)
        else:
            if queued(send_welcome, user.id):  # after the commit, so the worker finds the account
                flash(
                    f"Account created for {user.display_name}. We have e-mailed {user.email} a link to choose "
                    "their password; it works once, within an hour.",
                    "success",
                )
            else:
                flash(
                    f"Account created for {user.display_name}, but the e-mail with a link to choose their "
                    "password could not be sent: part of our system is not answering. In a minute, use "
                    "“E-mail a link to choose a password” below to send it.",
                    "warning",
                )
            return redirect(url_for("author.user_detail", user_id=user.id))
    return render_template("author/user_new.html", form=form), 400 if form.errors else 200


@bp.get("/users/<id:user_id>")
def user_detail(user_id: int):
    """Show one account: its details, the actions on it and its audit trail."""
    return _render_detail(_user_or_404(user_id))


@bp.post("/users/<id:user_id>/role")
def user_role(user_id: int):
    """Change the account's role."""
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _render_detail(user, role_form=form, status=400)
    shares = _sharing_counsellors(user) if form.role.data != Role.LEARNER else []
    leaving_staff = form.role.data == Role.LEARNER and user.role in COUNSELLING_ROLES
    # A counsellor made a learner or an admin counsels nobody; their clients' sharing is not ended,
    # so the page that asks first offers to ask them to share with a colleague (handover.may_hand_over).
    stops_counselling = leaving_staff or (user.role == Role.COUNSELLOR and form.role.data == Role.ADMIN)
    clients = clients_sharing_count(db.session, counsellor=user) if stops_counselling else 0
    if form.role.data == Role.ADMIN and user.role != Role.ADMIN and not confirmed():
        # An admin can open every learner's health information: the page says so and asks first.
        return render_template(
            "author/user_make_admin.html",
            name=user.display_name,
            action=url_for("author.user_role", user_id=user.id),
            hidden={"role": Role.ADMIN.value},
            back=url_for("author.user_detail", user_id=user.id),
            back_text="Keep their role",
            shares=shares,
            user=user,
            clients=clients,
        )
    # The open requests they hold go back to the queue with the change (user_role_change), as on deactivation.
    held = _held_requests(user) if leaving_staff else 0
    if (clients or held) and not confirmed():
        # A learner opens nobody's progress, and calls nobody back: their clients' sharing goes dark,
        # and someone else must pick their requests up. Say so before it happens.
        return render_template(
            "author/user_role_caseload.html", user=user, clients=clients, held_requests=held, role=form.role.data
        )
    if shares and not confirmed():
        # Staff are nobody's clients: their counsellors stop seeing them. Say so before it happens.
        return render_template(
            "author/user_role_clients.html",
            user=user,
            role=form.role.data,
            role_labels=ROLE_LABELS,
            shares=shares,
        )
    try:
        changed = user_role_change(db.session, actor=current_user, user=user, role=form.role.data)
    except ValidationError as error:
        _show_beside_field(form, error)
        return _render_detail(user, role_form=form, status=400)
    if changed:
        flash(f"{user.display_name}'s role is now {ROLE_LABELS[Role(user.role)]}.", "success")
    else:
        flash(f"{user.display_name} already had that role; nothing changed.", "info")
    return redirect(url_for("author.user_detail", user_id=user.id))


@bp.post("/users/<id:user_id>/deactivate")
def user_deactivate_view(user_id: int):
    """Deactivate the account, once confirmed: it can no longer log in, and its history stays."""
    user = _user_or_404(user_id)  # CSRF is checked app-wide; the action has no other input
    if user.is_active and user.id != current_user.id and not confirmed():
        # It logs the person out at once, wherever they are: ask first, as the other such actions do.
        # (Your own account, or one already deactivated, goes on to the refusal or the message.)
        return render_template(
            "author/user_deactivate.html",
            user=user,
            shares=_sharing_counsellors(user),
            held_requests=_held_requests(user),
            clients=clients_sharing_count(db.session, counsellor=user),
        )
    try:
        changed = user_deactivate(db.session, actor=current_user, user=user)
    except ValidationError as error:
        return _render_detail(user, active_error=error.message, status=400)
    if changed:
        flash(f"{user.display_name}'s account is deactivated: they cannot log in; their history is kept.", "success")
    else:
        flash(f"{user.display_name}'s account was already deactivated.", "info")
    return redirect(url_for("author.user_detail", user_id=user.id))


@bp.post("/users/<id:user_id>/reactivate")
def user_reactivate_view(user_id: int):
    """Let a deactivated account log in again."""
    user = _user_or_404(user_id)  # CSRF is checked app-wide; the action has no other input
    if user_reactivate(db.session, actor=current_user, user=user):
        flash(f"{user.display_name}'s account is active again. They can log in.", "success")
    else:
        flash(f"{user.display_name}'s account was already active.", "info")
    return redirect(url_for("author.user_detail", user_id=user.id))


@bp.post("/users/<id:user_id>/link")
def user_link(user_id: int):
    """Link a learner to a counsellor on the learner's behalf."""
    user = _user_or_404(user_id)
    form = LinkCounsellorForm().set_counsellors(counsellor_choices(db.session))
    if not form.validate_on_submit():
        return _render_detail(user, link_form=form, status=400)
    try:
        counsellor, existing = learner_link_checked(db.session, learner=user, counsellor_id=form.counsellor_id.data)
    except ValidationError as error:
        _show_beside_field(form, error)
        return _render_detail(user, link_form=form, status=400)
    if existing is None and not confirmed():
        # It shares a learner's health information: name whom with, e-mail included (two people
        # may share a name), and ask first, as the other such actions do.
        return render_template("author/user_link_confirm.html", user=user, counsellor=counsellor)
    try:
        link, created = learner_link_counsellor(
            db.session, actor=current_user, learner=user, counsellor_id=form.counsellor_id.data
        )
    except ValidationError as error:
        _show_beside_field(form, error)
        return _render_detail(user, link_form=form, status=400)
    name = link.counsellor.display_name
    if created:
        if _tell_the_learner(user, counsellor_name=name):
            flash(f"{user.display_name} now shares their progress with {name}.", "success")
        else:
            # The notice is how the learner hears of it, and can object: the admin must know it did not go.
            flash(
                f"{user.display_name} now shares their progress with {name}, but the e-mail telling them so could "
                "not be sent: part of our system is not answering. Please let them know another way.",
                "warning",
            )
    else:
        flash(f"{user.display_name} already shares their progress with {name}; nothing changed.", "info")
    return redirect(url_for("author.user_detail", user_id=user.id))


def _tell_the_learner(learner: User, *, counsellor_name: str) -> bool:
    """E-mail the learner that sharing was set up for them, and where to stop it (an LMS's account
    has no address: it sees the link on /me/ only). Queued; False when the queue could not take it."""
    if not learner.email:
        return True
    body = render_template(
        "author/link_made_email.txt",
        learner=learner,
        counsellor_name=counsellor_name,
        my_page=external_url("me.home"),
    )
    return queued(send_email, learner.email, "Sharing your course progress", body)


@bp.post("/users/<id:user_id>/reset-link")
def user_reset_link(user_id: int):
    """E-mail the account a link to choose a new password (the one the login page's "forgotten" link sends)."""
    user = _user_or_404(user_id)  # CSRF is checked app-wide; the action has no other input
    try:
        user_reset_link_audit(db.session, actor=current_user, user=user)
    except ValidationError as error:
        return _render_detail(user, reset_error=error.message, status=400)
    if password_not_chosen(user):
        # Never chose one: the welcome again, not "someone asked to reset your password… ignore
        # this e-mail and your password stays as it is", which would leave them with none.
        send_welcome(user.id)
    else:
        send_password_reset(user.email)
    flash(f"We have e-mailed {user.email} a link to choose a password; it works once, within an hour.", "success")
    return redirect(url_for("author.user_detail", user_id=user.id))


@bp.post("/users/<id:user_id>/data.json")
def user_data_json(user_id: int):
    """Download everything held about the account, the file its owner gets on /me/data.json, for them; recorded.

    A POST (with its CSRF token, checked app-wide), so no link, prefetch or other site can make
    a download that the activity log and the owner's own data would then show.
    """
    user = _user_or_404(user_id)
    try:
        data = user_data_download(db.session, actor=current_user, user=user)
    except AccountGone:  # erased meanwhile (another admin, another tab, or its owner)
        abort(404)
    return data_file(data, filename=f"user-{user_id}-data.json")


@bp.route("/users/<id:user_id>/erase", methods=["GET", "POST"])
def user_erase_view(user_id: int):
    """Ask first, saying what erasing the account removes and what stays; once confirmed, erase it.

    A GET, or a bare POST (the button of a page served before this step), only asks. The
    erasure is the one the account's owner makes on /me/delete, for a person who asks the
    clinic, or an account nobody can reach any more.
    """
    user = db.session.get(User, user_id)
    if user is None:
        if confirmed():
            return _already_erased()
        abort(404)
    if not confirmed():
        return _render_erase(user)
    try:
        user_erase(db.session, actor=current_user, user=user)
    except AccountGone:
        return _already_erased()
    except ValidationError as error:
        return _render_erase(user, error=error.message, status=400)
    # No name: the account and its name are gone, and a flash lives in the session cookie.
    flash(
        "The account is erased, with everything in it. The activity log records the erasure, "
        "with the account's role only.",
        "success",
    )
    return redirect(url_for("author.users"))


def _render_erase(user: User, *, error: str | None = None, status: int = 200):
    return render_template(
        "author/user_erase.html",
        user=user,
        role_labels=ROLE_LABELS,
        lms_linked=_lms_linked(user),
        held_requests=_held_requests(user),
        error=error,
    ), status


def _held_requests(user: User) -> int:
    """How many open contact requests the account holds, which leaving the staff hands back (no query for a learner)."""
    return contact_requests_held(db.session, holder_id=user.id) if user.role in COUNSELLING_ROLES else 0


def _lms_linked(user: User) -> bool:
    """Whether a registered LMS signs in an account with no e-mail address (no query for one with an address)."""
    return user.email is None and lms_linked(db.session, user=user)


def _already_erased():
    """Erased meanwhile (another admin, another tab, or its owner): say so, as confirmed removals do."""
    return render_error(
        404,
        "Nothing was erased: that account is no longer here. Perhaps another admin, or you in another tab, "
        "erased it first, or its owner deleted it.",
        title="Already erased",
        back=url_for("author.users"),
    )
