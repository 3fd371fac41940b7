"""Forms for authoring the course. They check the shape of input; the course rules live in
app/services/authoring.py, whose errors are put back on these fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import DateInput, HiddenInput

from app.question_kinds import KINDS
from app.services.authoring import DIRECTIONS, ChoiceInput, QuestionInput, ReviewInput, SourceInput

KIND_CHOICES = [SelectChoice(kind.name, kind.label) for kind in KINDS.values()]
BLANK_CHOICE_ROWS = 3
TITLE = [DataRequired(message="Give it a title."), Length(max=200)]
SLUG = [DataRequired(message="Give it a short address, e.g. “side-effects”."), Length(max=80)]


class MoveForm(FlaskForm):
    """The up and down buttons beside a module, lesson or question."""

    direction = HiddenField(validators=[AnyOf(DIRECTIONS, message="Move up or down.")])


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _finite(value):
    # "NaN", "sNaN" and "Infinity" parse as decimals; NumberRange cannot compare a signalling NaN.
    return value if value is None or value.is_finite() else None


class CourseForm(FlaskForm):
    """The course's title, summary, pass mark, content review and shared help text.

    The review dates are taken as text (a date picker where the browser has one) and judged by
    the course rules, so a bad date gets the same message as in the course files.
    """

    title = StringField("Title", validators=TITLE)
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


def sources_text(sources: list[dict] | None) -> str:
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


class ModuleForm(FlaskForm):
    """A module's slug (only when adding one) and title."""

    slug = StringField("Short address (slug)", validators=SLUG)
    title = StringField("Title", validators=TITLE)


class LessonForm(FlaskForm):
    """A lesson's slug (only when adding one), title, reading time, module and Markdown body."""

    slug = StringField("Short address (slug)", validators=SLUG)
    title = StringField("Title", validators=TITLE)
    minutes = IntegerField(
        "Reading time (minutes)",
        validators=[InputRequired(message="Give a whole number of minutes."), NumberRange(min=1, max=600)],
    )
    module = SelectField("Module", validate_choice=True)
    body = TextAreaField("Lesson text (Markdown)", validators=[Length(max=100_000)], render_kw={"rows": 18})
    sources = TextAreaField("Sources, one a line", validators=[Length(max=20_000)], render_kw={"rows": 4})
    save = SubmitField("Save to draft")
    preview = SubmitField("Preview")

    def set_modules(self, modules: list[dict]) -> None:
        """Offer the draft's modules."""
        self.module.choices = [SelectChoice(m["slug"], m["title"]) for m in modules]


class ChoiceForm(Form):
    """One row of a question's choices; a row left blank is ignored, so blank rows add choices."""

    choice_id = IntegerField(widget=HiddenInput(), validators=[Optional()])
    text = StringField("Text", validators=[Length(max=1000)])
    correct = BooleanField("Correct")
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


class QuestionForm(FlaskForm):
    """A question with all its choices, saved as one unit."""

    kind = SelectField("Kind", choices=KIND_CHOICES, validate_choice=True)
    prompt = TextAreaField("Question", validators=[DataRequired(message="Write the question.")], render_kw={"rows": 2})
    explanation = TextAreaField(
        "Explanation (shown after answering)",
        validators=[DataRequired(message="Explain the right answer.")],
        render_kw={"rows": 3},
    )
    shuffle = BooleanField("Shuffle the choices for each attempt", default=True)
    choices = FieldList(FormField(ChoiceForm), max_entries=30)

    def set_codes(self, codes: list[str]) -> None:
        """Offer the course's misconception codes in every row."""
        options = [SelectChoice("", "None")] + [SelectChoice(code, code) for code in codes]
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


def question_form_data(question: dict | None) -> dict:
    """Initial form data for a question from the draft, with blank rows for new choices."""
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
        "kind": question.get("kind"),
        "prompt": question.get("prompt"),
        "explanation": question.get("explanation"),
        "shuffle": question.get("shuffle", True) is not False,
        "choices": rows,
    }


class MisconceptionForm(FlaskForm):
    """A misconception's code (only when adding one), short title, safety mark and two texts."""

    code = StringField("Code", validators=SLUG)
    # Its 80-character limit is a course rule, checked (with its message) by the authoring service.
    title = StringField("Short title", validators=[Length(max=1000)])
    safety_critical = BooleanField("Safety-critical: believing it could cause serious harm")
    learner = TextAreaField(
        "What the learner is told", validators=[DataRequired(message="Write what the learner is told.")]
    )
    counsellor = TextAreaField(
        "Talking point for the counsellor", validators=[DataRequired(message="Write the counsellor's talking point.")]
    )


def apply_errors(form: FlaskForm, field_errors: dict[str, list[str]], names: dict[str, object]) -> list[str]:
    """Put service errors on the form fields they belong to; return the messages no field took.

    ``names`` maps the service's field names to form fields.
    """
    left = []
    for name, messages in field_errors.items():
        target = names.get(name)
        if target is None:
            left += messages
        else:
            target.errors = list(target.errors) + list(messages)
    return left


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
