"""The form for making a personal access token on /me/tokens."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.api_tokens import NAME_MAX_LENGTH


class TokenForm(FlaskForm):
    """A name for the token and the scopes it gets; the choices are the ones the account may give."""

    name = StringField(
        "Name",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired("Give the token a name, such as the program that will use it."),
            Length(max=NAME_MAX_LENGTH, message=f"Keep the name to {NAME_MAX_LENGTH} characters or fewer."),
        ],
    )
    # This form's own key, kept on the token it makes (app/me/tokens.py): the page that shows a new
    # token answers the POST that made it, so a reload sends that POST again, and a double-click
    # sends it twice; the key tells them apart from a new request.
    once = HiddenField()
    scopes = SelectMultipleField(
        "What may it do?",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired("Choose at least one thing the token may do.")],
    )
