"""The question editor over HTTP, CSRF on: the right answer is picked as the quiz asks for it
(radio buttons for one right answer, checkboxes for several), misconceptions are picked by what
authors know them by, and the question is previewed with the learner's own macros."""

from __future__ import annotations

import html
import re

import pytest

from app.author.forms import misconception_label, shorten
from app.models import Role
from app.question_kinds import KINDS
from tests.conftest import create_user, login
from tests.views.test_author_routes import BASE, FIRST, SPEC, draft, form_values

SECOND = SPEC.modules[0].lesson_slugs[1]
SINGLE = f"{BASE}/lessons/{FIRST}/questions/1/edit"  # right answer: the third choice
TRUE_FALSE = f"{BASE}/lessons/{FIRST}/questions/2/edit"  # "False" is safety-critical
MULTIPLE = f"{BASE}/lessons/{SECOND}/questions/2/edit"  # the first two choices are right


@pytest.fixture
def admin(app, client, course):
    """A client logged in as an admin, with the factory course published."""
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


@pytest.fixture
def learner(app, course):
    """Another client, logged in as a learner."""
    learner_client = app.test_client()
    create_user(app, "learner@example.org")
    assert login(learner_client).status_code == 302
    return learner_client


def inputs(page: str, name: str) -> list[str]:
    """Every <input> tag the page has with this name."""
    return re.findall(rf'<input[^>]*\sname="{re.escape(name)}"[^>]*>', page)


def is_on(tag: str, attribute: str) -> bool:
    return bool(re.search(rf"\s{attribute}[\s>]", tag))


def saved_choices(app, lesson: str, position: int) -> list[dict]:
    return draft(app)["lessons"][lesson]["front"]["quiz"][position - 1]["choices"]


def preview_of(page: str) -> str:
    return re.search(r'<div class="preview editor-preview" id="question-preview">.*', page, re.S).group(0)


# --- the right answer: radio buttons or checkboxes, by the kind -----------------------------


@pytest.mark.parametrize(("url", "right"), [(SINGLE, 2), (TRUE_FALSE, 0)])
def test_a_question_with_one_right_answer_picks_it_with_radio_buttons(admin, url, right):
    page = admin.get(url).get_data(as_text=True)

    radios = inputs(page, "correct")
    assert radios and all('type="radio"' in tag and not is_on(tag, "disabled") for tag in radios)
    assert [is_on(tag, "checked") for tag in radios][: right + 1] == [False] * right + [True]
    assert sum(is_on(tag, "checked") for tag in radios) == 1
    assert '<label for="correct-0">The right answer</label>' in page
    # The checkboxes are there for the script only: hidden, and disabled so they send nothing.
    boxes = [tag for row in range(len(radios)) for tag in inputs(page, f"choices-{row}-correct")]
    assert boxes and all(is_on(tag, "disabled") for tag in boxes)
    assert '<div class="check" data-correct="checkbox" hidden>' in page
    assert "Pick the one right answer" in page


def test_a_question_with_several_right_answers_ticks_them_with_checkboxes(admin):
    page = admin.get(MULTIPLE).get_data(as_text=True)

    ticked = [is_on(inputs(page, f"choices-{row}-correct")[0], "checked") for row in range(3)]
    assert ticked == [True, True, False]
    assert not any(is_on(inputs(page, f"choices-{row}-correct")[0], "disabled") for row in range(3))
    assert '<label for="choices-0-correct">A right answer</label>' in page
    assert all(is_on(tag, "disabled") for tag in inputs(page, "correct"))
    assert '<div class="check" data-correct="radio" hidden>' in page


def test_picking_another_radio_button_saves_that_choice_as_the_right_one(admin, app):
    response = admin.post(SINGLE, data=form_values(admin, SINGLE, correct="0"))

    assert response.status_code == 302
    assert [bool(choice.get("correct")) for choice in saved_choices(app, FIRST, 1)] == [True, False, False]


def test_ticking_a_third_checkbox_saves_three_right_answers(admin, app):
    response = admin.post(MULTIPLE, data=form_values(admin, MULTIPLE, **{"choices-2-correct": "y"}))

    assert response.status_code == 302
    assert [bool(choice.get("correct")) for choice in saved_choices(app, SECOND, 2)] == [True, True, True]


def test_a_kind_changed_on_a_page_without_script_keeps_the_picked_answer(admin, app):
    # The page showed radio buttons; the admin chose "multiple" and saved with one picked.
    response = admin.post(SINGLE, data=form_values(admin, SINGLE, kind="multiple"))

    assert response.status_code == 302
    question = draft(app)["lessons"][FIRST]["front"]["quiz"][0]
    assert question["kind"] == "multiple"
    assert [bool(choice.get("correct")) for choice in question["choices"]] == [False, False, True]
    page = admin.get(SINGLE).get_data(as_text=True)
    assert is_on(inputs(page, "choices-2-correct")[0], "checked")
    assert not is_on(inputs(page, "choices-2-correct")[0], "disabled")


def test_two_ticked_answers_for_a_single_answer_kind_are_refused_by_the_kinds_rule(admin, app):
    response = admin.post(MULTIPLE, data=form_values(admin, MULTIPLE, kind="single"))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="choices-error">A one-answer question (kind: single) needs exactly one correct choice, found 2<' in page
    assert draft(app) is None
    # Shown again with both ticks, on their checkboxes (a radio button holds one): none is lost,
    # and the hint says to leave one. The radio buttons are hidden and send nothing.
    boxes = [inputs(page, f"choices-{row}-correct")[0] for row in range(3)]
    assert [is_on(tag, "checked") for tag in boxes] == [True, True, False]
    assert not any(is_on(tag, "disabled") for tag in boxes)
    assert all(is_on(tag, "disabled") for tag in inputs(page, "correct"))
    assert '<span data-for="one-of-several">This kind of question has one right answer' in page
    assert '<span data-for="checkbox" hidden>' in page and '<span data-for="radio" hidden>' in page
    assert '<option selected value="single">' in page


def test_a_single_answer_question_saves_once_one_of_the_checkboxes_is_left(admin, app):
    form = form_values(admin, MULTIPLE, kind="single")
    del form["choices-1-correct"]

    assert admin.post(MULTIPLE, data=form).status_code == 302

    question = draft(app)["lessons"][SECOND]["front"]["quiz"][1]
    assert question["kind"] == "single"
    assert [bool(choice.get("correct")) for choice in question["choices"]] == [True, False, False]


def test_a_true_false_question_needs_its_one_right_answer(admin, app):
    form = form_values(admin, TRUE_FALSE)
    del form["correct"]

    response = admin.post(TRUE_FALSE, data=form)

    assert response.status_code == 400
    assert "A true-or-false question (kind: true_false) needs exactly one correct choice, found 0" in response.get_data(
        as_text=True
    )


# --- misconceptions, picked by their title or learner text ----------------------------------


def options(page: str, name: str) -> list[tuple[str, str]]:
    """(value, text) of each option of the page's select ``name``."""
    block = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [(value, html.unescape(text)) for value, text in re.findall(r'value="([^"]*)"[^>]*>([^<]*)<', block)]


def test_misconceptions_are_offered_by_title_with_the_code_as_value(admin):
    page = admin.get(SINGLE).get_data(as_text=True)

    assert options(page, "choices-1-misconception") == [
        ("", "None"),
        ("full-kettle-is-quicker", "Thinks a full kettle makes tea sooner"),
        ("hotter-is-better", "Thinks hotter water always makes better tea"),
        ("steam-is-harmless", "Thinks steam from a kettle cannot burn (safety-critical)"),
    ]
    assert re.search(r'<option selected value="full-kettle-is-quicker">', page)


def test_a_misconception_without_a_title_is_offered_by_the_start_of_its_learner_text(admin):
    url = f"{BASE}/misconceptions/full-kettle-is-quicker/edit"
    assert admin.post(url, data=form_values(admin, url, title="")).status_code == 302

    offered = dict(options(admin.get(SINGLE).get_data(as_text=True), "choices-0-misconception"))

    assert offered["full-kettle-is-quicker"] == (
        "A full kettle takes longer to boil than one with just enough water. Boil only what you…"
    )


def test_picking_a_misconception_saves_its_code(admin, app):
    form = form_values(admin, SINGLE, **{"choices-0-misconception": "hotter-is-better"})

    assert admin.post(SINGLE, data=form).status_code == 302

    assert saved_choices(app, FIRST, 1)[0]["misconception"] == "hotter-is-better"


def test_an_unknown_misconception_code_is_refused_beside_its_row(admin, app):
    response = admin.post(SINGLE, data=form_values(admin, SINGLE, **{"choices-0-misconception": "made-up"}))

    assert response.status_code == 400
    assert 'id="choices-0-misconception-error">Not a valid choice.<' in response.get_data(as_text=True)
    assert draft(app) is None


# --- the question as learners see it --------------------------------------------------------


def normalised(fieldset: str) -> str:
    """A question's fieldset with its row ids taken out: the preview's are not the database's."""
    return re.sub(r'(question-|choice-|value=")\d+', r"\1N", fieldset)


def test_the_preview_asks_the_question_exactly_as_the_quiz_does(admin, learner):
    quiz = learner.get(f"/courses/{SPEC.slug}/lessons/{FIRST}/quiz").get_data(as_text=True)
    page = admin.get(TRUE_FALSE).get_data(as_text=True)

    asked = re.search(r'<fieldset class="question" id="question-\d+">.*?</fieldset>', preview_of(page), re.S).group(0)
    in_quiz = re.findall(r'<fieldset class="question" id="question-\d+">.*?</fieldset>', quiz, re.S)[1]
    assert normalised(asked) == normalised(in_quiz)  # pinned order (shuffle: false), so the same order too
    assert "Learners see the choices in this order." in preview_of(page)


def test_the_preview_shows_what_each_choice_tells_the_learner(admin):
    preview = preview_of(admin.get(TRUE_FALSE).get_data(as_text=True))

    results = re.findall(r'<li class="feedback (feedback-\w+)">(.*?)<p class="explanation">', preview, re.S)
    assert [kind for kind, _ in results] == ["feedback-right", "feedback-danger"]
    right, dangerous = (text for _, text in results)
    assert "You chose</span> True" in right and "Right. Steam can burn badly" in right
    assert "Warning: this answer could be dangerous" in dangerous
    assert '<div class="safety-warning" role="note" aria-label="Safety warning">' in dangerous
    assert "A common mix-up:</strong> Steam from a kettle can burn your skin badly." in dangerous
    assert preview.count("<strong>Why:</strong> Steam is hotter than boiling water") == 2


def test_one_right_answer_alone_is_not_right_for_a_multiple_question(admin):
    preview = preview_of(admin.get(MULTIPLE).get_data(as_text=True))

    assert preview.count("Not right this time") == 3
    assert preview.count("The right answers were: How much tea you put in the pot; How long the tea brews.") == 3
    assert "Each attempt shows the choices in a new order" in preview


def test_preview_shows_the_typed_question_and_saves_nothing(admin, app):
    form = form_values(admin, SINGLE, preview="Preview", **{"choices-0-feedback": "Typed, <b>not saved</b>."})

    response = admin.post(SINGLE, data=form)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Preview of your question (not saved yet)" in page
    assert "Typed, not saved." in preview_of(page)  # cleaned as saving would clean it
    assert draft(app) is None


def test_a_new_question_has_no_preview_until_it_has_words(admin):
    url = f"{BASE}/lessons/{FIRST}/questions/new"
    page = admin.get(url).get_data(as_text=True)
    assert 'id="question-preview"' not in page

    form = form_values(admin, url, prompt="A typed question?", preview="Preview")
    form |= {"choices-0-text": "Yes", "choices-0-feedback": "Right.", "correct": "0"}
    preview = preview_of(admin.post(url, data=form).get_data(as_text=True))

    assert "Question 4</span> A typed question?" in preview
    assert "You chose</span> Yes" in preview and "✓</span> Right" in preview


def test_a_long_learner_text_is_cut_at_a_word_and_a_short_one_kept_whole():
    assert shorten("Short  and\nsweet.", 90) == "Short and sweet."
    assert shorten("one two three four", 12) == "one two…"
    assert misconception_label("code", {"learner": "", "counsellor": "C."}) == "code"
    assert misconception_label("code", {"title": " ", "learner": "Plain words.", "counsellor": "C."}) == "Plain words."


def test_the_lessons_question_list_names_each_kind_as_the_editor_does(admin):
    page = admin.get(f"{BASE}/lessons/{FIRST}/edit").get_data(as_text=True)
    kinds = [" ".join(meta.split()) for meta in re.findall(r'<span class="lesson-meta">(.*?)</span>', page, re.S)]
    editor = admin.get(SINGLE).get_data(as_text=True)

    assert kinds[:2] == [f"{KINDS['single'].label} · 3 choices", KINDS["true_false"].label]
    assert all(f">{KINDS[name].label}</option>" in editor for name in ("single", "true_false"))


def test_the_outline_marks_safety_critical_misconceptions_in_words(admin):
    page = admin.get("/author/").get_data(as_text=True)
    items = dict(re.findall(r'<span class="lesson-link">([a-z-]+)(.*?)</li>', page, re.S))

    assert "Safety-critical" in items["steam-is-harmless"]  # the factory course's safety-critical one
    assert "Safety-critical" not in items["hotter-is-better"] + items["full-kettle-is-quicker"]
