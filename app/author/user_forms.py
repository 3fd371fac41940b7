"""Forms for the admins' user pages (search, creating an account, role change and linking to a
counsellor) and for the filter of their activity log."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SearchField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, Optional, StopValidation

from app.models import Role, User
from app.parsing import parse_id, parse_page
from app.services.admin_activity import KINDS
from app.services.user_admin import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    SEARCH_MAX_LENGTH,
    SORTS,
    STATUSES,
    UserQuery,
)

ROLE_LABELS = {Role.LEARNER: "Learner", Role.COUNSELLOR: "Counsellor", Role.ADMIN: "Admin"}


class UserSearchForm(FlaskForm):
    """The user list's GET filters; no CSRF needed for a read-only search."""

    class Meta:
        csrf = False

    q = SearchField("Search by name or e-mail", validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)])
    role = SelectField(
        "Role",
        choices=[SelectChoice("", "All roles")] + [SelectChoice(r.value, name) for r, name in ROLE_LABELS.items()],
        validators=[Optional()],
    )
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Any status"),
            SelectChoice("active", "Active"),
            SelectChoice("deactivated", "Deactivated"),
        ],
        validators=[Optional()],
    )
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice("name", "Name"), SelectChoice("last_login", "Last login"), SelectChoice("role", "Role")],
        validators=[Optional()],
    )


def user_query(args) -> UserQuery:
    """Read search, role, status, order and page from the query string, ignoring nonsense."""
    role = args.get("role", "")
    status = args.get("status", "")
    sort = args.get("sort", "")
    return UserQuery(
        search=args.get("q", "")[:SEARCH_MAX_LENGTH],
        role=role if role in set(Role) else "",
        status=status if status in STATUSES else "",
        sort=sort if sort in SORTS else "name",
        page=parse_page(args.get("page")),
    )


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class NewUserForm(FlaskForm):
    """Create an account for someone; they choose their own password from an e-mailed link."""

    display_name = StringField(
        "Name",
        filters=[_strip],
        validators=[DataRequired("Enter the person's name."), Length(max=NAME_MAX_LENGTH)],
    )
    email = EmailField(
        "E-mail",
        filters=[_strip],
        validators=[
            DataRequired("Enter their e-mail address."),
            Email("Enter an e-mail address, like name@example.org."),
            Length(max=EMAIL_MAX_LENGTH),
        ],
    )
    role = SelectField(
        "Role",
        choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
        default=Role.LEARNER.value,
        validators=[
            InputRequired(message="Choose a role."),
            AnyOf([role.value for role in Role], message="Choose learner, counsellor or admin."),
        ],
        validate_choice=False,  # AnyOf says it in plainer words
    )


class RoleForm(FlaskForm):
    """Give an account another role."""

    role = SelectField(
        "Role",
        choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
        validators=[
            InputRequired(message="Choose a role."),
            AnyOf([role.value for role in Role], message="Choose learner, counsellor or admin."),
        ],
        validate_choice=False,  # AnyOf says it in plainer words
    )


def _id_or_none(value) -> int | None:
    """Read a posted id; anything that is not one becomes None, which the validators refuse."""
    return parse_id(value)


def _offered(form, field) -> None:
    if field.data not in {choice.value for choice in field.choices}:
        raise StopValidation("Choose a counsellor from the list.")


class LinkCounsellorForm(FlaskForm):
    """Share a learner's progress with a counsellor on the learner's behalf."""

    counsellor_id = SelectField(
        "Counsellor",
        coerce=_id_or_none,
        validators=[DataRequired(message="Choose a counsellor."), _offered],
        validate_choice=False,  # _offered says it in plainer words
    )

    def set_counsellors(self, counsellors: list[User]) -> LinkCounsellorForm:
        """Offer these counsellors, by name and e-mail so two people with one name can be told apart."""
        self.counsellor_id.choices = [
            SelectChoice(
                counsellor.id, f"{counsellor.display_name} ({counsellor.email or 'no e-mail: signs in through an LMS'})"
            )
            for counsellor in counsellors
        ]
        return self


class ActivityFilterForm(FlaskForm):
    """The activity log's GET filter by kind of action; no CSRF needed for a read-only filter."""

    class Meta:
        csrf = False

    kind = SelectField(
        "Show",
        choices=[SelectChoice("", "Every kind of action")]
        + [SelectChoice(key, label) for key, (label, _) in KINDS.items()],
        validators=[Optional()],
    )
