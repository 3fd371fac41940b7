"""Views for certificates. Thin: parse, call app/services/certificates.py, render or redirect."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.certificates import bp
from app.extensions import db
from app.services.certificate_pdf import CertificateText, certificate_pdf
from app.services.certificates import (
    certificate_for,
    certificate_public_view,
    certificate_reissue,
    certificate_revoke,
    certificate_settings_update,
    shown_name,
    verification_url,
)
from app.services.errors import ValidationError
from app.services.progress import course_by_slug
from app.timefmt import current_zone, format_date


@bp.get("/certificates/<certificate_code>")
def verify(certificate_code: str):
    """Anyone: whether the certificate is valid or revoked, the course, the date, issuer and name as chosen.

    An unknown code, a private certificate and an erased one are the same plain 404.
    """
    shown = certificate_public_view(db.session, certificate_code)
    if shown is None:
        abort(404)
    page = render_template("certificates/verify.html", certificate=shown, issuer=current_app.config["ISSUER_NAME"])
    # A person's name beside an addiction-medicine course: a link they shared is for the one who
    # checks it, never for a search engine's index.
    return page, {"X-Robots-Tag": "noindex, nofollow, noarchive"}


def _course_id_or_404(course_slug: str) -> int:
    course = course_by_slug(db.session, course_slug)
    if course is None:
        abort(404)
    return course.id


def _back(course_slug: str):
    return redirect(url_for("learn.certificate", course_slug=course_slug))


def _confirmed() -> bool:
    # The buttons sit behind a "yes, I am sure" box: no JavaScript confirm() needed.
    return request.form.get("confirm") == "yes"


@bp.post("/courses/<course_slug>/certificate/settings")
@login_required
def settings(course_slug: str):
    """Save what the learner's certificate shows of their name and whether its code verifies."""
    course_id = _course_id_or_404(course_slug)
    try:
        certificate_settings_update(
            db.session,
            learner=current_user,
            course_id=course_id,
            name_display=request.form.get("name_display", ""),
            public=request.form.get("public") == "yes",
        )
    except LookupError:
        abort(404)
    except ValidationError:
        abort(400)  # radio buttons send one of the three choices: anything else is not our form
    flash("Your certificate settings are saved.", "success")
    return _back(course_slug)


@bp.post("/courses/<course_slug>/certificate/revoke")
@login_required
def revoke(course_slug: str):
    """Revoke the learner's certificate: its code then verifies as revoked."""
    course_id = _course_id_or_404(course_slug)
    if certificate_for(db.session, learner=current_user, course_id=course_id) is None:
        abort(404)
    if not _confirmed():
        flash("Tick the box to confirm that you want to revoke your certificate.", "warning")
        return _back(course_slug)
    try:
        public = certificate_revoke(db.session, learner=current_user, course_id=course_id)
    except LookupError:
        flash("This certificate was already revoked.", "info")
        return _back(course_slug)
    told = " Anyone who opens its link is told so, without your name." if public else ""
    flash(f"Your certificate is revoked.{told}", "success")
    return _back(course_slug)


@bp.post("/courses/<course_slug>/certificate/reissue")
@login_required
def reissue(course_slug: str):
    """Issue the learner a fresh certificate with a new code; the old one is revoked."""
    course_id = _course_id_or_404(course_slug)
    previous = certificate_for(db.session, learner=current_user, course_id=course_id)
    if previous is None:
        abort(404)
    # Whether anyone opening the old link learns something new now: it was live, and public.
    old_link_told = previous.public and not previous.is_revoked
    if not _confirmed():
        flash("Tick the box to confirm that you want a fresh certificate.", "warning")
        return _back(course_slug)
    try:
        certificate_reissue(db.session, learner=current_user, course_id=course_id)
    except LookupError:
        abort(404)
    told = " The old link now shows as revoked, without your name." if old_link_told else ""
    flash(f"Here is your fresh certificate, with a new code.{told}", "success")
    return _back(course_slug)


@bp.get("/courses/<course_slug>/certificate.pdf")
@login_required
def pdf(course_slug: str):
    """Download the learner's live certificate as a PDF, with its verification URL and QR code if it is public."""
    course = course_by_slug(db.session, course_slug)
    if course is None:
        abort(404)
    certificate = certificate_for(db.session, learner=current_user, course_id=course.id)
    if certificate is None or certificate.is_revoked:
        abort(404)
    text = CertificateText(
        holder_name=shown_name(certificate.name_at_issue, certificate.name_display),
        course_title=course.title,
        issued_on=format_date(certificate.issued_at, current_zone()),
        issuer=current_app.config["ISSUER_NAME"],
        # The verification page of a private certificate is a 404: no link to it on paper.
        url=verification_url(certificate.code) if certificate.public else None,
        code=certificate.code,
    )
    response = current_app.response_class(certificate_pdf(text), mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="certificate.pdf"'
    return response
