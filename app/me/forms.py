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
