"""An admin uploads an image in a real browser, puts its Markdown in a lesson, sees it in the
preview, publishes, and a learner sees it in the lesson. An SVG is refused on the way.

axe-core checks the images page (empty, with an image, with the SVG refused), the lesson editor
showing the image and the learner's lesson; screenshots at 1280 and phone width.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from app.models import Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import (
    Audit,
    axe_violations,
    describe_violations,
    lesson_url,
    lessons_in_order,
    log_in_quickly,
)
from tests.images import SVG, png_bytes

pytestmark = pytest.mark.e2e

ADMIN_EMAIL = "ada.admin@example.org"
LEARNER_EMAIL = "lee.learner@example.org"
ALT = "A receptor with naltrexone sitting in it"
NARROW = {"width": 375, "height": 812}


class NarrowAudit(Audit):
    """Axe and screenshots at 1280 px and the phone width, then axe again at 375 px with no sideways scroll."""

    def __call__(self, page, name: str) -> None:
        super().__call__(page, name)
        viewport = page.viewport_size
        page.set_viewport_size(NARROW)
        violations = axe_violations(page, self.axe_source)
        wider = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
        page.set_viewport_size(viewport)
        if violations:
            self.failures.append(describe_violations(f"{name} at 375 px ({page.url})", violations))
        if wider:
            self.failures.append(f"{name} scrolls sideways at 375 px ({page.url})")


def loaded(image) -> bool:
    """Whether the browser fetched and decoded the image (a broken one has no natural width).

    Waits for it, up to ten seconds: on a loaded machine the check can come before the image's
    request is answered (a lazy image, once scrolled to)."""
    image.scroll_into_view_if_needed()
    try:
        image.page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=10_000
        )
    except PlaywrightTimeoutError:
        return False
    return True


def test_upload_an_image_show_it_in_a_lesson_and_publish(page, learner_page, app, course_spec, axe_source):
    audit = NarrowAudit(axe_source)
    admin, learner = page, learner_page
    lesson = lessons_in_order(course_spec)[0]
    create_user(app, ADMIN_EMAIL, role=Role.ADMIN, name="Ada Admin")
    create_user(app, LEARNER_EMAIL, name="Lee Learner")
    admin.context.grant_permissions(["clipboard-read", "clipboard-write"])

    # From the authoring home to the course's images: none yet.
    log_in_quickly(admin, ADMIN_EMAIL, PASSWORD)
    admin.goto("/author/")
    admin.get_by_role("link", name=re.compile(r"^Images")).first.click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Images")
    expect(admin.get_by_text("No images yet.")).to_be_visible()
    audit(admin, "author-media-empty")

    # An SVG, even named .png, is refused with the reason beside the field.
    admin.get_by_label("Image file").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": SVG})
    admin.get_by_role("button", name="Upload the image").click()
    expect(admin.get_by_role("alert")).to_contain_text("The image was not uploaded")
    expect(admin.locator("#image-error")).to_contain_text("SVG images are not accepted")
    audit(admin, "author-media-svg-refused")

    # A PNG, given a name of the admin's own.
    admin.get_by_label("Image file").set_input_files(
        {"name": "IMG_0042.PNG", "mimeType": "image/png", "buffer": png_bytes((320, 200), (40, 110, 160))}
    )
    admin.get_by_label("Name in the course (optional)").fill("Receptor diagram")
    admin.get_by_role("button", name="Upload the image").click()
    expect(admin.get_by_role("status").filter(has_text="uploaded")).to_contain_text("“receptor-diagram.png” uploaded")
    item = admin.get_by_role("listitem").filter(has=admin.get_by_role("heading", name="receptor-diagram.png"))
    expect(item).to_contain_text("320 × 200 pixels")
    expect(item).to_contain_text("Not shown in any lesson yet.")
    assert loaded(item.locator("img"))

    # The copy button (shown by the script) puts the Markdown on the clipboard.
    item.get_by_role("button", name="Copy Markdown for receptor-diagram.png").click()
    snippet = admin.evaluate("navigator.clipboard.readText()")
    assert snippet == "![](media/receptor-diagram.png)"
    expect(admin.locator("#copy-status")).to_have_text("Copied the Markdown.")
    audit(admin, "author-media-one-image")

    # Into the lesson, with its description written between the brackets: the preview shows it.
    admin.goto(f"/author/courses/{course_spec.slug}/lessons/{lesson.slug}/edit")
    body = admin.get_by_label("Lesson text (Markdown)")
    body.fill(body.input_value() + "\n\n" + snippet.replace("![]", f"![{ALT}]") + "\n")
    admin.get_by_role("button", name="Preview").click()
    preview_image = admin.locator("#lesson-preview").get_by_role("img", name=ALT)
    expect(preview_image).to_be_visible()
    assert loaded(preview_image)
    audit(admin, "author-lesson-with-image")

    admin.get_by_role("button", name="Save to draft").click()
    expect(admin.get_by_role("status").filter(has_text="saved")).to_be_visible()
    admin.goto(f"/author/courses/{course_spec.slug}/publish")
    admin.get_by_role("button", name="Publish these changes").click()
    expect(admin.get_by_role("status").filter(has_text="Published.")).to_be_visible()

    # Once published the images page says where it is shown, and offers no delete.
    admin.goto(f"/author/courses/{course_spec.slug}/media")
    item = admin.get_by_role("listitem").filter(has=admin.get_by_role("heading", name="receptor-diagram.png"))
    expect(item).to_contain_text(f"Shown in “{lesson.title}” (published).")
    expect(item.get_by_role("button", name=re.compile("^Delete"))).to_have_count(0)

    # The learner sees the image in the lesson, served by the site itself.
    log_in_quickly(learner, LEARNER_EMAIL, PASSWORD)
    learner.goto(lesson_url(course_spec, lesson))
    image = learner.get_by_role("img", name=ALT)
    expect(image).to_be_visible()
    assert loaded(image)
    assert re.fullmatch(r"/media/[^/]+/[0-9a-f]{16}/receptor-diagram\.png", image.get_attribute("src"))
    audit(learner, "lesson-with-image")
    # A diagram's dark lines on a transparent background would vanish on the dark page: there it
    # sits on a light backing; on the light page, on the page itself.
    backing = "el => getComputedStyle(el).backgroundColor"
    assert image.evaluate(backing) == "rgba(0, 0, 0, 0)"
    learner.emulate_media(color_scheme="dark")
    red, green, blue = (int(part) for part in re.findall(r"\d+", image.evaluate(backing))[:3])
    assert min(red, green, blue) > 220, (red, green, blue)
    learner.emulate_media(color_scheme="light")
    audit.check()
