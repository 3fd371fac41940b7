"""Input no link or form of ours sends is the client's mistake: 400 or 404, never 500 or 503."""

import re

import pytest

from app.models import Role
from tests.conftest import COURSE_SLUG, create_user, lesson_slugs, login


@pytest.fixture
def admin_client(app, client, course):
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


@pytest.mark.parametrize("page", ["²", "0", "-1", "2147483648", "99999999999999999999", "1e3"])
@pytest.mark.parametrize("url", ["/counsel/", "/author/users"])
def test_a_page_number_that_is_not_one_shows_the_first_page(admin_client, url, page):
    assert admin_client.get(f"{url}?page={page}").status_code == 200


@pytest.mark.parametrize("bad_id", ["2147483648", "99999999999999999999", "0", "²", "%C2%B2"])
def test_an_id_out_of_range_in_the_path_is_404(app, admin_client, bad_id, course):
    first = lesson_slugs(app)[0]
    for url in (
        f"/counsel/clients/{bad_id}",
        f"/author/users/{bad_id}",
        f"/courses/{course}/lessons/{first}/quiz/attempts/{bad_id}",
        f"/author/courses/{course}/lessons/{first}/questions/{bad_id}/edit",
    ):
        assert admin_client.get(url).status_code == 404, url


@pytest.mark.parametrize("url", ["/courses/na%00/", "/x%00", f"/courses/{COURSE_SLUG}/?q=%00", "/?a%00=1"])
def test_a_nul_anywhere_in_the_path_or_query_is_400(admin_client, url):
    assert admin_client.get(url).status_code == 400


@pytest.mark.parametrize("value", ["²", "١", "2147483648", "0", "1 "])
def test_a_quiz_choice_that_is_not_an_id_is_400(app, admin_client, value, course):
    url = f"/courses/{course}/lessons/{lesson_slugs(app)[0]}/quiz"
    page = admin_client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page).group(1)
    question = re.search(r'name="(question-\d+)"', page).group(1)
    response = admin_client.post(url, data={question: value, "csrf_token": token, "submission_key": key})
    assert response.status_code == 400


@pytest.mark.parametrize("pass_mark", ["sNaN", "NaN", "Infinity", "-Infinity"])
def test_a_pass_mark_that_is_not_a_number_is_refused_on_the_form(admin_client, pass_mark, course):
    url = f"/author/courses/{course}/edit"
    page = admin_client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = admin_client.post(url, data={"csrf_token": token, "title": "T", "summary": "S", "pass_mark": pass_mark})
    assert response.status_code == 400
