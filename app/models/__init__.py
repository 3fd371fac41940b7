"""SQLAlchemy models, one module per aggregate; import them from here."""

from app.models.authoring import AnalyticsSnapshot, CourseDraft, CoursePublication
from app.models.certificates import Certificate, NameDisplay
from app.models.contact import (
    ContactMethod,
    ContactRequest,
    ContactRequestEvent,
    ContactRequestNote,
    ContactStatus,
    ContactTopic,
)
from app.models.course import Choice, Course, Lesson, Misconception, Module, Question
from app.models.jobs import JobFailure
from app.models.lti import LtiGradeTarget, LtiIdentity, LtiLaunchState, LtiPlatform
from app.models.media import CourseMedia
from app.models.progress import AttemptAnswer, LessonProgress, QuizAttempt, ShownQuestion
from app.models.reminders import ReminderSettings
from app.models.review import ReviewAnswer, ReviewCard
from app.models.sharing import AuditEvent, CounsellorLink, HandoverRequest, Invitation, ProgressView
from app.models.tokens import ApiToken
from app.models.user import COUNSELLING_ROLES, Role, User, UserSession
from app.models.xapi import XapiActor, XapiStatement

__all__ = [
    "COUNSELLING_ROLES",
    "AnalyticsSnapshot",
    "ApiToken",
    "AuditEvent",
    "AttemptAnswer",
    "Certificate",
    "Choice",
    "ContactMethod",
    "ContactRequest",
    "ContactRequestEvent",
    "ContactRequestNote",
    "ContactStatus",
    "ContactTopic",
    "CounsellorLink",
    "Course",
    "CourseDraft",
    "CourseMedia",
    "CoursePublication",
    "HandoverRequest",
    "Invitation",
    "JobFailure",
    "Lesson",
    "LessonProgress",
    "LtiGradeTarget",
    "LtiIdentity",
    "LtiLaunchState",
    "LtiPlatform",
    "Misconception",
    "Module",
    "NameDisplay",
    "ProgressView",
    "Question",
    "QuizAttempt",
    "ReminderSettings",
    "ReviewAnswer",
    "ReviewCard",
    "Role",
    "ShownQuestion",
    "User",
    "UserSession",
    "XapiActor",
    "XapiStatement",
]
