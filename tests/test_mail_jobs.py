"""Outgoing mail: the SMTP layer (app/services/mail.py) and the jobs that send the app's e-mails."""

from app.services.mail import send_mail


def test_extra_headers_reach_the_server(app, inbox):
    headers = {"List-Unsubscribe": "<https://example.org/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    send_mail(app.config, to="someone@example.org", subject="A reminder", body="Hello", headers=headers)
    message = inbox.wait_for(1)[0]
    assert message["List-Unsubscribe"] == "<https://example.org/u/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == "A reminder"
