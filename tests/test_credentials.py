"""The certificate's Open Badges 3.0 credential, checked by an independent verifier.

The verifier is the Digital Credentials Consortium's stack in node (tests/credential_verifier,
pinned by its package-lock.json): its own JSON-LD contexts, RDF canonicalisation and Ed25519, no
code shared with app/credentials. Everything it reads is fetched from the app over HTTP (the test
client): the credential as the learner downloads it, the DID document and the status list. It is
given them as a map of URL to document, standing in for the network, so the run is offline.

Skipped when node is missing, unless E2E_REQUIRED or CI says it must run; node_modules is
installed here with `npm ci --ignore-scripts` when missing (never at the app's run time).
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import re
import secrets
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Certificate, Course, NameDisplay, User
from app.services.certificates import certificate_revoke
from config import TestConfig
from tests.conftest import COURSE_SLUG, create_user, login

VERIFIER = Path(__file__).parent / "credential_verifier"
REQUIRED = TestConfig.E2E_REQUIRED or os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable, with the verifier's packages installed (once, under a lock for xdist)."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not (node and npm):
        if REQUIRED:
            pytest.fail("node and npm are required for the credential verifier (E2E_REQUIRED or CI)")
        pytest.skip("node/npm not installed: the independent credential verifier cannot run")
    with open(VERIFIER / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (VERIFIER / "node_modules" / ".package-lock.json").exists():
            subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                cwd=VERIFIER,
                check=True,
                capture_output=True,
                timeout=600,
            )
    return node


def verify_each(node: str, checks: list[tuple[dict, dict[str, dict]]], tmp_path: Path) -> list[dict]:
    """Run the independent verifier on each (credential, what the web serves) pair, in one start
    of node (most of a check's time); a verdict and log for each."""
    paths = []
    for number, (credential, web) in enumerate(checks):
        credential_file, web_file = tmp_path / f"credential-{number}.json", tmp_path / f"web-{number}.json"
        credential_file.write_text(json.dumps(credential))
        web_file.write_text(json.dumps(web))
        paths += [str(credential_file), str(web_file)]
    run = subprocess.run(
        [node, "verify.mjs", *paths],
        cwd=VERIFIER,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout, run.stderr
    verdicts = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(verdicts) == len(checks), run.stderr
    assert (run.returncode == 0) == all(verdict["verified"] for verdict in verdicts), run.stderr
    return verdicts


def verify(node: str, credential: dict, web: dict[str, dict], tmp_path: Path) -> dict:
    """Run the independent verifier; its verdict and log."""
    return verify_each(node, [(credential, web)], tmp_path)[0]


def fetch_web(client, credential: dict) -> dict[str, dict]:
    """What a verifier would fetch for this credential, fetched from the app: the DID document and status list."""
    did = credential["issuer"]["id"]
    assert did == "did:web:localhost"
    did_document = client.get("/.well-known/did.json")
    assert did_document.status_code == 200 and did_document.mimetype == "application/did+json"
    status_url = credential["credentialStatus"]["statusListCredential"]
    status_list = client.get(urlsplit(status_url).path)
    assert status_list.status_code == 200
    return {"https://localhost/.well-known/did.json": did_document.get_json(), status_url: status_list.get_json()}


def give_certificate(app, user_id: int, *, name_display: str = NameDisplay.FULL) -> str:
    """A live certificate of the test course for the user; its code."""
    with app.app_context():
        course_id = db.session.query(Course.id).filter_by(slug=COURSE_SLUG).scalar()
        code = secrets.token_urlsafe(24)
        db.session.add(
            Certificate(
                user_id=user_id,
                course_id=course_id,
                code=code,
                name_at_issue="Ada King Lovelace",
                name_display=name_display,
            )
        )
        db.session.commit()
        return code


CREDENTIAL_URL = f"/courses/{COURSE_SLUG}/certificate/credential.json"


def test_a_downloaded_credential_verifies_fails_when_tampered_and_after_revocation(
    app, client, course, learner, node, tmp_path
):
    code = give_certificate(app, learner)
    login(client)
    download = client.get(CREDENTIAL_URL)
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    credential = download.get_json()
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"].endswith(f"/certificates/{code}")
    assert credential["credentialSubject"]["identifier"][0]["identityHash"] == "Ada King Lovelace"
    web = fetch_web(client, credential)  # as served before the revocation below
    # One field changed: the course named is another's.
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Another course"
    # The holder's name changed.
    renamed = copy.deepcopy(credential)
    renamed["credentialSubject"]["identifier"][0]["identityHash"] = "Someone Else"
    with app.app_context():
        course_id = db.session.query(Course.id).filter_by(slug=COURSE_SLUG).scalar()
        certificate_revoke(db.session, learner=db.session.get(User, learner), course_id=course_id)
    web_after = fetch_web(client, credential)

    verdict, tampered_verdict, renamed_verdict, after = verify_each(
        node, [(credential, web), (tampered, web), (renamed, web), (credential, web_after)], tmp_path
    )
    assert verdict["verified"], verdict
    assert {"id": "revocation_status", "valid": True} in verdict["log"]
    assert not tampered_verdict["verified"]
    assert not renamed_verdict["verified"]
    assert not after["verified"]
    assert {"id": "revocation_status", "valid": False} in after["log"]
    # Revoked: the download is gone too (a fresh certificate gets a fresh credential).
    assert client.get(CREDENTIAL_URL).status_code == 404


def test_a_name_choice_of_none_names_nobody_and_still_verifies(app, client, course, learner, node, tmp_path):
    give_certificate(app, learner, name_display=NameDisplay.NONE)
    login(client)
    credential = client.get(CREDENTIAL_URL).get_json()
    assert "identifier" not in credential["credentialSubject"]
    # Open Badges 3.0 wants an id or an identifier: an id that says nothing of the holder.
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", credential["credentialSubject"]["id"])
    # The proof is left out: its base58 signature spells "Ada" now and then by chance.
    unsigned = {key: value for key, value in credential.items() if key != "proof"}
    assert "Ada" not in json.dumps(unsigned) and "Lovelace" not in json.dumps(credential)
    assert verify(node, credential, fetch_web(client, credential), tmp_path)["verified"]


def test_the_credential_is_its_holders_only(app, client, course, learner):
    give_certificate(app, learner)
    create_user(app, "fred@example.org")
    assert client.get(CREDENTIAL_URL).status_code == 302  # anonymous: log in first
    login(client, "fred@example.org")
    assert client.get(CREDENTIAL_URL).status_code == 404
    assert client.get("/courses/no-such-course/certificate/credential.json").status_code == 404


def test_the_download_is_not_cached_and_the_public_documents_are(app, client, course, learner):
    give_certificate(app, learner)
    login(client)
    assert client.get(CREDENTIAL_URL).headers["Cache-Control"] == "no-store"
    client.get("/auth/logout")
    anonymous = app.test_client()
    for url in ("/.well-known/did.json", "/credentials/status/0"):
        assert anonymous.get(url).headers["Cache-Control"].startswith("public")


def test_only_the_status_lists_a_certificate_can_be_on_are_served(app, client, course, learner):
    from app.credentials.status_list import LIST_SIZE

    def status(number) -> int:
        return client.get(f"/credentials/status/{number}").status_code

    assert status(0) == 200  # the first list, even before any certificate
    assert [status(n) for n in (1, 2, 16383, 99999999999, 10**30)] == [404] * 5
    code = give_certificate(app, learner)
    with app.app_context():
        # A certificate far along the table, as after many issued: its list, and the ones before it, exist.
        db.session.query(Certificate).filter_by(code=code).update({"id": 2 * LIST_SIZE + 7})
        db.session.commit()
    assert [status(n) for n in (0, 1, 2, 3, 10**30)] == [200, 200, 200, 404, 404]


def test_the_did_document_publishes_the_configured_key(app, client):
    from app.credentials.keys import SigningKey

    document = client.get("/.well-known/did.json").get_json()
    key = SigningKey.from_text(app.config["CREDENTIAL_SIGNING_KEY"]).public_key_multibase
    assert document["id"] == "did:web:localhost"
    (method,) = document["verificationMethod"]
    assert method == {
        "id": f"did:web:localhost#{key}",
        "type": "Multikey",
        "controller": "did:web:localhost",
        "publicKeyMultibase": key,
    }
    assert document["assertionMethod"] == [method["id"]]


def test_a_credential_signed_with_another_key_does_not_verify(app, client, course, learner, node, tmp_path):
    from datetime import UTC, datetime

    from app.credentials import proof
    from app.credentials.keys import SigningKey, new_secret_key_text

    give_certificate(app, learner)
    login(client)
    credential = client.get(CREDENTIAL_URL).get_json()
    web = fetch_web(client, credential)
    unsigned = {name: value for name, value in credential.items() if name != "proof"}
    forger = SigningKey.from_text(new_secret_key_text())
    site_method = credential["proof"]["verificationMethod"]
    methods = (site_method, f"did:web:localhost#{forger.public_key_multibase}")
    forged = [proof.sign(unsigned, forger, verification_method=method, created=datetime.now(UTC)) for method in methods]
    verdicts = verify_each(node, [(credential, web) for credential in forged], tmp_path)
    assert [verdict["verified"] for verdict in verdicts] == [False, False], verdicts


def test_the_credential_says_the_day_of_completion_not_its_time(app, client, course, learner):
    """``validFrom`` carried the second the course was completed, which is the learning record's
    (xAPI) timestamp too: it could tie a named credential to a pseudonymous learner's records."""
    code = give_certificate(app, learner)
    with app.app_context():
        db.session.execute(
            update(Certificate)
            .where(Certificate.code == code)
            .values(issued_at=datetime(2026, 12, 6, 3, 41, 19, tzinfo=UTC))
        )
        db.session.commit()
    login(client)
    credential = client.get(CREDENTIAL_URL).get_json()
    assert credential["validFrom"] == "2026-12-06T00:00:00Z"
    # Nor the time of the download, which often follows the completion by moments.
    assert credential["proof"]["created"].endswith(("T00:00:00Z", "T23:00:00Z"))  # the start of today in London
    assert (
        credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
        == "Completed every lesson of the course."
    )
    again = client.get(CREDENTIAL_URL).get_json()
    assert (
        again["credentialSubject"]["id"] == credential["credentialSubject"]["id"]
    )  # the same certificate, the same id
