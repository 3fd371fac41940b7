"""Authoring over HTTP with CSRF on: edit the draft, preview, publish; learners see only what is published."""

from __future__ import annotations

import html
import re

import pytest
from markupsafe import escape

from app.extensions import db
from app.models import Role
from app.services import authoring
from app.services.course_export import course_to_data
from app.services.progress import course_by_slug
from tests.conftest import create_user, csrf_token, factory_course_spec, login

SPEC = factory_course_spec()
BASE = f"/author/courses/{SPEC.slug}"
MODULE = SPEC.modules[0].slug
FIRST = SPEC.modules[0].lesson_slugs[0]
EDIT_FIRST = f"{BASE}/lessons/{FIRST}/edit"
LEARNER_FIRST = f"/courses/{SPEC.slug}/lessons/{FIRST}"


@pytest.fixture
def admin(app, client, course):
    """A client logged in as an admin, with the factory course published."""
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


@pytest.fixture
def learner(app, course):
    learner_client = app.test_client()
    create_user(app, "learner@example.org")
    assert login(learner_client).status_code == 302
    return learner_client


def draft(app) -> dict | None:
    """The draft's data, or None when there are no unpublished edits."""
    with app.app_context():
        row = authoring.draft_get(db.session, course_by_slug(db.session, SPEC.slug))
        data = row.data if row else None
        db.session.remove()
        return data


def published_quiz(app) -> list[dict]:
    """The first lesson's published questions, with their row ids."""
    with app.app_context():
        data = course_to_data(db.session, course_by_slug(db.session, SPEC.slug), with_ids=True)
        db.session.remove()
        return data["lessons"][FIRST]["front"]["quiz"]


def lesson_form(admin, **changes) -> dict:
    """The first lesson's edit form as the page fills it, with some fields changed."""
    page = admin.get(EDIT_FIRST).get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(admin, EDIT_FIRST),
        "title": re.search(r'name="title"[^>]*value="([^"]*)"', page).group(1),
        "minutes": re.search(r'name="minutes"[^>]*value="([^"]*)"', page).group(1),
        "module": MODULE,
        "body": textarea(page, "body"),
        "sources": textarea(page, "sources"),
        "opened_as": re.search(r'name="opened_as" type="hidden" value="([^"]*)"', page).group(1),
    }
    return {**data, **changes}


def textarea(page: str, name: str) -> str:
    """The text a page's textarea holds, as a browser would submit it."""
    return html.unescape(
        re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S).group(1)
    )


def question_form(admin, position: int = 1, **changes) -> dict:
    """A question's edit form as the page fills it (hidden ids included), with some fields changed."""
    return form_values(admin, f"{BASE}/lessons/{FIRST}/questions/{position}/edit", **changes)


def form_values(admin, url: str, **changes) -> dict:
    """An edit page's form as a browser would submit it untouched (ticked boxes only), with some fields changed."""
    page = admin.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(admin, url)}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        # Like a browser: no disabled control, and no button but the one clicked (none here).
        if name is None or name.group(1) == "csrf_token" or re.search(r'\sdisabled[\s>]|type="submit"', tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag or 'type="radio"' in tag:
            if re.search(r"\schecked[\s>]", tag):
                data[name.group(1)] = html.unescape(value.group(1)) if value else "y"
        elif value:
            data[name.group(1)] = html.unescape(value.group(1))
    for name in re.findall(r'<textarea[^>]*name="([^"]+)"', page):
        data[name] = textarea(page, name)
    for name, block in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', block)
        data[name] = next((v for v in selected.groups() if v is not None), "") if selected else ""
    return {**data, **changes}


def right_rows(form: dict) -> set[int]:
    """The rows a question form marks right: by its radio buttons (one right answer) or checkboxes (several)."""
    ticked = {i for i in range(30) if f"choices-{i}-correct" in form}
    return ticked | ({int(form["correct"])} if form.get("correct") else set())


def checked(page: str, name: str) -> bool:
    """Whether the page's checkbox ``name`` is ticked."""
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page).group(0)
    return 'type="checkbox"' in tag and bool(re.search(r"\schecked[\s>]", tag))


def article(page: str) -> str:
    return re.search(r'<article class="lesson">.*?</article>', page, re.S).group(0)


def test_index_shows_the_outline_with_no_unpublished_changes(admin):
    page = admin.get("/author/").get_data(as_text=True)

    assert "No unpublished changes." in page
    assert f'href="{EDIT_FIRST}"' in page
    assert 'href="/author/analytics"' in page and 'href="/author/users"' in page


def test_preview_renders_the_text_and_saves_nothing(admin, app):
    form = lesson_form(admin, body="## Fresh heading\n\nNew words.", preview="Preview")

    response = admin.post(EDIT_FIRST, data=form)

    assert response.status_code == 200
    assert "<h2>Fresh heading</h2>" in article(response.get_data(as_text=True))
    assert draft(app) is None


def test_saved_text_reaches_learners_only_after_publishing(admin, learner):
    response = admin.post(EDIT_FIRST, data=lesson_form(admin, body="## Fresh heading\n\nNew words.", save="Save"))
    assert (response.status_code, response.headers["Location"]) == (302, EDIT_FIRST)
    assert "Fresh heading" not in learner.get(LEARNER_FIRST).get_data(as_text=True)
    assert "text changed" in admin.get(f"{BASE}/publish").get_data(as_text=True)

    response = admin.post(f"{BASE}/publish", data={"csrf_token": csrf_token(admin, f"{BASE}/publish")})

    assert response.status_code == 302
    assert "<h2>Fresh heading</h2>" in learner.get(LEARNER_FIRST).get_data(as_text=True)
    assert "No unpublished changes." in admin.get("/author/").get_data(as_text=True)


def test_preview_is_exactly_the_learners_lesson(admin, learner):
    admin.post(EDIT_FIRST, data=lesson_form(admin, body="## Fresh\n\nA [link](https://example.org).", save="Save"))
    preview = article(admin.get(EDIT_FIRST).get_data(as_text=True))
    admin.post(f"{BASE}/publish", data={"csrf_token": csrf_token(admin, f"{BASE}/publish")})

    assert article(learner.get(LEARNER_FIRST).get_data(as_text=True)) == preview


def test_index_banner_lists_unpublished_changes(admin):
    admin.post(EDIT_FIRST, data=lesson_form(admin, title="Blockers, rewritten", save="Save"))

    page = admin.get("/author/").get_data(as_text=True)

    assert "Unpublished changes" in page
    assert "Lesson “Blockers, rewritten”: title changed" in page
    assert f'action="{BASE}/publish"' in page


def test_single_question_with_two_correct_choices_is_refused_beside_the_choices(admin, app):
    form = question_form(admin, **{"choices-0-correct": "y", "choices-0-misconception": ""})

    response = admin.post(f"{BASE}/lessons/{FIRST}/questions/1/edit", data=form)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(
        re.escape('id="choices-error">A one-answer question (kind: single) needs exactly one correct choice, found 2<'),
        page,
    )
    assert draft(app) is None


def test_a_lesson_saved_from_a_page_opened_before_another_admins_save_is_refused(admin, app):
    form = lesson_form(admin, title="My title")
    with app.app_context():
        course = course_by_slug(db.session, SPEC.slug)
        # A question edited meanwhile is on a page of its own: it does not stop the lesson's save.
        authoring.question_move(db.session, course=course, lesson_slug=FIRST, position=1, direction="down")
        db.session.remove()
    assert admin.post(EDIT_FIRST, data=form).status_code == 302
    form = lesson_form(admin, title="My second title")
    with app.app_context():
        course = course_by_slug(db.session, SPEC.slug)
        lesson = SPEC.lessons[FIRST]
        authoring.lesson_update(
            db.session, course=course, lesson_slug=FIRST, title="Theirs", minutes=lesson.minutes, body="Their text."
        )
        db.session.remove()

    response = admin.post(EDIT_FIRST, data=form)

    assert response.status_code == 400
    assert "Someone else changed this lesson in the draft after you opened it" in response.get_data(as_text=True)
    assert draft(app)["lessons"][FIRST]["front"]["title"] == "Theirs"  # their change stands


def test_a_question_saved_from_a_page_opened_before_the_quiz_changed_is_refused(admin, app):
    """The page names its question by place: once another admin removes the one before it, the
    second place holds the third question, which a save from the old page would overwrite."""
    form = question_form(admin, 2, prompt="My edit of the second question")
    with app.app_context():
        course = course_by_slug(db.session, SPEC.slug)
        authoring.question_remove(db.session, course=course, lesson_slug=FIRST, position=1)
        third = authoring.draft_question(authoring.draft_data(db.session, course), FIRST, 2)
        db.session.remove()

    response = admin.post(f"{BASE}/lessons/{FIRST}/questions/2/edit", data=form)

    assert response.status_code == 400
    assert "changed in the draft after you opened it" in response.get_data(as_text=True)
    assert "My edit of the second question" in response.get_data(as_text=True)  # the admin's text is kept
    assert draft(app)["lessons"][FIRST]["front"]["quiz"][1] == third  # the third question is untouched
    # Opened again, the page saves.
    again = admin.post(f"{BASE}/lessons/{FIRST}/questions/2/edit", data=question_form(admin, 2, prompt="Now saved"))
    assert again.status_code == 302 and draft(app)["lessons"][FIRST]["front"]["quiz"][1]["prompt"] == "Now saved"


def test_a_choice_error_sits_beside_its_row(admin, app):
    response = admin.post(
        f"{BASE}/lessons/{FIRST}/questions/1/edit", data=question_form(admin, **{"choices-1-feedback": ""})
    )

    assert response.status_code == 400
    assert 'id="choices-1-feedback-error">Is required<' in response.get_data(as_text=True)
    assert draft(app) is None


def test_a_blank_row_adds_a_choice_and_remove_drops_one(admin, app):
    form = question_form(
        admin, **{"choices-4-text": "A new choice", "choices-4-feedback": "Not quite.", "choices-3-remove": "y"}
    )

    response = admin.post(f"{BASE}/lessons/{FIRST}/questions/1/edit", data=form)

    assert response.status_code == 302
    choices = draft(app)["lessons"][FIRST]["front"]["quiz"][0]["choices"]
    assert [c["text"] for c in choices][-1] == "A new choice" and len(choices) == 4
    assert "id" not in choices[-1] and all("id" in c for c in choices[:3])


def test_order_numbers_reorder_choices_keeping_ids(admin, app):
    form = question_form(admin, **{"choices-0-order": "9"})
    before = [c["id"] for c in published_quiz(app)[0]["choices"]]

    assert admin.post(f"{BASE}/lessons/{FIRST}/questions/1/edit", data=form).status_code == 302

    assert [c["id"] for c in draft(app)["lessons"][FIRST]["front"]["quiz"][0]["choices"]] == before[1:] + before[:1]


def test_move_buttons_move_and_say_so(admin, app):
    token = csrf_token(admin, EDIT_FIRST)

    response = admin.post(f"{BASE}/lessons/{FIRST}/questions/1/move", data={"csrf_token": token, "direction": "down"})

    # Back to the question at its new place, second, where the keyboard carries on.
    assert (response.status_code, response.headers["Location"]) == (302, f"{EDIT_FIRST}#tools-question-2")
    page = admin.get(EDIT_FIRST).get_data(as_text=True)
    assert "Question moved in the draft." in page and 'id="tools-question-2" tabindex="-1"' in page
    assert draft(app)["lessons"][FIRST]["front"]["quiz"][1]["id"] == published_quiz(app)[0]["id"]


@pytest.mark.parametrize("what", ["lesson", "module"])
def test_a_move_comes_back_to_what_was_moved_not_the_top_of_the_page(admin, app, what):
    """Keyboard users carry on from the lesson or module they moved, not from the page's first link."""
    token = csrf_token(admin, "/author/")
    slug, url = (
        (FIRST, f"{BASE}/lessons/{FIRST}/move") if what == "lesson" else (MODULE, f"{BASE}/modules/{MODULE}/move")
    )

    response = admin.post(url, data={"csrf_token": token, "direction": "down"})

    assert (response.status_code, response.headers["Location"]) == (302, f"/author/#tools-{what}-{slug}")
    page = admin.get("/author/").get_data(as_text=True)
    assert f'id="tools-{what}-{slug}" tabindex="-1"' in page and f"{what.title()} moved in the draft." in page


def test_buttons_refuse_a_post_without_csrf(admin, app):
    assert admin.post(f"{BASE}/lessons/{FIRST}/remove").status_code == 400
    assert draft(app) is None


def test_an_invalid_direction_is_400(admin):
    token = csrf_token(admin, EDIT_FIRST)

    assert admin.post(f"{BASE}/modules/{MODULE}/move", data={"csrf_token": token, "direction": "x"}).status_code == 400


@pytest.mark.parametrize(
    "method, url",
    [
        ("GET", f"{BASE}/lessons/nope/edit"),
        ("GET", f"{BASE}/lessons/{FIRST}/questions/99/edit"),
        ("GET", f"{BASE}/modules/nope/edit"),
        ("GET", f"{BASE}/misconceptions/nope/edit"),
        ("GET", "/author/courses/nope/publish"),
        ("POST", f"{BASE}/lessons/nope/move"),
        ("POST", f"{BASE}/lessons/{FIRST}/questions/99/remove"),
    ],
)
def test_unknown_slugs_and_positions_are_404(admin, method, url):
    token = csrf_token(admin, EDIT_FIRST)
    response = admin.get(url) if method == "GET" else admin.post(url, data={"csrf_token": token, "direction": "up"})

    assert response.status_code == 404


def test_a_taken_slug_is_shown_beside_the_slug_field(admin, app):
    url = f"{BASE}/lessons/new"
    form = {"csrf_token": csrf_token(admin, url), "slug": FIRST, "title": "T", "minutes": "3", "module": MODULE}

    response = admin.post(url, data={**form, "body": "Words.", "save": "Save"})

    assert response.status_code == 400
    assert re.search(rf'id="slug-error">“{FIRST}” is already used', response.get_data(as_text=True))
    assert draft(app) is None


def test_markup_is_refused_beside_its_field_and_the_typed_text_kept(admin, app):
    body = "Before.\n\n<script>alert(1)</script>\n\nThe rest of a long lesson."
    response = admin.post(EDIT_FIRST, data=lesson_form(admin, title="<b>Bold</b> title", body=body, save="Save"))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“&lt;b&gt;” would be removed: HTML tags and script links are not kept, so write plain text" in page
    assert "“&lt;script&gt;alert(1)&lt;/script&gt;” would be removed" in page
    assert textarea(page, "body") == body  # nothing typed is lost: the author can mend it
    assert 'value="&lt;b&gt;Bold&lt;/b&gt; title"' in page
    assert draft(app) is None


def test_writing_that_only_looks_like_markup_is_saved_whole(admin, app):
    """The sanitiser once took "<a few weeks." for a tag and kept nothing after it."""
    body = "Most people notice the effect in <a few weeks.\n\nThe rest of a long lesson, kept."
    response = admin.post(EDIT_FIRST, data=lesson_form(admin, body=body, save="Save"))

    assert response.status_code == 302
    assert draft(app)["lessons"][FIRST]["body"] == body + "\n"


def test_discard_returns_to_the_published_course(admin, app):
    admin.post(EDIT_FIRST, data=lesson_form(admin, title="Changed", save="Save"))

    response = admin.post(f"{BASE}/discard", data={"csrf_token": csrf_token(admin, "/author/"), "confirm": "yes"})

    assert response.status_code == 302
    assert draft(app) is None


def test_course_details_take_the_pass_mark_in_percent(admin, app, course):
    url = f"{BASE}/edit"
    form = {
        "csrf_token": csrf_token(admin, url),
        "title": "How Naltrexone Works",
        "summary": "Short.",
        "pass_mark": "75",
    }

    assert admin.post(url, data=form).status_code == 302

    assert draft(app)["course"]["pass_mark"] == 0.75


# --- the review, help, sources, pinned order and safety-critical marks -------------------------


def publish_draft(admin) -> None:
    response = admin.post(f"{BASE}/publish", data={"csrf_token": csrf_token(admin, f"{BASE}/publish")})
    assert response.status_code == 302, response.get_data(as_text=True)


def published(app) -> dict:
    with app.app_context():
        data = course_to_data(db.session, course_by_slug(db.session, SPEC.slug), with_ids=True)
        db.session.remove()
        return data


def test_course_review_and_help_are_shown_back_and_reach_learners_after_publishing(admin, learner, app):
    url = f"{BASE}/edit"
    form = form_values(
        admin,
        url,
        reviewed_by="Dr Test Reviewer",
        reviewed_on="2026-11-02",
        next_review_on="2027-05-03",
        help="Ring **Test Helpline** on 0300 123 4567.",
    )

    assert admin.post(url, data=form).status_code == 302

    page = admin.get(url).get_data(as_text=True)
    assert re.search(r'id="reviewed_by"[^>]*value="Dr Test Reviewer"', page)
    assert re.search(r'id="reviewed_on"[^>]*type="date" value="2026-11-02"', page)
    assert re.search(r'id="next_review_on"[^>]*type="date" value="2027-05-03"', page)
    assert textarea(page, "help") == "Ring **Test Helpline** on 0300 123 4567.\n"
    assert "Test Helpline" not in learner.get(LEARNER_FIRST).get_data(as_text=True)

    publish_draft(admin)

    lesson = article(learner.get(LEARNER_FIRST).get_data(as_text=True))
    assert re.search(
        r'Reviewed <time datetime="2026-11-02">2 Nov 2026</time>.{0,40}'
        r'next review <time datetime="2027-05-03">3 May 2027</time>',
        lesson,
    )
    assert "Dr Test Reviewer" in lesson
    assert "Where to get help" in lesson and "<strong>Test Helpline</strong>" in lesson
    assert 'href="tel:03001234567"' in lesson


def test_a_bad_review_date_is_shown_beside_its_field(admin, app):
    url = f"{BASE}/edit"

    response = admin.post(url, data=form_values(admin, url, reviewed_on="2026-02-30"))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="reviewed_on-error">Must be a date written as YYYY-MM-DD<' in page
    assert re.search(r'aria-invalid="true"[^>]*id="reviewed_on"', page)
    assert '<a href="#reviewed_on">Must be a date written as YYYY-MM-DD</a>' in page
    assert draft(app) is None


def test_a_half_filled_review_names_the_missing_part(admin, app):
    url = f"{BASE}/edit"

    response = admin.post(url, data=form_values(admin, url, reviewed_by=""))

    assert response.status_code == 400
    assert 'id="reviewed_by-error">Is required<' in response.get_data(as_text=True)
    assert draft(app) is None


def test_an_empty_review_means_none_recorded(admin, learner, app, course):
    url = f"{BASE}/edit"
    form = form_values(admin, url, reviewed_by="", reviewed_on="", next_review_on="")

    assert admin.post(url, data=form).status_code == 302

    assert "review" not in draft(app)["course"]
    assert "no review is recorded" in admin.get("/author/").get_data(as_text=True)
    publish_draft(admin)
    assert "Reviewed <time" not in learner.get(LEARNER_FIRST).get_data(as_text=True)


SOURCES = "Test source one | https://example.org/one\n\nA book without an address"


def test_sources_are_shown_back_and_reach_learners_after_publishing(admin, learner, app):
    response = admin.post(EDIT_FIRST, data=lesson_form(admin, sources=SOURCES, save="Save"))
    assert response.status_code == 302

    page = admin.get(EDIT_FIRST).get_data(as_text=True)
    assert textarea(page, "sources") == "Test source one | https://example.org/one\nA book without an address"
    assert '<a href="https://example.org/one" rel="noopener noreferrer">Test source one</a>' in article(page)
    assert draft(app)["lessons"][FIRST]["front"]["sources"] == [
        {"title": "Test source one", "url": "https://example.org/one"},
        {"title": "A book without an address"},
    ]

    publish_draft(admin)

    lesson = article(learner.get(LEARNER_FIRST).get_data(as_text=True))
    assert '<h2 id="lesson-sources">Sources</h2>' in lesson
    assert '<a href="https://example.org/one" rel="noopener noreferrer">Test source one</a>' in lesson
    assert "<li>A book without an address</li>" in lesson


def test_a_bad_source_line_is_named_beside_the_sources_field(admin, app):
    sources = "Good | https://example.org\n\nBad one | www.example.org\n | https://example.org/untitled"

    response = admin.post(EDIT_FIRST, data=lesson_form(admin, sources=sources, save="Save"))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    error = re.search(r'<p class="error-text" id="sources-error">(.*?)</p>', page, re.S).group(1)
    assert "Line 3: the address must be a web address starting with https:// or http://" in error
    assert "Line 4: the title is required" in error
    tag = re.search(r'<textarea[^>]*name="sources"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag and 'aria-describedby="sources-error sources-hint"' in tag
    assert '<a href="#sources">Line 3: the address' in page
    assert draft(app) is None


def test_the_unsaved_preview_shows_the_typed_sources(admin, app):
    sources = "Typed <b>source</b> | https://example.org/typed\nScript | javascript:alert(1)"
    form = lesson_form(admin, sources=sources, preview="Preview")

    response = admin.post(EDIT_FIRST, data=form)

    preview = article(response.get_data(as_text=True))
    assert response.status_code == 200
    assert '<a href="https://example.org/typed" rel="noopener noreferrer">Typed source</a>' in preview
    assert "<li>Script</li>" in preview and "javascript" not in preview
    assert draft(app) is None


def test_a_new_question_shuffles_by_default(admin):
    page = admin.get(f"{BASE}/lessons/{FIRST}/questions/new").get_data(as_text=True)

    assert checked(page, "shuffle")
    assert '<label for="shuffle">Shuffle the choices for each attempt</label>' in page
    assert '<label for="choices-0-safety_critical">Safety-critical (could cause harm if believed)</label>' in page


def test_a_pinned_order_and_a_safety_mark_are_shown_back_and_reach_learners(admin, learner, app, course):
    url = f"{BASE}/lessons/{FIRST}/questions/1/edit"
    form = question_form(admin)
    rows = [i for i in range(30) if form.get(f"choices-{i}-text")]
    wrong = next(i for i in rows if i not in right_rows(form))
    form[f"choices-{wrong}-safety_critical"] = "y"
    form.pop("shuffle", None)

    assert admin.post(url, data=form).status_code == 302

    page = admin.get(url).get_data(as_text=True)
    assert not checked(page, "shuffle") and checked(page, f"choices-{wrong}-safety_critical")
    question = draft(app)["lessons"][FIRST]["front"]["quiz"][0]
    assert question["shuffle"] is False and question["choices"][wrong]["safety_critical"] is True

    publish_draft(admin)

    question = published_quiz(app)[0]
    assert question["shuffle"] is False and question["choices"][wrong]["safety_critical"] is True
    page = admin.get(url).get_data(as_text=True)
    assert not checked(page, "shuffle") and checked(page, f"choices-{wrong}-safety_critical")
    # Pinned: the learner's quiz shows the choices in the order written.
    quiz = learner.get(f"/courses/{course}/lessons/{FIRST}/quiz").get_data(as_text=True)
    places = [quiz.index(str(escape(choice["text"]))) for choice in question["choices"]]
    assert places == sorted(places)


def test_a_correct_choice_marked_safety_critical_is_refused_beside_it(admin, app, course):
    form = question_form(admin)
    (right,) = right_rows(form)
    form[f"choices-{right}-safety_critical"] = "y"

    response = admin.post(f"{BASE}/lessons/{FIRST}/questions/1/edit", data=form)

    assert response.status_code == 400
    assert (
        f'id="choices-{right}-safety_critical-error">Only a wrong choice can be marked safety-critical<'
        in response.get_data(as_text=True)
    )
    assert draft(app) is None


def first_code(app) -> str:
    return next(iter(published(app)["course"]["misconceptions"]))


def test_a_misconception_title_and_safety_mark_are_shown_back_and_published(admin, app, course):
    code = first_code(app)
    url = f"{BASE}/misconceptions/{code}/edit"
    form = form_values(admin, url, title="Short test title", safety_critical="y")

    assert admin.post(url, data=form).status_code == 302

    page = admin.get(url).get_data(as_text=True)
    assert re.search(r'id="title"[^>]*value="Short test title"', page) and checked(page, "safety_critical")

    publish_draft(admin)

    saved = published(app)["course"]["misconceptions"][code]
    assert (saved["title"], saved["safety_critical"]) == ("Short test title", True)
    form = form_values(admin, url, title="")
    form.pop("safety_critical", None)
    assert admin.post(url, data=form).status_code == 302
    page = admin.get(url).get_data(as_text=True)
    assert re.search(r'id="title"[^>]*value=""', page) and not checked(page, "safety_critical")


def test_a_new_misconception_takes_a_title_and_safety_mark(admin, app, course):
    url = f"{BASE}/misconceptions/new"
    form = {
        "csrf_token": csrf_token(admin, url),
        "code": "test-idea",
        "title": "A test idea",
        "safety_critical": "y",
        "learner": "L.",
        "counsellor": "C.",
    }

    assert admin.post(url, data=form).status_code == 302

    assert draft(app)["course"]["misconceptions"]["test-idea"] == {
        "title": "A test idea",
        "safety_critical": True,
        "learner": "L.",
        "counsellor": "C.",
    }


def test_a_long_misconception_title_is_refused_beside_it(admin, app):
    url = f"{BASE}/misconceptions/{first_code(app)}/edit"

    response = admin.post(url, data=form_values(admin, url, title="x" * 81))

    assert response.status_code == 400
    assert 'id="title-error">Must be 80 characters or fewer (it is a short name)<' in response.get_data(as_text=True)
    assert draft(app) is None


@pytest.mark.parametrize(
    ("page", "first", "second", "read"),
    [
        (
            f"{BASE}/edit",
            {"pass_mark": "90"},
            {"summary": "My summary."},
            lambda data: data["course"]["pass_mark"],
        ),
        (
            f"{BASE}/modules/{MODULE}/edit",
            {"title": "Their module title"},
            {"title": "My module title"},
            lambda data: data["course"]["modules"][0]["title"],
        ),
        (
            f"{BASE}/misconceptions/full-kettle-is-quicker/edit",
            {"learner": "Their words for the learner."},
            {"counsellor": "My talking point."},
            lambda data: data["course"]["misconceptions"]["full-kettle-is-quicker"]["learner"],
        ),
    ],
    ids=["course details", "module", "misconception"],
)
def test_a_save_from_a_page_opened_before_another_admins_save_is_refused(admin, app, page, first, second, read):
    """Two tabs (or two admins) on one page: the later save used to overwrite the earlier one's
    change without a word, as lessons and questions no longer do."""
    theirs = form_values(admin, page, **first)
    mine = form_values(admin, page, **second)

    assert admin.post(page, data=theirs).status_code == 302
    kept = read(draft(app))
    response = admin.post(page, data=mine)

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "in the draft after you opened the page, so your changes were not saved" in text
    assert read(draft(app)) == kept  # their change stands
    assert html.escape(next(iter(second.values())), quote=False) in text  # mine is still in the form


def test_a_summary_far_too_long_is_refused_beside_it_and_kept_in_the_form(admin, app):
    page = f"{BASE}/edit"
    long = "A summary pasted twice. " * 50  # 1,200 characters

    response = admin.post(page, data=form_values(admin, page, summary=long))

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "must be 1,000 characters or fewer (it has 1,199)" in text.replace("Must", "must")
    assert long.strip() in html.unescape(text)
    assert draft(app) is None


def test_the_publish_page_says_what_learners_will_notice(admin, app):
    with app.app_context():
        course = course_by_slug(db.session, SPEC.slug)
        authoring.question_remove(db.session, course=course, lesson_slug=FIRST, position=1)
        db.session.remove()

    page = " ".join(admin.get(f"{BASE}/publish").get_data(as_text=True).split())

    assert '<h3 id="for-learners">What learners will notice</h3>' in page
    assert f"“{escape(SPEC.lessons[FIRST].title)}”: passing its quiz will need" in page


def test_lines_a_browser_sends_ending_in_crlf_are_saved_not_taken_for_markup(admin, app):
    """A textarea's lines come as "\\r\\n": the sanitiser's "\\n" once read as a removed "\\r"."""
    page = f"{BASE}/edit"
    response = admin.post(page, data=form_values(admin, page, summary="First line.\r\nSecond line."))

    assert response.status_code == 302
    assert draft(app)["course"]["summary"] == "First line.\nSecond line."


def test_a_long_lesson_with_a_tag_is_refused_naming_the_tag(admin, app):
    body = ("A plain sentence of the lesson. " * 1_500) + "\n\n<b>bold</b> and more.\n"  # 48,000 characters

    response = admin.post(EDIT_FIRST, data=lesson_form(admin, body=body, save="Save"))

    assert response.status_code == 400
    assert "“&lt;b&gt;” would be removed" in response.get_data(as_text=True)
    assert draft(app) is None


def test_a_module_title_with_a_line_break_is_refused_beside_it(admin, app):
    """A title is one line: a line break sent from a crafted form split it in page titles and the certificate."""
    url = f"{BASE}/modules/{MODULE}/edit"

    response = admin.post(url, data=form_values(admin, url, title="Two\r\nlines"))

    assert response.status_code == 400
    assert "must be one line: take out the line break" in response.get_data(as_text=True).lower()
    assert draft(app) is None
