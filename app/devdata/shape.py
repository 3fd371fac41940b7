"""The course as the seeder needs it: its live lessons in order, each live question's stored
version as shown (a ShownQuestion row, found or stored once), and every answer a learner can
give to it, prepared once (the picks an answer records, whether it is right, whether it reveals
a misconception)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.orm import Session

from app.models import Choice, Course, Question
from app.question_kinds import KINDS
from app.services.pass_rule import questions_needed
from app.services.progress import course_outline
from app.services.quizzes import answer_columns, question_version, quiz_questions, shown_question_ids


@dataclass(frozen=True)
class AnswerVariant:
    """One answer to a question: the chosen choices and everything an attempt records for it."""

    chosen: frozenset[int]
    is_correct: bool
    reveals_misconception: bool
    # The picks as an answer's ``chosen`` column stores them (canonical indexes, see indexes_text).
    chosen_text: str


@dataclass
class QuizQuestion:
    """A live question with its answer variants, as the seeder draws from them."""

    id: int
    kind: str
    prompt: str
    explanation: str
    variants: list[AnswerVariant]  # [0] is right; wrong ones follow, misconception-revealing first
    choice_count: int
    version_id: int  # the ShownQuestion every answer to it points at
    shuffle: bool = True  # as the question says: each attempt's order is drawn from its key
    base_wrong: float = 0.25  # how often an average learner gets it wrong on a first try


@dataclass
class LessonShape:
    """A live lesson: its id, its number in the course and its quiz's questions."""

    id: int
    number: int
    questions: list[QuizQuestion]
    pass_mark: float = 0.0

    @cached_property
    def needed(self) -> int:
        """Questions right to pass this lesson's quiz, by the one pass rule."""
        return questions_needed(self.pass_mark, len(self.questions))


@dataclass
class CourseShape:
    """A course's live lessons in order, with every answer variant of every live question."""

    course_id: int
    pass_mark: float
    lessons: list[LessonShape]

    @property
    def question_count(self) -> int:
        """Live questions over every live lesson."""
        return sum(len(lesson.questions) for lesson in self.lessons)


def _variant(question: Question, live: list[Choice], chosen: frozenset[int]) -> AnswerVariant:
    return AnswerVariant(
        chosen=chosen,
        is_correct=KINDS[question.kind].is_right(live, chosen),
        reveals_misconception=any(c.misconception and not c.is_correct for c in live if c.id in chosen),
        chosen_text=answer_columns([c.id for c in live], [c.id for c in live], chosen)["chosen"],
    )


def _question_variants(question: Question) -> list[AnswerVariant]:
    """The right answer first, then plausible wrong ones (misconception-revealing first)."""
    live = list(question.live_choices)
    correct = [choice for choice in live if choice.is_correct]
    wrong = [choice for choice in live if not choice.is_correct]
    # The first wrong choice that reveals a misconception comes first (the demo's wrong answer).
    singles = [c for c in wrong if c.misconception_id] + [c for c in wrong if not c.misconception_id]
    chosen_sets = [frozenset(c.id for c in correct)] + [frozenset({c.id}) for c in singles]
    if KINDS[question.kind].several_right:
        all_correct = frozenset(c.id for c in correct)
        if len(correct) > 1:  # missed one of the right ones
            chosen_sets += [all_correct - {c.id} for c in correct]
        chosen_sets += [all_correct | {c.id} for c in singles]  # the right ones and a wrong one
    unique = list(dict.fromkeys(chosen_sets))
    return [_variant(question, live, chosen) for chosen in unique]


def course_shape(session: Session, course: Course) -> CourseShape:
    """Load the course's live lessons and questions, and prepare every answer variant.

    Each live question's version as shown is found, or stored in the session's transaction
    (the caller commits), exactly as a real submission would store it."""
    outline = course_outline(session, course=course, learner=None)
    by_lesson = [(entry, quiz_questions(session, entry.lesson)) for entry in outline.entries]
    versions = shown_question_ids(
        session, [question_version(question) for _, questions in by_lesson for question in questions]
    )
    version_of = dict(zip((q.id for _, questions in by_lesson for q in questions), versions, strict=True))
    lessons = []
    for entry, live_questions in by_lesson:
        questions = [
            QuizQuestion(
                id=question.id,
                kind=question.kind,
                prompt=question.prompt,
                explanation=question.explanation,
                variants=_question_variants(question),
                choice_count=len(question.live_choices),
                version_id=version_of[question.id],
                shuffle=question.shuffle,
            )
            for question in live_questions
        ]
        lessons.append(
            LessonShape(id=entry.lesson.id, number=entry.number, questions=questions, pass_mark=course.pass_mark)
        )
    return CourseShape(course_id=course.id, pass_mark=course.pass_mark, lessons=lessons)
