"""LTI views: thin, the checks are in app/services/lti/ (the launch's in launch.py).

/lti/login and /lti/launch take the platform's cross-site requests, so they are exempt from CSRF:
the state (in a cookie and in the platform's answer) and the signed id_token do that job.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, SubmitField, widgets

from app.auth.routes import end_session, start_session
from app.extensions import csrf, db, limiter
from app.lti import FRAME_KEY, allow_framing_by_any_site, bp
from app.models import LtiPlatform
from app.security import CONTENT_SECURITY_POLICY
from app.services.lti.deep_linking import DeepLinkChoice, deep_link_options, deep_link_response
from app.services.lti.framing import csp_origin
from app.services.lti.keys import configured_tool_key, tool_jwks
from app.services.lti.launch import DeepLinkingLaunch, TeacherLaunch, lti_launch
from app.services.lti.login import lti_login_start
from app.services.lti.refusals import (
    LtiLaunchError,
    RefusalSource,
    launch_refusal_source,
    login_refusal_source,
    lti_refusal_log,
)
from app.urls import external_url

STATE_COOKIE = "lti_state"
# Said to someone whose roles in the LMS say they teach the course (services.lti.launch.teacher_only).
TEACHER_VISIT = (
    "You opened this link as a teacher in {platform}, so you see the course as a visitor: no account is made "
    "for you here, and nothing goes to the gradebook. A learner who opens it is signed in, and their scores "
    "go to {platform}. To go through it as a learner, open it from your course's student view in {platform}."
)
# The deep-linking request being answered, kept in the session between the launch and the pick.
DEEP_LINK_KEY = "lti_deep_link"
# How long a launch's picker may sign an answer. Nothing on the server can take the right back (the
# picker signs nobody in: it lives in the signed cookie alone), so a copy of the cookie must not
# be able to sign answers for the session's whole lifetime; a teacher picks within minutes.
DEEP_LINK_LIFETIME = 3600  # seconds
# The name of the platform the picker's answer went to, once it is signed: the answer goes once,
# and a reload or Back then says so rather than "not found".
DEEP_LINK_SENT_KEY = "lti_deep_link_sent"


def _key_or_404():
    key = configured_tool_key(current_app.config)
    if key is None:
        abort(404)
    return key


def _refused(error: LtiLaunchError, step: str, source: RefusalSource):
    """The 400 page naming the check that failed, and the same in the log for the site's admin.

    The LMS shows it in its frame, so any site may frame it (which LMS sent the request may be
    what the failed check could not tell); it has nothing to click.
    """
    lti_refusal_log(step, error, source)
    allow_framing_by_any_site()
    return render_template("lti/error.html", message=str(error)), 400


@bp.get("/jwks")
def jwks():
    """The tool's public key set, which platforms use to check what the tool signs."""
    response = jsonify(tool_jwks(_key_or_404()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
# Each call writes a state row (kept 10 minutes), so anyone could otherwise fill the table.
@limiter.limit(lambda: current_app.config["RATELIMIT_LTI_LOGIN"])
def login():
    """OIDC login initiation: record a state and nonce, then send the browser to the platform."""
    _key_or_404()
    params = request.values
    try:
        url, state = lti_login_start(
            db.session,
            issuer=params.get("iss", ""),
            login_hint=params.get("login_hint", ""),
            target_link_uri=params.get("target_link_uri", ""),
            client_id=params.get("client_id", ""),
            lti_message_hint=params.get("lti_message_hint", ""),
            # PUBLIC_URL's, as registered in the LMS, whichever trusted Host the request came by.
            launch_url=external_url("lti.launch"),
        )
    except LtiLaunchError as error:
        return _refused(error, "login", login_refusal_source(params))
    response = redirect(url, code=302)
    # SameSite=None; Secure: the launch comes back as a cross-site POST, often inside an iframe.
    response.set_cookie(
        STATE_COOKIE, state, max_age=600, secure=True, httponly=True, samesite="None", path=url_for("lti.launch")
    )
    return response


@bp.post("/launch")
@csrf.exempt
# A launch follows a login initiation, so it takes the same allowance (a count of its own): a flood
# of refused launches would otherwise write a warning line to the log for each.
@limiter.limit(lambda: current_app.config["RATELIMIT_LTI_LOGIN"])
def launch():
    """Check the platform's id_token, then sign the learner in and open the course or lesson; or,
    signed in to no account, open the picker, or the course's outline for a teacher."""
    _key_or_404()
    try:
        result = lti_launch(
            db.session,
            id_token=request.form.get("id_token", ""),
            state=request.form.get("state", ""),
            browser_state=request.cookies.get(STATE_COOKIE),
            hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            loopback_http=current_app.config["LTI_LOOPBACK_HTTP"],
        )
    except LtiLaunchError as error:
        response = make_response(_refused(error, "launch", launch_refusal_source(request.form.get("id_token", ""))))
        response.delete_cookie(STATE_COOKIE, path=url_for("lti.launch"), secure=True, samesite="None")
        return response
    if isinstance(result, DeepLinkingLaunch | TeacherLaunch):
        # The picker, and a teacher's look at the course, sign nobody in (an instructor has no
        # account here), and nobody's login carries over into them: whoever was logged in in this
        # browser is logged out (this answer replaces
        # the session cookie), on the server too when their cookie came with the LMS's POST (a
        # framed session's, SameSite=None; a Lax one stays behind, and is merely replaced here).
        # A brand-new session, as start_session's: no earlier picker's "sent already" is left in it.
        end_session(keep_frame=False)
    else:
        start_session(result.user)
    # Framed unless the platform said it opened a new window: LMSs embed tools by default, and a
    # framed session whose cookie stayed SameSite=Lax would lose its login on the next click.
    if result.document_target != "window":
        session[FRAME_KEY] = " ".join(result.frame_origins)  # a CSP source list
    if isinstance(result, DeepLinkingLaunch):
        # Only a launch that passed every check puts this in the (signed) session: it is what
        # lets the browser use the picker.
        session[DEEP_LINK_KEY] = {
            "at": int(time.time()),
            "platform_id": result.platform.id,
            "deployment_id": result.deployment_id,
            "return_url": result.return_url,
            "data": result.data,
            "multiple": result.accept_multiple,
            "lineitems": result.accept_lineitem,
        }
        target = url_for("lti.deep_link")
    elif isinstance(result, TeacherLaunch):
        # The course's outline, which a visitor may see: a lesson opens only to a signed-in learner.
        flash(TEACHER_VISIT.format(platform=result.platform.name), "info")
        target = url_for("learn.course", course_slug=result.course_slug)
    elif result.lesson_slug:
        target = url_for("learn.lesson", course_slug=result.course_slug, lesson_slug=result.lesson_slug)
    else:
        target = url_for("learn.course", course_slug=result.course_slug)
    # A 303 turns the platform's POST into a GET of the page.
    moved = redirect(target, code=303)
    moved.delete_cookie(STATE_COOKIE, path=url_for("lti.launch"), secure=True, samesite="None")
    return moved


class DeepLinkForm(FlaskForm):
    """The course and lessons an instructor places in the LMS."""

    items = SelectMultipleField(
        "What to add to the LMS",
        choices=[],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    submit = SubmitField("Add to the LMS")


@bp.route("/deep-link", methods=["GET", "POST"])
def deep_link():
    """Let an instructor pick the course or lessons; on POST, sign the answer and send it back.

    No login: the deep-linking request the launch checked and kept in the signed session is what
    lets this browser answer it, and nothing else does (404 without one).
    """
    key = _key_or_404()
    pending: dict[str, Any] | None = session.get(DEEP_LINK_KEY)
    if not pending:
        sent_to = session.get(DEEP_LINK_SENT_KEY)
        if sent_to is not None:
            # 410: this picker's answer is gone to the platform, and this page will not sign another.
            return render_template("lti/deep_link_sent.html", platform_name=sent_to), 410
        abort(404)
    platform = db.session.get(LtiPlatform, pending["platform_id"])
    if platform is None:
        abort(404)
    # A picker from before its time was kept has none: expired too.
    if not time.time() - DEEP_LINK_LIFETIME <= pending.get("at", 0) <= time.time():
        session.pop(DEEP_LINK_KEY, None)
        return render_template("lti/deep_link_expired.html", platform_name=platform.name), 410
    options = deep_link_options(db.session)
    # A platform that takes one item at a time (Canvas's assignment placement, say) gets one.
    several = pending.get("multiple", True)
    form = DeepLinkForm()
    form.items.choices = [(option.value, option.label) for option in options]
    if not several:
        form.items.option_widget = widgets.RadioInput()
    if form.validate_on_submit():
        by_value = {option.value: option for option in options}
        chosen = [by_value[value] for value in form.items.data or []]
        if not chosen:
            form.items.errors = ["Choose the course or at least one lesson." if several else "Choose one."]
        elif len(chosen) > 1 and not several:
            form.items.errors = [f"{platform.name} takes one choice at a time: choose one."]
        else:
            token = deep_link_response(
                key,
                platform=platform,
                deployment_id=pending["deployment_id"],
                data=pending["data"],
                launch_url=external_url("lti.launch"),  # the content items' URL: PUBLIC_URL's, as above
                choices=[DeepLinkChoice(o.title, o.course_slug, o.lesson_slug, graded=o.graded) for o in chosen],
                lineitems=pending.get("lineitems", True),
            )
            session.pop(DEEP_LINK_KEY, None)
            session[DEEP_LINK_SENT_KEY] = platform.name
            return_url = pending["return_url"]
            response = make_response(render_template("lti/deep_link_return.html", return_url=return_url, token=token))
            # This page's form posts to the platform: allow that origin, and only on this page.
            # Checked at launch (csp_origin): a source list cannot be widened through it.
            origin = csp_origin(return_url, loopback_http=current_app.config["LTI_LOOPBACK_HTTP"])
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
                "form-action 'self'", f"form-action 'self' {origin}"
            )
            return response
    status = 400 if form.errors else 200
    return render_template("lti/deep_link.html", form=form, platform=platform, several=several), status
