"""Contact-request jobs (app/jobs/contact.py): the e-mails say nothing about the person, carry only
the request's id through the queue, and the daily clear-out follows the configured retention."""

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.jobs.contact import (
    acknowledgement_mail,
    clinic_notice_mail,
    purge_ended_contact_requests,
    purge_ended_requests,
    send_acknowledgement,
    send_clinic_notice,
)
from app.models import ContactRequest, Role, User
from app.services.contact_requests import (
    ContactDetails,
    contact_request_create,
    contact_request_set_status,
    contact_request_withdraw,
)
from tests.conftest import create_user
from tests.queued_jobs import enqueued, queued, run_enqueued

SECRETS = ("Samantha", "sam.private@example.org", "07700 900123", "opioid", "alcohol", "family", "Relapsed last week")


@pytest.fixture
def request_id(app, session):
    details = ContactDetails(
        contact_by="email", email="sam.private@example.org", topic="opioids", name="Samantha", note="Relapsed last week"
    )
    return contact_request_create(session, details=details, requester=None).id


def test_the_notice_links_to_the_request_and_says_nothing_else(app, session, request_id):
    app.config["CLINIC_INTAKE_EMAIL"] = "intake@clinic.example.org"
    mail = clinic_notice_mail(request_id)
    assert mail.to == "intake@clinic.example.org"
    assert f"http://localhost/counsel/requests/{request_id}" in mail.body
    for secret in SECRETS:
        assert secret.lower() not in (mail.subject + mail.body).lower(), secret


def test_the_acknowledgement_goes_only_to_the_address_given_and_says_nothing_of_the_request(app, session, request_id):
    mail = acknowledgement_mail(request_id)
    assert mail.to == "sam.private@example.org"
    for secret in SECRETS:
        if secret != "sam.private@example.org":
            assert secret.lower() not in (mail.subject + mail.body).lower(), secret
    assert "naltrexone" not in (mail.subject + mail.body).lower()


def test_no_mail_without_an_intake_address_a_phone_request_or_a_withdrawn_one(app, session, request_id):
    assert clinic_notice_mail(request_id) is None  # CLINIC_INTAKE_EMAIL unset
    by_phone = ContactDetails(contact_by="phone", phone="07700 900123", topic="other")
    assert acknowledgement_mail(contact_request_create(session, details=by_phone, requester=None).id) is None
    learner = session.get(User, create_user(app, "learner@example.org"))
    by_email = ContactDetails(contact_by="email", email="me@example.org", topic="other")
    mine = contact_request_create(session, details=by_email, requester=learner)
    contact_request_withdraw(session, requester=learner, request_id=mine.id)
    assert acknowledgement_mail(mine.id) is None  # withdrawn before the job ran: nothing is sent
    assert acknowledgement_mail(999999) is None


def test_the_queue_holds_only_the_request_id(app, tmp_path, request_id):
    with queued(app, tmp_path):
        send_clinic_notice(request_id)
        send_acknowledgement(request_id)
        assert enqueued() == [
            ("send_clinic_notice", (request_id,), {}),
            ("send_acknowledgement", (request_id,), {}),
        ]
        assert run_enqueued() == 2


def close(session, staff, request_id, at):
    contact_request_set_status(session, staff=staff, request_id=request_id, status="closed")
    request = session.get(ContactRequest, request_id)
    request.ended_at = at
    session.commit()


def test_the_daily_clear_out_follows_the_configured_retention(app, session, request_id):
    app.config["CONTACT_REQUEST_RETENTION_DAYS"] = 30
    staff = session.get(User, create_user(app, "casey@example.org", role=Role.COUNSELLOR))
    now = datetime(2027, 1, 31, 3, 30, tzinfo=UTC)
    close(session, staff, request_id, now - timedelta(days=30, minutes=1))
    younger = contact_request_create(
        session, details=ContactDetails(contact_by="phone", phone="07700 900123", topic="other"), requester=None
    ).id
    close(session, staff, younger, now - timedelta(days=29))
    assert purge_ended_requests(now) == 1
    session.expire_all()
    assert session.get(ContactRequest, request_id) is None and session.get(ContactRequest, younger) is not None
    assert purge_ended_requests(now + timedelta(days=1, minutes=1)) == 1


def test_the_clear_out_runs_every_night(app):
    """Scheduled for 03:30 UTC each day, and runnable as the scheduler runs it."""
    validate = purge_ended_contact_requests.s().validate_datetime
    assert validate(datetime(2027, 1, 1, 3, 30))
    assert not validate(datetime(2027, 1, 1, 3, 31))
    with app.app_context():
        purge_ended_contact_requests.call_local()
        assert db.session.query(ContactRequest).count() == 0
