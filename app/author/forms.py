"""Forms for authoring the course. They check the shape of input; the course rules live in
app/services/authoring/, whose errors ``populate_errors`` puts back on these fields."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import ClassVar

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.core import Field
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import DateInput, HiddenInput

from app.question_kinds import KINDS, QuestionKind
from app.services.authoring import (
    DIRECTIONS,
    ChoiceInput,
    DraftInvalid,
    MisconceptionData,
    ModuleData,
    QuestionData,
    QuestionInput,
    ReviewInput,
    SourceData,
    SourceInput,
    question_fingerprint,
)

KIND_CHOICES = [SelectChoice(kind.name, kind.label) for kind in KINDS.values()]
BLANK_CHOICE_ROWS = 3
# The longest lesson text the editor takes; the live preview refuses a longer one with 413.
BODY_MAX_LENGTH = 100_000
# A misconception's learner text, shortened to this many characters where a title would go.
PICKER_TEXT_LENGTH = 90
TITLE = [DataRequired(message="Give it a title."), Length(max=200)]
SLUG = [DataRequired(message="Give it a short address, e.g. “side-effects”."), Length(max=80)]


class AuthoringForm(FlaskForm):
    """A form whose fields show the authoring service's errors (see ``populate_errors``).

    The service names an item's inputs (``DraftInvalid.field_errors``); a field of the same
    name takes them, unless ``error_aliases`` maps the name to another field.
    """

    error_aliases: ClassVar[dict[str, str]] = {}

    def take_errors(self, name: str, messages: list[str]) -> bool:
        """Show the service's messages about input ``name`` beside its field; False if no field has it."""
        target = self.error_field(name)
        if target is None:
            return False
        target.errors = list(target.errors) + list(messages)
        return True

    def error_field(self, name: str) -> Field | None:
        """The field that shows the service's errors about input ``name``, if any."""
        name = self.error_aliases.get(name, name)
        return None if name == "csrf_token" else self._fields.get(name)


def populate_errors(form: AuthoringForm, invalid: DraftInvalid) -> list[str]:
    """Put the service's errors beside the form's fields; return the rest, for the summary at the top.

    FlaskBB's ``populate_errors``, with one difference: a message no field takes is not lost.
    """
    left = []
    for name, messages in invalid.field_errors.items():
        if not form.take_errors(name, messages):
            left += messages
    return left + invalid.other


class MoveForm(FlaskForm):
    """The up and down buttons beside a module, lesson or question."""

    direction = HiddenField(validators=[AnyOf(DIRECTIONS, message="Move up or down.")])


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _finite(value):
    # "NaN", "sNaN" and "Infinity" parse as decimals; NumberRange cannot compare a signalling NaN.
    return value if value is None or value.is_finite() else None


class CourseForm(AuthoringForm):
    """The course's title, summary, pass mark, content review and shared help text.

    The review dates are taken as text (a date picker where the browser has one) and judged by
    the course rules, so a bad date gets the same message as in the course files.
    """

    error_aliases: ClassVar[dict[str, str]] = {
        "review": "reviewed_by",
        "review.reviewed_by": "reviewed_by",
        "review.reviewed_on": "reviewed_on",
        "review.next_review_on": "next_review_on",
        "review.changed_since_review_on": "reviewed_on",
    }

    title = StringField("Title", validators=TITLE)
    opened_as = HiddenField()  # course_fingerprint when the page was opened
    summary = TextAreaField("Summary", validators=[DataRequired(message="Say in a sentence or two what it is.")])
    pass_mark = DecimalField(
        "Pass mark (% of a quiz's questions right)",
        places=None,
        filters=[_finite],
        validators=[InputRequired(message="Give a number from 1 to 100."), NumberRange(min=1, max=100)],
    )
    reviewed_by = StringField("Reviewed by", validators=[Length(max=200)], filters=[_strip])
    reviewed_on = StringField("Reviewed on", widget=DateInput(), validators=[Length(max=40)], filters=[_strip])
    next_review_on = StringField("Next review due", widget=DateInput(), validators=[Length(max=40)], filters=[_strip])
    help = TextAreaField("Where to get help (Markdown)", validators=[Length(max=20_000)], render_kw={"rows": 10})

    def review_input(self) -> ReviewInput:
        """The review as the authoring service takes it (all empty: no review recorded)."""
        return ReviewInput(
            reviewed_by=self.reviewed_by.data or "",
            reviewed_on=self.reviewed_on.data or None,
            next_review_on=self.next_review_on.data or None,
        )


def sources_text(sources: Sequence[SourceData] | None) -> str:
    """A lesson's sources as the sources box shows them: one “Title | address” a line."""
    lines = []
    for source in sources or []:
        title, url = source.get("title") or "", source.get("url") or ""
        # A title with a bar in it and no address gets a closing bar, so it reads back whole.
        lines.append(f"{title} | {url}" if url else (f"{title} |" if "|" in title else title))
    return "\n".join(lines)


def parse_sources(text: str | None) -> list[tuple[int, SourceInput]]:
    """(line number, source) for every non-blank line of the sources box.

    The address follows the last “|” on the line; a line without one is a title alone.
    """
    sources = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        title, bar, url = line.rpartition("|")
        if not bar:
            title, url = line, ""
        sources.append((number, SourceInput(title=title.strip(), url=url.strip())))
    return sources


class ModuleForm(AuthoringForm):
    """A module's slug (only when adding one) and title."""

    slug = StringField("Short address (slug)", validators=SLUG)
    title = StringField("Title", validators=TITLE)
    opened_as = HiddenField()  # module_fingerprint when a module's page was opened (none when adding)


_SOURCE_INPUT = re.compile(r"^sources\[(\d+)\](?:\.(title|url))?$")
_SOURCE_PART = {"title": "the title", "url": "the address", None: "the source"}


class LessonForm(AuthoringForm):
    """A lesson's slug (only when adding one), title, reading time, module and Markdown body."""

    slug = StringField("Short address (slug)", validators=SLUG)
    title = StringField("Title", validators=TITLE)
    minutes = IntegerField(
        "Reading time (minutes)",
        validators=[InputRequired(message="Give a whole number of minutes."), NumberRange(min=1, max=600)],
    )
    module = SelectField("Module", validate_choice=True)
    body = TextAreaField("Lesson text (Markdown)", validators=[Length(max=BODY_MAX_LENGTH)], render_kw={"rows": 18})
    sources = TextAreaField("Sources, one a line", validators=[Length(max=20_000)], render_kw={"rows": 4})
    save = SubmitField("Save to draft")
    # The lesson as its page was opened on it (``lesson_fingerprint``): a save checks it still is.
    opened_as = HiddenField()
    preview = SubmitField("Preview")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.source_lines: list[int] = []  # each parsed source's line in the box (see source_inputs)

    def set_modules(self, modules: list[ModuleData]) -> None:
        """Offer the draft's modules."""
        self.module.choices = [SelectChoice(m["slug"], m["title"]) for m in modules]

    def source_inputs(self) -> list[SourceInput]:
        """The sources box as the service takes it; each source's line is kept for its error messages."""
        numbered = parse_sources(self.sources.data)
        self.source_lines = [line for line, _ in numbered]
        return [source for _, source in numbered]

    def take_errors(self, name: str, messages: list[str]) -> bool:
        """A source's errors go under the sources box, naming its line there."""
        match = _SOURCE_INPUT.match(name)
        if match is None and name != "sources":
            return super().take_errors(name, messages)
        prefix = ""
        if match:
            index = int(match.group(1)) - 1
            line = self.source_lines[index] if index < len(self.source_lines) else index + 1
            prefix = f"Line {line}: {_SOURCE_PART[match.group(2)]} "
        for message in messages:
            text = prefix + (message[:1].lower() + message[1:] if prefix else message)
            self.sources.errors = [*self.sources.errors, text]
        return True


class ChoiceForm(Form):
    """One row of a question's choices; a row left blank is ignored, so blank rows add choices."""

    choice_id = IntegerField(widget=HiddenInput(), validators=[Optional()])
    text = StringField("Text", validators=[Length(max=1000)])
    # The checkbox of a question with several right answers; one with a single right answer
    # shows QuestionForm.correct (radio buttons) instead. Either way this holds the answer.
    correct = BooleanField("A right answer")
    safety_critical = BooleanField("Safety-critical (could cause harm if believed)")
    feedback = TextAreaField("Feedback when chosen", validators=[Length(max=5000)], render_kw={"rows": 2})
    misconception = SelectField("Misconception it reveals", validate_choice=True)
    order = IntegerField("Order", validators=[Optional(), NumberRange(min=1, max=99)])
    remove = BooleanField("Remove this choice")

    def is_blank(self) -> bool:
        return not (
            (self.text.data or "").strip()
            or (self.feedback.data or "").strip()
            or self.correct.data
            or self.safety_critical.data
            or self.misconception.data
        )


_CHOICE_INPUT = re.compile(r"^choices\[(\d+)\]\.(\w+)$")
_CHOICE_FIELDS = {"text", "feedback", "correct", "safety_critical", "misconception", "id"}


class QuestionForm(AuthoringForm):
    """A question with all its choices, saved as one unit.

    The service numbers the saved choices from 1 (``choices[2].text``), in ``kept_rows`` order;
    errors about the choices as a whole go to ``choice_errors``, shown above the rows.

    The right answer is picked with a radio button per row (``correct``, whose value is the
    row's index) when the kind has one right answer, and with each row's checkbox when it may
    have several (``QuestionKind.input_type``, as on the quiz). Both are read, and folded into
    the rows' ``correct`` on the way in: a page whose kind was changed before it was sent still
    says what the admin ticked, and the kind's rules (the service) judge the result.
    """

    kind = SelectField("Kind", choices=KIND_CHOICES, validate_choice=True)
    correct = RadioField("The right answer", validate_choice=False)
    prompt = TextAreaField("Question", validators=[DataRequired(message="Write the question.")], render_kw={"rows": 2})
    explanation = TextAreaField(
        "Explanation (shown after answering)",
        validators=[DataRequired(message="Explain the right answer.")],
        render_kw={"rows": 3},
    )
    shuffle = BooleanField("Shuffle the choices for each attempt", default=True)
    choices = FieldList(FormField(ChoiceForm), max_entries=30)
    preview = SubmitField("Preview")
    # The question as the page was opened on it (``question_fingerprint``): a save checks it is still that one.
    opened_as = HiddenField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.choice_errors: list[str] = []
        self.correct.choices = [SelectChoice(str(row), "The right answer") for row in range(len(self.choices))]
        for row, entry in enumerate(self.choices):
            if self.correct.data == str(row):
                entry.form.correct.data = True
        right = [row for row, entry in enumerate(self.choices) if entry.form.correct.data]
        # The radio buttons can show one right answer; several (from checkboxes) stay on the rows.
        self.correct.data = str(right[0]) if len(right) == 1 else None

    def question_kind(self) -> QuestionKind:
        """The kind chosen on the form (a single-answer one until a known kind is chosen)."""
        return KINDS.get(self.kind.data or "", KINDS["single"])

    def answer_input_type(self) -> str:
        """How the page asks for the right answers: as the kind asks, but on checkboxes while several are ticked.

        Radio buttons can show only one tick, so a question made single-answer with two ticked
        keeps its checkboxes and both ticks: the admin sees what was ticked, and saving refuses
        it with the kind's rule until one is left.
        """
        ticked = sum(bool(entry.form.correct.data) for entry in self.choices)
        return "checkbox" if ticked > 1 else self.question_kind().input_type

    def take_errors(self, name: str, messages: list[str]) -> bool:
        """Errors about a choice go beside its row's field; about the choices as a whole, above the rows."""
        if name == "choices":
            self.choice_errors += messages
            return True
        match = _CHOICE_INPUT.match(name)
        if match is None:
            return super().take_errors(name, messages)
        rows, number, part = self.kept_rows(), int(match.group(1)), match.group(2)
        if part not in _CHOICE_FIELDS or not 1 <= number <= len(rows):
            return False
        target = self.choices[rows[number - 1]].form["choice_id" if part == "id" else part]
        target.errors = list(target.errors) + list(messages)
        return True

    def set_misconceptions(self, misconceptions: Mapping[str, MisconceptionData]) -> None:
        """Offer the course's misconceptions in every row, each named as authors know it (the code is the value)."""
        options = [SelectChoice("", "None")] + [
            SelectChoice(code, misconception_label(code, texts)) for code, texts in misconceptions.items()
        ]
        for entry in self.choices:
            entry.form.misconception.choices = options

    def kept_rows(self) -> list[int]:
        """Indexes of the rows to save, in the order the admin asked for."""
        rows = [i for i, entry in enumerate(self.choices) if not entry.form.remove.data and not entry.form.is_blank()]
        return sorted(rows, key=lambda i: (self.choices[i].form.order.data or 100, i))

    def to_input(self, rows: list[int]) -> QuestionInput:
        """The question as the authoring service takes it."""
        return QuestionInput(
            kind=self.kind.data,
            prompt=self.prompt.data or "",
            explanation=self.explanation.data or "",
            choices=[
                ChoiceInput(
                    text=entry.text.data or "",
                    feedback=entry.feedback.data or "",
                    correct=bool(entry.correct.data),
                    misconception=entry.misconception.data or None,
                    id=entry.choice_id.data,
                    safety_critical=bool(entry.safety_critical.data),
                )
                for entry in (self.choices[i].form for i in rows)
            ],
            shuffle=bool(self.shuffle.data),
        )


def shorten(text: str, length: int) -> str:
    """``text`` on one line, cut at a word break before ``length`` characters with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–—") + "…"


def misconception_label(code: str, texts: MisconceptionData) -> str:
    """How the question editor names a misconception: its short title, or else the start of
    what the learner is told; the code only when it has neither."""
    label = (texts.get("title") or "").strip() or shorten(texts.get("learner") or "", PICKER_TEXT_LENGTH) or code
    return f"{label} (safety-critical)" if texts.get("safety_critical") else label


def question_form_data(question: QuestionData | None) -> dict:
    """Initial form data for a question from the draft, with blank rows for new choices."""
    opened_as = question_fingerprint(question) if question is not None else ""
    question = question or {"kind": "single", "prompt": "", "explanation": "", "choices": []}
    rows = [
        {
            "choice_id": choice.get("id"),
            "text": choice.get("text", ""),
            "correct": bool(choice.get("correct")),
            "safety_critical": bool(choice.get("safety_critical")),
            "feedback": choice.get("feedback", ""),
            "misconception": choice.get("misconception") or "",
            "order": number,
        }
        for number, choice in enumerate(question.get("choices", []), start=1)
    ]
    rows += [{"order": len(rows) + n} for n in range(1, BLANK_CHOICE_ROWS + 1)]
    return {
        "opened_as": opened_as,
        "kind": question.get("kind"),
        "prompt": question.get("prompt"),
        "explanation": question.get("explanation"),
        "shuffle": question.get("shuffle", True) is not False,
        "choices": rows,
    }


class MisconceptionForm(AuthoringForm):
    """A misconception's code (only when adding one), short title, safety mark and two texts."""

    error_aliases: ClassVar[dict[str, str]] = {"": "code"}  # the misconception as a whole: beside its code

    code = StringField("Code", validators=SLUG)
    opened_as = HiddenField()  # misconception_fingerprint when its page was opened (none when adding)
    # Its 80-character limit is a course rule, checked (with its message) by the authoring service.
    title = StringField("Short title", validators=[Length(max=1000)])
    safety_critical = BooleanField("Safety-critical: believing it could cause serious harm")
    learner = TextAreaField(
        "What the learner is told", validators=[DataRequired(message="Write what the learner is told.")]
    )
    counsellor = TextAreaField(
        "Talking point for the counsellor", validators=[DataRequired(message="Write the counsellor's talking point.")]
    )


def error_links(form: FlaskForm) -> list[tuple[str, str]]:
    """(field id, message) for every field error, nested choice rows included, for a summary."""
    links = []
    for field in form:
        if field.type == "FieldList":
            for entry in field:
                for sub in entry.form:
                    links += [(sub.id, message) for message in sub.errors]
        elif field.name != "csrf_token":
            links += [(field.id, message) for message in field.errors if isinstance(message, str)]
    return links
