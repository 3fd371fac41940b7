"""Two admins saving the draft at the same moment: each edit is kept or refused out loud, never lost."""

from __future__ import annotations

import threading

from app.extensions import db
from app.services import authoring
from app.services.authoring import DraftInvalid, draft, edits
from app.services.authoring.draft import SAVED_MEANWHILE
from app.services.progress import course_by_slug
from tests.conftest import factory_course_spec
from tests.row_locks import wait_for_a_blocked_statement

SPEC = factory_course_spec()
FIRST, SECOND = SPEC.modules[0].lesson_slugs[:2]


def test_two_edits_saved_at_once_are_both_kept_or_one_is_refused_with_a_message(app, session, course, monkeypatch):
    """A reads the draft first; B reads it before A's edit is saved. PostgreSQL makes B wait for A
    (the draft is read locked), then builds B's edit on A's; SQLite reads it unlocked, and the
    draft's version refuses B's save, saying why.

    Staged with events, not timed waits: each step waits for the one before (on PostgreSQL, for
    B's read blocked on the lock), so a slow machine makes it slower, never different.
    """
    # A draft both admins edit (the first edit starts one: here both find it made).
    third = SPEC.modules[1].lesson_slugs[0]
    lesson = SPEC.lessons[third]
    row = course_by_slug(session, course)
    authoring.lesson_update(
        session, course=row, lesson_slug=third, title="Started", minutes=lesson.minutes, body=lesson.body
    )
    engine = session.get_bind()
    locks_rows = engine.dialect.name == "postgresql"
    session.close()
    a_has_read, b_has_read, a_has_saved = threading.Event(), threading.Event(), threading.Event()
    real_read, real_save = draft.draft_get_or_create, edits.draft_save
    step_timeout = 30  # only ever waited out when the race went wrong

    def read_in_turn(*args, **kwargs):
        if threading.current_thread().name == "A":
            found = real_read(*args, **kwargs)
            a_has_read.set()
            return found
        assert a_has_read.wait(step_timeout), "A never read the draft"
        try:
            return real_read(*args, **kwargs)  # PostgreSQL: waits here until A's edit is committed
        finally:
            b_has_read.set()

    def save_in_turn(*args, **kwargs):
        if threading.current_thread().name == "A":
            if locks_rows:
                wait_for_a_blocked_statement(engine, step_timeout, what="B's read of the draft")
            else:
                assert b_has_read.wait(step_timeout), "B never read the draft"
            try:
                return real_save(*args, **kwargs)
            finally:
                a_has_saved.set()
        assert a_has_saved.wait(step_timeout), "A never saved its edit"
        return real_save(*args, **kwargs)

    monkeypatch.setattr(draft, "draft_get_or_create", read_in_turn)
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
            except BaseException as failed:
                outcome[name] = repr(failed)
                raise
            finally:
                # A thread that failed must not leave the other waiting out its timeout.
                for step in (a_has_read, a_has_saved) if name == "A" else (b_has_read,):
                    step.set()
                db.session.remove()

    threads = [threading.Thread(target=edit, args=args, name=args[0]) for args in (("A", FIRST), ("B", SECOND))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3 * step_timeout)

    titles = {
        slug: authoring.draft_lesson(authoring.draft_data(session, course_by_slug(session, course)), slug)["front"][
            "title"
        ]
        for slug in (FIRST, SECOND)
    }
    assert outcome["A"] == "saved" and titles[FIRST] == "Retitled by A"
    if locks_rows:  # B read the draft once A's edit was committed, and built on it
        assert outcome["B"] == "saved" and titles[SECOND] == "Retitled by B"
    else:  # B read the draft before A saved; its save is refused, and says why
        assert outcome["B"] == [SAVED_MEANWHILE] and titles[SECOND] == SPEC.lessons[SECOND].title
