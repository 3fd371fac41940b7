"""/me/: download my data and delete my account, over HTTP with CSRF on."""

import json

from tests.conftest import PASSWORD, csrf_token, lesson_slugs, login, quiz_form, submit_quiz


def test_download_is_json_with_everything_about_me(learner_client, app):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first))
    response = learner_client.get("/me/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert 'filename="my-data.json"' in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["profile"]["email"] == "learner@example.org"
    assert data["quiz_attempts"][0]["passed"] is True
    assert data["progress"][0]["completed_at"]


def delete(client, password, understood="y"):
    token = csrf_token(client, "/me/delete")
    return client.post("/me/delete", data={"password": password, "understood": understood, "csrf_token": token})


def test_delete_needs_the_password_and_the_confirmation(learner_client):
    response = delete(learner_client, "wrong password")
    assert response.status_code == 400 and "That password is not right." in response.get_data(as_text=True)
    assert delete(learner_client, PASSWORD, understood="").status_code == 400
    assert learner_client.get("/me/").status_code == 200


def test_the_delete_page_names_what_else_goes_with_the_account(learner_client):
    page = learner_client.get("/me/delete").get_data(as_text=True)
    assert "Your certificate goes too" in page  # its link stops checking out (test_certificates.py)
    assert "A request for the clinic to contact you is withdrawn" in page


def test_deleting_logs_out_and_the_account_is_gone(learner_client):
    response = delete(learner_client, PASSWORD)
    assert response.status_code == 302
    assert "have been deleted" in learner_client.get("/").get_data(as_text=True)
    assert learner_client.get("/me/").status_code == 302
    assert login(learner_client).status_code == 400


def test_data_pages_need_login(client, course):
    assert client.get("/me/data.json").status_code == 302
    assert client.get("/me/delete").status_code == 302
