"""Two admins saving the draft at the same moment: each edit is kept or refused out loud, never lost."""

from __future__ import annotations

import threading

from app.extensions import db
from app.services import authoring
from app.services.authoring import DraftInvalid, edits
from app.services.authoring.draft import SAVED_MEANWHILE
from app.services.progress import course_by_slug
from tests.conftest import factory_course_spec

SPEC = factory_course_spec()
FIRST, SECOND = SPEC.modules[0].lesson_slugs[:2]


def test_two_edits_saved_at_once_are_both_kept_or_one_is_refused_with_a_message(app, session, course, monkeypatch):
    # A draft both admins edit (a new one is made once, by the first edit: the second waits for it).
    third = SPEC.modules[1].lesson_slugs[0]
    lesson = SPEC.lessons[third]
    row = course_by_slug(session, course)
    authoring.lesson_update(
        session, course=row, lesson_slug=third, title="Started", minutes=lesson.minutes, body=lesson.body
    )
    session.close()
    b_has_read, a_has_saved = threading.Event(), threading.Event()
    real_save = edits.draft_save

    def save_in_turn(*args, **kwargs):
        """A saves once B has read the draft (or, where A's read locks it, after a moment); B saves after A."""
        if threading.current_thread().name == "A":
            b_has_read.wait(timeout=0.5)
            try:
                return real_save(*args, **kwargs)
            finally:
                a_has_saved.set()
        b_has_read.set()
        a_has_saved.wait(timeout=10)
        return real_save(*args, **kwargs)

    monkeypatch.setattr(edits, "draft_save", save_in_turn)
    outcome: dict[str, object] = {}

    def edit(name: str, lesson_slug: str) -> None:
        with app.app_context():
            try:
                lesson = SPEC.lessons[lesson_slug]
                authoring.lesson_update(
                    db.session,
                    course=course_by_slug(db.session, course),
                    lesson_slug=lesson_slug,
                    title=f"Retitled by {name}",
                    minutes=lesson.minutes,
                    body=lesson.body,
                )
                outcome[name] = "saved"
            except DraftInvalid as refused:
                outcome[name] = refused.other
            finally:
                db.session.remove()

    threads = [threading.Thread(target=edit, args=args, name=args[0]) for args in (("A", FIRST), ("B", SECOND))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    titles = {
        slug: authoring.draft_lesson(authoring.draft_data(session, course_by_slug(session, course)), slug)["front"][
            "title"
        ]
        for slug in (FIRST, SECOND)
    }
    assert outcome["A"] == "saved" and titles[FIRST] == "Retitled by A"
    if outcome["B"] == "saved":  # PostgreSQL: B's edit waited for A's and was made on top of it
        assert titles[SECOND] == "Retitled by B"
    else:  # SQLite: B read the draft before A saved; its save is refused, and says why
        assert outcome["B"] == [SAVED_MEANWHILE] and titles[SECOND] == SPEC.lessons[SECOND].title
    assert session.get_bind().dialect.name != "postgresql" or outcome["B"] == "saved"
