"""How seeded learners behave: who never starts, who stops where, how often they get a question
wrong and how long they wait between visits. Tuned so 100,000 learners give about 2 million
answers, a funnel that narrows from lesson to lesson, and enough failed attempts for the
"struggling" flag. All randomness comes from one generator, so a seed gives one population."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from app.devdata.history import LessonVisit, PlannedAttempt
from app.devdata.shape import CourseShape, LessonShape
from app.services.pass_rule import is_pass

NEVER_STARTED = 0.08  # registered, never opened a lesson
LEAVE_BEFORE_QUIZ = 0.07  # opened a lesson, read it, never tried its quiz
GIVE_UP_AFTER_FAIL = (0.08, 0.15, 0.35)  # stopped for good after the 1st, 2nd, 3rd failed attempt
STOP_AFTER_PASS = 0.1  # passed a lesson, never opened the next
MAX_FAILURES = 3  # the attempt after the third failure passes


class Planner:
    """Decides, learner by learner, what each one did."""

    def __init__(self, rng: random.Random, shape: CourseShape, now: datetime):
        self.rng = rng
        self.shape = shape
        self.now = now
        for lesson in shape.lessons:
            for question in lesson.questions:
                question.base_wrong = rng.uniform(0.05, 0.5)

    def _gap(self, short_minutes: float, long_share: float) -> timedelta:
        rng = self.rng
        if rng.random() < long_share:
            return timedelta(hours=rng.uniform(3, 24 * 9))
        return timedelta(minutes=rng.lognormvariate(math.log(short_minutes), 0.6))

    def _answers(self, lesson: LessonShape, ability: float, tries: int, must_pass: bool) -> tuple[int, ...]:
        rng = self.rng
        picks = []
        # Feedback teaches: every retry makes a wrong answer less likely.
        scale = ((1.6 - ability) / 0.95) ** 3 * (0.7**tries)
        for question in lesson.questions:
            if len(question.variants) > 1 and rng.random() < question.base_wrong * scale:
                weights = [3 if v.reveals_misconception else 1 for v in question.variants[1:]]
                picks.append(1 + rng.choices(range(len(weights)), weights)[0])
            else:
                picks.append(0)
        if must_pass:
            wrong = [i for i, pick in enumerate(picks) if pick]
            allowed = len(picks) - lesson.needed
            rng.shuffle(wrong)
            for index in wrong[: max(0, len(wrong) - allowed)]:
                picks[index] = 0
        return tuple(picks)

    def plan(self, created_at: datetime) -> list[LessonVisit]:
        """The visits of a learner who registered at ``created_at``, up to ``now``."""
        rng, now = self.rng, self.now
        if rng.random() < NEVER_STARTED:
            return []
        ability = rng.betavariate(4, 2)
        cursor = created_at + self._gap(4, 0.15)
        visits = []
        for lesson in self.shape.lessons:
            if cursor > now:
                break
            visit = LessonVisit(lesson, opened_at=cursor)
            visits.append(visit)
            cursor += timedelta(minutes=rng.uniform(2, 15))  # reading the lesson
            if cursor > now:
                break
            if not lesson.questions:
                visit.done_at = cursor
            else:
                if rng.random() < LEAVE_BEFORE_QUIZ:
                    break
                passed = False
                for tries in range(MAX_FAILURES + 1):
                    if cursor > now:
                        break
                    variants = self._answers(lesson, ability, tries, must_pass=tries == MAX_FAILURES)
                    visit.attempts.append(PlannedAttempt(cursor, variants))
                    right = sum(1 for index in variants if index == 0)
                    if is_pass(right, len(variants), lesson.pass_mark):
                        passed = True
                        break
                    if rng.random() < GIVE_UP_AFTER_FAIL[min(tries, len(GIVE_UP_AFTER_FAIL) - 1)]:
                        break
                    cursor += self._gap(3, 0.25)
                if not passed:
                    break
            if rng.random() < STOP_AFTER_PASS:
                break
            cursor += self._gap(6, 0.45)
        return visits
