"""The readable page of "your data": the JSON download's own data, laid out for people.

The page is built from ``personal_data_export``, the function that builds the JSON, section by
section: every top-level section of the export is on the page, a known one under a plain title
and any other (a table added later) under a title made from its name, so nothing can be in
one and not the other. Only the presentation is here: titles, labels and readable values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.timefmt import format_datetime

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
    "progress_i_viewed": "Progress you looked at",
    "admin_actions_on_my_account": "Changes an admin made to your account",
    "admin_actions_i_took": "Changes you made to accounts, as an admin",
    "course_drafts_i_edited": "Course drafts you edited",
    "course_publications_i_made": "Course versions you published",
    "course_images_i_uploaded": "Course images you uploaded",
    "review_schedule": "Questions you will be asked again, and when",
    "review_answers": "Your answers in review",
    "certificates": "Your certificates",
    "api_tokens": "Your API tokens (their names, what they may do and when used; never the tokens)",
    "contact_requests": "Your requests for the clinic to contact you",
    "contact_requests_i_picked_up": "Contact requests you picked up, as clinic staff",
    "contact_request_actions_i_took": "What you did to contact requests, as clinic staff",
    "learning_record_store_id": "The random id the learning record store knows you by",
    "learning_record_store_waiting": "Learning records not yet sent to the learning record store",
    "lms_links": "Your accounts on other learning sites that open this course (LTI)",
}
# Labels whose name alone would read oddly; the others are made from the field name.
LABELS = {
    "at": "When",
    "away_a_week_with_lessons_left": "Remind me after a week away with lessons left",
    "questions_to_review": "Remind me of questions to review",
    "course_id": "Course number",
    "kept_logged_in": "Kept logged in",
    "display_name": "Name",
    "email": "E-mail address",
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


def label_for(field: str) -> str:
    """A field's label: "opened_at" reads "Opened", "kept_logged_in" reads "Kept logged in"."""
    if field in LABELS:
        return LABELS[field]
    words = field.removesuffix("_at") if field.endswith("_at") else field
    return words.replace("_", " ").capitalize()


def data_sections(data: dict[str, Any]) -> list[DataSection]:
    """Every top-level section of the export, in the export's own order."""
    return [DataSection(key=key, title=title_for(key), value=value) for key, value in data.items()]


def readable(value: Any, zone: ZoneInfo) -> str:
    """A value of the export as a person reads it: a time in the site's zone, Yes/No, a mapping as "key: value"."""
    if value is None or value == "" or value == [] or value == {}:
        return "None"
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
