"""Forms for registering and logging in; services check the rules beyond input shape."""

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _long_enough(form, field):
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(f"Use at least {minimum} characters.")


class RegisterForm(FlaskForm):
    email = EmailField(
        "E-mail",
        filters=[_strip],
        validators=[
            DataRequired("Enter your e-mail address."),
            Email("Enter a valid e-mail address."),
            Length(max=254),
        ],
    )
    display_name = StringField(
        "Your name (shown to you, to anyone you choose to share with, and to the site's administrators)",
        filters=[_strip],
        validators=[DataRequired("Enter the name you would like us to use."), Length(max=80)],
    )


class FinishRegistrationForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired("Choose a password."), _long_enough, Length(max=200)])


class LoginForm(FlaskForm):
    email = EmailField(
        "E-mail", filters=[_strip], validators=[DataRequired("Enter your e-mail address."), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])
    remember = BooleanField("Keep me logged in on this device")


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "E-mail", filters=[_strip], validators=[DataRequired("Enter your e-mail address."), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password", validators=[DataRequired("Choose a password."), _long_enough, Length(max=200)]
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired("Type the new password again."), EqualTo("password", "The two passwords differ.")],
    )
