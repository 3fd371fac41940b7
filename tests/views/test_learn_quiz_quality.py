"""Over HTTP with CSRF on: the pass rule in words, choices shuffled per attempt and kept, a warning
for a dangerous choice, and a lesson's sources, review dates and shared help."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AttemptAnswer, Choice, Course, Lesson, Question, QuizAttempt
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.pass_rule import pass_rule_text
from app.services.quizzes import quiz_questions
from bench.client import quiz_shown as bench_quiz_shown
from tests.conftest import csrf_token, login
from tests.factories import COURSE, default_lessons, write_course

QUIZ = "/courses/tiny/lessons/one/quiz"
LETTERS = "ABCDEF"


def six_choices(n: int) -> dict:
    choices = [{"text": f"Q{n} choice {x}", "feedback": f"About {x}."} for x in LETTERS]
    choices[1]["correct"] = True
    choices[4] |= {"safety_critical": True, "feedback": "This could stop someone's breathing."}
    return {"kind": "single", "prompt": f"Question {n}?", "explanation": "B.", "choices": choices}


@pytest.fixture
def tiny(app, tmp_path):
    """The factory course with sources, a review, help, and a six-choice question with a dangerous choice."""
    course = {
        **COURSE,
        "review": {"reviewed_by": "Dr A. Reviewer", "reviewed_on": "2026-11-01", "next_review_on": "2027-11-01"},
        "help": "- Urgent advice: call NHS 111\n- Samaritans: 116 123, free, 24 hours\n",
    }
    lessons = default_lessons()
    front = lessons["one"]["front"]
    front["sources"] = [
        {"title": "NICE TA115", "url": "https://www.nice.org.uk/guidance/ta115"},
        {"title": "A leaflet"},
    ]
    front["quiz"] = [six_choices(1), six_choices(2), {**front["quiz"][2], "shuffle": False}, front["quiz"][1]]
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path / "tiny", course, lessons)))
        db.session.remove()


@pytest.fixture
def learner_in(client, learner, tiny):
    assert login(client).status_code == 302
    return client


def choice_order(page: str, question_id: int) -> list[int]:
    return [int(x) for x in re.findall(rf'name="question-{question_id}" value="(\d+)"', page)]


def questions(app) -> list[tuple[int, list[int], list[int], int]]:
    """(id, choice ids in written order, right ids, dangerous id) per question of lesson one."""
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "one"))
        found = []
        for question in quiz_questions(db.session, lesson):
            ids = [c.id for c in question.live_choices]
            right = [c.id for c in question.live_choices if c.is_correct]
            dangerous = next((c.id for c in question.live_choices if c.safety_critical), None)
            found.append((question.id, ids, right, dangerous))
        db.session.remove()
        return found


def all_right(qs) -> dict[str, list[str]]:
    return {f"question-{qid}": [str(i) for i in right] for qid, _, right, _ in qs}


def key_of(page: str) -> str:
    return re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)


def test_the_quiz_page_states_the_pass_rule_grading_uses(learner_in, app):
    page = learner_in.get(QUIZ).get_data(as_text=True)

    with app.app_context():
        pass_mark = db.session.scalar(select(Course.pass_mark).where(Course.slug == "tiny"))
    assert f"4 questions. To pass, {pass_rule_text(pass_mark, 4)}." in page
    assert "To pass, get all 4 right." in page  # 0.8 of 4 is 3.2: 3 right would be 75%


def test_choices_come_in_a_new_order_for_each_attempt_and_pinned_ones_stay(learner_in, app):
    (q1, written, _, _), _, (pinned, pinned_written, _, _), _ = questions(app)

    orders = [tuple(choice_order(learner_in.get(QUIZ).get_data(as_text=True), q1)) for _ in range(4)]

    assert all(sorted(order) == sorted(written) for order in orders)
    assert len(set(orders)) > 1, "four quiz pages showed the same order (1 chance in 720^3 by luck)"
    assert choice_order(learner_in.get(QUIZ).get_data(as_text=True), pinned) == pinned_written


def test_the_result_and_the_record_keep_the_order_the_learner_saw(learner_in, app):
    qs = questions(app)
    page = learner_in.get(QUIZ).get_data(as_text=True)
    seen = {qid: choice_order(page, qid) for qid, *_ in qs}
    form = {f"question-{qid}": [str(i) for i in right] for qid, _, right, _ in qs}

    response = learner_in.post(
        QUIZ, data={**form, "csrf_token": csrf_token(learner_in, QUIZ), "submission_key": key_of(page)}
    )

    assert response.status_code == 302
    result = learner_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "You passed: 4 of 4 right" in result and "To pass, get all 4 right." in result
    with app.app_context():
        answers = db.session.scalars(select(AttemptAnswer).order_by(AttemptAnswer.position)).all()
        assert {a.question_id: [c["choice_id"] for c in a.choices_shown] for a in answers} == seen
        db.session.remove()


def test_an_unanswered_question_shows_the_same_order_again(learner_in, app):
    (q1, _, right, _), (q2, *_), *_ = questions(app)
    page = learner_in.get(QUIZ).get_data(as_text=True)
    before = [choice_order(page, q1), choice_order(page, q2)]

    response = learner_in.post(
        QUIZ,
        data={
            f"question-{q1}": [str(i) for i in right],
            "csrf_token": csrf_token(learner_in, QUIZ),
            "submission_key": key_of(page),
        },
    )

    again = response.get_data(as_text=True)
    assert response.status_code == 200 and "Answer every question before you submit." in again
    assert [choice_order(again, q1), choice_order(again, q2)] == before
    assert key_of(again) == key_of(page)
    assert re.search(rf'value="{right[0]}"\s+checked', again), "the answer given is kept"


def test_a_dangerous_choice_is_answered_with_a_warning_not_not_quite(learner_in, app):
    qs = questions(app)
    (q1, _, _, dangerous), *rest = qs
    page = learner_in.get(QUIZ).get_data(as_text=True)
    form = {f"question-{q1}": [str(dangerous)]} | all_right(rest)

    response = learner_in.post(
        QUIZ, data={**form, "csrf_token": csrf_token(learner_in, QUIZ), "submission_key": key_of(page)}
    )
    result = learner_in.get(response.headers["Location"]).get_data(as_text=True)

    assert "Warning: this answer could be dangerous" in result
    warning = re.search(
        r'<div class="safety-warning" role="note" aria-label="Safety warning">(.*?)</div>', result, re.S
    )
    assert warning and "This could stop someone&#39;s breathing." in warning.group(1)
    assert result.count("Warning: this answer could be dangerous") == 1  # the other answers were right
    assert "Not right this time" not in result


def test_an_attempt_recorded_before_safety_marks_shows_as_it_did(learner_in, app):
    """Old snapshots have no safety_critical key: no warning is made up for them."""
    qs = questions(app)
    (q1, _, _, dangerous), *rest = qs
    page = learner_in.get(QUIZ).get_data(as_text=True)
    form = {f"question-{q1}": [str(dangerous)]} | all_right(rest)
    location = learner_in.post(
        QUIZ, data={**form, "csrf_token": csrf_token(learner_in, QUIZ), "submission_key": key_of(page)}
    ).headers["Location"]
    with app.app_context():
        answer = db.session.scalar(select(AttemptAnswer).where(AttemptAnswer.question_id == q1))
        # The version it points at, as versions converted from such snapshots keep it (a19000000002).
        version = answer.shown_question
        version.choices = [{k: v for k, v in c.items() if k != "safety_critical"} for c in version.choices]
        db.session.commit()

    result = learner_in.get(location).get_data(as_text=True)

    assert "Warning: this answer could be dangerous" not in result and "Not right this time" in result


def test_the_lesson_shows_its_sources_the_review_and_the_shared_help(learner_in):
    page = learner_in.get("/courses/tiny/lessons/one").get_data(as_text=True)

    assert '<h2 id="lesson-sources">Sources</h2>' in page
    assert '<a href="https://www.nice.org.uk/guidance/ta115" rel="noopener noreferrer">NICE TA115</a>' in page
    assert "<li>A leaflet</li>" in page
    assert re.search(
        r"Reviewed <time datetime=\"2026-11-01\">1 Nov 2026</time> · "
        r"next review <time datetime=\"2027-11-01\">1 Nov 2027</time>",
        page,
    )
    assert "Reviewed by Dr A. Reviewer" in page
    help_block = re.search(r'<section class="help-block".*?</section>', page, re.S).group(0)
    assert "Where to get help" in help_block
    assert '<a href="tel:111" rel="noopener noreferrer">NHS 111</a>' in help_block
    assert '<a href="tel:116123" rel="noopener noreferrer">116 123</a>' in help_block


def test_a_lesson_without_sources_shows_no_empty_heading(learner_in, app):
    with app.app_context():
        db.session.execute(Lesson.__table__.update().values(sources=None))
        db.session.execute(Course.__table__.update().values(content_version=Course.content_version + 1))
        db.session.commit()

    page = learner_in.get("/courses/tiny/lessons/one").get_data(as_text=True)

    assert 'lesson-sources">Sources' not in page and "Reviewed" in page


def test_the_quiz_page_loads_in_the_same_queries_with_shuffling(learner_in, app):
    """Drawing the order needs no query: the page costs what it did."""
    from app.extensions import db as database
    from tests.conftest import count_queries

    learner_in.get(QUIZ)  # warm the content cache
    with app.app_context():
        engine = database.engine
    with count_queries(engine) as queries:
        learner_in.get(QUIZ)
    assert queries() <= 3


def test_choices_are_graded_by_identity_not_place(learner_in, app):
    """Whatever order a page showed, picking the right choice's id is right."""
    qs = questions(app)
    for _ in range(3):
        page = learner_in.get(QUIZ).get_data(as_text=True)
        form = {f"question-{qid}": [str(i) for i in right] for qid, _, right, _ in qs}
        learner_in.post(QUIZ, data={**form, "csrf_token": csrf_token(learner_in, QUIZ), "submission_key": key_of(page)})
    with app.app_context():
        assert [a.passed for a in db.session.scalars(select(QuizAttempt))] == [True, True, True]
        # Lesson one's third question (other lessons have a third question of their own).
        third = select(Question.shuffle).join(Lesson).where(Lesson.slug == "one", Question.position == 3)
        assert db.session.scalars(third).all() == [False]
        assert db.session.scalar(select(Choice).where(Choice.safety_critical.is_(True))) is not None
        db.session.remove()


def test_a_submission_after_an_authors_change_is_graded_against_the_changed_quiz(learner_in, app, tmp_path):
    """The worker keeps the questions it grades against per course version: a change published
    between two submissions (here, which choice of question 1 is right) counts from the next one."""
    qs = questions(app)
    page = learner_in.get(QUIZ).get_data(as_text=True)
    learner_in.post(
        QUIZ, data={**all_right(qs), "csrf_token": csrf_token(learner_in, QUIZ), "submission_key": key_of(page)}
    )

    # The author makes choice A of question 1 the right one instead of B, and publishes.
    course = {**COURSE, "help": "- Urgent advice: call NHS 111\n"}
    lessons = default_lessons()
    changed = six_choices(1)
    changed["choices"][1]["correct"], changed["choices"][0]["correct"] = False, True
    front = lessons["one"]["front"]
    front["quiz"] = [changed, six_choices(2), {**front["quiz"][2], "shuffle": False}, front["quiz"][1]]
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path / "edited", course, lessons)))
        db.session.remove()

    page = learner_in.get(QUIZ).get_data(as_text=True)
    learner_in.post(
        QUIZ, data={**all_right(qs), "csrf_token": csrf_token(learner_in, QUIZ), "submission_key": key_of(page)}
    )

    with app.app_context():
        attempts = db.session.scalars(select(QuizAttempt).order_by(QuizAttempt.id)).all()
        assert [a.passed for a in attempts] == [True, False]  # B was right before the change, not after
        first_question = {
            a.attempt_id: a.is_correct for a in db.session.scalars(select(AttemptAnswer)) if a.question_id == qs[0][0]
        }
        assert first_question == {attempts[0].id: True, attempts[1].id: False}
        db.session.remove()


def test_a_question_removed_while_a_submission_is_graded_gives_the_quiz_again_not_an_error(learner_in, app):
    """The race an author's publication can win: the worker graded against the questions it keeps
    for the version this request read, and one of them is gone by the time the attempt is
    written (the content version is left as it was here, to hold the request in that moment).
    The insert's foreign key refuses the answer; graded again against the live rows, the
    submission names a question no longer in the quiz: refused with 400, nothing recorded."""
    qs = questions(app)
    page = learner_in.get(QUIZ).get_data(as_text=True)
    learner_in.post(
        QUIZ, data={**all_right(qs), "csrf_token": csrf_token(learner_in, QUIZ), "submission_key": key_of(page)}
    )
    with app.app_context():
        db.session.delete(db.session.get(Question, qs[0][0]))
        db.session.commit()

    page = learner_in.get(QUIZ).get_data(as_text=True)
    response = learner_in.post(
        QUIZ, data={**all_right(qs), "csrf_token": csrf_token(learner_in, QUIZ), "submission_key": key_of(page)}
    )

    assert response.status_code == 400
    assert "This submission names questions that are not in this quiz." in response.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(QuizAttempt)).all()) == 1
        db.session.remove()


def test_a_question_removed_in_that_race_is_the_quiz_changed_for_a_page_that_said_what_it_showed(learner_in, app):
    """The same race, from a page that sent its fingerprint (every page now does): graded again
    against the live rows, the submission is held to what the page showed, as its first try was:
    409, the quiz as it is now, nothing recorded, not a 400 that reads as a tampered form."""
    qs = questions(app)
    page = learner_in.get(QUIZ).get_data(as_text=True)
    learner_in.post(
        QUIZ, data={**all_right(qs), "csrf_token": csrf_token(learner_in, QUIZ), "submission_key": key_of(page)}
    )
    with app.app_context():
        db.session.delete(db.session.get(Question, qs[0][0]))
        db.session.commit()

    page = learner_in.get(QUIZ).get_data(as_text=True)
    response = learner_in.post(
        QUIZ,
        data={
            **all_right(qs),
            "csrf_token": csrf_token(learner_in, QUIZ),
            "submission_key": key_of(page),
            "quiz_shown": shown_of(page),
        },
    )

    assert response.status_code == 409
    assert "This quiz was changed after you opened it" in response.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(QuizAttempt)).all()) == 1
        db.session.remove()


def shown_of(page: str) -> str:
    return re.search(r'name="quiz_shown" type="hidden" value="([0-9a-f]{16})"', page).group(1)


def republish_with_first_choice_reworded(app, tmp_path) -> None:
    """The author rewords choice A of question 1 of lesson one, and publishes (an import, as above)."""
    course = {**COURSE, "help": "- Urgent advice: call NHS 111\n"}
    lessons = default_lessons()
    changed = six_choices(1)
    changed["choices"][0]["text"] = "Q1 choice A, reworded by the author"
    front = lessons["one"]["front"]
    front["quiz"] = [changed, six_choices(2), {**front["quiz"][2], "shuffle": False}, front["quiz"][1]]
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path / "edited", course, lessons)))
        db.session.remove()


def test_a_quiz_published_anew_while_it_was_open_is_shown_again_not_graded(learner_in, app, tmp_path):
    """A learner answers the quiz as it was; the author rewords a choice and publishes before they
    send it. Graded, the attempt would keep, as what they chose, words they never saw: it is
    refused with 409 and the quiz as it is now, their choices ticked; sent again, it counts."""
    qs = questions(app)
    page = learner_in.get(QUIZ).get_data(as_text=True)
    choosing_a = {**all_right(qs), f"question-{qs[0][0]}": [str(qs[0][1][0])]}
    republish_with_first_choice_reworded(app, tmp_path)

    response = learner_in.post(
        QUIZ,
        data={
            **choosing_a,
            "csrf_token": csrf_token(learner_in, QUIZ),
            "submission_key": key_of(page),
            "quiz_shown": shown_of(page),
        },
    )

    assert response.status_code == 409
    again = response.get_data(as_text=True)
    assert "This quiz has changed" in again
    assert "This quiz was changed after you opened it, so your answers were not recorded" in again
    assert "Q1 choice A, reworded by the author" in again
    assert re.search(rf'value="{qs[0][1][0]}"[^>]*checked', again)  # the learner's choice, ticked again
    with app.app_context():
        assert db.session.scalars(select(QuizAttempt)).all() == []
        db.session.remove()

    response = learner_in.post(
        QUIZ,
        data={
            **choosing_a,
            "csrf_token": csrf_token(learner_in, QUIZ),
            "submission_key": key_of(again),
            "quiz_shown": shown_of(again),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        answer = db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.question_id == qs[0][0])).one()
        assert [c["text"] for c in answer.choices_shown if c["chosen"]] == ["Q1 choice A, reworded by the author"]
        db.session.remove()


def test_a_publication_that_leaves_the_quiz_as_shown_does_not_stop_it(learner_in, app, tmp_path):
    """A change elsewhere in the course (here, its help) leaves this quiz's words as shown: it is graded."""
    qs = questions(app)
    page = learner_in.get(QUIZ).get_data(as_text=True)
    course = {**COURSE, "help": "- Urgent advice: call NHS 111, day or night\n"}
    lessons = default_lessons()
    front = lessons["one"]["front"]
    front["quiz"] = [six_choices(1), six_choices(2), {**front["quiz"][2], "shuffle": False}, front["quiz"][1]]
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path / "edited", course, lessons)))
        db.session.remove()

    response = learner_in.post(
        QUIZ,
        data={
            **all_right(qs),
            "csrf_token": csrf_token(learner_in, QUIZ),
            "submission_key": key_of(page),
            "quiz_shown": shown_of(page),
        },
    )
    assert response.status_code == 302, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))[
        :3000
    ]


def test_the_benchmark_sends_back_the_quiz_shown_as_the_page_does(learner_in, app, tmp_path):
    """make bench's learners submit as a browser does, fingerprint included, so the check is measured."""
    page = learner_in.get(QUIZ).get_data(as_text=True)
    assert bench_quiz_shown(page) == {"quiz_shown": shown_of(page)}
    republish_with_first_choice_reworded(app, tmp_path)
    assert bench_quiz_shown(learner_in.get(QUIZ).get_data(as_text=True)) != {"quiz_shown": shown_of(page)}


def test_a_form_sent_twice_across_a_publication_leads_to_the_attempt_it_recorded(learner_in, app, tmp_path):
    """A double click (or a reload of the answer) that straddles an author's publish: the first
    was recorded, so the second goes to that attempt, not to "your answers were not recorded"."""
    qs = questions(app)
    page = learner_in.get(QUIZ).get_data(as_text=True)
    form = {
        **all_right(qs),
        "csrf_token": csrf_token(learner_in, QUIZ),
        "submission_key": key_of(page),
        "quiz_shown": shown_of(page),
    }
    first = learner_in.post(QUIZ, data=form)
    republish_with_first_choice_reworded(app, tmp_path)

    again = learner_in.post(QUIZ, data=form)

    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    with app.app_context():
        assert len(db.session.scalars(select(QuizAttempt)).all()) == 1
        db.session.remove()
