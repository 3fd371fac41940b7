"""The signed-in user, from the login session a cookie names (app/services/signed_in_user.py)."""

from datetime import timedelta

from sqlalchemy import inspect, select, update

from app.extensions import db
from app.models import (
    ContactRequest,
    CounsellorLink,
    Course,
    Lesson,
    ProgressView,
    Question,
    QuizAttempt,
    ReviewCard,
    Role,
    User,
    UserSession,
)
from app.models.types import utcnow
from app.services.live_questions import learner_cards, learner_cards_from_rows
from app.services.my_page import my_page
from app.services.progress import (
    _ONE_LESSONS_ATTEMPTS,
    _WITH_REVIEWS_DUE,
    course_outline_by_slug,
    lesson_note_opened,
    lesson_record_completion,
)
from app.services.review import reviews_due_count
from app.services.signed_in_user import _ONE_ROW, _USER_WITH_OUTLINE, CARDS, MY_PAGE, OutlineWanted, signed_in_user
from app.services.user_sessions import SessionLimits, session_token_hash, user_session_start
from tests.conftest import count_queries, create_user
from tests.services.test_reads import fresh_request, three_ways

LIMITS = SessionLimits(idle=timedelta(days=14), lifetime=timedelta(days=30), touch_every=timedelta(minutes=5))


def log_in(session, user_id: int, *, remember: bool = False, at=None) -> str:
    token = user_session_start(
        session, user=session.get(User, user_id), remember=remember, now=at or utcnow(), limits=LIMITS
    )
    session.remove()
    return token


def last_seen(session):
    session.remove()
    return session.scalar(select(UserSession.last_seen_at))


def test_a_live_session_gives_its_user_in_the_orm_session(session, learner):
    token = log_in(session, learner)

    signed_in = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS)

    assert signed_in is not None and not signed_in.touched
    assert signed_in.user.id == learner and signed_in.user.session_token == token
    assert signed_in.user in session()  # changes to it are saved like any loaded row's
    signed_in.user.display_name = "Renamed"
    session.commit()
    session.remove()
    assert session.get(User, learner).display_name == "Renamed"


def test_a_user_only_read_stays_out_of_the_orm_session_and_outlives_its_commits(session, learner):
    token = log_in(session, learner)
    row = session.execute(select(User.__table__).where(User.id == learner)).one()._asdict()
    session.remove()

    user = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS, attach=False).user
    session.commit()  # a page that records something: its commit expires nothing of the user

    assert user not in session()
    assert inspect(user).detached and inspect(user).identity == (learner,)
    with count_queries(db.engine) as counted:
        assert {key: getattr(user, key) for key in row} == row
    assert counted() == 0
    session.add(user)  # a cascade or a view that does take it in: persistent, as loaded, no query
    assert not session.is_modified(user)
    user.display_name = "Renamed"
    session.commit()
    session.remove()
    assert session.get(User, learner).display_name == "Renamed"


def test_the_user_reads_as_loaded_with_nothing_to_save(session, learner):
    """Every column as the database has it, no change pending; a session holding the user keeps its own."""
    token = log_in(session, learner)
    row = session.execute(select(User.__table__).where(User.id == learner)).one()._asdict()
    session.remove()

    user = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS).user

    assert {key: getattr(user, key) for key in row} == row
    assert not (session.dirty or session.new) and not session.is_modified(user)
    session.remove()
    held = session.get(User, learner)
    assert signed_in_user(session, token=token, now=utcnow(), limits=LIMITS).user is held
    session.remove()


def test_an_unknown_token_an_idle_session_or_a_deactivated_account_gives_no_one(session, learner):
    assert signed_in_user(session, token="no-such-token", now=utcnow(), limits=LIMITS) is None

    started = utcnow() - timedelta(days=15)
    idle = log_in(session, learner, at=started)
    assert signed_in_user(session, token=idle, now=utcnow(), limits=LIMITS) is None

    remembered = log_in(session, learner, remember=True, at=started)
    assert signed_in_user(session, token=remembered, now=utcnow(), limits=LIMITS) is not None
    session.remove()

    session.execute(update(User).values(is_active=False))
    session.commit()
    assert signed_in_user(session, token=remembered, now=utcnow(), limits=LIMITS) is None


def test_a_stale_last_seen_time_is_written_and_committed(session, learner):
    started = utcnow() - timedelta(hours=1)
    token = log_in(session, learner, at=started)
    now = utcnow()

    signed_in = signed_in_user(session, token=token, now=now, limits=LIMITS)

    assert signed_in.touched
    assert last_seen(session) == now


def test_with_work_under_way_the_touch_waits_for_that_work(session, learner):
    started = utcnow() - timedelta(hours=1)
    token = log_in(session, learner, at=started)
    session.get(User, learner).display_name = "Unsaved"  # a change the request has not saved

    signed_in = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS)
    assert signed_in.touched
    session.rollback()  # the request's work fails: the touch goes with it

    assert last_seen(session) == started
    assert db.session.get(User, learner).display_name != "Unsaved"


def outline_of(session, *, slug, learner_id, with_attempts, attempts_of=None):
    """The course as course_outline_by_slug reads it itself, entry by entry."""
    learner = session.get(User, learner_id)
    outline = course_outline_by_slug(
        session, slug=slug, learner=learner, with_attempts=with_attempts, attempts_of=attempts_of
    )
    return [(e.lesson.id, e.state, e.opened_at, e.completed_at, e.attempts) for e in outline.entries]


def test_the_course_rows_read_with_the_user_give_the_outline_the_course_reads_itself(
    session, learner, other_learner, course
):
    """Progress and attempts are the session's user's, for the course named, as the plain read gives them."""
    first = session.scalar(select(Lesson).order_by(Lesson.id))
    first_slug = first.slug
    lesson_note_opened(session, learner=session.get(User, learner), lesson=first, when=utcnow())
    lesson_note_opened(session, learner=session.get(User, other_learner), lesson=first, when=utcnow())
    session.add(
        QuizAttempt(
            user_id=learner,
            lesson_id=first.id,
            submission_key="k" * 32,
            submitted_at=utcnow(),
            question_count=2,
            correct_count=1,
            score=0.5,
            pass_mark=0.8,
            passed=False,
        )
    )
    lesson_record_completion(session, learner=session.get(User, other_learner), lesson=first)
    session.commit()
    token = log_in(session, learner)
    for slug, with_attempts, attempts_of in [
        (course, True, None),
        (course, False, None),
        (None, True, None),
        (None, False, None),
        (course, True, first_slug),
        (None, True, first_slug),
    ]:
        wanted = OutlineWanted(slug=slug, with_attempts=with_attempts, attempts_of=attempts_of)
        signed_in = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS, outline=wanted)
        assert signed_in is not None and signed_in.user.id == learner
        rows = signed_in.outline_rows
        session.remove()
        read_with_user = course_outline_by_slug(
            session,
            slug=slug,
            learner=session.get(User, learner),
            with_attempts=with_attempts,
            attempts_of=attempts_of,
            rows=rows,
        )
        entries = [(e.lesson.id, e.state, e.opened_at, e.completed_at, e.attempts) for e in read_with_user.entries]
        assert entries == outline_of(
            session, slug=slug, learner_id=learner, with_attempts=with_attempts, attempts_of=attempts_of
        )
        assert entries[0][2] is not None and entries[0][3] is None  # opened, not the other learner's completion
        assert len(entries[0][4]) == (1 if with_attempts else 0)
        session.remove()


def test_with_course_rows_an_unknown_course_still_gives_the_user_and_no_one_gives_no_rows(session, learner, course):
    token = log_in(session, learner)
    unknown = OutlineWanted(slug="no-such-course", with_attempts=True)
    signed_in = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS, outline=unknown)
    assert signed_in is not None and signed_in.user.id == learner
    assert signed_in.outline_rows == []  # the page answers 404, as the plain read would have it
    known = OutlineWanted(slug=course, with_attempts=False)
    assert signed_in_user(session, token="no-such-token", now=utcnow(), limits=LIMITS, outline=known) is None
    session.remove()
    session.execute(update(User).values(is_active=False))
    session.commit()
    assert signed_in_user(session, token=token, now=utcnow(), limits=LIMITS, outline=known) is None


def test_a_lesson_pages_read_has_the_attempts_at_its_lesson_only(session, learner, course):
    """A lesson or quiz page shows its own lesson's attempts: the read leaves out the others', however many."""
    first, second = session.execute(select(Lesson.id, Lesson.slug).order_by(Lesson.id).limit(2)).all()
    for lesson, count in ((first, 3), (second, 2)):  # (id, slug) rows
        for n in range(count):
            session.add(
                QuizAttempt(
                    user_id=learner,
                    lesson_id=lesson.id,
                    submission_key=f"{lesson.id}-{n}".ljust(32, "k"),
                    submitted_at=utcnow() - timedelta(minutes=n),
                    question_count=2,
                    correct_count=1,
                    score=0.5,
                    pass_mark=0.8,
                    passed=False,
                )
            )
    session.commit()
    token = log_in(session, learner)
    every = {
        entry.lesson.id: entry.attempts
        for entry in course_outline_by_slug(
            session, slug=course, learner=session.get(User, learner), with_attempts=True
        ).entries
    }
    assert len(every[first.id]) == 3 and len(every[second.id]) == 2
    wanted = OutlineWanted(slug=course, with_attempts=True, attempts_of=second.slug)
    signed_in = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS, outline=wanted)
    rows = signed_in.outline_rows
    session.remove()
    learner_row = session.get(User, learner)
    for read in (
        course_outline_by_slug(session, slug=course, learner=learner_row, with_attempts=True, attempts_of=second.slug),
        course_outline_by_slug(
            session, slug=course, learner=learner_row, with_attempts=True, attempts_of=second.slug, rows=rows
        ),
    ):
        attempts = {entry.lesson.id: entry.attempts for entry in read.entries}
        assert attempts[second.id] == every[second.id]  # newest first, as the whole course's read has them
        assert attempts[first.id] == ()
        assert all(not found for lesson_id, found in attempts.items() if lesson_id != second.id)


def test_the_reviews_due_read_with_the_outline_are_the_review_pages_count(session, learner, other_learner, course):
    """Due by now, of a live question in this course, the learner's own: as review.reviews_due_count counts."""
    questions = session.scalars(select(Question).order_by(Question.id).limit(4)).all()
    now = utcnow()

    def card(user_id, question, due):
        session.add(
            ReviewCard(
                user_id=user_id,
                question_id=question.id,
                due=due,
                state=1,
                last_rating=1,
                created_at=now - timedelta(days=2),
            )
        )

    card(learner, questions[0], now - timedelta(hours=1))  # due
    card(learner, questions[1], now - timedelta(minutes=1))  # due
    card(learner, questions[2], now + timedelta(hours=1))  # not yet
    card(learner, questions[3], now - timedelta(hours=1))  # due, but its question is retired below
    card(other_learner, questions[1], now - timedelta(hours=1))  # someone else's
    questions[3].retired_at, questions[3].position = now, None
    session.commit()
    course_id = session.scalar(select(Course.id).where(Course.slug == course))
    expected = reviews_due_count(session, user_id=learner, course_id=course_id)
    assert expected == 2
    token = log_in(session, learner)
    wanted = OutlineWanted(slug=course, with_attempts=False, with_reviews_due=True)
    rows = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS, outline=wanted).outline_rows
    session.remove()
    user = session.get(User, learner)
    with_user = course_outline_by_slug(session, slug=course, learner=user, with_reviews_due=True, rows=rows)
    alone = course_outline_by_slug(session, slug=course, learner=user, with_reviews_due=True)
    assert with_user.reviews_due == alone.reviews_due == expected
    assert course_outline_by_slug(session, slug=course, learner=user).reviews_due is None  # not asked for
    plain = course_outline_by_slug(session, slug=course, learner=user, rows=None)
    assert [e.state for e in with_user.entries] == [e.state for e in plain.entries]
    session.remove()


def test_the_learner_pages_new_reads_give_the_same_rows_every_way(session, learner, course):
    """On the driver's cursor, in Core and through the ORM alike (tests/services/test_reads.py's check)."""
    lesson_id, lesson_slug = session.execute(select(Lesson.id, Lesson.slug).order_by(Lesson.id).limit(1)).one()
    question_id = session.scalar(select(Question.id).where(Question.lesson_id == lesson_id).limit(1))
    session.add(
        QuizAttempt(
            user_id=learner,
            lesson_id=lesson_id,
            submission_key="b" * 32,
            submitted_at=utcnow(),
            question_count=5,
            correct_count=4,
            score=0.8,
            pass_mark=0.8,
            passed=True,
        )
    )
    session.add(
        ReviewCard(user_id=learner, question_id=question_id, due=utcnow() - timedelta(hours=1), state=1, last_rating=1)
    )
    token = log_in(session, learner)
    fresh_request(session)
    now = utcnow()
    mine = {"learner_id": learner}
    reads = [
        (_ONE_LESSONS_ATTEMPTS[False], {**mine, "slug": course, "lesson_slug": lesson_slug}),
        (_ONE_LESSONS_ATTEMPTS[True], {**mine, "lesson_slug": lesson_slug}),
        (_WITH_REVIEWS_DUE[False], {**mine, "slug": course, "now": now}),
        (_WITH_REVIEWS_DUE[True], {**mine, "now": now}),
        (
            _USER_WITH_OUTLINE[(False, True, True, False, None)],
            {"token_hash": session_token_hash(token), "slug": course, "lesson_slug": lesson_slug},
        ),
        (
            _USER_WITH_OUTLINE[(False, False, False, True, None)],
            {"token_hash": session_token_hash(token), "slug": course, "now": now},
        ),
        (
            _USER_WITH_OUTLINE[(True, False, False, True, MY_PAGE)],
            {"token_hash": session_token_hash(token), "now": now, "view_limit": 100},
        ),
        (
            _USER_WITH_OUTLINE[(False, False, False, False, CARDS)],
            {"token_hash": session_token_hash(token), "slug": course, "lesson_slug": lesson_slug},
        ),
        (
            _USER_WITH_OUTLINE[(True, False, False, False, CARDS)],
            {"token_hash": session_token_hash(token), "lesson_slug": lesson_slug},
        ),
    ]
    if session.get_bind().dialect.name == "postgresql":  # /me/'s as one row there (json_parts.py)
        reads.append(
            (
                _ONE_ROW[(True, False, False, True, MY_PAGE)].read,
                {"token_hash": session_token_hash(token), "now": now, "view_limit": 100},
            )
        )
    for read, params in reads:
        rows = three_ways(session, read, params)
        assert rows, read
    due = [row[-1] for row in three_ways(session, *reads[2]) if row[-1] is not None]
    assert due == [1]


def test_my_pages_rows_read_with_the_user_are_the_ones_my_page_reads_alone(app, session, learner, course):
    """/me/ reads the user, its outline and the rest of the page in one query: the same rows as its own two reads."""
    counsellor = create_user(app, "cat@example.org", role=Role.COUNSELLOR, name="Cat Counsellor")
    lesson_id = session.scalar(select(Lesson.id).order_by(Lesson.id).limit(1))
    for key, correct in (("a", 2), ("b", 5)):
        session.add(
            QuizAttempt(
                user_id=learner,
                lesson_id=lesson_id,
                submission_key=key * 32,
                submitted_at=utcnow(),
                question_count=5,
                correct_count=correct,
                score=correct / 5,
                pass_mark=0.8,
                passed=correct == 5,
            )
        )
    session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner))
    session.add(ProgressView(viewer_id=counsellor, learner_id=learner, viewer_role="counsellor"))
    session.add(ContactRequest(requester_id=learner, contact_by="email", email="l@example.org", topic="other"))
    session.commit()
    token = log_in(session, learner)
    fresh_request(session)

    wanted = OutlineWanted(slug=None, with_attempts=False, with_reviews_due=True, with_my_page=True)
    with count_queries(db.engine) as queries:
        signed_in = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS, outline=wanted, attach=False)
    assert signed_in is not None and signed_in.user.id == learner and queries() == 1

    course_id = session.scalar(select(Course.id).where(Course.slug == course))
    together = my_page(session, learner_id=learner, course_id=course_id, rows=signed_in.own_rows)
    alone = my_page(session, learner_id=learner, course_id=course_id)
    assert together == alone
    assert [link.counsellor_name for link in together.sharing.links] and together.sharing.views
    assert [request.email for request in together.contact_requests] == ["l@example.org"]
    assert together.attempts[lesson_id].count == 2 and together.attempts[lesson_id].best.correct_count == 5
    user = session.get(User, learner)
    with_user = course_outline_by_slug(
        session, slug=None, learner=user, with_reviews_due=True, rows=signed_in.outline_rows
    )
    plain = course_outline_by_slug(session, slug=None, learner=user, with_reviews_due=True)
    assert [e.state for e in with_user.entries] == [e.state for e in plain.entries]
    assert with_user.reviews_due == plain.reviews_due
    session.remove()


def test_a_submissions_cards_read_with_the_user_are_the_ones_it_reads_alone(session, learner, other_learner, course):
    """A quiz submission reads the user, the outline and the learner's cards for the lesson in one
    query: the same cards as live_questions.learner_cards (theirs, this lesson's live questions)."""
    from app.services.review import card_new

    first, second = session.execute(select(Lesson.id, Lesson.slug).order_by(Lesson.id).limit(2)).all()
    asked = session.scalars(select(Question).where(Question.lesson_id == first.id).order_by(Question.position)).all()
    elsewhere = session.scalar(select(Question.id).where(Question.lesson_id == second.id).limit(1))
    now = utcnow()
    session.add_all(
        [
            card_new(user_id=learner, question_id=asked[0].id, when=now),
            card_new(user_id=learner, question_id=asked[1].id, when=now),
            card_new(user_id=learner, question_id=asked[2].id, when=now),
            card_new(user_id=learner, question_id=elsewhere, when=now),  # another lesson's
            card_new(user_id=other_learner, question_id=asked[0].id, when=now),  # another learner's
        ]
    )
    asked[2].retired_at, asked[2].position = now, None  # a retired question's card is not moved on
    session.commit()
    live_ids = {asked[0].id, asked[1].id}
    token = log_in(session, learner)
    fresh_request(session)

    wanted = OutlineWanted(slug=course, with_attempts=False, cards_of=first.slug)
    with count_queries(db.engine) as queries:
        signed_in = signed_in_user(session, token=token, now=utcnow(), limits=LIMITS, outline=wanted, attach=False)
    assert signed_in is not None and signed_in.user.id == learner and queries() == 1

    together = learner_cards_from_rows(signed_in.own_rows)
    alone = learner_cards(session, lesson_id=first.id, learner_id=learner)
    assert sorted(together, key=lambda card: card["id"]) == sorted(alone, key=lambda card: card["id"])
    assert {card["question_id"] for card in together} == live_ids
    assert all(card["user_id"] == learner for card in together)
    plain = course_outline_by_slug(session, slug=course, learner=session.get(User, learner))
    with_cards = course_outline_by_slug(
        session, slug=course, learner=session.get(User, learner), rows=signed_in.outline_rows
    )
    assert [e.state for e in with_cards.entries] == [e.state for e in plain.entries]
    session.remove()


def test_an_unknown_session_reads_no_one_and_none_of_my_pages_rows(app, session, learner):
    counsellor = create_user(app, "cat@example.org", role=Role.COUNSELLOR, name="Cat Counsellor")
    session.add(ProgressView(viewer_id=counsellor, learner_id=learner, viewer_role="counsellor"))
    session.commit()
    wanted = OutlineWanted(slug=None, with_attempts=False, with_reviews_due=True, with_my_page=True)

    assert signed_in_user(session, token="not-a-token", now=utcnow(), limits=LIMITS, outline=wanted) is None
