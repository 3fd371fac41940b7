"""Forms and query parsing for the counsellor's pages."""

from flask_wtf import FlaskForm
from wtforms import SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from app.services.dashboard import FLAGS, SORTS, DashboardQuery


class DashboardFilterForm(FlaskForm):
    """The dashboard's GET filters; no CSRF needed for a read-only search."""

    class Meta:
        csrf = False

    q = SearchField("Search by name", validators=[Optional(), Length(max=80)])
    flag = SelectField(
        "Show",
        choices=[
            SelectChoice("", "All clients"),
            SelectChoice("struggling", "Struggling"),
            SelectChoice("inactive", "Inactive over 7 days"),
            SelectChoice("finished", "Finished"),
        ],
        validators=[Optional()],
    )


def dashboard_query(args) -> DashboardQuery:
    """Read search, flag, sort, direction and page from the query string, ignoring nonsense."""
    sort = args.get("sort", "name")
    page = args.get("page", "1")
    return DashboardQuery(
        search=args.get("q", "")[:80],
        flag=args.get("flag", "") if args.get("flag", "") in FLAGS else "",
        sort=sort if sort in SORTS else "name",
        descending=args.get("dir") == "desc",
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
    )
