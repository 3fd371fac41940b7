"""The parts of app/credentials: encodings, the key, the issuer's DID, the status list, start-up.

The signature itself is checked by an independent verifier in test_credentials.py; these pin the
pieces a verifier reads, so a failure there names its cause here.
"""

from __future__ import annotations

import gzip
import stat
from datetime import UTC, datetime

import pytest

from app import create_app
from app.credentials import canonical, proof
from app.credentials.keys import SigningKey, SigningKeyError, issuer_did, new_secret_key_text
from app.credentials.multibase import base58btc_decode, base58btc_encode, base64url_decode, base64url_encode
from app.credentials.status_list import LIST_SIZE, encode_bits, status_position, valid_indexes
from app.extensions import db
from app.models import Certificate, Course
from config import DevelopmentConfig, TestConfig
from tests.conftest import COURSE_SLUG, create_user


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0\1", b"hello world", bytes(range(256))])
def test_multibase_round_trips(data):
    assert base58btc_decode(base58btc_encode(data)) == data
    assert base64url_decode(base64url_encode(data)) == data


def test_base58btc_matches_the_published_example():
    # The Multibase draft's example: "Multibase is awesome! \o/" in base58btc.
    assert base58btc_encode(b"Multibase is awesome! \\o/") == "zYAjKoNbau5KiqmHPmSxYCvn66dA1vLmwbt"


def test_a_key_reads_back_and_its_public_half_is_an_ed25519_multikey():
    text = new_secret_key_text()
    key = SigningKey.from_text(text)
    assert text.startswith("z3u2")  # 0x8026 header: ed25519-priv
    assert key.public_key_multibase.startswith("z6Mk")  # 0xed01 header: ed25519-pub
    assert SigningKey.from_text(text).public_key_multibase == key.public_key_multibase


@pytest.mark.parametrize(
    "text", ["", "not-a-key", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "z" + "1" * 20, "u" + "A" * 40]
)
def test_anything_but_an_ed25519_secret_key_is_refused(text):
    with pytest.raises(SigningKeyError):
        SigningKey.from_text(text)


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("https://learn.example.org", "did:web:learn.example.org"),
        ("https://learn.example.org/", "did:web:learn.example.org"),
        ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000"),
        ("http://localhost", "did:web:localhost"),
    ],
)
def test_the_issuer_is_did_web_of_the_public_host(url, did):
    assert issuer_did(url) == did


def test_signing_uses_only_the_bundled_contexts():
    document = {"@context": ["https://example.org/other-context"], "name": "x"}
    with pytest.raises(Exception) as raised:
        canonical.canonize(document)
    causes = []
    error: BaseException | None = raised.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(cause, canonical.UnknownContextError) for cause in causes)


def test_a_proof_binds_every_field_and_is_the_keys():
    key = SigningKey.from_text(TestConfig.CREDENTIAL_SIGNING_KEY)
    document = {
        "@context": [canonical.VC_V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject"},
    }
    signed = proof.sign(
        document, key, verification_method="did:example:issuer#k", created=datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    )
    assert signed["proof"]["created"] == "2026-12-01T09:30:00Z"
    assert signed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof.proof_matches(signed, key)
    assert not proof.proof_matches(signed | {"issuer": "did:example:someone-else"}, key)
    assert not proof.proof_matches(signed, SigningKey.from_text(new_secret_key_text()))


def test_status_positions_follow_the_row_id():
    assert status_position(7) == (0, 7)
    assert status_position(LIST_SIZE + 3) == (1, 3)


def bit(encoded: str, index: int) -> bool:
    bits = gzip.decompress(base64url_decode(encoded))
    assert len(bits) * 8 == LIST_SIZE
    return bool(bits[index // 8] & (0x80 >> (index % 8)))  # bit 0 is the left-most


def test_the_list_clears_only_the_valid_bits():
    encoded = encode_bits({0, 9, LIST_SIZE - 1})
    assert [bit(encoded, i) for i in (0, 1, 8, 9, 10, LIST_SIZE - 1)] == [False, True, True, False, True, False]
    assert encode_bits({9}) == encode_bits({9})  # the same list encodes (and signs) the same


def test_revoked_and_erased_certificates_read_as_revoked(app, course):
    learner, other = create_user(app, "learner@example.org"), create_user(app, "fred@example.org")
    with app.app_context():
        course_id = db.session.query(Course.id).filter_by(slug=COURSE_SLUG).scalar()
        rows = [
            Certificate(user_id=learner, course_id=course_id, code="a" * 32, name_at_issue="A"),
            Certificate(user_id=other, course_id=course_id, code="b" * 32, name_at_issue="B"),
            Certificate(
                user_id=learner, course_id=course_id, code="c" * 32, name_at_issue="A", revoked_at=datetime.now(UTC)
            ),
        ]
        db.session.add_all(rows)
        db.session.commit()
        live, erased, revoked = (row.id for row in rows)
        db.session.delete(rows[1])
        db.session.commit()
        assert valid_indexes(db.session, 0) == {live}
        assert valid_indexes(db.session, 1) == set()
    served = app.test_client().get("/credentials/status/0").get_json()
    encoded = served["credentialSubject"]["encodedList"]
    assert not bit(encoded, live) and bit(encoded, erased) and bit(encoded, revoked)
    assert served["issuer"] == "did:web:localhost" and served["proof"]["proofPurpose"] == "assertionMethod"


def development(tmp_path, **overrides):
    values = {
        "SECRET_KEY": "k" * 40,
        "CREDENTIAL_SIGNING_KEY": "",
        "CREDENTIAL_SIGNING_KEY_FILE": tmp_path / "instance" / "credential_signing_key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.db'}",
    }
    return type("Dev", (DevelopmentConfig,), {**values, **overrides})


def test_development_makes_a_private_signing_key_once_and_keeps_it(tmp_path):
    key_file = tmp_path / "instance" / "credential_signing_key"
    first = create_app(development(tmp_path)).config["CREDENTIAL_SIGNING_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    SigningKey.from_text(first)
    assert create_app(development(tmp_path)).config["CREDENTIAL_SIGNING_KEY"] == first


def test_a_configured_key_wins_and_no_file_is_made(tmp_path):
    app = create_app(development(tmp_path, CREDENTIAL_SIGNING_KEY=TestConfig.CREDENTIAL_SIGNING_KEY))
    assert app.config["CREDENTIAL_SIGNING_KEY"] == TestConfig.CREDENTIAL_SIGNING_KEY
    assert not (tmp_path / "instance" / "credential_signing_key").exists()


def test_new_key_prints_a_key_the_app_accepts(runner):
    printed = runner.invoke(args=["credentials", "new-key"]).output.strip()
    SigningKey.from_text(printed)
    assert printed != runner.invoke(args=["credentials", "new-key"]).output.strip()
