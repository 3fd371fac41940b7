"""Whole pages kept with holes (app/page_shells.py): the lesson page from its shell is the page drawn in full."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import Markup
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import ContactRequest, CounsellorLink, LessonProgress, ProgressView, ReviewCard, Role
from app.page_fragments import EXTENSION_KEY
from app.page_shells import Shell, holes
from tests.conftest import create_user, login, quiz_form, submit_quiz
from tests.views.test_page_fragments import (  # noqa: F401 - tiny_course and submission_key are fixtures
    COURSE_SLUG,
    assert_pages_as_drawn_in_full,
    submission_key,
    tiny_course,
)

LESSON = f"/courses/{COURSE_SLUG}/lessons/one"
# The factory's three-lesson course (its fixture imported above), for the tests that serve pages.
needs_course = pytest.mark.usefixtures("tiny_course")


def kept_shells(app) -> list[tuple]:
    """The keys of the shells the app keeps now."""
    store = app.extensions[EXTENSION_KEY]
    return [key for _, made in store._by_course.values() for key in made if key[0].startswith("shell:")]


def test_a_shell_is_cut_at_its_holes_and_filled_with_each_requests_values():
    marks = holes("name", "token")
    shell = Shell.cut(f"<p>{marks['name']}</p><i>{marks['token']}</i>{marks['name']}", frozenset({"name", "token"}))
    assert shell.fill({"name": Markup("A &amp; B"), "token": "t1"}) == "<p>A &amp; B</p><i>t1</i>A &amp; B"
    assert shell.fill({"name": "C", "token": "t2"}) == "<p>C</p><i>t2</i>C"
    with pytest.raises(KeyError):
        shell.fill({"name": "only one"})


@pytest.mark.parametrize("html", ["<p>\x00name</p>", "<p>\x00other\x00</p>"])
def test_a_shell_whose_markers_do_not_pair_up_or_are_unknown_is_refused(html):
    with pytest.raises(ValueError, match="pair up"):
        Shell.cut(html, frozenset({"name"}))


@needs_course
@pytest.mark.parametrize(
    ("role", "header_links"),
    [
        (Role.LEARNER, set()),
        (Role.COUNSELLOR, {"Clients", "Contact requests"}),
        (Role.ADMIN, {"Authoring", "Clients", "Contact requests"}),
    ],
)
def test_the_lesson_page_from_its_shell_is_the_page_drawn_in_full_for_each_role(app, client, role, header_links):
    # A name that must be escaped, shown where the shell has its hole.
    name = 'Ann <b>"&" Lee</b>'
    create_user(app, "ann@example.org", role=role, name=name)
    assert login(client, "ann@example.org").status_code == 302
    page = assert_pages_as_drawn_in_full(app, client, (LESSON,))[0]
    assert kept_shells(app), "the lesson page was not served from a kept shell"
    assert "Ann &lt;b&gt;&#34;&amp;&#34; Lee&lt;/b&gt;" in page and name not in page
    assert "\x00" not in page
    for link in ("Clients", "Authoring", "Contact requests"):
        assert (f">{link}</a>" in page) == (link in header_links)


@needs_course
@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.ADMIN])
def test_a_kept_page_shows_the_staff_the_requests_waiting_now_not_when_it_was_drawn(app, client, role):
    create_user(app, "ann@example.org", role=role, name="Ann")
    assert login(client, "ann@example.org").status_code == 302
    client.get(LESSON)  # the first visit records the lesson as opened
    before = client.get(LESSON).get_data(as_text=True)  # drawn and kept with no request waiting
    assert kept_shells(app) and ">Contact requests</a>" in before
    with app.app_context():
        for _ in range(2):
            db.session.add(ContactRequest(contact_by="phone", phone="01234 567890", topic="alcohol", status="new"))
        db.session.commit()
    page = assert_pages_as_drawn_in_full(app, client, (LESSON,))[0]
    assert 'aria-label="Contact requests, 2 waiting">Contact requests<span class="nav-count">(2)</span></a>' in page


@needs_course
def test_two_learners_in_the_same_state_share_a_shell_but_see_their_own_name_and_token(app):
    pages = []
    for email, name in (("ada@example.org", "Ada Ahead"), ("bo@example.org", "Bo Behind")):
        create_user(app, email, name=name)
        learner = app.test_client()
        assert login(learner, email).status_code == 302
        learner.get(LESSON)
        pages.append(learner.get(LESSON).get_data(as_text=True))
    assert len([key for key in kept_shells(app) if key[0] == "shell:learn/lesson.html"]) == 1
    assert "Ada Ahead" in pages[0] and "Bo Behind" not in pages[0]
    assert "Bo Behind" in pages[1] and "Ada Ahead" not in pages[1]
    tokens = [re.findall(r'name="csrf_token" value="([^"]+)"', page) for page in pages]
    assert tokens[0] and tokens[1] and set(tokens[0]).isdisjoint(tokens[1])


@needs_course
def test_the_overview_from_its_shell_shows_each_learners_own_count_of_questions_to_review(app, submission_key):  # noqa: F811
    """Learners with the same lessons' states and two or more questions due share the overview's
    shell, each seeing their own count; one question due is drawn as such ("1 question")."""
    overview = f"/courses/{COURSE_SLUG}/"
    learners = {}
    for email, name in (("ada@example.org", "Ada Ahead"), ("bo@example.org", "Bo Behind"), ("cy@example.org", "Cy")):
        user_id = create_user(app, email, name=name)
        learner = app.test_client()
        assert login(learner, email).status_code == 302
        submission_key[0] = uuid.uuid4().hex
        form = quiz_form(app, "one", right=False, course_slug=COURSE_SLUG)
        assert submit_quiz(learner, "one", form, course_slug=COURSE_SLUG).status_code == 302
        learners[user_id] = learner
    past = datetime.now(UTC) - timedelta(days=1)
    due = {}
    with app.app_context():  # every card due for Ada, one for Bo, all but one for Cy
        for user_id, leave_out in zip(learners, (0, None, 1), strict=True):
            cards = db.session.scalars(
                select(ReviewCard.id).where(ReviewCard.user_id == user_id).order_by(ReviewCard.id)
            ).all()
            chosen = cards[:1] if leave_out is None else cards[leave_out:]
            db.session.execute(update(ReviewCard).where(ReviewCard.id.in_(chosen)).values(due=past))
            due[user_id] = len(chosen)
        db.session.commit()
    ada, bo, cy = learners
    assert due[ada] > due[cy] >= 2 and due[bo] == 1
    pages = {
        user_id: assert_pages_as_drawn_in_full(app, learner, (overview,))[0] for user_id, learner in learners.items()
    }
    assert len([key for key in kept_shells(app) if key[0] == "shell:learn/course.html"]) == 2
    assert f"{due[ada]} questions to review" in pages[ada] and "Ada Ahead" in pages[ada]
    assert f"{due[cy]} questions to review" in pages[cy] and "Ada Ahead" not in pages[cy]
    assert "1 question to review" in pages[bo] and "Bo Behind" in pages[bo]


@needs_course
def test_the_quiz_page_from_its_shell_has_each_requests_own_key_and_order(app, submission_key):  # noqa: F811
    """One shell per lesson's quiz; each page has its own submission key and choices in that key's order."""
    quiz = f"/courses/{COURSE_SLUG}/lessons/one/quiz"
    create_user(app, "ada@example.org", name="Ada Ahead")
    learner = app.test_client()
    assert login(learner, "ada@example.org").status_code == 302
    orders = set()
    for key in ("a" * 32, "b" * 32, "c" * 32):
        submission_key[0] = key
        page = assert_pages_as_drawn_in_full(app, learner, (quiz,))[0]
        assert f'name="submission_key" type="hidden" value="{key}"' in page
        orders.add(tuple(re.findall(r'id="choice-(\d+)"', page)))
    assert len([key for key in kept_shells(app) if key[0] == "shell:learn/quiz.html"]) == 1
    assert len(orders) > 1, "every key showed the choices in one order"


@needs_course
@pytest.mark.parametrize("role", [Role.LEARNER, Role.COUNSELLOR])
def test_my_page_from_its_shell_is_the_page_drawn_in_full(app, submission_key, role):  # noqa: F811
    create_user(app, "ann@example.org", role=role, name='Ann <i>"A"</i>')
    learner = app.test_client()
    assert login(learner, "ann@example.org").status_code == 302
    if role == Role.LEARNER:  # with an attempt: its summary links to the lesson and the result
        form = quiz_form(app, "one", right=False, course_slug=COURSE_SLUG)
        assert submit_quiz(learner, "one", form, course_slug=COURSE_SLUG).status_code == 302
    page = assert_pages_as_drawn_in_full(app, learner, ("/me/",))[0]
    assert [key for key in kept_shells(app) if key[0] == "shell:me/home.html"]
    assert "Hello, Ann &lt;i&gt;&#34;A&#34;&lt;/i&gt;" in page
    assert ("read your progress through" in page) == (role == Role.LEARNER)
    if role == Role.LEARNER:
        lesson = f"/courses/{COURSE_SLUG}/lessons/one"
        assert f'href="{lesson}"' in page and re.search(rf'href="{lesson}/quiz/attempts/\d+"', page)


@needs_course
def test_my_page_from_its_shell_shows_each_learners_own_lists_and_counts(app, submission_key):  # noqa: F811
    """Two learners in the same lesson states: one shares, was looked at, asked the clinic, tried a
    quiz twice and has questions due; the other has none of it. Each /me/ is the page drawn in
    full, and neither shows the other's lists or empty-list sentences."""
    counsellor = create_user(app, "cat@example.org", role=Role.COUNSELLOR, name="Cat <Counsellor>")
    busy, idle = create_user(app, "ada@example.org", name="Ada"), create_user(app, "bo@example.org", name="Bo")
    clients = {}
    for user_id, email in ((busy, "ada@example.org"), (idle, "bo@example.org")):
        clients[user_id] = app.test_client()
        assert login(clients[user_id], email).status_code == 302
    for _ in range(2):  # two wrong attempts at lesson one: its cards become due below
        submission_key[0] = uuid.uuid4().hex
        form = quiz_form(app, "one", right=False, course_slug=COURSE_SLUG)
        assert submit_quiz(clients[busy], "one", form, course_slug=COURSE_SLUG).status_code == 302
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor, learner_id=busy, created_by_id=busy))
        db.session.add(ProgressView(viewer_id=counsellor, learner_id=busy, viewer_role="counsellor"))
        db.session.add(
            ContactRequest(requester_id=busy, contact_by="phone", phone="01234 567890", topic="alcohol", status="new")
        )
        past = datetime.now(UTC) - timedelta(days=1)
        db.session.execute(update(ReviewCard).where(ReviewCard.user_id == busy).values(due=past))
        due = db.session.scalar(select(func.count()).select_from(ReviewCard).where(ReviewCard.user_id == busy))
        db.session.commit()
    assert due >= 2

    pages = {user_id: assert_pages_as_drawn_in_full(app, client, ("/me/",))[0] for user_id, client in clients.items()}

    ada, bo = pages[busy], pages[idle]
    assert "Stop sharing with Cat &lt;Counsellor&gt;" in ada and "You are not sharing" not in ada
    assert "<td>Cat &lt;Counsellor&gt;</td>" in ada and "Nobody has looked" not in ada
    assert "by phone on 01234 567890" in ada and "You have not asked the clinic" not in ada
    assert f"deleted {app.config['CONTACT_REQUEST_RETENTION_DAYS']} days after they end" in ada
    assert "2 attempts" in ada and "All 2 attempts at lesson 1" in ada and "You have not taken a quiz" not in ada
    assert f"{due} questions to review" in ada
    for empty in ("You are not sharing", "Nobody has looked", "You have not asked the clinic", "You have not taken"):
        assert empty in bo
    assert "Cat &lt;Counsellor&gt;" not in bo and "questions to review" not in bo and "attempt-summary" not in bo
    assert len([key for key in kept_shells(app) if key[0] == "shell:me/home.html"]) == 2


@needs_course
def test_a_completed_lessons_page_links_to_the_learners_latest_result(app, submission_key):  # noqa: F811
    """The latest attempt's id is a hole: each learner's page links to their own result."""
    links = []
    for email in ("ada@example.org", "bo@example.org"):
        create_user(app, email)
        learner = app.test_client()
        assert login(learner, email).status_code == 302
        submission_key[0] = uuid.uuid4().hex
        form = quiz_form(app, "one", right=True, course_slug=COURSE_SLUG)
        result = submit_quiz(learner, "one", form, course_slug=COURSE_SLUG).location
        page = assert_pages_as_drawn_in_full(app, learner, (LESSON,))[0]
        assert f'<a class="button" href="{result}">See your results</a>' in page
        assert learner.get(result).status_code == 200
        links.append(result)
    assert links[0] != links[1]


@needs_course
def test_a_passed_quiz_reopened_says_it_is_passed_and_a_failed_one_does_not(app, submission_key):  # noqa: F811
    """A blank quiz reopened after a pass looked untaken (a phone review): the page says it was
    passed, from a shell kept apart from the not-yet-passed learner's."""
    quiz = f"{LESSON}/quiz"
    said = {}
    for email, right in (("ada@example.org", True), ("bo@example.org", False)):
        create_user(app, email)
        learner = app.test_client()
        assert login(learner, email).status_code == 302
        submission_key[0] = uuid.uuid4().hex
        submit_quiz(
            learner, "one", quiz_form(app, "one", right=right, course_slug=COURSE_SLUG), course_slug=COURSE_SLUG
        )
        submission_key[0] = uuid.uuid4().hex
        said[right] = " ".join(assert_pages_as_drawn_in_full(app, learner, (quiz,))[0].split())
    assert "You have passed this quiz. You can take it again to practise" in said[True]
    assert "You have passed this quiz" not in said[False]
    assert len([key for key in kept_shells(app) if key[0] == "shell:learn/quiz.html"]) == 2
    # Complete without a pass (marked done before the lesson had a quiz): the page claims none.
    with app.app_context():
        db.session.execute(update(LessonProgress).values(completed_at=datetime.now(UTC)))
        db.session.commit()
    submission_key[0] = uuid.uuid4().hex
    again = " ".join(assert_pages_as_drawn_in_full(app, learner, (quiz,))[0].split())
    assert "You have passed this quiz" not in again


@needs_course
def test_the_landing_page_from_its_shell_follows_the_learners_progress(app, submission_key):  # noqa: F811
    create_user(app, "ada@example.org", name="Ada Ahead")
    learner = app.test_client()
    assert login(learner, "ada@example.org").status_code == 302
    before = assert_pages_as_drawn_in_full(app, learner, ("/",))[0]
    assert "Start the course" in before and "Ada Ahead" in before
    learner.get(LESSON)  # started
    submission_key[0] = uuid.uuid4().hex
    form = quiz_form(app, "one", right=True, course_slug=COURSE_SLUG)
    assert submit_quiz(learner, "one", form, course_slug=COURSE_SLUG).status_code == 302
    after = assert_pages_as_drawn_in_full(app, learner, ("/",))[0]
    assert "Continue where you left off" in after and 'class="progress' in after
    assert len([key for key in kept_shells(app) if key[0] == "shell:main/index.html"]) == 2
