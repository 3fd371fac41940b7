"""The shapes the API reads and writes, as marshmallow schemas: the OpenAPI description is made from them.

Request schemas check only the shape of the input (types, which keys): every rule about what
the values may be is the services' (the course rules for a draft, the dashboard's filters and
sorts), so the API and the pages refuse the same things with the same words. Response schemas
dump the services' own objects; times are ISO 8601 in UTC.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from app.services.analytics.date_ranges import RANGES
from app.services.attempt_history import ATTEMPTS_SHOWN
from app.services.dashboard import DEACTIVATED, FLAGS, SORTS
from app.services.progress import LessonState

# --- shared ------------------------------------------------------------------------------------


class ErrorEntrySchema(Schema):
    """One problem with the request: where it is, and what is wrong."""

    pointer = fields.String(metadata={"description": "JSON Pointer (RFC 6901) into the request body, e.g. #/title"})
    parameter = fields.String(metadata={"description": "The query or path parameter at fault"})
    file = fields.String(metadata={"description": "For a draft that cannot be published: the course file"})
    field = fields.String(metadata={"description": "For a draft that cannot be published: the field in that file"})
    detail = fields.String(required=True)


class ProblemSchema(Schema):
    """An error, as RFC 9457 application/problem+json."""

    type = fields.String(required=True, metadata={"description": "about:blank: the status says what it is"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(ErrorEntrySchema), metadata={"description": "For validation problems"})


class CourseRefSchema(Schema):
    """Which course a response is about."""

    slug = fields.String(required=True)
    title = fields.String(required=True)


class PageLinksSchema(Schema):
    """Links to the pages of a list (also sent as a Link header, RFC 8288)."""

    self = fields.String(required=True)
    first = fields.String(required=True)
    last = fields.String(required=True)
    prev = fields.String(metadata={"description": "Absent on the first page"})
    next = fields.String(metadata={"description": "Absent on the last page"})


class PagedSchema(Schema):
    """The page-keeping part of every list."""

    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    links = fields.Nested(PageLinksSchema, required=True)


class CourseQuerySchema(Schema):
    """?course=slug: which course; the first one when left out. Any other parameter is refused (a typo
    such as ?sotr= would otherwise be ignored without a word)."""

    class Meta:
        unknown = RAISE

    course = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "A course's slug"})


class PageQuerySchema(CourseQuerySchema):
    """?course= and ?page=."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=2**31 - 1))


# --- the public outline ------------------------------------------------------------------------


class OutlineLessonSchema(Schema):
    number = fields.Integer(required=True, metadata={"description": "Its place in the course, from 1"})
    slug = fields.String(required=True)
    title = fields.String(required=True)
    minutes = fields.Integer(required=True)
    questions = fields.Integer(required=True, metadata={"description": "How many questions its quiz has (0: none)"})


class OutlineModuleSchema(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    lessons = fields.List(fields.Nested(OutlineLessonSchema), required=True)


class ReviewSchema(Schema):
    """Who last checked the course's content, and when the next check is due."""

    reviewed_by = fields.String(allow_none=True)
    reviewed_on = fields.Date(allow_none=True)
    next_review_on = fields.Date(allow_none=True)
    changed_since_review_on = fields.Date(
        allow_none=True,
        metadata={"description": "The latest day the content changed that the review does not cover yet"},
    )


class OutlineSchema(Schema):
    """The published course as anyone may see it: its modules and lessons in order."""

    slug = fields.String(required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    pass_mark = fields.Float(required=True, metadata={"description": "Share of a quiz's questions right to pass"})
    version = fields.Integer(required=True, metadata={"description": "Goes up each time a change is published"})
    review = fields.Nested(ReviewSchema, allow_none=True, required=True)
    modules = fields.List(fields.Nested(OutlineModuleSchema), required=True)


# --- the learner's own progress ----------------------------------------------------------------


class AttemptSchema(Schema):
    """One quiz attempt, as a history line shows it."""

    id = fields.Integer(required=True)
    lesson = fields.String(required=True, metadata={"description": "The lesson's slug"})
    submitted_at = fields.DateTime(required=True)
    correct = fields.Integer(required=True)
    questions = fields.Integer(required=True)
    passed = fields.Boolean(required=True)


class AttemptsSummarySchema(Schema):
    count = fields.Integer(required=True)
    best = fields.Nested(AttemptSchema, required=True)
    latest = fields.Nested(AttemptSchema, required=True)


class ProgressLessonSchema(Schema):
    number = fields.Integer(required=True)
    slug = fields.String(required=True)
    title = fields.String(required=True)
    module = fields.String(required=True, metadata={"description": "The module's slug"})
    state = fields.String(required=True, validate=validate.OneOf([state.value for state in LessonState]))
    opened_at = fields.DateTime(required=True, allow_none=True)
    completed_at = fields.DateTime(required=True, allow_none=True)
    attempts = fields.Nested(AttemptsSummarySchema, required=True, allow_none=True)


class ProgressSchema(Schema):
    """Where the token's owner is in a course, lesson by lesson."""

    course = fields.Nested(CourseRefSchema, required=True)
    completed = fields.Integer(required=True)
    total = fields.Integer(required=True)
    percent = fields.Integer(required=True)
    completed_at = fields.DateTime(required=True, allow_none=True)
    lessons = fields.List(fields.Nested(ProgressLessonSchema), required=True)


class AttemptsPageSchema(PagedSchema):
    """The token's owner's quiz attempts in a course, newest first."""

    course = fields.Nested(CourseRefSchema, required=True)
    items = fields.List(fields.Nested(AttemptSchema), required=True)


class WhoAmISchema(Schema):
    """The account a token acts for, and what the token may do."""

    id = fields.Integer(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    token = fields.String(required=True, metadata={"description": "The token's name"})
    scopes = fields.List(fields.String(), required=True, metadata={"description": "The scopes it has and may use"})


# --- the counsellor's clients ------------------------------------------------------------------


class ClientsQuerySchema(PageQuerySchema):
    """The dashboard's filters: search by name, a flag, a sort and its direction."""

    q = fields.String(load_default="", metadata={"description": "Part of a name (the first 80 characters count)"})
    flag = fields.String(
        validate=validate.OneOf(FLAGS),
        metadata={"description": "Only clients with this flag (safety: a safety-critical misconception still present)"},
    )
    sort = fields.String(load_default="name", validate=validate.OneOf(SORTS))
    dir = fields.String(load_default="asc", validate=validate.OneOf(("asc", "desc")))


class ClientRowSchema(Schema):
    id = fields.Integer(
        required=True,
        attribute="learner_id",
        metadata={"description": "The client ID the dashboard shows beside a name another client has too"},
    )
    name = fields.String(required=True)
    completed = fields.Integer(required=True)
    total = fields.Integer(required=True)
    percent = fields.Integer(required=True)
    current_lesson = fields.String(required=True, allow_none=True, metadata={"description": "None when finished"})
    last_active = fields.DateTime(required=True, allow_none=True)
    quiz_average = fields.Float(required=True, allow_none=True, metadata={"description": "A share, 0 to 1"})
    flags = fields.List(
        fields.String(validate=validate.OneOf((DEACTIVATED, *FLAGS))),
        required=True,
        metadata={
            "description": "The dashboard's flags: safety (the client holds a misconception the course marks "
            "safety-critical, still present: a wrong answer revealing it has no later right answer to its "
            "question, as on the client's page), struggling, inactive and finished; and deactivated when an "
            "administrator has deactivated the account: the client cannot log in until it is reactivated, and "
            "stays listed (not a filter)"
        },
    )
    label = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Your own private label for the client, from the invitation they accepted (the "
            "client never sees it); null without one, and for a learner who shares with someone else"
        },
    )
    namesake = fields.Boolean(
        required=True,
        metadata={
            "description": "Another client has this name, in any case: the dashboard then shows sharing_since "
            "and the id beside it. For a counsellor, another of their clients wherever in the list; for an "
            "admin, who sees every learner, another row of this page"
        },
    )
    sharing_since = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={
            "description": "Since when the client shares their progress with you; given where namesake is "
            "true, as the dashboard shows it, and null otherwise (and for a learner who does not share with you)"
        },
    )


class ThresholdsSchema(Schema):
    inactive_days = fields.Integer(required=True)
    struggling_fails = fields.Integer(required=True)


class ClientsPageSchema(PagedSchema):
    """One page of the counsellor's clients with the dashboard's figures."""

    course = fields.Nested(CourseRefSchema, required=True)
    thresholds = fields.Nested(ThresholdsSchema, required=True)
    items = fields.List(fields.Nested(ClientRowSchema), required=True)


class AnswerSchema(Schema):
    prompt = fields.String(required=True)
    right = fields.Boolean(required=True)
    chosen = fields.List(fields.String(), required=True)
    safety_critical = fields.Boolean(required=True, metadata={"description": "A chosen choice was safety-critical"})


class ReportAttemptSchema(Schema):
    id = fields.Integer(required=True)
    submitted_at = fields.DateTime(required=True)
    correct = fields.Integer(required=True)
    questions = fields.Integer(required=True)
    passed = fields.Boolean(required=True)
    answers = fields.List(fields.Nested(AnswerSchema), required=True)


class NumberedAttemptSchema(ReportAttemptSchema):
    number = fields.Integer(required=True, metadata={"description": "Attempts count from 1, the client's first"})


class LessonRefSchema(Schema):
    number = fields.Integer(required=True)
    slug = fields.String(required=True)
    title = fields.String(required=True)


class ReportLessonSchema(Schema):
    number = fields.Integer(required=True)
    slug = fields.String(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf([state.value for state in LessonState]))
    opened_at = fields.DateTime(required=True, allow_none=True)
    completed_at = fields.DateTime(required=True, allow_none=True)
    attempts = fields.List(
        fields.Nested(ReportAttemptSchema),
        required=True,
        metadata={"description": f"The latest attempts at the lesson (at most {ATTEMPTS_SHOWN}), oldest of them first"},
    )
    attempt_count = fields.Integer(
        required=True, metadata={"description": "How many attempts the client has made at the lesson in all"}
    )


class MisconceptionSchema(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    talking_point = fields.String(required=True)
    safety_critical = fields.Boolean(required=True)
    times = fields.Integer(required=True)
    first_seen = fields.DateTime(required=True, allow_none=True)
    last_seen = fields.DateTime(required=True, allow_none=True)
    still_present = fields.Boolean(required=True)
    corrected_at = fields.DateTime(required=True, allow_none=True)
    questions = fields.List(fields.String(), required=True)


class ClientSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ClientReportSchema(Schema):
    """One client's progress in detail, as the client page shows it (the view is audited)."""

    client = fields.Nested(ClientSchema, required=True)
    course = fields.Nested(CourseRefSchema, required=True)
    completed = fields.Integer(required=True)
    total = fields.Integer(required=True)
    lessons = fields.List(fields.Nested(ReportLessonSchema), required=True)
    misconceptions = fields.List(
        fields.Nested(MisconceptionSchema),
        required=True,
        metadata={"description": "In the order to talk about them: safety-critical, still present, most frequent"},
    )


class ClientAttemptsPageSchema(PagedSchema):
    """One page of a client's attempts at a lesson, newest first, each with its answers (the view is audited)."""

    client = fields.Nested(ClientSchema, required=True)
    course = fields.Nested(CourseRefSchema, required=True)
    lesson = fields.Nested(LessonRefSchema, required=True)
    items = fields.List(fields.Nested(NumberedAttemptSchema), required=True)


# --- analytics ---------------------------------------------------------------------------------


class FlagSchema(Schema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    reason = fields.String(required=True)


class ChoiceStatsSchema(Schema):
    letter = fields.String(required=True)
    text = fields.String(required=True)
    correct = fields.Boolean(required=True)
    picks = fields.Integer(required=True)
    share = fields.Float(required=True, allow_none=True)
    misconception = fields.String(required=True, allow_none=True)


class QuestionStatsSchema(Schema):
    number = fields.Integer(required=True)
    prompt = fields.String(required=True)
    kind = fields.String(required=True)
    answers = fields.Integer(required=True, metadata={"description": "Answers to it, over every attempt"})
    first_attempts = fields.Integer(required=True, metadata={"description": "Learners' first tries at its quiz"})
    facility = fields.Float(required=True, allow_none=True, metadata={"description": "Share right at the first try"})
    too_few_to_judge = fields.Boolean(required=True, metadata={"description": "Too few first tries: never flagged"})
    discrimination = fields.Float(required=True, allow_none=True)
    discrimination_note = fields.String(required=True, allow_none=True)
    flags = fields.List(fields.Nested(FlagSchema), required=True)
    choices = fields.List(fields.Nested(ChoiceStatsSchema), required=True)


class FunnelSchema(Schema):
    started = fields.Integer(required=True)
    passed = fields.Integer(required=True)
    gave_up = fields.Integer(required=True)
    in_progress = fields.Integer(required=True)


class LessonStatsSchema(Schema):
    number = fields.Integer(required=True)
    slug = fields.String(required=True)
    title = fields.String(required=True)
    module = fields.String(required=True, metadata={"description": "The module's title"})
    funnel = fields.Nested(FunnelSchema, required=True)
    questions = fields.List(fields.Nested(QuestionStatsSchema), required=True)


class AnalyticsQuerySchema(Schema):
    """?range=: the date range the figures cover (all time when left out)."""

    class Meta:
        unknown = RAISE

    range = fields.String(validate=validate.OneOf([date_range.key for date_range in RANGES]))


class AnalyticsSchema(Schema):
    """The latest computed analytics of a course (computed hourly by a job, never on request)."""

    course = fields.Nested(CourseRefSchema, required=True)
    range = fields.String(required=True, validate=validate.OneOf([date_range.key for date_range in RANGES]))
    ready = fields.Boolean(required=True, metadata={"description": "False while the first figures are computed"})
    computed_at = fields.DateTime(required=True, allow_none=True)
    since = fields.DateTime(required=True, allow_none=True, metadata={"description": "Start of the range (null: all)"})
    lessons = fields.List(fields.Nested(LessonStatsSchema), required=True)


# --- the draft ---------------------------------------------------------------------------------


class CourseProblemSchema(Schema):
    file = fields.String(required=True)
    field = fields.String(required=True)
    message = fields.String(required=True)


class DraftSchema(Schema):
    """The course as admins are editing it, and what publishing it would do."""

    course = fields.Nested(CourseRefSchema, required=True)
    has_draft = fields.Boolean(required=True, metadata={"description": "False: the draft is the published course"})
    updated_at = fields.DateTime(required=True, allow_none=True)
    data = fields.Dict(
        required=True,
        metadata={"description": "The course in the course files' format (docs/course-format.md), with row ids"},
    )
    changes = fields.List(fields.String(), required=True, metadata={"description": "What publishing would change"})
    problems = fields.List(fields.Nested(CourseProblemSchema), required=True, metadata={"description": "What stops it"})
    warnings = fields.List(fields.Nested(CourseProblemSchema), required=True)


class ReviewInputSchema(Schema):
    class Meta:
        unknown = RAISE

    reviewed_by = fields.String(load_default="")
    reviewed_on = fields.String(load_default="", metadata={"description": "YYYY-MM-DD"})
    next_review_on = fields.String(load_default="", metadata={"description": "YYYY-MM-DD"})


class CourseDetailsInputSchema(Schema):
    """The course's details to change in the draft; what is left out stays as it is."""

    class Meta:
        unknown = RAISE

    title = fields.String()
    summary = fields.String()
    pass_mark = fields.Float(allow_nan=False, metadata={"description": "Share of questions right, above 0, at most 1"})
    review = fields.Nested(ReviewInputSchema, allow_none=True, metadata={"description": "null: no review recorded"})
    help = fields.String(metadata={"description": "Markdown shown after every lesson; empty: none"})


class SourceInputSchema(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String(required=True)
    url = fields.String(load_default="")


class LessonInputSchema(Schema):
    """A lesson's details to change in the draft; what is left out stays as it is."""

    class Meta:
        unknown = RAISE

    title = fields.String()
    minutes = fields.Integer(strict=True)
    body = fields.String(metadata={"description": "Markdown"})
    sources = fields.List(fields.Nested(SourceInputSchema))
    module = fields.String(metadata={"description": "A module's slug: the lesson moves to the end of it"})


class PublicationSchema(Schema):
    """A publication: the draft became what learners see."""

    id = fields.Integer(required=True)
    published_at = fields.DateTime(required=True)
    summary = fields.String(required=True)
    changes = fields.List(fields.String(), required=True)
