"""A tiny HTTP client that keeps the session cookie itself (the production cookie is Secure,
so a cookie jar would not send it over plain HTTP on loopback), and logging in through the real
login form, as the pages under load need."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from bench.settings import COURSE, USER_AGENT, BenchError


def http_request(
    port: int, method: str, path: str, *, cookies=None, body: dict | None = None, timeout=30, headers_out=None
):
    """One request on a fresh connection: (status, Location, body). When ``cookies`` is a dict it
    is sent, and updated from Set-Cookie like a browser would; ``headers_out``, a dict, receives
    the response's headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"User-Agent": USER_AGENT}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    data = None
    if body is not None:
        data = urlencode(body, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        content = response.read().decode("utf-8", errors="replace")
        if headers_out is not None:
            headers_out.update(response.getheaders())
        if cookies is not None:
            for header in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if "expires=thu, 01 jan 1970" in header.lower() or "max-age=0" in header.lower() or not value:
                    cookies.pop(name.strip(), None)
                else:
                    cookies[name.strip()] = value
        return response.status, response.getheader("Location"), content
    finally:
        connection.close()


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# A page's form token in any of the ways a page writes the hidden field (attributes in any order).
ANY_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class UserSession:
    """A logged-in account: its cookies, and for a learner the current lesson, its quiz and its HTML."""

    email: str
    cookies: dict = field(default_factory=dict)
    lesson_path: str = ""
    quiz_body: dict = field(default_factory=dict)
    lesson_html: str = ""
    lesson_headers: dict = field(default_factory=dict)

    @property
    def cookie_header(self) -> str:
        """The cookies as a Cookie header value."""
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


def log_in(port: int, email: str, password: str) -> UserSession:
    """Log in through the real form (CSRF token and all) and return the session."""
    user = UserSession(email)
    status, _, page = http_request(port, "GET", "/auth/login", cookies=user.cookies)
    token = CSRF.search(page)
    if status != 200 or not token:
        raise BenchError(f"The login page answered {status} without a CSRF token.")
    body = {"email": email, "password": password, "csrf_token": token.group(1)}
    status, location, page = http_request(port, "POST", "/auth/login", cookies=user.cookies, body=body)
    if status != 302:
        raise BenchError(f"Logging in as {email} answered {status}, not a redirect:\n{page[:500]}")
    http_request(port, "GET", location or "/", cookies=user.cookies)  # shows (and clears) the welcome flash
    return user


QUESTION_INPUT = re.compile(r'name="question-(\d+)" value="(\d+)"')
# The quiz page's fingerprint of the quiz it shows, sent back as a learner's browser does.
QUIZ_SHOWN = re.compile(r'name="quiz_shown" type="hidden" value="([0-9a-f]+)"')


def quiz_shown(page: str) -> dict[str, str]:
    """The quiz page's ``quiz_shown`` field, to send with a submission as its form does (none if absent)."""
    found = QUIZ_SHOWN.search(page)
    return {"quiz_shown": found.group(1)} if found else {}


def prepare_learner(port: int, user: UserSession) -> None:
    """Find the learner's current lesson and its quiz, as the browser would, for the load runs."""
    status, location, _ = http_request(port, "GET", f"/courses/{COURSE}/continue", cookies=user.cookies)
    if status != 302 or not location:
        raise BenchError(f"/courses/{COURSE}/continue answered {status} for {user.email}")
    path = urlsplit(location).path
    if "/lessons/" not in path:  # finished: the certificate; take the last lesson
        _, _, course_page = http_request(port, "GET", f"/courses/{COURSE}/", cookies=user.cookies)
        lessons = re.findall(rf'href="(/courses/{COURSE}/lessons/[^"/]+)"', course_page)
        path = lessons[-1]
    user.lesson_path = path
    status, _, user.lesson_html = http_request(port, "GET", path, cookies=user.cookies, headers_out=user.lesson_headers)
    if status != 200:
        raise BenchError(f"The lesson page {path} answered {status} for {user.email}")
    status, _, quiz = http_request(port, "GET", path + "/quiz", cookies=user.cookies)
    token = CSRF.search(quiz)
    if status != 200 or not token:
        raise BenchError(f"The quiz page {path}/quiz answered {status} for {user.email}")
    first_choice: dict[str, str] = {}
    for question, choice in QUESTION_INPUT.findall(quiz):
        first_choice.setdefault(f"question-{question}", choice)  # a valid answer: each question's first choice
    user.quiz_body = {"csrf_token": token.group(1), "submission_key": "{KEY}", **quiz_shown(quiz), **first_choice}
