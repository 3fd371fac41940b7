"""The real course in courses/naltrexone: enough content, complete quizzes, plain English, safety.

The safety tests check that each fact the clinical review asked for is taught where it belongs
(the lesson that first teaches a topic), not merely somewhere in the course.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter

import pytest
import textstat

from app.question_kinds import QUESTION_KINDS
from app.services.course_files import ChoiceSpec, LessonSpec, QuestionSpec
from app.services.course_quality import course_warnings
from app.services.markdown import plain_text
from tests.conftest import real_course_spec

COURSE = real_course_spec()
LESSONS = [COURSE.lessons[slug] for module in COURSE.modules for slug in module.lesson_slugs]
QUESTIONS = [question for lesson in LESSONS for question in lesson.quiz]
per_lesson = pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])

RECEPTORS = COURSE.lessons["receptors-and-blockers"]
ALCOHOL = COURSE.lessons["naltrexone-and-alcohol"]
OPIOIDS = COURSE.lessons["naltrexone-and-opioids"]
STARTING = COURSE.lessons["starting-safely"]
PAIN = COURSE.lessons["pain-relief-and-overdose"]
TREATMENT = COURSE.lessons["treatment-and-support-in-the-uk"]

HELP_HEADING = "Where to get help"
QUESTIONS_PER_LESSON = 5
# Scenario questions name a person from this list at the very start of the prompt.
# Each name tells one story across the course, so a new story takes a new name.
SCENARIO_NAMES = (
    *("Sam", "Alex", "Jo", "Priya", "Dev", "Chris", "Mo", "Kim", "Lee", "Ruth", "Ana", "Ben", "Nia", "Tom"),
    *("Zoe", "Sue", "Raj", "Rosa", "Beth", "Dan", "Omar", "Paul"),
)
SCENARIO = re.compile(rf"^(?:{'|'.join(SCENARIO_NAMES)})\b")
EVERYDAY_OPIOIDS = [
    "co-codamol",
    "codeine",
    "dihydrocodeine",
    "tramadol",
    r"cough medicines? (that contain|with) codeine",
]
OVERDOSE_SIGNS = [r"cannot be woken", r"(slow|noisy).{0,30}breathing", r"blue or grey lips", r"pinpoint pupils"]
OVERDOSE_FIRST_AID = [r"call 999", r"give naloxone", r"recovery position", r"stay with them", r"another dose"]
# A quiz that asks what to do for someone who may be overdosing mentions one of these.
ASKS_ABOUT_OVERDOSE = re.compile(r"cannot wake|will not wake|recovery position|lips (look|are) (blue|grey)", re.I)
SAFETY_TOPICS = {
    "precipitated withdrawal": [r"precipitated withdrawal"],
    "blocked pain relief": [r"pain relief", r"(will not|won't|does not|do not|may not) work"],
    "overdose after stopping": [r"tolerance", r"overdose", r"after stopping|stopped naltrexone"],
    "naloxone": [r"\bnaloxone\b", r"reverse"],
}
# Beliefs that could kill: the course must carry a safety-critical wrong choice for each.
DEADLY_BELIEFS = [
    "sleep-it-off",
    "block-is-total",
    "ease-withdrawal-with-opioids",
    "stops-you-getting-drunk",
    "old-dose-safe-after-stopping",
    "everyday-painkillers-not-opioids",
    "can-start-any-time",
    "checks-are-optional",
    "block-ends-when-you-stop",
    "changes-medicine-alone",
]
# Feedback on a wrong choice that says this warns of harm, so the choice must show the red warning.
WARNS_OF_HARM = re.compile(r"\b(never|not safe|unsafe|dangerous|(could|can) kill)\b", re.I)
# Words a learner may not know: where the course first uses one, it explains it nearby.
JARGON = {
    "product information": r"official leaflet for doctors",
    "shared care plan": r"agreement between the specialist and your GP",
    "Cochrane review": r"Cochrane is .{0,40}group",
    "high-risk levels": r"more than about 7\.5 units .{0,40}men",
}


def sections(lesson: LessonSpec) -> list[tuple[str, str]]:
    """The body's level-2 sections as (heading, text) pairs, in order."""
    parts = re.split(r"^## +(.+?) *$", lesson.body, flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def teaches(text: str, patterns: list[str]) -> list[str]:
    """The patterns that ``text`` does not match (empty when it teaches all of them)."""
    return [pattern for pattern in patterns if not re.search(pattern, text, re.I)]


def quiz_text(lesson: LessonSpec) -> str:
    return "\n".join(
        "\n".join([question.prompt, question.explanation, *(c.text + "\n" + c.feedback for c in question.choices)])
        for question in lesson.quiz
    )


def all_learner_text() -> list[tuple[str, str]]:
    """Every text a learner reads, labelled: bodies, quiz texts, misconception texts, the help block."""
    texts = [("help", COURSE.help)]
    texts += [(f"{lesson.slug} body", lesson.body) for lesson in LESSONS]
    texts += [(f"{lesson.slug} quiz", quiz_text(lesson)) for lesson in LESSONS]
    texts += [(f"misconception {code}", item.learner) for code, item in COURSE.misconceptions.items()]
    return texts


def reading_order() -> list[tuple[str, str]]:
    """What a learner reads, in order: each lesson's body, then its quiz."""
    return [text for lesson in LESSONS for text in [(lesson.slug, lesson.body), (lesson.slug, quiz_text(lesson))]]


def question_text(question: QuestionSpec) -> str:
    """One question as a learner reads it: prompt, choices, feedback and explanation, each ending a sentence."""
    parts = [question.prompt, *(part for c in question.choices for part in (c.text, c.feedback)), question.explanation]
    return " ".join(plain_text(part) for part in parts)


def shows_warning(choice: ChoiceSpec) -> bool:
    """Whether the app shows the red warning for this choice (as app/services/quizzes.py decides)."""
    misconception = COURSE.misconceptions.get(choice.misconception) if choice.misconception else None
    return choice.safety_critical or bool(misconception and misconception.safety_critical)


def correct_index(question: QuestionSpec) -> int:
    return next(index for index, choice in enumerate(question.choices) if choice.correct)


def correct_is_longest(question: QuestionSpec) -> bool:
    index = correct_index(question)
    right = len(question.choices[index].text)
    return all(len(choice.text) < right for number, choice in enumerate(question.choices) if number != index)


def singles(questions: list[QuestionSpec]) -> list[QuestionSpec]:
    return [question for question in questions if question.kind == "single"]


# --- Shape of the course --------------------------------------------------------------------


def test_course_has_at_least_six_lessons_in_at_least_two_modules():
    assert len(LESSONS) >= 6
    assert len([module for module in COURSE.modules if module.lesson_slugs]) >= 2


def test_course_records_who_reviewed_it_and_when_the_next_review_is_due():
    review = COURSE.review

    assert review is not None and review.reviewed_by.strip()
    assert isinstance(review.reviewed_on, datetime.date) and isinstance(review.next_review_on, datetime.date)
    assert review.reviewed_on < review.next_review_on <= review.reviewed_on + datetime.timedelta(days=366)


@per_lesson
def test_lesson_declares_its_sources(lesson):
    assert lesson.sources, "the lesson names no sources"
    for source in lesson.sources:
        assert source.title.strip()
        assert source.url is None or source.url.startswith("https://"), source.url


def test_the_named_guidance_is_cited_in_the_lessons_that_use_it():
    def cited(lesson: LessonSpec, name: str) -> bool:
        return any(name in source.title for source in lesson.sources)

    assert cited(OPIOIDS, "NICE TA115") and cited(OPIOIDS, "Minozzi") and cited(OPIOIDS, "Gibson and Degenhardt")
    assert cited(ALCOHOL, "Rösner") and cited(ALCOHOL, "Jonas")
    assert cited(STARTING, "Bolton") and cited(STARTING, "Summary of Product Characteristics")
    assert cited(TREATMENT, "NICE TA325") and cited(TREATMENT, "NICE CG115")


# --- Where to get help ----------------------------------------------------------------------


def test_help_block_names_every_line_with_its_hours_and_cost():
    help_text = " ".join(COURSE.help.split())

    assert re.search(r"prescriber", help_text, re.I)
    assert re.search(r"GP", help_text) and re.search(r"drug and alcohol service", help_text)
    assert re.search(r"NHS 111.{0,80}urgent.{0,80}day and night", help_text)
    assert re.search(r"mental health option", help_text)
    assert re.search(r"\b999\b.{0,40}emergenc", help_text)
    assert re.search(r"Drinkline.{0,80}0300 123 1110 \(weekdays 9am to 8pm, weekends 11am to 4pm\)", help_text)
    frank = re.search(r"FRANK.{0,250}", help_text).group(0)
    assert "0300 123 6600" in frank and "24 hours" in frank and "text 82111" in frank
    assert re.search(r"normal national rate", frank) and re.search(r"phone bill", frank)
    assert re.search(r"Samaritans.{0,60}116 123.{0,40}free, 24 hours", help_text)
    assert re.search(r"not medical advice", help_text)


def test_help_block_is_a_list_and_leaves_the_heading_to_the_page():
    assert HELP_HEADING not in COURSE.help
    assert len(re.findall(r"^- ", COURSE.help, flags=re.M)) >= 6


@per_lesson
def test_lesson_leaves_where_to_get_help_to_the_shared_block(lesson):
    assert HELP_HEADING not in [heading for heading, _ in sections(lesson)]
    assert "not medical advice" not in lesson.body


def test_every_helpline_number_comes_with_its_hours():
    for where, text in all_learner_text():
        text = " ".join(text.split())
        for match in re.finditer(r"0300 123 1110", text):
            assert "9am to 8pm" in text[match.end() : match.end() + 60], where
        for match in re.finditer(r"0300 123 6600", text):
            assert "24 hours" in text[match.start() - 80 : match.end() + 60], where
        for match in re.finditer(r"116 123", text):
            assert re.search(r"24 hours|day or night", text[match.end() : match.end() + 40]), where


def test_urgent_advice_points_to_nhs_111():
    urgent = re.compile(r"medical advice quickly|get help straight away|urgent advice", re.I)
    for where, text in all_learner_text():
        for paragraph in re.split(r"\n\s*\n", text):
            if urgent.search(paragraph):
                following = text[text.index(paragraph) : text.index(paragraph) + len(paragraph) + 200]
                assert "NHS 111" in following, f"{where}: urgent advice without NHS 111: {paragraph[:80]!r}"


# --- Plain English --------------------------------------------------------------------------


@per_lesson
def test_lesson_body_reads_easily(lesson):
    assert textstat.flesch_reading_ease(plain_text(lesson.body)) >= 60


@per_lesson
def test_lesson_body_is_at_grade_eight_or_below(lesson):
    assert textstat.flesch_kincaid_grade(plain_text(lesson.body)) <= 8


# The same targets for every other text a learner reads. A quiz question is measured whole
# (prompt, choices, feedback, explanation), as a body is, since a single choice is too short to score.
@pytest.mark.parametrize(
    "question", QUESTIONS, ids=[f"{lesson.slug}-q{n}" for lesson in LESSONS for n in range(1, len(lesson.quiz) + 1)]
)
def test_quiz_question_reads_easily(question):
    text = question_text(question)

    assert textstat.flesch_reading_ease(text) >= 60, question.prompt
    assert textstat.flesch_kincaid_grade(text) <= 8, question.prompt


@pytest.mark.parametrize("code", COURSE.misconceptions)
def test_misconception_text_for_learners_reads_easily(code):
    text = plain_text(COURSE.misconceptions[code].learner)

    assert textstat.flesch_reading_ease(text) >= 60
    assert textstat.flesch_kincaid_grade(text) <= 8


def test_course_summary_reads_easily():
    text = plain_text(COURSE.summary)

    assert textstat.flesch_reading_ease(text) >= 60
    assert textstat.flesch_kincaid_grade(text) <= 8


@pytest.mark.parametrize("term", JARGON)
def test_jargon_is_explained_where_the_course_first_uses_it(term):
    where, text = next(
        (where, " ".join(text.split())) for where, text in reading_order() if term.lower() in text.lower()
    )
    at = text.lower().index(term.lower())

    assert re.search(JARGON[term], text[max(0, at - 200) : at + 250]), f"{where}: {term!r} is not explained"


# --- Safety content, where it belongs -------------------------------------------------------


@pytest.mark.parametrize("patterns", SAFETY_TOPICS.values(), ids=SAFETY_TOPICS.keys())
def test_safety_topic_is_taught_in_some_lesson(patterns):
    teaching = [lesson.slug for lesson in LESSONS if all(re.search(pattern, lesson.body, re.I) for pattern in patterns)]

    assert teaching, f"no lesson body mentions all of {patterns}"


def test_opioid_lesson_teaches_overdose_after_stopping():
    body = " ".join(OPIOIDS.body.split())

    assert not teaches(body, [r"tolerance", r"opioid-free gap", r"after stopping", r"overdose"])
    # NICE TA115's two routes to a fatal overdose.
    assert not teaches(body, [r"large dose to try to beat the block", r"going back to using after losing tolerance"])
    # Gibson & Degenhardt 2007 and Degenhardt 2015, against methadone.
    assert not teaches(body, [r"7 times", r"22 deaths", r"3\.5 times", r"riskiest weeks of methadone"])


def test_advice_after_stopping_is_the_same_wherever_it_is_taught():
    """Content corrections 1: wherever overdose after stopping is taught, point to methadone and buprenorphine."""
    advice = "talk to your drug service about methadone or buprenorphine"
    teaching = [
        (lesson.slug, lesson.body) for lesson in LESSONS if re.search(r"if you stop, or miss doses", lesson.body, re.I)
    ]
    teaching.append(("misconception", COURSE.misconceptions["old-dose-safe-after-stopping"].learner))

    assert len(teaching) >= 3
    for where, text in teaching:
        assert re.search(advice, " ".join(text.split()), re.I), where


def test_naloxone_is_named_as_what_a_naltrexone_tablet_cannot_do():
    overdose = " ".join(dict(sections(PAIN))["Spotting an overdose"].split())

    assert re.search(r"naltrexone tablet cannot reverse an overdose", overdose)


def test_the_three_days_a_week_schedule_is_left_to_the_prescriber():
    for lesson in (OPIOIDS, STARTING):
        body = " ".join(lesson.body.split())
        at = re.search(r"150 mg on (Friday|a third day)", body)
        assert at, lesson.slug
        assert re.search(r"follow the days and doses they give you", body[at.end() : at.end() + 200]), lesson.slug


def test_opioid_lesson_names_methadone_and_buprenorphine_as_the_strongest_evidence():
    body = " ".join(OPIOIDS.body.split())

    assert re.search(r"Methadone and buprenorphine have the strongest evidence", body)
    assert re.search(r"lower the risk of dying from an overdose", body)


@pytest.mark.parametrize("lesson", [OPIOIDS, STARTING, PAIN], ids=lambda lesson: lesson.slug)
def test_lessons_on_the_opioid_free_gap_or_blocked_pain_relief_name_everyday_opioids(lesson):
    missing = teaches(lesson.body, EVERYDAY_OPIOIDS + ["heroin", "methadone"])

    assert not missing, f"{lesson.slug} does not name {missing}"


@per_lesson
def test_any_lesson_teaching_the_gap_or_pain_relief_names_everyday_opioids(lesson):
    if re.search(r"opioid-free gap|opioid pain relief|painkillers", lesson.body, re.I):
        assert not teaches(lesson.body, EVERYDAY_OPIOIDS[:4])


def test_precipitated_withdrawal_says_how_soon_how_long_and_what_to_do():
    body = " ".join(STARTING.body.split())

    assert not teaches(body, [r"precipitated withdrawal", r"within minutes", r"up to about 48 hours"])
    assert not teaches(body, [r"NHS 111", r"999 if it is severe", r"never take .{0,60}opioid to ease it"])
    # The opioid lesson, where withdrawal is first met, says the same in brief.
    assert not teaches(OPIOIDS.body, [r"within minutes", r"48 hours"])


def test_checks_before_starting_are_required():
    body = " ".join(STARTING.body.split())

    assert re.search(r"not optional", body)
    assert re.search(r"must not start until both are clear", body)
    assert not teaches(body, [r"urine test that shows no opioids", r"naloxone challenge"])


def test_overdose_signs_and_first_aid_are_taught_before_any_quiz_asks_about_them():
    taught_at = next(
        index
        for index, lesson in enumerate(LESSONS)
        if not teaches(lesson.body, OVERDOSE_SIGNS) and not teaches(lesson.body, OVERDOSE_FIRST_AID)
    )
    asked_at = [index for index, lesson in enumerate(LESSONS) if ASKS_ABOUT_OVERDOSE.search(quiz_text(lesson))]

    assert LESSONS[taught_at] is OPIOIDS
    assert asked_at, "no quiz asks what to do in an overdose"
    assert taught_at <= min(asked_at), f"asked in {LESSONS[min(asked_at)].slug} before it is taught"


def test_overdose_lesson_repeats_signs_and_first_aid():
    assert not teaches(PAIN.body, OVERDOSE_SIGNS)
    assert not teaches(PAIN.body, OVERDOSE_FIRST_AID[:2] + [r"recovery position", r"stay with them", r"another dose"])


def test_liver_evidence_is_stated_fairly():
    body = " ".join(STARTING.body.split())

    assert not teaches(body, [r"89 trials", r"26 of the trials", r"most were short", r"used opioids were left out"])
    assert not teaches(body, [r"not liver harm on its own", r"before you start and during treatment"])
    assert re.search(r"severe kidney disease", body)


def test_supervision_is_not_taught_as_what_makes_tablets_work():
    body = " ".join(OPIOIDS.body.split())

    assert re.search(r"no better than a dummy pill", body)
    assert re.search(r"does not show that supervision makes the tablets work", body)
    for question in OPIOIDS.quiz:
        for choice in question.choices:
            if choice.correct:
                assert not re.search(r"supervis|watch", choice.text, re.I), choice.text


def test_doses_are_given_and_the_prescriber_decides():
    body = " ".join(STARTING.body.split())

    assert re.search(r"50 mg tablet once a day", body)
    assert re.search(r"25 mg", body) and re.search(r"100 mg", body)
    assert re.search(r"more than 150 mg in a day", body) and re.search(r"prescriber decides", body)
    assert re.search(r"50 mg tablet once a day", ALCOHOL.body)
    assert re.search(r"more than 150 mg in a day", OPIOIDS.body)


def test_smaller_points_from_the_review():
    assert re.search(r"not licensed in the UK", OPIOIDS.body)
    assert re.search(r"not recommended while you are breastfeeding", STARTING.body)
    for lesson in (STARTING, ALCOHOL):
        assert re.search(r"sleepy or dizzy.{0,40}do not drive", " ".join(lesson.body.split())), lesson.slug
    operations = dict(sections(PAIN))["Planned operations"]
    assert re.search(r"opioid-free gap and the checks apply again", " ".join(operations.split()))
    assert not re.search(r"brain scans? (show|have shown)", RECEPTORS.body + ALCOHOL.body, re.I)
    assert not re.search(r"brain scan studies show", quiz_text(RECEPTORS) + quiz_text(ALCOHOL), re.I)
    assert re.search(r"one small", RECEPTORS.body, re.I)
    alcohol = " ".join(ALCOHOL.body.split())
    assert re.search(r"Cochrane review.{0,200}0\.83", alcohol)
    assert re.search(r"JAMA in 2014.{0,120}every 12 people", alcohol)
    nalmefene = " ".join(dict(sections(TREATMENT))["Nalmefene"].split())
    assert not teaches(nalmefene, [r"NICE", r"dependent on alcohol", r"two weeks after", r"detox", r"ongoing support"])


# --- Quizzes --------------------------------------------------------------------------------


def test_course_uses_all_three_question_kinds():
    used = {question.kind for question in QUESTIONS}

    assert used == set(QUESTION_KINDS)


def test_every_misconception_is_defined_and_used():
    used = {
        choice.misconception
        for question in QUESTIONS
        for choice in question.choices
        if choice.misconception and not choice.correct
    }

    assert used == set(COURSE.misconceptions)


def test_misconceptions_have_short_titles_for_counsellors():
    for code, item in COURSE.misconceptions.items():
        assert item.title.strip() and len(item.title) <= 60, code


def test_deadly_beliefs_are_marked_safety_critical_and_tested_by_a_warning_choice():
    for code in DEADLY_BELIEFS:
        assert COURSE.misconceptions[code].safety_critical, code
        assert any(
            choice.safety_critical and not choice.correct and choice.misconception == code
            for question in QUESTIONS
            for choice in question.choices
        ), f"no safety-critical wrong choice tests {code}"


def test_safety_critical_choices_are_wrong_and_warn_plainly():
    flagged = [choice for question in QUESTIONS for choice in question.choices if choice.safety_critical]

    assert len(flagged) >= len(DEADLY_BELIEFS)
    for choice in flagged:
        assert not choice.correct, choice.text
        assert not re.match(r"(not quite|no\b|nope|wrong)", choice.feedback, re.I), choice.feedback


def test_wrong_choice_whose_feedback_warns_of_harm_shows_the_warning():
    unmarked = [
        choice.text
        for question in QUESTIONS
        for choice in question.choices
        if not choice.correct and WARNS_OF_HARM.search(choice.feedback) and not shows_warning(choice)
    ]

    assert not unmarked, unmarked


def test_not_quite_is_used_rarely():
    count = sum(choice.feedback.count("Not quite") for question in QUESTIONS for choice in question.choices)

    assert count <= 3


@per_lesson
def test_lesson_has_five_questions(lesson):
    assert len(lesson.quiz) == QUESTIONS_PER_LESSON


@per_lesson
def test_every_choice_has_its_own_feedback(lesson):
    for number, question in enumerate(lesson.quiz, start=1):
        feedback = [choice.feedback.strip() for choice in question.choices]
        assert all(feedback), f"question {number} has a choice without feedback"
        assert len(set(feedback)) == len(feedback), f"question {number} repeats feedback across choices"


@per_lesson
def test_wrong_choices_reveal_misconceptions(lesson):
    tagged = [
        choice for question in lesson.quiz for choice in question.choices if choice.misconception and not choice.correct
    ]

    assert tagged, "no wrong choice in this quiz points to a misconception"
    assert not [
        choice for question in lesson.quiz for choice in question.choices if choice.misconception and choice.correct
    ]


def test_true_false_questions_keep_true_first_and_are_balanced():
    true_false = [question for question in QUESTIONS if question.kind == "true_false"]
    for question in true_false:
        assert [choice.text for choice in question.choices] == ["True", "False"], question.prompt
        assert question.shuffle is False, question.prompt
    answers = Counter(question.choices[correct_index(question)].text for question in true_false)

    assert max(answers.values()) <= 0.6 * len(true_false), answers


@per_lesson
def test_true_false_answers_are_mixed_within_a_lesson(lesson):
    answers = {
        question.choices[correct_index(question)].text for question in lesson.quiz if question.kind == "true_false"
    }
    count = len([question for question in lesson.quiz if question.kind == "true_false"])

    assert count < 2 or len(answers) == 2


def test_multiple_answer_questions_have_right_and_wrong_choices():
    for question in QUESTIONS:
        if question.kind == "multiple":
            correct = [choice.correct for choice in question.choices]
            assert any(correct) and not all(correct), question.prompt


@pytest.mark.parametrize(
    "questions",
    [lesson.quiz for lesson in LESSONS] + [QUESTIONS],
    ids=[lesson.slug for lesson in LESSONS] + ["whole course"],
)
def test_the_correct_choice_does_not_give_itself_away(questions):
    single = singles(questions)
    if len(single) < 3:
        return
    positions = Counter(correct_index(question) for question in single)
    longest = sum(correct_is_longest(question) for question in single)

    assert max(positions.values()) <= len(single) / 2, positions
    limit = len(single) / 4 if questions is QUESTIONS else len(single) / 2
    assert longest <= limit, f"the correct choice is the longest in {longest} of {len(single)}"


def test_most_questions_are_scenarios_about_a_named_person():
    scenarios = [question for question in QUESTIONS if SCENARIO.match(question.prompt)]

    assert len(scenarios) >= len(QUESTIONS) / 2


@per_lesson
def test_every_lesson_has_a_scenario_question(lesson):
    assert any(SCENARIO.match(question.prompt) for question in lesson.quiz)


def test_each_name_tells_one_story():
    """A name met again in another question would read as the same person's story going on."""
    for name in SCENARIO_NAMES:
        telling = [question.prompt for question in QUESTIONS if re.search(rf"\b{name}\b", question_text(question))]
        assert len(telling) <= 1, f"{name} is in {len(telling)} stories: {telling}"


def test_the_shipped_course_draws_no_quality_warning():
    """The platform's own checks (flask courses validate, /author/) find nothing to fix.

    Judged on the day of the last review, so this test does not start failing when the next
    review falls due; the overdue warning itself is tested in tests/services/test_course_quality.py.
    """
    assert [str(w) for w in course_warnings(COURSE, today=COURSE.review.reviewed_on)] == []
