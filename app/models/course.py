"""Course content: a course, its modules, lessons, quiz questions and choices."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import NEVER_REUSED_IDS, UTCDateTime, utcnow
from app.question_kinds import sql_kind_check

# Drafts, publications and restores name lessons, questions and choices by row id, so an id must
# never be given twice: a question deleted unused and restored later would otherwise land on the
# row of one added since, which learners may have answered (NEVER_REUSED_IDS).


class Course(Model):
    """A course, identified by the slug of its folder under courses/."""

    __tablename__ = "courses"
    __table_args__ = (CheckConstraint("pass_mark > 0 AND pass_mark <= 1", name="pass_mark_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    pass_mark: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bumped by every import or publish that changes what learners see: workers cache the
    # content per version (app/services/course_content.py), so a change must never skip it.
    content_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The content review shown on every lesson (UK patient-information practice): who, when, next.
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reviewed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_review_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The latest day the content changed that the review above does not cover (None: it covers it
    # all), so lessons never claim a review of text nobody reviewed; set by publishing, cleared by
    # dating the review again (app/services/authoring/publishing.py, edits.py).
    changed_since_review_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # "Where to get help", written once for the course and shown after every lesson.
    help_markdown: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    help_html: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))

    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan"
    )
    misconceptions: Mapped[list[Misconception]] = relationship(back_populates="course", cascade="all, delete-orphan")


class Misconception(Model):
    """A mistaken belief that a wrong choice can reveal, with texts for learner and counsellor."""

    __tablename__ = "misconceptions"
    __table_args__ = (UniqueConstraint("course_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80))
    # A short name for the counsellor's talking points; empty means "show the code".
    title: Mapped[str] = mapped_column(String(80), default="", server_default=text("''"))
    learner_text: Mapped[str] = mapped_column(Text)
    counsellor_text: Mapped[str] = mapped_column(Text)
    # A belief that could kill or seriously harm: listed first for counsellors.
    safety_critical: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    course: Mapped[Course] = relationship(back_populates="misconceptions")


class Module(Model):
    """A group of lessons; modules are met in position order."""

    __tablename__ = "modules"
    __table_args__ = (
        UniqueConstraint("course_id", "slug"),
        UniqueConstraint("course_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(back_populates="module", order_by="Lesson.position")


# A live row has a place; a retired row has none, but stays for the history that points at it.
LIVE_OR_RETIRED = "(retired_at IS NULL AND position IS NOT NULL) OR (retired_at IS NOT NULL AND position IS NULL)"


class Lesson(Model):
    """A lesson: stored Markdown and its sanitised HTML, placed in a module until retired."""

    __tablename__ = "lessons"
    __table_args__ = (
        UniqueConstraint("course_id", "slug"),
        UniqueConstraint("module_id", "position"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint(f"({LIVE_OR_RETIRED}) AND (retired_at IS NOT NULL OR module_id IS NOT NULL)", name="placed"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lessons carry learners' history, so a course or module with lessons cannot just vanish.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    # A retired lesson leaves its module, so the module can be removed without losing history.
    module_id: Mapped[int | None] = mapped_column(ForeignKey("modules.id", ondelete="RESTRICT"), nullable=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body_markdown: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # [{"title": ..., "url": ... or None}]: where the lesson's facts come from, shown under it.
    # NULL (lessons from before sources existed) reads as none: a JSON column has no portable default.
    sources: Mapped[list[dict] | None] = mapped_column(JSON, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    course: Mapped[Course] = relationship()
    module: Mapped[Module | None] = relationship(back_populates="lessons")
    # Every question ever asked in this lesson, retired ones included.
    questions: Mapped[list[Question]] = relationship(
        back_populates="lesson", order_by="Question.position", cascade="all, delete-orphan"
    )
    live_questions: Mapped[list[Question]] = relationship(
        primaryjoin="and_(Question.lesson_id == Lesson.id, Question.retired_at.is_(None))",
        order_by="Question.position",
        viewonly=True,
    )

    @property
    def has_quiz(self) -> bool:
        """Whether the lesson has any live question (loads them when not loaded yet)."""
        return bool(self.live_questions)


class Question(Model):
    """A quiz question of one of the registered kinds."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("lesson_id", "position"),
        CheckConstraint(sql_kind_check("kind"), name="kind_known"),
        CheckConstraint(LIVE_OR_RETIRED, name="placed"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    # Each attempt shows the choices in an order drawn for it, unless the author pinned the order.
    shuffle: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    lesson: Mapped[Lesson] = relationship(back_populates="questions")
    # Every choice ever offered, retired ones included; learners see live_choices.
    choices: Mapped[list[Choice]] = relationship(
        back_populates="question", order_by="Choice.position", cascade="all, delete-orphan"
    )
    live_choices: Mapped[list[Choice]] = relationship(
        primaryjoin="and_(Choice.question_id == Question.id, Choice.retired_at.is_(None))",
        order_by="Choice.position",
        viewonly=True,
    )


class Choice(Model):
    """One answer a learner can pick, with the feedback that choice earns."""

    __tablename__ = "choices"
    __table_args__ = (
        UniqueConstraint("question_id", "position"),
        CheckConstraint(LIVE_OR_RETIRED, name="placed"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    feedback: Mapped[str] = mapped_column(Text)
    # Picking it could kill or seriously harm in real life: its feedback is shown as a warning.
    safety_critical: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    misconception_id: Mapped[int | None] = mapped_column(
        ForeignKey("misconceptions.id", ondelete="SET NULL"), nullable=True
    )

    question: Mapped[Question] = relationship(back_populates="choices")
    misconception: Mapped[Misconception | None] = relationship()
