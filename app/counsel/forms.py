"""Forms and query parsing for the counsellor's pages."""

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, SelectField, SelectMultipleField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional, StopValidation

from app.parsing import parse_page
from app.services.dashboard import FLAGS, SORTS, DashboardQuery
from app.services.sharing import LABEL_MAX_LENGTH

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


def _label_field(text: str, *first) -> StringField:
    """A counsellor's private label for a client: one line, trimmed, at most LABEL_MAX_LENGTH
    characters (``sharing.invitation_label``'s rule, checked first here to show beside the field),
    the same on an invitation as on the link it becomes."""
    return StringField(
        text,
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            *first,
            Length(max=LABEL_MAX_LENGTH, message=f"Keep the label to {LABEL_MAX_LENGTH} characters or fewer."),
        ],
    )


class InvitationForm(FlaskForm):
    """Create an invitation; optionally e-mail it to the client (the address is not stored)."""

    email = EmailField(
        "Client's e-mail address (optional)",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional(), Email("Enter a valid e-mail address, or leave it empty."), Length(max=254)],
    )
    # The counsellor's own note of whom the invitation is for, carried onto the link when accepted.
    label = _label_field("Who is it for? (optional, only you see this)", Optional())


def _sent(form: FlaskForm, field: Field) -> None:
    """The field was in the POST, even if empty: empty clears the label, missing changes nothing."""
    if not field.raw_data:
        raise StopValidation("Type a label, or leave the box empty to remove it, then save.")


class ClientLabelForm(FlaskForm):
    """Set, change or clear the counsellor's private label for a client they see (empty clears it)."""

    label = _label_field("Your label for this client (optional, only you see this)", _sent)


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
