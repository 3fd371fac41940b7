"""The readable page of "your data": the JSON download's own data, laid out for people.

The page is built from ``personal_data_export``, the function that builds the JSON, section by
section: every top-level section of the export is on the page, a known one under a plain title
and any other (a table added later) under a title made from its name, so nothing can be in
one and not the other. Only the presentation is here: titles, labels and readable values.

The JSON keeps the stored values (``"status": "new"``, ``"last_rating": 2``, ``null``); the page
says what they mean: each enumerated value in words (``VALUE_WORDS``; a value with no words yet
reads as itself, so a new one never breaks the page), each empty value as fits its field
(``EMPTY_WORDS``: "Not yet", "Not given", never Python's "None"), and the review scheduler's
numbers under "Scheduling details", after what they mean for the learner.
The JSON file itself is app/downloads.py's ``data_file``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from app.models import ContactMethod, ContactStatus, NameDisplay, Role
from app.services.api_tokens import SCOPES
from app.services.contact_requests import REQUESTER_STATUS_LABELS, TOPIC_LABELS
from app.services.sharing import NOT_COUNSELLING, SEES_EVERYONE, STILL_COUNSELS
from app.timefmt import format_date, format_datetime

# Plain titles for the sections people have: the rest are titled from their names.
TITLES = {
    "profile": "Your account",
    "progress": "Your progress, lesson by lesson",
    "quiz_attempts": "Your quiz attempts and answers",
    "sharing": "Who you share your progress with",
    "views_of_my_progress": "Who has looked at your progress, and when",
    "reminders": "Your e-mail reminder settings",
    "login_sessions": "Where you are logged in",
    "clients": "Clients who share their progress with you",
    "links_made_for_others": "Sharing you set up for others",
    "invitations_created": "Invitations you created",
    "invitations_answered": "Invitations you answered",
    "handover_requests_to_me": "Requests to share your progress with a colleague of your counsellor's",
    "handover_requests_to_share_with_me": "Clients asked to share their progress with you, as a colleague took over",
    "handover_requests_for_my_clients": "Your clients asked to share their progress with a colleague",
    "handover_requests_i_started": "Clients you asked to share their progress with a colleague",
    "progress_i_viewed": "Progress you looked at",
    "admin_actions_on_my_account": "Changes an admin made to your account",
    "admin_actions_i_took": "What you did as an admin: accounts, LMS platforms, API tokens and downloads",
    "course_drafts_i_edited": "Course drafts you edited",
    "course_publications_i_made": "Course versions you published",
    "course_images_i_uploaded": "Course images you uploaded",
    "review_schedule": "Questions you will be asked again, and when",
    "review_answers": "Your answers in review",
    "certificates": "Your certificates",
    "api_tokens": "Your API tokens (their names, what they may do and when used; never the tokens)",
    "contact_requests": "Your requests for the clinic to contact you",
    "contact_requests_i_picked_up": "Contact requests you picked up, as clinic staff",
    "contact_request_notes_i_added": "Notes you added to contact requests, as clinic staff (when; what they say stays "
    "with the clinic, as it is about the person who asked)",
    "contact_request_actions_i_took": "What you did to contact requests, as clinic staff",
    "learning_record_store_id": "The random id your learning records are sent under (to a learning record store)",
    "learning_record_store_waiting": "Learning records waiting to be sent to a learning record store",
    "lms_links": "Launches from a learning management system (LTI): your accounts there",
}
# Short plain names for the list of kinds of data that hold nothing about the person.
EMPTY_NAMES = {
    "profile": "Your account",
    "progress": "Lessons you opened or finished",
    "quiz_attempts": "Quiz answers",
    "sharing": "Sharing your progress with a counsellor",
    "views_of_my_progress": "Times someone looked at your progress",
    "reminders": "E-mail reminder settings",
    "login_sessions": "Where you are logged in",
    "invitations_answered": "Invitations from a counsellor",
    "handover_requests_to_me": "Requests to share with a colleague of your counsellor's",
    "admin_actions_on_my_account": "Changes an admin made to your account",
    "review_schedule": "Questions to review again",
    "review_answers": "Answers in review",
    "certificates": "Certificates",
    "api_tokens": "API tokens (keys for other programs)",
    "contact_requests": "Requests for the clinic to contact you",
    "learning_record_store_id": "Learning records sent to a learning record store",
    "learning_record_store_waiting": "Learning records waiting to be sent to a learning record store",
    "lms_links": "Launches from a learning management system (LTI)",
    "clients": "Clients who share their progress with you",
    "links_made_for_others": "Sharing you set up between other people",
    "invitations_created": "Invitations you sent to clients",
    "handover_requests_to_share_with_me": "Clients asked to share with you, as a colleague took over",
    "handover_requests_for_my_clients": "Your clients asked to share with a colleague",
    "handover_requests_i_started": "Clients you asked to share with a colleague",
    "progress_i_viewed": "Clients' progress you looked at",
    "admin_actions_i_took": "What you did as an admin",
    "course_drafts_i_edited": "Course drafts you edited",
    "course_publications_i_made": "Course versions you published",
    "course_images_i_uploaded": "Course images you uploaded",
    "contact_requests_i_picked_up": "Contact requests you picked up",
    "contact_request_notes_i_added": "Notes you added to contact requests",
    "contact_request_actions_i_took": "What you did with contact requests",
}
# The kinds of data only counsellors, clinic staff and course editors make: listed apart when empty,
# so a learner sees at a glance why there is nothing in them.
STAFF_SECTIONS = frozenset(
    {
        "clients",
        "links_made_for_others",
        "invitations_created",
        "handover_requests_to_share_with_me",
        "handover_requests_for_my_clients",
        "handover_requests_i_started",
        "progress_i_viewed",
        "admin_actions_i_took",
        "course_drafts_i_edited",
        "course_publications_i_made",
        "course_images_i_uploaded",
        "contact_requests_i_picked_up",
        "contact_request_notes_i_added",
        "contact_request_actions_i_took",
    }
)
# Labels whose name alone would read oddly; the others are made from the field name.
LABELS = {
    "at": "When",
    "away_a_week_with_lessons_left": "Remind me after a week away with lessons left",
    "questions_to_review": "Remind me of questions to review",
    "course_id": "Course number",
    "kept_logged_in": "Kept logged in",
    "display_name": "Name",
    "email": "E-mail address",
    "lesson": "Lesson's web address",
    "contact_by": "How to contact you",
    "good_times": "Good times to contact you",
    "progress_attached": "Your progress shared with the clinic",
    "name_shown": "Name on the certificate",
    "name_at_issue": "Your name when it was issued",
    "public": "Anyone with the link can check it",
    "scopes": "What it may do",
    "verb": "What you did",
    "your_id_there": "Your id there",
    "your_name_there": "Your name there, as it last sent it",
    "line_item": "Where the score goes",
    "platform_id": "LMS platform number",
    "issuer": "LMS address (issuer)",
    "token_id": "Token number",
    "searched": "Narrowed by a name search",
    "counsellor_now": "The counsellor now",
}
# Labels that differ by section: a field name that means something else there.
SECTION_LABELS = {
    ("contact_request_actions_i_took", "from"): "Status before",
    ("contact_request_actions_i_took", "to"): "Status after",
    ("contact_request_actions_i_took", "request"): "Request number",
    ("contact_requests_i_picked_up", "request"): "Request number",
    ("contact_request_notes_i_added", "request"): "Request number",
    ("review_answers", "rating"): "Counted as",
    ("admin_actions_i_took", "flag"): "Which learners",
    # Where LMS scores go names the lesson by its title; elsewhere "lesson" is its address (slug).
    ("lms_links", "lesson"): "Lesson",
}

# The words for each enumerated value, by section and field. A value with no words (one added to
# the app later) reads as itself; a test holds that every value the app can store has words here.
ROLE_WORDS: Mapping[Any, str] = {Role.LEARNER: "Learner", Role.COUNSELLOR: "Counsellor", Role.ADMIN: "Admin"}
NAME_SHOWN_WORDS: Mapping[Any, str] = {
    NameDisplay.FULL: "Your full name",
    NameDisplay.INITIALS: "Your initials only",
    NameDisplay.NONE: "No name",
}
CONTACT_BY_WORDS: Mapping[Any, str] = {ContactMethod.PHONE: "By phone", ContactMethod.EMAIL: "By e-mail"}
# What clinic staff read of a request's status (the person's own requests use the words /me/ uses).
STAFF_STATUS_WORDS: Mapping[Any, str] = {
    ContactStatus.NEW: "New, not yet handled",
    ContactStatus.NO_ANSWER: "Tried, no answer",
    ContactStatus.CONTACTED: "Contacted",
    ContactStatus.CLOSED: "Closed",
    ContactStatus.WITHDRAWN: "Withdrawn by the person who asked",
}
# What an admin's action was (AuditEvent.action; every one is named in app/services/audit.py).
AUDIT_ACTION_WORDS: Mapping[Any, str] = {
    "created": "Account created",
    "role_changed": "Role changed",
    "deactivated": "Account deactivated: it could not log in",
    "reactivated": "Account reactivated: it could log in again",
    "reset_link_sent": "A link to choose a password was e-mailed",
    "link_created": "Linked to a counsellor, on the learner's behalf",
    "caseload_handover_asked": "A counsellor's clients asked to share with a colleague, on the clinic's behalf",
    "account_erased": "An account erased, with everything in it",
    "data_downloaded": "Everything held about the account downloaded for its owner (JSON)",
    "lti_platform_registered": "An LMS platform (LTI) registered",
    "lti_platform_changed": "An LMS platform's (LTI) details changed",
    "lti_platform_removed": "An LMS platform (LTI) removed",
    "learners_downloaded": "A list of learners with their progress downloaded (CSV)",
    "learners_listed": "A list of learners with their progress read with an API token (first time that day)",
    "api_token_created": "An API token made with staff permissions",
    "api_token_revoked": "An API token with staff permissions revoked",
}
# The dashboard's flags a download of learners was narrowed to (app/services/dashboard.py FLAGS).
FLAG_WORDS: Mapping[Any, str] = {
    "safety": "Learners with a safety concern only",
    "inactive": "Inactive learners only",
    "struggling": "Struggling learners only",
    "finished": "Learners who finished only",
}
# What app/services/contact_requests.py records staff did to a request (ContactRequestEvent.action).
CONTACT_ACTION_WORDS: Mapping[Any, str] = {
    "picked_up": "Picked it up",
    "released": "Put it back for someone else",
    "status": "Changed its status",
    "note_added": "Added a note",
    "noted": "Changed the staff notes",
    "withdrawn": "Withdrawn by the person who asked",
    "holder_deactivated": "Put it back in the queue, as the account that held it was deactivated",
    "holder_not_staff": "Put it back in the queue, as the account that held it left the staff",
}
# The review scheduler's ratings of an answer (fsrs.Rating; app/services/review.py answer_rating):
# a wrong answer is Again, a right one just after a wrong one Hard, a right one after a right one
# Good. The app never records Easy; it has words all the same.
RATING_WORDS: Mapping[Any, str] = {
    1: "Wrong",
    2: "Right, after getting it wrong before",
    3: "Right, and right the time before too",
    4: "Right, and easy",
}
# The scheduler's own names for them, shown with the number among the scheduling details.
RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
RATING_TECHNICAL: Mapping[Any, str] = {
    value: f"{name}: {RATING_WORDS[value][0].lower()}{RATING_WORDS[value][1:]}" for value, name in RATING_NAMES.items()
}
# The scheduler's states (fsrs.State), for the technically minded.
STATE_WORDS: Mapping[Any, str] = {
    1: "Learning: got wrong lately, so it comes back soon",
    2: "Review: got right, so it comes back after longer gaps",
    3: "Relearning: wrong again after being right, so it comes back soon",
}
# The learning record store's verbs (app/services/xapi.py VERBS), as what the person did.
VERB_WORDS: Mapping[Any, str] = {
    "experienced": "Opened a lesson",
    "answered": "Answered a quiz question",
    "passed": "Passed a quiz",
    "failed": "Did not pass a quiz",
    "completed": "Finished the course",
}
# What the account someone shares with is now (sharing.counsellor_now), in /me/'s words for it.
COUNSELLOR_NOW_WORDS: Mapping[Any, str] = {
    STILL_COUNSELS: "A counsellor: they see your progress while you share it",
    SEES_EVERYONE: "One of the clinic's site administrators, who can see anyone's progress, "
    "so stopping sharing does not change what they can see",
    NOT_COUNSELLING: "No longer a counsellor here, so they do not see your progress. "
    "You can stop sharing with them on your page",
}
VALUE_WORDS: dict[tuple[str, str], Mapping[Any, str]] = {
    ("sharing", "counsellor_now"): COUNSELLOR_NOW_WORDS,
    ("profile", "role"): ROLE_WORDS,
    ("views_of_my_progress", "role"): ROLE_WORDS,
    ("admin_actions_on_my_account", "action"): AUDIT_ACTION_WORDS,
    ("admin_actions_i_took", "action"): AUDIT_ACTION_WORDS,
    # An audit record's details: the roles a change went from and to, or the role made with; a
    # token's scopes; the flag a download was narrowed to.
    **{
        (section, key): ROLE_WORDS
        for section in ("admin_actions_on_my_account", "admin_actions_i_took")
        for key in ("from", "to", "role")
    },
    ("admin_actions_i_took", "scopes"): {name: scope.label for name, scope in SCOPES.items()},
    ("admin_actions_i_took", "flag"): FLAG_WORDS,
    ("certificates", "name_shown"): NAME_SHOWN_WORDS,
    ("api_tokens", "scopes"): {name: scope.label for name, scope in SCOPES.items()},
    ("contact_requests", "contact_by"): CONTACT_BY_WORDS,
    ("contact_requests", "about"): TOPIC_LABELS,
    ("contact_requests", "status"): REQUESTER_STATUS_LABELS,
    ("contact_requests_i_picked_up", "status"): STAFF_STATUS_WORDS,
    ("contact_request_actions_i_took", "action"): CONTACT_ACTION_WORDS,
    ("contact_request_actions_i_took", "from"): STAFF_STATUS_WORDS,
    ("contact_request_actions_i_took", "to"): STAFF_STATUS_WORDS,
    ("review_schedule", "last_rating"): RATING_WORDS,
    ("review_schedule", "state"): STATE_WORDS,
    ("review_answers", "rating"): RATING_WORDS,
    ("learning_record_store_waiting", "verb"): VERB_WORDS,
}

# What an empty field (null, "", an empty list) says, by field name, then by section and field.
EMPTY_WORDS = {
    "completed_at": "Not yet",
    "last_login_at": "Never",
    "last_used_at": "Never used",
    "last_reminded_at": "Never",
    "last_review": "Not answered yet",
    "used_at": "Not used",
    "answered_at": "Not answered",
    "cancelled_at": "Not cancelled",
    "revoked_at": "Not revoked",
    "stopped": "Still sharing",
    "stopped_by": "Still sharing",
    "status_changed_at": "Not changed",
    "sent_at": "Not sent yet",
    "last_score_sent": "None sent yet",
    "scores_sent_to": "No scores sent",
    "label": "No label",
    "note": "No note",
    "summary": "No summary",
    "details": "No details",
    "scopes": "Nothing",
    "lesson": "A removed lesson",
    "lesson_title": "A removed lesson",
    "question": "A removed question",
    "counsellor": "A removed account",
    "client": "A removed account",
    "learner": "A removed account",
    "viewer": "A removed account",
    "request": "A deleted request",
    "from": "A removed account",
    "step": "Not set yet",
    "stability": "Not set yet",
    "difficulty": "Not set yet",
}
SECTION_EMPTY_WORDS = {
    ("profile", "email"): "No e-mail address: you sign in through another learning site",
    ("contact_request_actions_i_took", "from"): "No change",
    ("contact_request_actions_i_took", "to"): "No change",
    ("lms_links", "lesson"): "The whole course",
    ("sharing", "counsellor_now"): "Sharing has stopped",
}
# How the export writes a stored instant (``datetime.isoformat`` of an aware UTC value).
_ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


@dataclass(frozen=True)
class DataSection:
    """One top-level section of the export, with its title and its data as exported."""

    key: str
    title: str
    value: Any

    @property
    def is_empty(self) -> bool:
        """True when nothing is recorded in it (an empty list or mapping)."""
        return not self.value

    @property
    def empty_name(self) -> str:
        """Its short name in the list of kinds of data with nothing about the person."""
        return EMPTY_NAMES.get(self.key) or self.title

    @property
    def for_staff(self) -> bool:
        """True for the kinds of data only counsellors, clinic staff and course editors make."""
        return self.key in STAFF_SECTIONS

    @cached_property  # the page's table asks for them in every row: worked out once, not once a row
    def columns(self) -> list[str]:
        """For a list of records: every field that any record has, in first-seen order."""
        seen: dict[str, None] = {}
        for row in self.value if isinstance(self.value, list) else []:
            if isinstance(row, dict):
                seen.update(dict.fromkeys(row))
        return list(seen)


def title_for(key: str) -> str:
    """The section's title: a plain one for the known sections, else its name in words."""
    return TITLES.get(key) or key.replace("_", " ").capitalize()


def label_for(field: str, section: str = "") -> str:
    """A field's label: "opened_at" reads "Opened", "kept_logged_in" reads "Kept logged in"."""
    if (section, field) in SECTION_LABELS:
        return SECTION_LABELS[section, field]
    if field in LABELS:
        return LABELS[field]
    words = field.removesuffix("_at") if field.endswith("_at") else field
    return words.replace("_", " ").capitalize()


def data_sections(data: dict[str, Any]) -> list[DataSection]:
    """Every top-level section of the export, in the export's own order."""
    return [DataSection(key=key, title=title_for(key), value=value) for key, value in data.items()]


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def readable(value: Any, zone: ZoneInfo) -> str:
    """A value of the export as a person reads it: a time in the site's zone, Yes/No, a mapping as "key: value"."""
    if _is_empty(value):
        return "Not given"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):  # a review card's stability, say: two decimals say all a reader can use
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, str) and _ISO_UTC.fullmatch(value):
        return format_datetime(datetime.fromisoformat(value), zone)
    if isinstance(value, dict):
        return ", ".join(f"{label_for(str(key))}: {readable(item, zone)}" for key, item in value.items())
    if isinstance(value, list):
        return "; ".join(readable(item, zone) for item in value)
    return str(value)


def empty_words(section: str, field: str) -> str:
    """What an empty field says: "Not yet", "Never", "Not given" (never "None")."""
    if (section, field) in SECTION_EMPTY_WORDS:
        return SECTION_EMPTY_WORDS[section, field]
    return EMPTY_WORDS.get(field) or ("Not yet" if field.endswith("_at") else "Not given")


def value_words(section: str, field: str, value: Any) -> str | None:
    """The words for an enumerated value, or None when the field has none or the value is unknown."""
    words = VALUE_WORDS.get((section, field))
    # A bool is an int to Python (True == 1): never read it as a rating.
    if words is None or isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return words.get(value)


def shown(section: str, field: str, value: Any, zone: ZoneInfo) -> str:
    """A field of a section as the page shows it: its value in words, an empty one as fits the field."""
    if _is_empty(value):
        return empty_words(section, field)
    if isinstance(value, dict):
        return ", ".join(
            f"{label_for(str(key), section)}: {shown(section, str(key), item, zone)}" for key, item in value.items()
        )
    if isinstance(value, list):
        return "; ".join(shown(section, field, item, zone) for item in value)
    words = value_words(section, field, value)
    return words if words is not None else readable(value, zone)


@dataclass(frozen=True)
class ReviewCardView:
    """A review card as the page shows it: what it means first, the scheduler's numbers apart."""

    question: str
    plain: list[tuple[str, str]]
    technical: list[tuple[str, str]]


# The card's fields the page words itself; any other (a column added later) is shown as it is.
_CARD_FIELDS = (
    "question",
    "due",
    "state",
    "step",
    "stability",
    "difficulty",
    "last_review",
    "last_rating",
    "created_at",
)


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and _ISO_UTC.fullmatch(value) else None


def review_card_view(card: dict[str, Any], zone: ZoneInfo, now: datetime) -> ReviewCardView:
    """When the question comes back and how it was last answered, in words; every stored number kept."""
    section = "review_schedule"
    due = _instant(card.get("due"))
    if due is None:
        when = shown(section, "due", card.get("due"), zone)
    elif due <= now:
        when = f"Now (ready since {format_date(due, zone)})"
    else:
        when = format_date(due, zone)
    last = card.get("last_review")
    if _is_empty(last):
        last_answer = "Not answered in review yet"
    else:
        rating = shown(section, "last_rating", card.get("last_rating"), zone)
        last_answer = f"{rating}, on {shown(section, 'last_review', last, zone)}"
    plain = [
        ("Due again", when),
        ("Your last answer", last_answer),
        ("Added to your review questions", shown(section, "created_at", card.get("created_at"), zone)),
    ]
    plain += [
        (label_for(field, section), shown(section, field, value, zone))
        for field, value in card.items()
        if field not in _CARD_FIELDS
    ]

    def numbered(field: str, names: Mapping[Any, str]) -> str:
        value = card.get(field)
        if _is_empty(value):
            return empty_words(section, field)
        words = names.get(value) if isinstance(value, int) and not isinstance(value, bool) else None
        return f"{value} ({words})" if words else readable(value, zone)

    technical = [
        ("Due", shown(section, "due", card.get("due"), zone)),
        ("State", numbered("state", STATE_WORDS)),
        ("Step", shown(section, "step", card.get("step"), zone)),
        ("Stability", shown(section, "stability", card.get("stability"), zone)),
        ("Difficulty", shown(section, "difficulty", card.get("difficulty"), zone)),
        ("Last review", shown(section, "last_review", last, zone)),
        ("Last rating", numbered("last_rating", RATING_TECHNICAL)),
    ]
    question = card.get("question")
    return ReviewCardView(
        question=question if isinstance(question, str) and question else empty_words(section, "question"),
        plain=plain,
        technical=technical,
    )
