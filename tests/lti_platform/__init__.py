"""The real LTI 1.3 platform (lti1p3platform, in .peers/lti) started on loopback, and a browser for it.

``make peers`` (which ``make test`` runs) installs the platform's venv from
requirements/lti-platform.txt, hash-pinned; the tests skip without it, and fail under CI.
"""

from __future__ import annotations

import html.parser
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.serving import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parent.parent.parent
PLATFORM_PYTHON = ROOT / ".peers" / "lti" / "bin" / "python"
SERVER = Path(__file__).with_name("platform_server.py")


def platform_missing() -> str | None:
    """Why the platform cannot run here, or None."""
    if not PLATFORM_PYTHON.exists():
        return "the LTI platform's venv is missing: run `make peers`"
    return None


def rsa_pair() -> tuple[str, str]:
    """A new RSA key pair as PEM text (private, public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class Platform:
    """A running platform: its base URL, the registration details the tool needs, its process."""

    base_url: str
    issuer: str
    client_id: str
    deployment_id: str
    private_key: str
    process: subprocess.Popen

    def received(self) -> dict:
        """What the platform received so far: scores, deep-link items, refusals."""
        return requests.get(f"{self.base_url}/received", timeout=10).json()


def start_platform(folder: Path, *, tool_url: str) -> Platform:
    """Start the platform on a free port, pointed at the tool served at ``tool_url``."""
    port = free_port()
    private, public = rsa_pair()
    base = f"http://127.0.0.1:{port}"
    config = {
        "port": port,
        "base_url": base,
        "issuer": base,
        "client_id": "naltrexone-tool",
        "deployment_id": "deploy-1",
        "tool_login_url": f"{tool_url}/lti/login",
        "tool_launch_url": f"{tool_url}/lti/launch",
        "tool_jwks_url": f"{tool_url}/lti/jwks",
        "private_key": private,
        "public_key": public,
    }
    config_file = folder / "platform.json"
    config_file.write_text(json.dumps(config))
    process = subprocess.Popen(  # noqa: S603 - our own script, loopback only
        [str(PLATFORM_PYTHON), str(SERVER), str(config_file)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(f"{base}/health", process)
    except BaseException:
        stop(process)
        raise
    return Platform(base, base, "naltrexone-tool", "deploy-1", private, process)


class _FormReader(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and not self.action:
            self.action = values.get("action") or ""
        if tag == "input" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


def read_form(page: str) -> tuple[str, dict[str, str]]:
    """The first form's action and its inputs' values."""
    reader = _FormReader()
    reader.feed(page)
    return reader.action, reader.fields


@dataclass
class LmsBrowser:
    """A browser that follows the LMS's links into the tool, by hand, so each step can be checked.

    The tool's cookies are ``Secure`` on this plain-HTTP loopback; a browser would hold them on the
    real HTTPS site, so they are kept here and sent back as it would.
    """

    platform: Platform
    cookies: dict[str, str] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)

    def _keep(self, response: requests.Response) -> None:
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value or ""

    def get(self, url: str) -> requests.Response:
        response = self.http.get(url, cookies=self.cookies, allow_redirects=False, timeout=20)
        self._keep(response)
        return response

    def post(self, url: str, data: dict) -> requests.Response:
        response = self.http.post(url, data=data, cookies=self.cookies, allow_redirects=False, timeout=20)
        self._keep(response)
        return response

    def id_token_form(self, **hint: str) -> tuple[str, dict[str, str], requests.Response]:
        """Follow an LMS link through the tool's login initiation to the platform's launch form."""
        start = self.get(f"{self.platform.base_url}/start?{urlencode(hint)}")
        assert start.status_code == 302, start.text
        login = self.get(start.headers["Location"])
        assert login.status_code == 302, login.text
        authorize = self.get(login.headers["Location"])
        assert authorize.status_code == 200, authorize.text
        action, fields = read_form(authorize.text)
        return action, fields, login

    def launch(self, **hint: str) -> requests.Response:
        """Open an LMS link: the whole OIDC round, ending with the tool's answer to the launch."""
        action, fields, _ = self.id_token_form(**hint)
        return self.post(action, fields)
