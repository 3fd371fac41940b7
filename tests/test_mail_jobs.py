"""Outgoing mail: the SMTP layer (app/services/mail.py) and the jobs that send the app's e-mails."""

from app.services.mail import send_mail


def test_extra_headers_reach_the_server(app, inbox):
    headers = {"List-Unsubscribe": "<https://example.org/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    send_mail(app.config, to="someone@example.org", subject="A reminder", body="Hello", headers=headers)
    message = inbox.wait_for(1)[0]
    assert message["List-Unsubscribe"] == "<https://example.org/u/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == "A reminder"


def test_links_are_built_from_public_url_without_a_request(app):
    """A job has an app context and no request; its links still come from PUBLIC_URL."""
    from app.urls import external_url

    app.config["PUBLIC_URL"] = "https://learn.example.org/"
    with app.app_context():
        assert external_url("auth.reset_password", token="abc") == "https://learn.example.org/auth/reset/abc"
    with app.test_request_context("/", base_url="http://evil.example"):
        assert external_url("auth.login") == "https://learn.example.org/auth/login"
