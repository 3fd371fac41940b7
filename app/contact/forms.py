"""The request form. Only the input's shape is checked here; the rules (which detail the chosen
method needs, what a phone number or address looks like) are app/services/contact_requests.py's."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectChoice, StringField, TelField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.models import ContactMethod
from app.services.contact_requests import (
    EMAIL_MAX_LENGTH,
    GOOD_TIMES_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    TOPIC_LABELS,
    contact_detail_checked,
)
from app.services.errors import ValidationError


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ContactRequestForm(FlaskForm):
    """Ask the clinic to contact you."""

    contact_by = RadioField(
        "How should we contact you?",
        choices=[
            SelectChoice(ContactMethod.PHONE.value, "By phone"),
            SelectChoice(ContactMethod.EMAIL.value, "By e-mail"),
        ],
        validators=[InputRequired("Choose how you would like us to contact you.")],
    )
    phone = TelField(
        "Phone number",
        filters=[_strip],
        validators=[Optional(), Length(max=PHONE_MAX_LENGTH, message="That is too long for a phone number.")],
    )
    email = EmailField(
        "E-mail address",
        filters=[_strip],
        validators=[Optional(), Length(max=EMAIL_MAX_LENGTH, message="That is too long for an e-mail address.")],
    )
    name = StringField(
        "Who should we ask for? (optional)",
        filters=[_strip],
        validators=[Optional(), Length(max=NAME_MAX_LENGTH, message=f"Keep the name to {NAME_MAX_LENGTH} characters.")],
    )
    good_times = StringField(
        "Good times to reach you (optional)",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=GOOD_TIMES_MAX_LENGTH, message=f"Keep this to {GOOD_TIMES_MAX_LENGTH} characters."),
        ],
    )
    topic = RadioField(
        "What is it about?",
        choices=[SelectChoice(topic.value, label) for topic, label in TOPIC_LABELS.items()],
        validators=[InputRequired("Choose what it is about.")],
    )
    note = TextAreaField(
        "Anything you would like us to know first (optional)",
        filters=[_strip],
        validators=[Optional(), Length(max=NOTE_MAX_LENGTH, message=f"Keep the note to {NOTE_MAX_LENGTH} characters.")],
    )
    attach_progress = BooleanField("Attach my course progress to this request")

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, and the chosen way's detail with them, so every problem shows at once.

        The service checks the detail again when it records the request; checked only there, a
        missing number showed only after the person had fixed everything else and sent it again.
        """
        valid = super().validate(extra_validators)
        chosen = {ContactMethod.PHONE.value: self.phone, ContactMethod.EMAIL.value: self.email}.get(
            self.contact_by.data or ""
        )
        if chosen is None or chosen.errors:
            return valid  # no way chosen (said already), or its detail refused already: one message is enough
        try:
            contact_detail_checked(self.contact_by.data or "", phone=self.phone.data, email=self.email.data)
        except ValidationError as problem:
            self[problem.field].errors.append(problem.message)
            return False
        return valid
