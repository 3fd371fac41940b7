"""A real LTI 1.3 platform for the tests, on lti1p3platform (PyPI), served on loopback.

Run by tests/lti_platform/__init__.py with the Python of its own venv (.peers/lti, `make peers`),
never imported by the suite: lti1p3platform and its pins stay out of the app's environment.

    python platform_server.py CONFIG.json

CONFIG holds the port, the issuer, client id and deployment, the tool's login, launch and key-set
URLs, and the platform's RSA key pair (PEM). The platform's own endpoints:

    GET  /start?kind=launch|deeplink&user=..&course=..&lesson=..&deployment=..&target=iframe|window
         the LMS's link: redirects the browser to the tool's login initiation (lti1p3platform's
         OIDCLogin builds the URL)
    GET  /authorize     the OIDC authorisation endpoint the tool redirects to: answers with the
                        auto-posting form holding the signed id_token (lti1p3platform MessageLaunch)
    POST /token         AGS access tokens, for the tool's signed client assertion
    POST /lineitems/<name>/scores   scores, with the bearer token checked
    POST /deep-link-return          the tool's deep-linking answer, its signature checked
    GET  /jwks          the platform's public key set
    GET  /received      what the platform received (scores, deep-link items, refusals), as JSON
"""

from __future__ import annotations

import base64
import html
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request

CONFIG: dict[str, Any] = {}
RECEIVED: dict[str, list] = {"scores": [], "deep_links": [], "refused": [], "token_requests": []}
LOCK = threading.Lock()


def registration(deployment_id: str | None = None) -> Registration:
    return (
        Registration()
        .set_iss(CONFIG["issuer"])
        .set_client_id(CONFIG["client_id"])
        .set_deployment_id(deployment_id or CONFIG["deployment_id"])
        .set_oidc_login_url(CONFIG["tool_login_url"])
        .set_launch_url(CONFIG["tool_launch_url"])
        .set_deeplink_launch_url(CONFIG["tool_launch_url"])
        .set_platform_public_key(CONFIG["public_key"])
        .set_platform_private_key(CONFIG["private_key"])
        .set_tool_key_set_url(CONFIG["tool_jwks_url"])
    )


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._deployment_id = kwargs.get("deployment_id")

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return registration(self._deployment_id)


class PlainRequest(Request):
    def build_metadata(self, request: Any) -> Any:
        return request


class Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        # The same form lti1p3platform's framework adapters render, without their template loader.
        return (
            f'<form method="post" action="{html.escape(launch_data["launch_url"])}">'
            f'<input type="hidden" name="id_token" value="{html.escape(launch_data["id_token"])}">'
            f'<input type="hidden" name="state" value="{html.escape(launch_data["state"])}">'
            "</form>"
        )


def encode_hint(values: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def decode_hint(text: str) -> dict[str, str]:
    return json.loads(base64.urlsafe_b64decode(text.encode()))


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # quiet: the test reads /received instead
        pass

    def _send(self, status: int, body: str | bytes, content_type: str = "text/html", **headers: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value), "application/json")

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        return dict(parse_qsl(self.rfile.read(length).decode()))

    def _refuse(self, where: str, error: Exception) -> None:
        with LOCK:
            RECEIVED["refused"].append({"where": where, "error": f"{type(error).__name__}: {error}"})
        self._json(401, {"error": str(error)})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        if url.path == "/health":
            self._send(200, "ok", "text/plain")
        elif url.path == "/jwks":
            self._json(200, {"keys": registration().get_jwks()})
        elif url.path == "/received":
            with LOCK:
                self._json(200, RECEIVED)
        elif url.path == "/start":
            conf = PlatformConf(deployment_id=query.get("deployment"))
            login = Login(None, conf)
            login.set_lti_message_hint(hint=encode_hint(query))
            if query.get("kind") == "deeplink":
                login.set_deeplinking_launch_url()
            self._send(302, "", Location=login.initiate_login(query.get("user", "user-1")))
        elif url.path == "/authorize":
            self._authorize(query)
        else:
            self._send(404, "not found", "text/plain")

    def _authorize(self, query: dict[str, str]) -> None:
        hint = decode_hint(query.get("lti_message_hint", ""))
        conf = PlatformConf(deployment_id=hint.get("deployment"))
        launch = Launch(PlainRequest({"get_data": query, "form_data": {}}), conf)
        user = query.get("login_hint", "user-1")
        base = CONFIG["base_url"]
        launch.set_user_data(
            user,
            ["http://purl.imsglobal.org/vocab/lis/v2/membership#" + hint.get("role", "Learner")],
            full_name=hint.get("name", "Pat Example"),
        )
        launch.set_launch_context_claim("course-101", context_title="Clinic staff training")
        launch.set_launch_presentation_claim(document_target=hint.get("target", "iframe"))
        if hint.get("kind") == "deeplink":
            launch.set_dl(f"{base}/deep-link-return", title="Add a resource", accept_types={"ltiResourceLink"})
        else:
            link = hint.get("link", "link-1")
            launch.set_resource_link_claim(link, title="How Naltrexone Works")
            custom = {k: hint[k] for k in ("course", "lesson") if hint.get(k)}
            if custom:
                launch.set_custom_parameters_claim(custom)
            launch.set_ags(f"{base}/lineitems", lineitem_url=f"{base}/lineitems/{link}", allow_creating_lineitems=False)
        self._send(200, launch.lti_launch())

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/token":
            form = self._form()
            conf = PlatformConf()
            conf.get_registration()
            try:
                token = conf.get_access_token(form)
            except Exception as error:  # noqa: BLE001 - reported to the test through /received
                self._refuse("token", error)
                return
            with LOCK:
                RECEIVED["token_requests"].append({"scope": token["scope"]})
            self._json(200, token)
        elif url.path.startswith("/lineitems/") and url.path.endswith("/scores"):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            conf = PlatformConf()
            conf.get_registration()
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            try:
                allowed = conf.validate_token(
                    bearer, allowed_scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/score"]
                )
                if not allowed:
                    raise PermissionError("the token does not grant the score scope")
            except Exception as error:  # noqa: BLE001
                self._refuse("scores", error)
                return
            with LOCK:
                RECEIVED["scores"].append(
                    {
                        "lineitem": url.path.removesuffix("/scores").rsplit("/", 1)[1],
                        "content_type": self.headers.get("Content-Type"),
                        "score": json.loads(body),
                    }
                )
            self._json(200, {})
        elif url.path == "/deep-link-return":
            form = self._form()
            conf = PlatformConf()
            conf.get_registration()
            try:
                items = conf.validate_deeplinking_resp(form)
            except Exception as error:  # noqa: BLE001
                self._refuse("deep_link", error)
                return
            with LOCK:
                RECEIVED["deep_links"].append(items)
            self._send(200, "<p>Added.</p>")
        else:
            self._send(404, "not found", "text/plain")


def main() -> None:
    with open(sys.argv[1]) as file:
        CONFIG.update(json.load(file))
    server = ThreadingHTTPServer(("127.0.0.1", CONFIG["port"]), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
