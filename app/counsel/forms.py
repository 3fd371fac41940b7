"""Forms and query parsing for the counsellor's pages."""

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional

from app.parsing import parse_page
from app.services.dashboard import FLAGS, SORTS, DashboardQuery

# The dashboard's filters are a GET form written out in its template (counsel/dashboard.html):
# a search of at most this many characters, and a flag.
SEARCH_MAX_LENGTH = 80


def dashboard_query(args) -> DashboardQuery:
    """Read search, flag, sort, direction and page from the query string, ignoring nonsense."""
    sort = args.get("sort", "name")
    return DashboardQuery(
        search=args.get("q", "")[:SEARCH_MAX_LENGTH],
        flag=args.get("flag", "") if args.get("flag", "") in FLAGS else "",
        sort=sort if sort in SORTS else "name",
        descending=args.get("dir") == "desc",
        page=parse_page(args.get("page")),
    )


class InvitationForm(FlaskForm):
    """Create an invitation; optionally e-mail it to the client (the address is not stored)."""

    email = EmailField(
        "Client's e-mail address (optional)",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional(), Email("Enter a valid e-mail address, or leave it empty."), Length(max=254)],
    )
    # The counsellor's own note of whom the invitation is for (LABEL_MAX_LENGTH in the sharing service).
    label = StringField(
        "Who is it for? (optional, only you see this)",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional(), Length(max=80, message="Keep the label to 80 characters or fewer.")],
    )


class HandoverForm(FlaskForm):
    """Ask a counsellor's clients to share their progress with a colleague: whom, and which clients.

    The choices are set by the view: the other active counsellors, and the clients who share now.
    """

    colleague = SelectField("Colleague to take over", coerce=int, validate_choice=True)
    clients = SelectMultipleField(
        "Which clients to ask",
        coerce=int,
        validators=[InputRequired("Choose at least one client to ask.")],
    )
