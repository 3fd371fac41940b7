"""/author/lti: admins register the LMS platforms that may launch the course, and see the tool's URLs.

Registered on the author blueprint, whose guard lets only admins in.

Without the tool's key (LTI_PRIVATE_KEY; production makes no key file) every /lti/ page answers
404, so the page says launches are switched off and what turns them on, and shows no address to
give an LMS. Platforms can still be registered then: a registration is only a row, used by nothing
until the key is set, so an admin can prepare everything before the key goes in.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation

from app.author import bp
from app.errors import render_error
from app.extensions import db
from app.forms import confirmed
from app.models import LtiPlatform
from app.services.errors import ValidationError
from app.services.lti.keys import configured_tool_key
from app.services.lti.platforms import (
    EDITABLE,
    PlatformDetails,
    address_accepted,
    address_rule,
    lti_platform_delete,
    lti_platform_register,
    lti_platform_update,
    lti_platform_usage,
    lti_platforms,
)
from app.urls import external_url

NEEDED = "This is needed."


def platform_address(form: FlaskForm, field) -> None:
    """A platform's address must pass the registration's own rule (``address_accepted``), checked
    here too so that every wrong address is named in one go; the service checks it again."""
    loopback_http = current_app.config["LTI_LOOPBACK_HTTP"]
    if field.data and not address_accepted(field.data.strip(), loopback_http=loopback_http):
        raise StopValidation(address_rule(loopback_http=loopback_http))


class PlatformEditForm(FlaskForm):
    """What may change of a registered platform: its name, addresses and deployments."""

    name = StringField("Name (for you)", validators=[DataRequired(NEEDED), Length(max=120)])
    auth_login_url = StringField(
        "Authorisation (OIDC auth) URL", validators=[DataRequired(NEEDED), Length(max=500), platform_address]
    )
    auth_token_url = StringField(
        "Access token URL", validators=[DataRequired(NEEDED), Length(max=500), platform_address]
    )
    key_set_url = StringField(
        "Public key set (JWKS) URL", validators=[DataRequired(NEEDED), Length(max=500), platform_address]
    )
    deployment_ids = TextAreaField("Deployment ids, one per line", validators=[DataRequired(NEEDED), Length(max=2000)])
    submit = SubmitField("Save the changes")


class PlatformForm(PlatformEditForm):
    """The details the LMS shows when the tool is added to it."""

    issuer = StringField("Issuer (iss)", validators=[DataRequired(NEEDED), Length(max=255), platform_address])
    client_id = StringField("Client id", validators=[DataRequired(NEEDED), Length(max=255)])
    submit = SubmitField("Register the platform")


def _details(form: PlatformEditForm, *, issuer: str = "", client_id: str = "") -> PlatformDetails:
    """What the form says, as the service takes it."""
    return PlatformDetails(
        name=form.name.data,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=form.auth_login_url.data,
        auth_token_url=form.auth_token_url.data,
        key_set_url=form.key_set_url.data,
        deployment_ids=form.deployment_ids.data.splitlines(),
    )


@bp.route("/lti", methods=["GET", "POST"])
def lti_platforms_page():
    """List the registered platforms and register another; say so if launches are switched off."""
    form = PlatformForm()
    status = 200
    launches_on = configured_tool_key(current_app.config) is not None
    loopback_http = current_app.config["LTI_LOOPBACK_HTTP"]
    if form.validate_on_submit():
        details = _details(form, issuer=form.issuer.data, client_id=form.client_id.data)
        try:
            platform = lti_platform_register(
                db.session, actor=current_user, details=details, loopback_http=loopback_http
            )
        except ValidationError as error:
            form[error.field].errors = [error.message]
        else:
            if launches_on:
                flash(f"{platform.name} is registered: its launches are accepted from now on.", "success")
            else:
                flash(
                    f"{platform.name} is registered. LMS launches are switched off on this site, so its launches "
                    "are refused until LTI_PRIVATE_KEY is set.",
                    "success",
                )
            return redirect(url_for("author.lti_platforms_page"))
    if form.errors:
        status = 400
    # From PUBLIC_URL, as the LMS must be given them, never from the Host this request came by.
    tool = (
        {
            "Login initiation URL": external_url("lti.login"),
            "Redirect (launch) URL": external_url("lti.launch"),
            "Deep linking URL": external_url("lti.launch"),
            "Public key set (JWKS) URL": external_url("lti.jwks"),
        }
        if launches_on
        else {}
    )
    page = render_template(
        "author/lti.html",
        form=form,
        platforms=lti_platforms(db.session),
        tool=tool,
        launches_on=launches_on,
        address_hint=address_rule(loopback_http=loopback_http),
    )
    return page, status


@bp.route("/lti/<id:platform_id>/edit", methods=["GET", "POST"])
def lti_platform_edit(platform_id: int):
    """Change a platform's name, addresses or deployments, keeping it: the accounts it launched and
    the gradebook columns their scores go to stay with it, as removing and registering again would not."""
    platform = db.session.get(LtiPlatform, platform_id)
    if platform is None:
        abort(404)
    # Filled with what may change (the service's EDITABLE), until a POST brings the admin's own.
    form = PlatformEditForm(data=None if request.method == "POST" else {f: getattr(platform, f) for f in EDITABLE})
    loopback_http = current_app.config["LTI_LOOPBACK_HTTP"]
    if form.validate_on_submit():
        try:
            changed = lti_platform_update(
                db.session,
                actor=current_user,
                platform_id=platform_id,
                details=_details(form),
                loopback_http=loopback_http,
            )
        except ValidationError as error:
            form[error.field].errors = [error.message]
        else:
            if changed is None:  # removed meanwhile
                abort(404)
            if changed:
                flash(f"{form.name.data.strip()} is saved: its launches use the new details from now on.", "success")
            else:
                flash("Nothing was changed: the details were as they are.", "info")
            return redirect(url_for("author.lti_platforms_page"))
    page = render_template(
        "author/lti_edit.html", form=form, platform=platform, address_hint=address_rule(loopback_http=loopback_http)
    )
    return page, 400 if form.errors else 200


@bp.route("/lti/<id:platform_id>/delete", methods=["GET", "POST"])
def lti_platform_remove(platform_id: int):
    """Ask first, saying what removing the platform cuts; once confirmed, remove it.

    Its launches stop; the accounts it made stay, unlinked from it, so if it is registered again
    its people's next launches make new accounts. A GET, or a bare POST (the button of a page
    served before this step), only asks.
    """
    if confirmed():
        if not lti_platform_delete(db.session, actor=current_user, platform_id=platform_id):
            # Removed meanwhile (another admin, another tab): say so, as the draft's removals do.
            return render_error(
                404,
                "Nothing was removed: that platform is no longer registered. Perhaps another admin, or you in "
                "another tab, removed it first.",
                title="Already removed",
                back=url_for("author.lti_platforms_page"),
            )
        flash("The platform is removed: its launches are refused from now on.", "success")
        return redirect(url_for("author.lti_platforms_page"))
    usage = lti_platform_usage(db.session, platform_id=platform_id)
    if usage is None:
        abort(404)
    return render_template("author/lti_remove.html", usage=usage)
