"""/contact over HTTP with CSRF on: the clinic's details, the request form and its refusals, the
acknowledgement and notice e-mails, rate limits, and the person's requests on /me/."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ContactRequest, ContactRequestNote, Role
from tests.conftest import create_user, csrf_token, login, visible_text
from tests.mail_server import body_of, readable_forms
from tests.views.test_rate_limits import limited_app

GOOD = {"contact_by": "phone", "phone": "07700 900123", "topic": "alcohol"}


def ask(client, **fields):
    token = csrf_token(client, "/contact")
    return client.post("/contact", data={"csrf_token": token, **fields})


def requests_in(app) -> list[ContactRequest]:
    with app.app_context():
        rows = list(db.session.scalars(select(ContactRequest).order_by(ContactRequest.id)))
        db.session.expunge_all()
        return rows


def error_beside(page: str, field: str) -> str:
    """The error message shown beside a field (its id + "-error"), or ""."""
    match = re.search(rf'id="{field}-error">([^<]*)<', page)
    return match.group(1) if match else ""


def test_the_page_shows_the_clinic_as_configured(app, client):
    app.config.update(CLINIC_NAME="Riverside Clinic", CLINIC_PHONE="+44 20 7946 0000", CLINIC_HOURS="Mon to Fri 9-5")
    page = client.get("/contact").get_data(as_text=True)
    assert "Ask Riverside Clinic to contact you" in page
    assert 'href="tel:+442079460000"' in page and "Mon to Fri 9-5" in page
    assert "<dt>Address</dt>" not in page  # not configured: left out, not shown empty
    assert "Who sees this, and for how long" in page and "deleted 90 days after" in page


def test_with_nothing_configured_the_page_leaves_the_clinic_out_and_still_takes_requests(app, client):
    page = client.get("/contact").get_data(as_text=True)
    assert "Ask the clinic to contact you" in page
    # No panel telling the public what the site lacks: the form is the way to reach the clinic.
    assert "clinic-details" not in page and "not on this site yet" not in page
    assert '<form method="post"' in page and "Ask the clinic to contact me" in page
    assert ask(client, **GOOD).status_code == 302


def test_a_name_alone_gives_the_heading_but_no_empty_panel(app, client):
    app.config["CLINIC_NAME"] = "Riverside Clinic"
    page = client.get("/contact").get_data(as_text=True)
    assert "Ask Riverside Clinic to contact you" in page and "clinic-details" not in page


def before_the_form(page: str) -> str:
    """The page's main content above the request form."""
    return page.split('<main id="main"')[1].split('<form method="post"')[0]


# The helplines the footer gives, each as tap-to-call.
URGENT_LINKS = ("tel:999", "tel:111", "tel:116123", "tel:03001231110", "tel:03001236600")


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "learner"])
@pytest.mark.parametrize("configured", [False, True], ids=["unconfigured", "configured"])
def test_the_urgent_numbers_are_tap_to_call_above_the_form(app, client, signed_in, configured):
    if configured:
        app.config.update(CLINIC_NAME="Riverside Clinic", CLINIC_PHONE="020 7946 0000", CLINIC_HOURS="Mon to Fri 9-5")
    if signed_in:
        create_user(app, "learner@example.org")
        login(client)
    top = before_the_form(client.get("/contact").get_data(as_text=True))
    assert "Need help right now?" in top
    for href in URGENT_LINKS:
        assert f'href="{href}"' in top, href
    assert "In Northern Ireland, call your GP" in visible_text(top)
    assert "bottom of every page" not in top  # the numbers are here, not a scroll away


@pytest.mark.parametrize(
    ("settings", "said", "not_said"),
    [
        (
            {"CONTACT_REPLY_WITHIN": " 2 working days ", "CLINIC_HOURS": "Mon to Fri 9-5"},
            "The clinic aims to reply within 2 working days.",
            "replies in its opening hours",
        ),
        ({"CLINIC_HOURS": "Mon to Fri 9-5"}, "The clinic replies in its opening hours: Mon to Fri 9-5.", "within"),
        ({}, "The clinic may not see your request straight away.", "within"),
    ],
    ids=["reply-time", "hours-only", "nothing"],
)
def test_the_form_is_not_for_emergencies_and_says_when_the_clinic_replies(app, client, settings, said, not_said):
    app.config.update(settings)
    top = visible_text(before_the_form(client.get("/contact").get_data(as_text=True)))
    assert f"This form is not for emergencies. {said}" in top
    assert not_said not in top  # no promise the clinic has not made
    ask(client, **GOOD)
    assert said in visible_text(client.get("/contact/sent").get_data(as_text=True))


def who_sees(page: str) -> str:
    return visible_text(page.split('id="who-sees"')[1].split("</section>")[0])


def test_a_visitor_is_not_told_about_an_account_they_do_not_have(app, client):
    text = who_sees(client.get("/contact").get_data(as_text=True))
    assert "We keep only what you type here. You do not need an account" in text
    assert "your account" not in text and "attach" not in text


def test_a_learner_is_told_the_clinic_sees_their_account_only_if_they_attach_progress(app, client, learner):
    login(client)
    text = who_sees(client.get("/contact").get_data(as_text=True))
    assert "with your account so that you can see the request on your page" in text
    assert "The clinic sees your account only if you attach your progress." in text


def test_staff_who_cannot_attach_are_told_their_account_is_not_shown(app, client):
    create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    login(client, "casey@example.org")
    text = who_sees(client.get("/contact").get_data(as_text=True))
    assert "with your account so that you can see the request on your page" in text
    assert "attach" not in text and "not shown your account" in text


def test_anyone_can_ask_without_an_account(app, client):
    response = ask(client, **GOOD, name="Sam", good_times="Mornings", note="Please call")
    assert response.status_code == 302 and response.headers["Location"].endswith("/contact/sent")
    [request] = requests_in(app)
    assert (request.requester_id, request.phone, request.name, request.topic) == (
        None,
        "07700 900123",
        "Sam",
        "alcohol",
    )
    sent = client.get("/contact/sent").get_data(as_text=True)
    assert "07700" not in sent and "your page" not in sent  # repeats nothing, offers no /me/ to a visitor


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"topic": "alcohol"}, "contact_by", "Choose how you would like us to contact you."),
        ({"contact_by": "phone", "topic": "alcohol"}, "phone", "Enter a phone number we can call"),
        ({"contact_by": "phone", "phone": "not a number", "topic": "alcohol"}, "phone", "Enter a phone number using"),
        ({"contact_by": "email", "email": "nobody", "topic": "alcohol"}, "email", "Enter an e-mail address like"),
        ({"contact_by": "phone", "phone": "07700 900123"}, "topic", "Choose what it is about."),
        ({**GOOD, "note": "x" * 501}, "note", "Keep the note to 500 characters."),
        ({**GOOD, "name": "x" * 81}, "name", "Keep the name to 80 characters."),
        ({**GOOD, "name": "Sam\u202eLee"}, "name", "Take out the hidden character"),  # shows as another name
    ],
)
def test_each_mistake_is_shown_beside_its_field_and_nothing_is_kept(app, client, fields, field, message):
    response = ask(client, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in error_beside(page, field)
    assert f'href="#{field}"' in page  # and listed in the summary at the top, linking to it
    assert requests_in(app) == []


def test_every_mistake_shows_at_once_the_missing_detail_with_the_rest(app, client):
    """A missing number was shown only once everything else was right, a second refusal for
    someone reaching out for help."""
    for fields, detail in (({"contact_by": "phone"}, "phone"), ({"contact_by": "email", "email": "nobody"}, "email")):
        page = ask(client, **fields).get_data(as_text=True)
        assert "Choose what it is about." in error_beside(page, "topic")
        assert error_beside(page, detail), detail
        assert 'href="#topic"' in page and f'href="#{detail}"' in page
    assert requests_in(app) == []


def test_a_missing_number_is_shown_even_beside_a_refused_address_it_does_not_need(app, client):
    page = ask(client, contact_by="phone", topic="alcohol", email="x" * 300).get_data(as_text=True)
    assert "Enter a phone number we can call" in error_beside(page, "phone")
    assert requests_in(app) == []


def test_a_post_without_the_csrf_token_is_refused(app, client):
    assert client.post("/contact", data=GOOD).status_code == 400
    assert requests_in(app) == []


def test_a_signed_in_learner_may_attach_progress_and_sees_the_request_on_their_page(app, client, learner):
    login(client)
    assert "Attach my course progress" in client.get("/contact").get_data(as_text=True)
    ask(client, **GOOD, attach_progress="y")
    [request] = requests_in(app)
    assert request.requester_id == learner and request.progress_attached
    page = client.get("/me/").get_data(as_text=True)
    assert "Waiting for the clinic" in page and "by phone on 07700 900123" in page and "progress attached" in page
    assert "/contact/sent" in ask(client, **GOOD).headers["Location"]


def test_staff_are_not_offered_progress_to_attach_and_a_forged_tick_attaches_nothing(app, client):
    create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    login(client, "casey@example.org")
    assert "Attach my course progress" not in client.get("/contact").get_data(as_text=True)
    ask(client, **GOOD, attach_progress="y")
    assert not requests_in(app)[0].progress_attached


def test_the_learner_can_withdraw_their_own_request_and_nobody_else_can(app, client, learner, other_learner):
    login(client)
    ask(client, **GOOD, note="Private note")
    [request] = requests_in(app)
    other = app.test_client()
    login(other, "fred@example.org")
    url = f"/me/contact-requests/{request.id}/withdraw"
    assert other.post(url, data={"csrf_token": csrf_token(other, "/me/")}).status_code == 404
    assert app.test_client().post(url).status_code in (302, 400)  # anonymous: no session, nothing changes
    assert requests_in(app)[0].status == "new"
    response = client.post(url, data={"csrf_token": csrf_token(client, "/me/")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/#contact-requests")
    [withdrawn] = requests_in(app)
    assert withdrawn.status == "withdrawn" and withdrawn.phone is None and withdrawn.note is None
    page = client.get("/me/").get_data(as_text=True)
    assert "Withdrawn: what you told us is erased" in page and "07700" not in page
    assert f'action="{url}"' not in page  # nothing left to withdraw


def test_anonymous_withdrawal_is_sent_to_log_in(app, client):
    token = csrf_token(client, "/contact")
    response = client.post("/me/contact-requests/1/withdraw", data={"csrf_token": token})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_data_download_has_the_request_but_never_the_staff_notes(app, client, learner):
    login(client)
    ask(client, **GOOD, note="My note")
    [request] = requests_in(app)
    with app.app_context():
        db.session.add(ContactRequestNote(request_id=request.id, text="Staff only: sounded unsure"))
        db.session.commit()
    data = client.get("/me/data.json").get_json()
    assert data["contact_requests"][0]["note"] == "My note"
    assert "sounded unsure" not in client.get("/me/data.json").get_data(as_text=True)
    assert "sounded unsure" not in client.get("/me/data").get_data(as_text=True)
    assert "sounded unsure" not in client.get("/me/").get_data(as_text=True)


# E-mails: jobs run inline in tests, so the request sends them to the test's SMTP server.


def test_the_clinic_is_told_and_the_person_acknowledged_without_any_detail(app, client, inbox):
    app.config["CLINIC_INTAKE_EMAIL"] = "intake@clinic.example.org"
    ask(client, contact_by="email", email="sam.private@example.org", topic="opioids", name="Samantha", note="Relapsed")
    messages = {m["To"]: m for m in inbox.wait_for(2)}
    notice, acknowledgement = messages["intake@clinic.example.org"], messages["sam.private@example.org"]
    [request] = requests_in(app)
    assert f"http://localhost/counsel/requests/{request.id}" in body_of(notice)
    for message in (notice, acknowledgement):
        text = (message["Subject"] + body_of(message)).lower()
        for secret in ("samantha", "sam.private", "opioid", "relapsed", "naltrexone", "alcohol"):
            assert secret not in text, (message["To"], secret)


def withdraw_path(message) -> str:
    return re.search(r"http://localhost(/contact/withdraw/\S+)", body_of(message)).group(1)


def test_whoever_reads_the_address_may_withdraw_a_request_they_never_made(app, client, inbox):
    """Anyone may type anyone's address, and a visitor's request has no account to withdraw it from."""
    ask(client, contact_by="email", email="not.me@example.org", topic="opioids", name="Someone")
    [acknowledgement] = inbox.wait_for(1)
    assert "If you did not send it, someone gave this address by mistake" in " ".join(body_of(acknowledgement).split())
    path = withdraw_path(acknowledgement)
    for form in readable_forms(path.rsplit("/", 1)[1]):  # sealed: neither the address nor the request is readable
        assert b"not.me" not in form.lower() and b"example.org" not in form
    stranger = app.test_client()  # no account, no session: only the link
    page = stranger.get(path)
    assert page.status_code == 200 and "Withdraw the request" in page.get_data(as_text=True)
    assert requests_in(app)[0].status == "new"  # opening the link changes nothing
    assert stranger.post(path).status_code == 400  # nor does a POST without the form's token
    done = stranger.post(path, data={"csrf_token": csrf_token(stranger, path)})
    assert done.status_code == 200 and "Nobody will contact you about it" in done.get_data(as_text=True)
    [request] = requests_in(app)
    assert request.status == "withdrawn" and request.email is None and request.name is None and request.topic is None
    again = stranger.get(path)  # used: it no longer works
    assert again.status_code == 400 and "This link does not work" in again.get_data(as_text=True)


def test_a_withdrawal_link_works_only_for_its_own_request_and_address(app, client, inbox):
    from app.services.contact_requests import withdraw_link_token

    ask(client, contact_by="email", email="first@example.org", topic="alcohol")
    ask(client, contact_by="email", email="second@example.org", topic="alcohol")
    first, second = requests_in(app)
    key = app.config["SECRET_KEY"]
    forged = [
        withdraw_link_token(ContactRequest(id=second.id, email="first@example.org"), secret_key=key),  # wrong address
        withdraw_link_token(ContactRequest(id=first.id + 99, email="first@example.org"), secret_key=key),  # no such
        withdraw_link_token(first, secret_key=key)[:-4] + "AAAA",  # altered
        "not-a-token",
    ]
    for token in forged:
        assert client.get(f"/contact/withdraw/{token}").status_code == 400
        path = f"/contact/withdraw/{token}"
        assert client.post(path, data={"csrf_token": csrf_token(client, "/contact")}).status_code == 400
    assert [r.status for r in requests_in(app)] == ["new", "new"]


def test_a_phone_request_gets_no_acknowledgement_and_no_intake_address_means_no_notice(app, client, inbox):
    ask(client, **GOOD, name="Samantha")
    assert inbox.wait_for(1, timeout=0.5) == []
    app.config["CLINIC_INTAKE_EMAIL"] = "intake@clinic.example.org"
    ask(client, **GOOD, name="Samantha")
    [notice] = inbox.wait_for(1)
    assert notice["To"] == "intake@clinic.example.org"
    assert "07700" not in body_of(notice) and "Samantha" not in body_of(notice)


def test_e_mails_the_queue_could_not_take_go_out_on_the_workers_next_run(app, client, inbox, monkeypatch):
    """Redis down as someone asks: the request is saved, and its e-mails are kept for later, not lost."""
    import app.contact.routes as contact_routes
    from app.jobs.contact import queue_waiting_contact_emails, send_clinic_notice

    app.config["CLINIC_INTAKE_EMAIL"] = "intake@clinic.example.org"

    def unreachable(request_id):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(contact_routes, "send_clinic_notice", unreachable)
    assert ask(client, contact_by="email", email="sam.private@example.org", topic="alcohol").status_code == 302
    [request] = requests_in(app)
    assert request.emails_pending and inbox.wait_for(1, timeout=0.5) == []

    monkeypatch.setattr(contact_routes, "send_clinic_notice", send_clinic_notice)  # the queue is back
    with app.app_context():
        assert queue_waiting_contact_emails() == 1
        assert queue_waiting_contact_emails() == 0  # once
    assert sorted(m["To"] for m in inbox.wait_for(2)) == ["intake@clinic.example.org", "sam.private@example.org"]
    assert not requests_in(app)[0].emails_pending


# Rate limits


@pytest.fixture
def limited(app, database_url):
    app = limited_app(database_url, RATELIMIT_CONTACT="3 per minute", RATELIMIT_CONTACT_ACCOUNT="2 per minute")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_one_address_is_limited(limited):
    client = limited.test_client()
    phones = ["07700 900001", "07700 900002", "07700 900003", "07700 900004"]
    statuses = [ask(client, contact_by="phone", phone=phone, topic="other").status_code for phone in phones]
    assert statuses == [302, 302, 302, 429]
    response = ask(client, contact_by="phone", phone="07700 900005", topic="other")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_forms_sent_back_with_a_mistake_do_not_count_against_the_limits(limited):
    create_user(limited, "learner@example.org")
    client = limited.test_client()
    login(client)
    mistakes = [ask(client, contact_by="phone", phone="not a number", topic="other").status_code for _ in range(6)]
    assert mistakes == [400] * 6
    # Each limit (3 per address, 2 per account and per number) still has all its requests left.
    assert ask(client, contact_by="phone", phone="07700 900001", topic="other").status_code == 302
    assert ask(client, contact_by="phone", phone="07700 900002", topic="other").status_code == 302
    assert ask(client, contact_by="phone", phone="07700 900003", topic="other").status_code == 429


def test_one_account_and_one_phone_number_are_limited_across_addresses(limited):
    create_user(limited, "learner@example.org")
    client = limited.test_client()
    login(client)

    def ask_from(ip, phone):
        token = csrf_token(client, "/contact")
        data = {"csrf_token": token, "contact_by": "phone", "phone": phone, "topic": "other"}
        return client.post("/contact", data=data, environ_base={"REMOTE_ADDR": ip}).status_code

    assert [ask_from(f"10.0.3.{n}", f"07700 90000{n}") for n in range(3)] == [302, 302, 429]
    # The same number typed from anywhere, by anyone, is limited too: nobody can mail or call-flood one person.
    visitor = limited.test_client()
    for n, expected in enumerate([302, 302, 429]):
        token = csrf_token(visitor, "/contact")
        data = {"csrf_token": token, "contact_by": "phone", "phone": "07700 911111", "topic": "other"}
        assert visitor.post("/contact", data=data, environ_base={"REMOTE_ADDR": f"10.0.4.{n}"}).status_code == expected
