"""Learners are told about learning records (xAPI) on /me/ and in the home page's privacy note,
only when the site sends them (XAPI_ENDPOINT set)."""

import pytest

from app.services.xapi import xapi_store

NOTICE = "Learning records sent to the clinic"


@pytest.mark.parametrize("endpoint", ["", "https://lrs.example.org/xAPI/"])
def test_me_tells_the_learner_only_when_records_are_sent(app, learner_client, endpoint):
    app.config["XAPI_ENDPOINT"] = endpoint
    page = learner_client.get("/me/").get_data(as_text=True)
    assert (NOTICE in page) is bool(endpoint)
    if endpoint:
        assert "random number made for you alone" in page


@pytest.mark.parametrize("endpoint", ["", "https://lrs.example.org/xAPI/"])
def test_the_privacy_note_mentions_learning_records_only_when_they_are_sent(app, client, course, endpoint):
    app.config["XAPI_ENDPOINT"] = endpoint
    page = client.get("/").get_data(as_text=True)
    assert ("The clinic keeps learning records" in page) is bool(endpoint)


def test_an_endpoint_that_is_not_a_web_address_turns_statements_off(app, caplog):
    assert xapi_store({"XAPI_ENDPOINT": "file:///etc/passwd"}) is None
    assert "not an http(s) URL" in caplog.text
    assert xapi_store({"XAPI_ENDPOINT": " https://lrs.example.org/xAPI "}).statements_url == (
        "https://lrs.example.org/xAPI/statements"
    )
