"""Forms for the learner's own page."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.auth.forms import password_long_enough, strip_text
from app.services.accounts import DISPLAY_NAME_MAX_LENGTH


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


class ChangePasswordForm(FlaskForm):
    """A new password for a signed-in account: the current one first, then the new one twice."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=200)]
    )
    password = PasswordField(
        "New password", validators=[DataRequired("Choose a new password."), password_long_enough, Length(max=200)]
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired("Type the new password again."), EqualTo("password", "The two new passwords differ.")],
    )


class ChangeNameForm(FlaskForm):
    """The name the account holder goes by on the site: the rules registration uses."""

    display_name = StringField(
        "Your name",
        filters=[strip_text],
        validators=[
            DataRequired("Enter the name you would like us to use."),
            Length(
                max=DISPLAY_NAME_MAX_LENGTH,
                message=f"Keep the name to {DISPLAY_NAME_MAX_LENGTH} characters or fewer.",
            ),
        ],
    )


class ChangeEmailForm(FlaskForm):
    """A new address for a signed-in account, with its current password: the link goes to the new address."""

    new_email = EmailField(
        "New e-mail address",
        filters=[strip_text],
        validators=[
            DataRequired("Enter your new e-mail address."),
            Email("Enter an e-mail address, like name@example.org."),
            Length(max=254),
        ],
    )
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=200)]
    )
