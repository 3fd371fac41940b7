"""/me/data: the JSON download's data as a page to read or print, section for section."""

import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy import update

from app.extensions import db
from app.me import data_page
from app.models import QuizAttempt
from tests.conftest import create_user, lesson_slugs, login, quiz_form, submit_quiz, visible_text
from tests.views.test_query_counts import add_failed_attempts, queries_for

LONDON = ZoneInfo("Europe/London")


def test_every_section_of_the_json_is_on_the_page(learner_client, app):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first))
    data = json.loads(learner_client.get("/me/data.json").data)
    page = learner_client.get("/me/data").get_data(as_text=True)
    assert len(data) > 10
    held = [key for key in data if data[key] not in ([], {}, None, "")]
    assert "progress" in held and "quiz_attempts" in held and "clients" not in held
    for key in data:
        title = data_page.title_for(key)
        if key in held:  # a section of its own, in the contents list
            assert re.search(rf'<h2 id="data-{key}-title">{re.escape(title)}</h2>', page), key
            assert f'href="#data-{key}"' in page, key
        else:  # named with the others that hold nothing about this person, at the end
            nothing = page.split('id="data-nothing-recorded"', 1)[1]
            assert f'<li id="data-{key}">{title}</li>' in nothing, key
            assert f'href="#data-{key}"' not in page, key


def test_attempts_show_each_question_the_choices_picked_and_whether_right(learner_client, app):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    with app.app_context():
        db.session.execute(update(QuizAttempt).values(submitted_at=datetime(2026, 7, 1, 23, 30, tzinfo=UTC)))
        db.session.commit()
        db.session.remove()
    data = json.loads(learner_client.get("/me/data.json").data)
    page = learner_client.get("/me/data").get_data(as_text=True)
    attempts = page.split('id="data-quiz_attempts"', 1)[1].split("</section>", 1)[0]
    # The lesson by its title, as the course names it; the download keeps its address too.
    title = data["quiz_attempts"][0]["lesson_title"]
    assert title and title != first and data["quiz_attempts"][0]["lesson"] == first
    assert f"Attempt 1: {escape(title)}</h3>" in attempts
    assert "2 Jul 2026, 12:30am · score 0% · Not passed" in attempts
    for answer in data["quiz_attempts"][0]["answers"]:
        assert answer["question"] in attempts
        picked = next(choice for choice in answer["choices"] if choice["chosen"])
        assert f"{picked['text']} · <strong>you picked this</strong>" in attempts
    assert attempts.count("Not right") == len(data["quiz_attempts"][0]["answers"])
    assert "UTC" not in visible_text(page) and "+00:00" not in page  # no token holds "+" or ":"


def test_the_account_and_settings_read_as_words_not_as_json(learner_client, app):
    page = learner_client.get("/me/data").get_data(as_text=True)
    profile = page.split('id="data-profile"', 1)[1].split("</section>", 1)[0]
    assert "<dt>E-mail address</dt><dd>learner@example.org</dd>" in profile
    assert "<dt>Active</dt><dd>Yes</dd>" in profile
    assert "Download my data (JSON)" in page
    assert "/me/data" in learner_client.get("/me/").get_data(as_text=True)  # linked from /me/


def test_a_section_added_to_the_export_later_shows_up_without_touching_the_page(learner_client, monkeypatch):
    from app.me import routes

    real = routes.personal_data_export
    later = {
        "badges_earned": [{"earned_at": None, "kind_of_badge": "x"}],
        "wide_records": [{"a": 1, "b": 2, "c": 3, "d": 4, "e_field": "five"}],  # too wide for a table
    }
    monkeypatch.setattr(routes, "personal_data_export", lambda session, user: {**real(session, user=user), **later})
    page = learner_client.get("/me/data").get_data(as_text=True)
    assert '<h2 id="data-badges_earned-title">Badges earned</h2>' in page
    assert '<th scope="col">Earned</th><th scope="col">Kind of badge</th>' in page
    wide = page.split('id="data-wide_records"', 1)[1].split("</section>", 1)[0]
    assert '<ol class="data-cards">' in wide and "<dt>E field</dt><dd>five</dd>" in wide


def test_it_shows_only_the_signed_in_persons_data(client, app, course, learner):
    create_user(app, "other@example.org", name="Otto Other")
    login(client)
    page = client.get("/me/data").get_data(as_text=True)
    assert "learner@example.org" in page and "other@example.org" not in page
    anonymous = app.test_client().get("/me/data")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_the_page_costs_the_same_queries_whatever_the_history(learner_client, app, learner):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    before = queries_for(app, lambda: learner_client.get("/me/data"))
    add_failed_attempts(app, learner, first, 30)
    after = queries_for(app, lambda: learner_client.get("/me/data"))
    assert after == before


def test_the_page_has_a_print_stylesheet_that_leaves_out_navigation_and_buttons(learner_client, app):
    page = learner_client.get("/me/data").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="(/assets/css/my-data\.[0-9a-f]{10}\.css)">', page).group(1)
    css = learner_client.get(href).get_data(as_text=True)
    print_rules = css.split("@media print", 1)[1]
    for hidden in (".site-header", ".site-footer", ".data-no-print"):
        assert hidden in print_rules.split("display: none", 1)[0]
    assert 'class="actions data-no-print"' in page and 'class="data-contents data-no-print"' in page


def test_readable_values():
    assert data_page.readable("2026-10-25T01:30:00+00:00", LONDON) == "25 Oct 2026, 1:30am"
    assert data_page.readable("2026-10-25T00:30:00.123456+00:00", LONDON) == "25 Oct 2026, 1:30am"
    assert data_page.readable("2026-10-25", LONDON) == "2026-10-25"  # only stored instants are times
    assert data_page.readable(True, LONDON) == "Yes" and data_page.readable(False, LONDON) == "No"
    assert data_page.readable(None, LONDON) == "None" and data_page.readable({}, LONDON) == "None"
    assert data_page.readable({"from": "learner", "to": "counsellor"}, LONDON) == "From: learner, To: counsellor"
    assert data_page.readable(0.75, LONDON) == "0.75"
    assert data_page.readable(0.24668918777567272, LONDON) == "0.25" and data_page.readable(3.0, LONDON) == "3"
    assert data_page.label_for("last_seen_at") == "Last seen"
    assert data_page.label_for("kept_logged_in") == "Kept logged in"


def test_review_answers_show_like_quiz_answers(learner_client, app):
    from tests.views.test_review import REVIEW, make_all_due, review_page, right_answers, wrong_first_lesson

    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    _, fields = review_page(learner_client)
    assert learner_client.post(REVIEW, data={**fields, **right_answers(app, fields["shown"])}).status_code == 302
    data = json.loads(learner_client.get("/me/data.json").data)
    page = learner_client.get("/me/data").get_data(as_text=True)
    reviews = page.split('id="data-review_answers"', 1)[1].split("</section>", 1)[0]
    assert len(data["review_answers"]) == len(fields["shown"]) == reviews.count(" · Right</p>")
    for answer in data["review_answers"]:
        picked = next(choice for choice in answer["choices"] if choice["chosen"])
        assert f"{picked['text']} · <strong>you picked this</strong> · a right answer" in reviews
    assert "choice_id" not in reviews  # the choices read as text, not as the JSON's records
