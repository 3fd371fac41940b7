"""The counsellor's "What to talk about": safety-critical misconceptions first, each with its short title."""

from __future__ import annotations

import re

from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.models import Choice, Lesson, Misconception
from app.services.quizzes import quiz_questions
from tests.conftest import lesson_slugs, submit_quiz
from tests.views.test_counsel import counsellor, linked, log_in_as  # noqa: F401 - fixtures

__all__ = ["counsellor", "linked"]


def wrong_answers_revealing(app, lesson_slug: str) -> tuple[dict, list[Misconception]]:
    """A form answering every question with a wrong choice that reveals a misconception, where there is one."""
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == lesson_slug))
        form, revealed = {}, []
        for question in quiz_questions(db.session, lesson):
            wrong = [c for c in question.live_choices if not c.is_correct]
            pick = next((c for c in wrong if c.misconception is not None), wrong[0])
            form[f"question-{question.id}"] = [str(pick.id)]
            if pick.misconception is not None:
                revealed.append((pick.misconception.code, pick.misconception.title, pick.misconception.safety_critical))
        db.session.remove()
        return form, revealed


def test_safety_critical_talking_points_come_first_with_short_titles(linked, app):
    first = lesson_slugs(app)[0]
    form, revealed = wrong_answers_revealing(app, first)
    assert any(critical for *_, critical in revealed) and not all(critical for *_, critical in revealed), (
        "the first lesson's quiz should reveal safety-critical and other misconceptions for this test"
    )
    submit_quiz(linked, first, form)
    log_in_as(linked, "casey@example.org")
    client_url = re.search(r'href="(/counsel/clients/\d+)"', linked.get("/counsel/").get_data(as_text=True)).group(1)

    page = linked.get(client_url).get_data(as_text=True)

    titles = re.findall(r'<h3 class="insight-title">(.*?)</h3>', page, re.S)
    flags = ["Safety-critical" in title for title in titles]
    assert flags == sorted(flags, reverse=True), "a safety-critical talking point came after another"
    shown = {re.sub(r"<[^>]+>|Safety-critical", "", title).strip() for title in titles}
    assert shown == {title for _, title, _ in revealed}
    with app.app_context():
        assert db.session.scalar(select(Choice).where(Choice.safety_critical.is_(True))) is not None
        db.session.remove()


def test_a_dangerous_choice_is_marked_in_the_clients_attempt(linked, app):
    first = lesson_slugs(app)[0]
    form, _ = wrong_answers_revealing(app, first)
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == first))
        dangerous = {
            str(c.id): c.text for q in quiz_questions(db.session, lesson) for c in q.live_choices if c.safety_critical
        }
        db.session.remove()
    picked = [dangerous[ids[0]] for ids in form.values() if ids[0] in dangerous]
    assert picked, "the test's answers should include a safety-critical choice"
    submit_quiz(linked, first, form)
    log_in_as(linked, "casey@example.org")
    client_url = re.search(r'href="(/counsel/clients/\d+)"', linked.get("/counsel/").get_data(as_text=True)).group(1)

    page = linked.get(client_url).get_data(as_text=True)

    for text in picked:
        assert re.search(re.escape(str(escape(text))) + r'\s*<span class="tag tag-danger">Safety-critical</span>', page)
