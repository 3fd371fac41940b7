"""Forms for registering and logging in; services check the rules beyond input shape."""

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from app.services.accounts import (
    DISPLAY_NAME_MAX_LENGTH,
    HIDDEN_MARKS_MESSAGE,
    name_has_hidden_marks,
    password_problem,
)


def strip_text(value):
    """A filter: the text without the spaces around it."""
    return value.strip() if isinstance(value, str) else value


def no_hidden_marks(form, field):
    """A validator: the name rule of accounts.display_name_checked, checked before the link is mailed
    (the account is made only once the link is opened, too late to ask again)."""
    if name_has_hidden_marks(field.data or ""):
        raise ValidationError(HIDDEN_MARKS_MESSAGE)


def password_long_enough(form, field):
    """A validator: the password rule every form that sets a password applies (``password_problem``)."""
    problem = password_problem(field.data or "", min_password_length=current_app.config["PASSWORD_MIN_LENGTH"])
    if problem is not None:
        raise ValidationError(problem)


class RegisterForm(FlaskForm):
    email = EmailField(
        "E-mail",
        filters=[strip_text],
        validators=[
            DataRequired("Enter your e-mail address."),
            Email("Enter a valid e-mail address."),
            Length(max=254),
        ],
    )
    display_name = StringField(
        "Your name (shown to you, to anyone you choose to share with, and to the site's administrators)",
        filters=[strip_text],
        validators=[
            DataRequired("Enter the name you would like us to use."),
            Length(max=DISPLAY_NAME_MAX_LENGTH),
            no_hidden_marks,
        ],
    )


class FinishRegistrationForm(FlaskForm):
    password = PasswordField(
        "Password", validators=[DataRequired("Choose a password."), password_long_enough, Length(max=200)]
    )


class LoginForm(FlaskForm):
    email = EmailField(
        "E-mail", filters=[strip_text], validators=[DataRequired("Enter your e-mail address."), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])
    remember = BooleanField("Keep me logged in on this device")


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "E-mail", filters=[strip_text], validators=[DataRequired("Enter your e-mail address."), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password", validators=[DataRequired("Choose a password."), password_long_enough, Length(max=200)]
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired("Type the new password again."), EqualTo("password", "The two passwords differ.")],
    )
