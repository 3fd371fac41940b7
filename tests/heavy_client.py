"""A client of the real course who holds eight misconceptions: the heavy case the printed client
summary must still fit on one A4 page (tests/e2e/test_client_summary_print_heavy.py, and the
summary's HTML in tests/views/test_counsel_summary_print.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.extensions import db

# Eight of the real course's misconceptions, four of them safety-critical: talking points of a
# typical length (about 300 characters each; the course's run from 216 to 436).
EIGHT = (
    "block-is-total",
    "can-start-any-time",
    "same-as-naloxone",
    "stops-you-getting-drunk",
    "a-cure-on-its-own",
    "claims-beyond-the-evidence",
    "naltrexone-is-an-opioid",
    "works-like-antabuse",
)


def reveal(app, learner_id: int, course_slug: str, codes=EIGHT, *, retries: int = 0) -> dict[str, str]:
    """The learner takes each quiz that can reveal one of ``codes``, picking a wrong choice that
    reveals one not yet shown and the right answer elsewhere; the first such quiz ``retries`` more
    times. Returns each code's counsellor talking point."""
    from app.models import Course, User
    from app.services.progress import course_outline
    from app.services.quizzes import quiz_questions, quiz_submit_attempt

    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == course_slug))
        learner = db.session.get(User, learner_id)
        shown: dict[str, str] = {}
        tried = 0
        for entry in course_outline(db.session, course=course, learner=None).entries:
            questions = quiz_questions(db.session, entry.lesson)
            answers, reveals = {}, False
            for question in questions:
                pick = next(
                    (
                        c
                        for c in question.live_choices
                        if not c.is_correct and c.misconception and c.misconception.code in set(codes) - set(shown)
                    ),
                    None,
                )
                if pick is not None:
                    shown[pick.misconception.code] = pick.misconception.counsellor_text
                    answers[question.id], reveals = [pick.id], True
                else:
                    answers[question.id] = [c.id for c in question.live_choices if c.is_correct]
            if not reveals:
                continue
            for _ in range(1 + (0 if tried else retries)):
                quiz_submit_attempt(
                    db.session,
                    learner=learner,
                    lesson=entry.lesson,
                    questions=questions,
                    answers=answers,
                    submission_key=uuid.uuid4().hex,
                    pass_mark=course.pass_mark,
                )
            tried += 1
        db.session.commit()
        db.session.remove()
    assert set(shown) == set(codes), f"the real course no longer reveals {set(codes) - set(shown)}"
    return shown
