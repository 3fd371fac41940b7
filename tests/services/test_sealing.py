"""Sealed texts: unreadable, unforgeable, each purpose apart, and when each was sealed."""

from __future__ import annotations

from datetime import UTC, datetime

from app.services.sealing import seal, unseal, unseal_with_time


def test_a_sealed_text_opens_only_with_its_key_and_purpose():
    token = seal("lee", secret_key="secret", purpose="one")
    assert "lee" not in token
    assert unseal(token, secret_key="secret", purpose="one") == "lee"
    assert unseal(token, secret_key="secret", purpose="two") is None
    assert unseal(token, secret_key="another secret", purpose="one") is None
    assert unseal(token[:-3] + "AAA", secret_key="secret", purpose="one") is None
    assert unseal("not a token ☃", secret_key="secret", purpose="one") is None


def test_unseal_with_time_gives_when_it_was_sealed_and_honours_max_age():
    before = datetime.now(UTC).replace(microsecond=0)
    token = seal("lee", secret_key="secret", purpose="one")
    after = datetime.now(UTC)

    text, sealed_at = unseal_with_time(token, secret_key="secret", purpose="one")
    assert text == "lee"
    assert before <= sealed_at <= after
    assert sealed_at.tzinfo is UTC
    assert unseal_with_time(token, secret_key="secret", purpose="one", max_age=-1) is None  # expired
    assert unseal_with_time(token, secret_key="secret", purpose="two") is None
    altered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    assert unseal_with_time(altered, secret_key="secret", purpose="one") is None
