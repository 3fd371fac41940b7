"""/me/data: the JSON download's data as a page to read or print, section for section."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy import select, update

from app.extensions import db
from app.me import data_page
from app.models import Lesson, LtiGradeTarget, LtiIdentity, QuizAttempt, ReviewCard
from tests.conftest import create_user, lesson_slugs, login, quiz_form, submit_quiz, visible_text
from tests.services import test_personal_data
from tests.views.test_query_counts import add_failed_attempts, queries_for

LONDON = ZoneInfo("Europe/London")
# Someone who appears in every section of the export, "me@example.org".
person = test_personal_data.person


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
            assert f'<li id="data-{key}">{escape(data_page.EMPTY_NAMES.get(key, title))}</li>' in nothing, key
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
    assert ".data-technical::details-content" in print_rules  # the scheduling details print, even closed


def test_readable_values():
    assert data_page.readable("2026-10-25T01:30:00+00:00", LONDON) == "25 Oct 2026, 1:30am"
    assert data_page.readable("2026-10-25T00:30:00.123456+00:00", LONDON) == "25 Oct 2026, 1:30am"
    assert data_page.readable("2026-10-25", LONDON) == "2026-10-25"  # only stored instants are times
    assert data_page.readable(True, LONDON) == "Yes" and data_page.readable(False, LONDON) == "No"
    assert data_page.readable(None, LONDON) == "Not given" and data_page.readable({}, LONDON) == "Not given"
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
    # Right after a wrong answer in the quiz: the scheduler's "Hard" (rating 2), in words.
    assert {answer["rating"] for answer in data["review_answers"]} == {2}
    assert reviews.count("<dt>Counted as</dt><dd>Right, after getting it wrong before</dd>") == len(fields["shown"])
    assert "Rating" not in reviews


def section_of(page: str, key: str) -> str:
    return page.split(f'id="data-{key}"', 1)[1].split("</section>", 1)[0]


def test_someone_in_every_section_reads_words_never_none_nor_stored_codes(client, person):
    """Empty fields say what empty means there, and every enumerated value is in words."""
    login(client, "me@example.org")
    page = client.get("/me/data").get_data(as_text=True)
    text = visible_text(page)
    assert not re.search(r"\bNone\b", text)
    assert "Nothing recorded about you in these" not in text  # the fixture fills every section
    profile = section_of(page, "profile")
    assert "<dt>Role</dt><dd>Learner</dd>" in profile
    views = section_of(page, "views_of_my_progress")
    assert '<td data-label="Role">Counsellor</td>' in views and ">counsellor<" not in views
    changes = section_of(page, "admin_actions_on_my_account")
    assert '<td data-label="Action">Role changed</td>' in changes and "To: Learner" in changes
    assert '<td data-label="Action">Account deactivated: it could not log in</td>' in section_of(
        page, "admin_actions_i_took"
    )
    certificate = section_of(page, "certificates")
    assert "<dt>Name on the certificate</dt><dd>Your full name</dd>" in certificate
    assert "<dt>Revoked</dt><dd>Not revoked</dd>" in certificate
    request = section_of(page, "contact_requests")
    for words in (
        "<dt>How to contact you</dt><dd>By phone</dd>",
        "<dt>E-mail address</dt><dd>Not given</dd>",
        "<dt>About</dt><dd>Alcohol</dd>",
        "<dt>Note</dt><dd>No note</dd>",
        "<dt>Status</dt><dd>Waiting for the clinic</dd>",
    ):
        assert words in request, words
    assert '<td data-label="Status">New, not yet handled</td>' in section_of(page, "contact_requests_i_picked_up")
    actions = section_of(page, "contact_request_actions_i_took")
    assert "<dt>Action</dt><dd>Picked it up</dd>" in actions and "<dt>Status after</dt><dd>No change</dd>" in actions
    tokens = section_of(page, "api_tokens")
    assert '<td data-label="What it may do">Read my own progress and quiz attempts</td>' in tokens
    assert '<td data-label="Last used">Never used</td>' in tokens
    assert "<dt>Stopped</dt><dd>Still sharing</dd>" in section_of(page, "sharing")
    assert '<td data-label="What you did">Opened a lesson</td>' in section_of(page, "learning_record_store_waiting")


def test_where_lms_scores_go_names_the_lesson_by_its_title(client, app, person):
    """The line item's lesson is its title, not its web address: the label says "Lesson"."""
    with app.app_context():
        identity = db.session.scalar(select(LtiIdentity))
        lesson = db.session.scalar(select(Lesson).order_by(Lesson.id))
        db.session.add_all(
            [
                LtiGradeTarget(
                    identity_id=identity.id,
                    course_id=lesson.course_id,
                    lesson_id=lesson.id,
                    lineitem_url="https://lms.example.org/lineitems/1",
                ),
                LtiGradeTarget(
                    identity_id=identity.id,
                    course_id=lesson.course_id,
                    lineitem_url="https://lms.example.org/lineitems/2",
                ),
            ]
        )
        db.session.commit()
        title, course_title = lesson.title, lesson.course.title
        db.session.remove()
    login(client, "me@example.org")
    links = section_of(client.get("/me/data").get_data(as_text=True), "lms_links")
    assert f"Course: {escape(course_title)}, Lesson: {escape(title)}, Where the score goes:" in links
    assert f"Course: {escape(course_title)}, Lesson: The whole course, Where the score goes:" in links
    assert "web address" not in links


def test_the_review_schedule_says_when_and_how_it_went_with_the_numbers_in_details(client, app, person):
    with app.app_context():
        db.session.execute(
            update(ReviewCard).values(
                due=datetime(2030, 12, 8, 9, 0, tzinfo=UTC),
                state=1,
                step=0,
                stability=0.0812,
                difficulty=9.4533,
                last_rating=2,
                last_review=datetime(2030, 12, 1, 23, 30, tzinfo=UTC),
            )
        )
        db.session.commit()
        db.session.remove()
    login(client, "me@example.org")
    page = client.get("/me/data").get_data(as_text=True)
    schedule = section_of(page, "review_schedule")
    plain, details = schedule.split("<details", 1)
    assert "<dt>Due again</dt><dd>8 Dec 2030</dd>" in plain
    assert "<dt>Your last answer</dt><dd>Right, after getting it wrong before, on 1 Dec 2030, 11:30pm</dd>" in plain
    for number in ("Stability", "Difficulty", "State", "Step", "0.08", "9.45"):
        assert number not in plain, number
    assert "<summary>Scheduling details (for the technically minded)</summary>" in details
    for words in (
        "<dt>Due</dt><dd>8 Dec 2030, 9:00am</dd>",
        "<dt>State</dt><dd>1 (Learning: got wrong lately, so it comes back soon)</dd>",
        "<dt>Step</dt><dd>0</dd>",
        "<dt>Stability</dt><dd>0.08</dd>",
        "<dt>Difficulty</dt><dd>9.45</dd>",
        "<dt>Last rating</dt><dd>2 (Hard: right, after getting it wrong before)</dd>",
    ):
        assert words in details, words
    # A question already due says so, from the day it became due.
    with app.app_context():
        db.session.execute(update(ReviewCard).values(due=datetime(2020, 3, 2, 12, 0, tzinfo=UTC)))
        db.session.commit()
        db.session.remove()
    schedule = section_of(client.get("/me/data").get_data(as_text=True), "review_schedule")
    assert "<dt>Due again</dt><dd>Now (ready since 2 Mar 2020)</dd>" in schedule


def test_a_value_with_no_words_yet_shows_as_it_is(learner_client, monkeypatch):
    """A value added to the app later (a new role, status or rating) reads as itself; the page still works."""
    from app.me import routes

    real = routes.personal_data_export

    def export(session, user):
        data = real(session, user=user)
        data["profile"]["role"] = "supervisor"
        data["contact_requests"] = [{"status": "escalated", "contact_by": "pigeon", "about": None}]
        data["review_answers"] = [{"question": "Q?", "right": True, "rating": 7, "choices": []}]
        data["review_schedule"] = [{"question": "Q?", "due": "2030-12-08T09:00:00+00:00", "state": 9, "last_rating": 9}]
        return data

    monkeypatch.setattr(routes, "personal_data_export", export)
    response = learner_client.get("/me/data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<dt>Role</dt><dd>supervisor</dd>" in section_of(page, "profile")
    request = section_of(page, "contact_requests")
    for cell in ('"Status">escalated<', '"How to contact you">pigeon<', '"About">Not given<'):
        assert f"<td data-label={cell}/td>" in request, cell
    assert "<dt>Counted as</dt><dd>7</dd>" in section_of(page, "review_answers")
    schedule = section_of(page, "review_schedule")
    assert "<dt>State</dt><dd>9</dd>" in schedule and "<dt>Last rating</dt><dd>9</dd>" in schedule
    assert "<dt>Step</dt><dd>Not set yet</dd>" in schedule
    assert not re.search(r"\bNone\b", visible_text(page))


def literal_actions(path: str, call: str) -> set[str]:
    """The action names a service module records, from its ``call(..., action="...")`` lines."""
    source = (Path(__file__).parents[2] / path).read_text()
    return set(re.findall(rf'{call}\([^)]*action="(\w+)"', source))


def test_every_value_the_app_can_store_has_words():
    from fsrs import Rating, State

    from app.models import ContactMethod, ContactStatus, ContactTopic, NameDisplay, Role
    from app.services.api_tokens import SCOPES
    from app.services.audit import ACTIONS
    from app.services.dashboard import FLAGS
    from app.services.sharing import NOT_COUNSELLING, SEES_EVERYONE, STILL_COUNSELS
    from app.services.xapi import VERBS

    words = data_page.VALUE_WORDS
    # Every action recorded anywhere is one audit_record names (it refuses any other), so ACTIONS is all of them.
    root = Path(__file__).parents[2]
    recorded = literal_actions("app/services/user_admin.py", "_audit") | {
        action
        for path in sorted(root.glob("app/**/*.py"))
        for action in literal_actions(str(path.relative_to(root)), "audit_record")
    }
    audit_actions = set(ACTIONS)
    assert recorded == audit_actions
    assert {"role_changed", "lti_platform_removed", "learners_downloaded", "api_token_created"} <= audit_actions
    contact_actions = literal_actions("app/services/contact_requests.py", "_event")
    assert {"picked_up", "withdrawn"} <= contact_actions
    stored = {
        ("profile", "role"): set(Role),
        ("views_of_my_progress", "role"): set(Role),
        ("admin_actions_on_my_account", "action"): audit_actions,
        ("admin_actions_i_took", "action"): audit_actions,
        ("admin_actions_on_my_account", "to"): set(Role),
        ("admin_actions_i_took", "scopes"): set(SCOPES),
        ("admin_actions_i_took", "flag"): set(FLAGS),
        ("certificates", "name_shown"): set(NameDisplay),
        ("api_tokens", "scopes"): set(SCOPES),
        ("contact_requests", "contact_by"): set(ContactMethod),
        ("contact_requests", "about"): set(ContactTopic),
        ("contact_requests", "status"): set(ContactStatus),
        ("contact_requests_i_picked_up", "status"): set(ContactStatus),
        ("contact_request_actions_i_took", "action"): contact_actions,
        ("contact_request_actions_i_took", "from"): set(ContactStatus),
        ("contact_request_actions_i_took", "to"): set(ContactStatus),
        ("review_schedule", "state"): {int(state) for state in State},
        ("review_schedule", "last_rating"): {int(rating) for rating in Rating},
        ("review_answers", "rating"): {int(rating) for rating in Rating},
        ("learning_record_store_waiting", "verb"): set(VERBS),
        ("sharing", "counsellor_now"): {STILL_COUNSELS, SEES_EVERYONE, NOT_COUNSELLING},
    }
    for (section, field), values in stored.items():
        for value in values:
            said = data_page.value_words(section, field, value)
            assert said and said != value, f"{section}.{field} = {value!r} has no words"
    assert set(stored) <= set(words)
    assert set(data_page.EMPTY_NAMES) == set(data_page.TITLES)  # every known section has a short name


def test_a_sections_columns_are_worked_out_once_however_many_rows_ask():
    """The table asks for them in every row: worked out each time, a counsellor's thousands of
    views made the page quadratic (46 s for 9,000 rows; past the worker's limit beyond)."""

    class CountedRows(list):
        scans = 0

        def __iter__(self):
            CountedRows.scans += 1
            return super().__iter__()

    rows = CountedRows([{"who": "A", "when": "x"}, {"who": "B", "extra": 1}] * 500)
    section = data_page.DataSection("progress_views_i_made", "Views", rows)
    assert all(section.columns == ["who", "when", "extra"] for _ in rows)
    assert CountedRows.scans == 2  # the loop above and the columns, once


def test_the_page_says_staff_notes_are_not_in_it_and_they_are_not(client, app, learner):
    """It promises what the account holds; the notes staff keep about the person are theirs to ask for."""
    from app.models import ContactRequestNote, Role, User
    from app.services.contact_requests import ContactDetails, contact_request_add_note, contact_request_create

    staff = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey")
    with app.app_context():
        details = ContactDetails(contact_by="phone", phone="07700 900123", topic="alcohol", name="Lee")
        asked = contact_request_create(db.session, details=details, requester=db.session.get(User, learner))
        contact_request_add_note(
            db.session, staff=db.session.get(User, staff), request_id=asked.id, text="Sounded low; call again Friday"
        )
        assert db.session.scalars(select(ContactRequestNote.text)).all() == ["Sounded low; call again Friday"]
        db.session.remove()
    login(client)
    for url in ("/me/", "/me/data"):
        text = visible_text(client.get(url).get_data(as_text=True))
        assert "Notes the clinic's staff keep about you" in text and "ask the clinic for those" in text
    assert "call again Friday" not in client.get("/me/data").get_data(as_text=True)
    assert "call again Friday" not in client.get("/me/data.json").get_data(as_text=True)
