"""Public operations: the published course's outline, as the course page shows it to anyone."""

from __future__ import annotations

from app.api.common import ApiBlueprint, no_query
from app.api.problems import ApiError
from app.api.schemas import OutlineSchema
from app.extensions import db
from app.services.course_content import CourseContent
from app.services.progress import course_outline_by_slug

blp = ApiBlueprint("api_course", __name__, url_prefix="/api/v1", description="The published course, for anyone")


@blp.route("/courses/<course_slug>")
@no_query(blp)
@blp.response(200, OutlineSchema)
def outline(course_slug: str):
    """The published course's outline

    Its modules and lessons in order, with each lesson's reading time and how many questions
    its quiz has: what the course page shows anyone.
    """
    found = course_outline_by_slug(db.session, slug=course_slug, learner=None)
    if found is None or not isinstance(found.course, CourseContent):
        raise ApiError(404, "There is no such course.")
    content = found.course
    has_review = any((content.reviewed_by, content.reviewed_on, content.next_review_on))
    return {
        "slug": content.slug,
        "title": content.title,
        "summary": content.summary,
        "pass_mark": content.pass_mark,
        "version": content.version,
        "review": {
            "reviewed_by": content.reviewed_by,
            "reviewed_on": content.reviewed_on,
            "next_review_on": content.next_review_on,
            "changed_since_review_on": content.changed_since_review_on,
        }
        if has_review
        else None,
        "modules": [
            {
                "slug": module.slug,
                "title": module.title,
                "lessons": [
                    {
                        "number": entry.number,
                        "slug": entry.lesson.slug,
                        "title": entry.lesson.title,
                        "minutes": entry.lesson.minutes,
                        "questions": len(entry.lesson.questions),
                    }
                    for entry in found.entries_in(module)
                ],
            }
            for module in content.modules
        ],
    }
