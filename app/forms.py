"""Forms shared by several blueprints."""

from flask import request
from flask_wtf import FlaskForm


def confirmed() -> bool:
    """Whether this is the POST of a confirmation page, which alone may throw work away.

    A GET, or a bare POST (a button on a page served before the confirmation step), only asks.
    """
    return request.method == "POST" and request.form.get("confirm") == "yes"


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for one-click actions such as logging out."""
