"""Views for asking the clinic to contact you, and for withdrawing a request."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.guessing import keyed_hash
from app.contact import bp
from app.contact.forms import ContactRequestForm
from app.extensions import db, limiter
from app.forms import EmptyForm
from app.jobs.contact import send_acknowledgement, send_clinic_notice
from app.models import ContactMethod, Role
from app.services.contact_requests import (
    ContactDetails,
    ContactRequestRefused,
    contact_emails_pending,
    contact_request_by_link,
    contact_request_create,
    contact_request_withdraw,
    contact_request_withdraw_by_link,
    tel_href,
    withdraw_link_holder,
)
from app.services.errors import ValidationError


@dataclass(frozen=True)
class Clinic:
    """The clinic's details as configured; any of them may be empty, and the page leaves it out."""

    name: str
    phone: str
    hours: str
    address: str
    # How soon it aims to answer a request, in words after "within" ("" when nobody has said).
    reply_within: str

    @property
    def phone_link(self) -> str:
        """The number as a tel: link wants it."""
        return tel_href(self.phone)

    @property
    def has_details(self) -> bool:
        """Whether there is a way to reach the clinic to show (a name alone is not one): without
        any, the page leaves the clinic's panel out rather than tell the public it is missing."""
        return bool(self.phone or self.hours or self.address)


def clinic_from_config() -> Clinic:
    """The clinic's details from the CLINIC_* and CONTACT_REPLY_WITHIN settings, trimmed."""
    config = current_app.config
    return Clinic(
        name=config["CLINIC_NAME"].strip(),
        phone=config["CLINIC_PHONE"].strip(),
        hours=config["CLINIC_HOURS"].strip(),
        address=config["CLINIC_ADDRESS"].strip(),
        reply_within=config["CONTACT_REPLY_WITHIN"].strip(),
    )


def _signed_in_account() -> str:
    """Rate-limit key for the signed-in account, whichever address it asks from."""
    return f"contact:user:{getattr(current_user, 'id', '')}"


def _contact_detail() -> str:
    """The phone number's digits or the address, as submitted, for the per-detail limit ("" when none)."""
    if request.form.get("contact_by") == ContactMethod.PHONE:
        return "".join(ch for ch in request.form.get("phone", "") if ch.isdigit())
    if request.form.get("contact_by") == ContactMethod.EMAIL:
        return request.form.get("email", "").strip().lower()
    return ""


def _contact_detail_key() -> str:
    """Rate-limit key for one phone number or address: a keyed hash, so the counters' store never holds it."""
    return f"contact:detail:{keyed_hash(_contact_detail())}"


def _request_recorded(response) -> bool:
    """Whether the POST recorded a request (the redirect to "sent"): only those count against the
    limits. A form sent back with a mistake to mend records and mails nothing, and counting it
    locked out someone who took a few tries, or everyone behind one clinic's address."""
    return response.status_code == 302


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_CONTACT"], methods=["POST"], deduct_when=_request_recorded)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_CONTACT_ACCOUNT"],
    methods=["POST"],
    key_func=_signed_in_account,
    exempt_when=lambda: not current_user.is_authenticated,  # visitors are counted by address above
    deduct_when=_request_recorded,
)
# So nobody can have the clinic's acknowledgements sent to a stranger's inbox over and over.
@limiter.limit(
    lambda: current_app.config["RATELIMIT_CONTACT_ACCOUNT"],
    methods=["POST"],
    key_func=_contact_detail_key,
    exempt_when=lambda: not _contact_detail(),
    deduct_when=_request_recorded,
)
def request_form():
    """Show the clinic's details and the request form; record a request (POST) and announce it by e-mail."""
    form = ContactRequestForm()
    can_attach = current_user.is_authenticated and current_user.role == Role.LEARNER
    if form.validate_on_submit():
        details = ContactDetails(
            contact_by=form.contact_by.data or "",
            topic=form.topic.data or "",
            phone=form.phone.data or "",
            email=form.email.data or "",
            name=form.name.data or "",
            good_times=form.good_times.data or "",
            note=form.note.data or "",
            attach_progress=bool(can_attach and form.attach_progress.data),
        )
        try:
            contact = contact_request_create(
                db.session, details=details, requester=current_user if current_user.is_authenticated else None
            )
        except ValidationError as error:
            form[error.field].errors.append(error.message)
        else:
            # The request is saved: a queue that cannot be reached (Redis down) delays only the
            # e-mails, which the worker's ten-minute run queues once it is back.
            try:
                send_clinic_notice(contact.id)
                send_acknowledgement(contact.id)
            except Exception:
                current_app.logger.exception("Contact request %s: its e-mails wait for the queue", contact.id)
                contact_emails_pending(db.session, request_id=contact.id)
            return redirect(url_for("contact.sent"))
    return render_template(
        "contact/form.html",
        form=form,
        clinic=clinic_from_config(),
        can_attach=can_attach,
        retention_days=current_app.config["CONTACT_REQUEST_RETENTION_DAYS"],
    ), 400 if form.errors else 200


@bp.get("/contact/sent")
def sent():
    """Confirm that the request arrived, repeating nothing of it."""
    return render_template("contact/sent.html", clinic=clinic_from_config())


@bp.post("/me/contact-requests/<id:request_id>/withdraw")
@login_required
def withdraw(request_id: int):
    """Withdraw one of the person's own requests: what it said is erased at once."""
    # CSRFProtect has already checked the token of this POST.
    try:
        contact_request_withdraw(db.session, requester=current_user, request_id=request_id)
    except LookupError:
        abort(404)  # not theirs or not there: the same answer, so ids cannot be probed
    except ContactRequestRefused as refused:
        flash(refused.message, "info")
    else:
        flash("Your request is withdrawn, and what you told us in it is erased.", "success")
    return redirect(url_for("me.home", _anchor="contact-requests"))


@bp.route("/contact/withdraw/<token>", methods=["GET", "POST"])
def withdraw_by_link(token: str):
    """Withdraw a request from the link its acknowledgement mailed: GET asks, POST does it (no login:
    a visitor's request has no account, and anyone may have typed this address into the form)."""
    holder = withdraw_link_holder(token, secret_key=current_app.config["SECRET_KEY"])
    request_row = contact_request_by_link(db.session, request_id=holder[0], email=holder[1]) if holder else None
    if holder is None or request_row is None:
        return render_template("contact/withdraw_invalid.html"), 400
    if request.method == "POST":  # CSRFProtect has already checked the form's token
        try:
            contact_request_withdraw_by_link(db.session, request_id=holder[0], email=holder[1])
        except LookupError:  # withdrawn by another click meanwhile
            return render_template("contact/withdraw_invalid.html"), 400
        return render_template("contact/withdraw.html", done=True)
    return render_template("contact/withdraw.html", done=False, asked_at=request_row.created_at, form=EmptyForm())
