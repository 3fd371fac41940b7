"""Forms for the learner's own page."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password."), Length(max=200)])
    understood = BooleanField(
        "I understand this cannot be undone",
        validators=[DataRequired("Tick the box to confirm you understand.")],
    )


class DeleteLmsAccountForm(FlaskForm):
    """Deleting an account an LMS made (LTI): it has no password to give again, so the box alone confirms."""

    understood = BooleanField(
        "I understand this cannot be undone",
        validators=[DataRequired("Tick the box to confirm you understand.")],
    )


class ReminderSettingsForm(FlaskForm):
    """The e-mail reminders a person asks for; one checkbox per kind of reminder."""

    away_reminders = BooleanField("E-mail me when I have been away a week and have lessons left")
    review_reminders = BooleanField("E-mail me when I have questions to review")
