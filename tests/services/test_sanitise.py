"""Author content is sanitised on import and save: known XSS payloads never survive."""

import copy

import pytest
from sqlalchemy import select

from app.models import Choice, Course, Lesson, Misconception, Module, Question
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.errors import CourseInvalid
from app.services.markdown import render_markdown, sanitise_text
from tests.factories import COURSE, default_lessons, write_course

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:text/html,<script>alert(1)</script>)",
    '<iframe src="https://evil.example"></iframe>',
    '<p style="color:red">styled</p>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<object data="javascript:alert(1)"></object>',
    "javascript:alert(1)",
    # Tags left unclosed, or broken over lines: still tags to a browser or another system.
    "<img src=x onerror=alert(1)",
    "<svg/onload=alert(1)",
    "<script\n>alert(1)</script>",
    "<iframe\n>",
]
FORBIDDEN = ["<script", "onerror", "onload", "javascript:", "vbscript:", "data:", "<iframe", "style=", "<object"]


def assert_clean(text: str, where: str) -> None:
    lowered = text.lower()
    found = [bad for bad in FORBIDDEN if bad in lowered]
    assert not found, f"{where} kept {found}: {text!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_rendered_markdown_drops_the_payload(payload):
    assert_clean(render_markdown(f"Before\n\n{payload}\n\nAfter"), "rendered HTML")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_text_fields_drop_the_payload(payload):
    assert_clean(sanitise_text(f"Before {payload} after"), "text")


def test_plain_text_keeps_ordinary_writing():
    text = "Tom & Jerry: 5 < 6, and 7 > 3. Data: see the leaflet."
    assert sanitise_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Visit <https://www.nhs.uk/> or e-mail <help@clinic.example>.",  # Markdown autolinks
        "Take it with food <or milk> if you feel sick.",
        "If x<y and more follows, it stays.",
        "Write to <your prescriber's name> at the surgery.",
        "Most people notice the effect in <a few weeks. Keep taking it.",
        "The block fades within <a day or two. Opioids taken then act more strongly.",
        "If a<b, b is the larger.",
        "Take <u then v, every day.",
    ],
)
def test_writing_with_angle_brackets_that_is_not_markup_is_kept_whole(text):
    """The sanitiser once took everything from such a "<" on: the author saw their words gone."""
    assert sanitise_text(text) == text


def test_markup_beside_kept_writing_still_goes():
    assert sanitise_text("Food <or milk> <b>now</b> <x onclick=alert(1)>ok") == "Food <or milk> now ok"


def course_with(tmp_path, payload: str):
    """The factory course files with ``payload`` added to the body and every text field (on one
    line in a title, which the rules keep to one line)."""
    one_line = " ".join(payload.split())
    course = copy.deepcopy(COURSE)
    course["title"] += one_line
    course["summary"] += payload
    course["modules"][0]["title"] += one_line
    course["misconceptions"]["blocks-are-boosts"] = {"learner": "L " + payload, "counsellor": "C " + payload}
    lessons = default_lessons()
    lesson = lessons["one"]
    lesson["front"]["title"] += " " + one_line
    lesson["body"] += f"\n\n{payload}\n"
    question = lesson["front"]["quiz"][0]
    question["prompt"] += " " + payload
    question["explanation"] += " " + payload
    question["choices"][0]["text"] += " " + payload
    question["choices"][0]["feedback"] += " " + payload
    return write_course(tmp_path, course=course, lessons=lessons)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_course_files_with_markup_are_refused_naming_every_field(tmp_path, payload):
    """`flask courses validate` and an import say where: the text would not be stored as written."""
    with pytest.raises(CourseInvalid) as refused:
        load_course(course_with(tmp_path, payload))
    problems = refused.value.problems
    flagged = {(problem.file, problem.field) for problem in problems if "would be removed" in problem.message}
    assert flagged == {
        ("course.yaml", "title"),
        ("course.yaml", "summary"),
        ("course.yaml", "modules[1].title"),
        ("course.yaml", "misconceptions.blocks-are-boosts.learner"),
        ("course.yaml", "misconceptions.blocks-are-boosts.counsellor"),
        ("lessons/one.md", "title"),
        ("lessons/one.md", "body"),
        ("lessons/one.md", "quiz[1].prompt"),
        ("lessons/one.md", "quiz[1].explanation"),
        ("lessons/one.md", "quiz[1].choices[1].text"),
        ("lessons/one.md", "quiz[1].choices[1].feedback"),
    }


@pytest.mark.parametrize("payload", PAYLOADS)
def test_import_sanitises_the_body_and_every_text_field(session, tmp_path, payload, rules_let_markup_through):
    """Defence in depth: were the rules to let markup through, importing still stores none of it."""
    course_import(session, load_course(course_with(tmp_path, payload)))

    stored = {
        "course": [(c.title, c.summary) for c in session.scalars(select(Course))],
        "modules": [m.title for m in session.scalars(select(Module))],
        "misconceptions": [(m.learner_text, m.counsellor_text) for m in session.scalars(select(Misconception))],
        "lessons": [(x.title, x.body_markdown, x.body_html) for x in session.scalars(select(Lesson))],
        "questions": [(q.prompt, q.explanation) for q in session.scalars(select(Question))],
        "choices": [(c.text, c.feedback) for c in session.scalars(select(Choice))],
    }
    for where, values in stored.items():
        assert_clean(repr(values), where)
