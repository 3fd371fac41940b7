"""A course's images: checking an image, uploading, listing, deleting, and serving them.

An image is accepted only if Pillow reads it, from its bytes (never its name or the browser's
word), as a PNG, JPEG or WebP that is not animated, within the size limit in bytes and pixels.
SVG is refused: it is a document that can carry script, not a picture. Before it is stored, its
metadata is dropped without touching the pixels (see ``strip_metadata``): a photo's EXIF can
hold where and when it was taken, and the learners here are health-service clients.

Lessons refer to an image as ``media/<name>``; the page gets ``/media/<course>/<version>/<name>``,
``version`` being the start of the image's SHA-256, so the URL changes whenever the bytes do and
browsers may keep an image for a year. Why the bytes live in the database is in
docs/course-format.md ("Images").
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from app.models import Course, CourseDraft, CourseMedia, Lesson, User
from app.services.errors import DomainError
from app.services.markdown import MEDIA_PREFIX, ImageSource, markdown_images

# The default limit in bytes (config MEDIA_MAX_BYTES sets the upload page's): lesson images
# are seen on phones, often on mobile data, and 2 MB is already a large photo for a page.
MAX_IMAGE_BYTES = 2 * 1024 * 1024
# Pixels, checked from the header before the image is decoded: a small file can declare a huge
# image (a "decompression bomb") that would take gigabytes to open. 16 MP is a 4000 x 4000
# image, more than a phone camera's 12 MP.
MAX_IMAGE_PIXELS = 16_000_000
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSION = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
EXTENSIONS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
# Lower-case letters and digits in words joined by '-' or '_', then the image's extension.
NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*\.(?:png|jpg|jpeg|webp)$")
MAX_NAME_LENGTH = 100
VERSION_LENGTH = 16  # hex digits of the SHA-256 in the URL: 64 bits, plenty to tell versions apart


class MediaRefused(DomainError):
    """An image the course cannot take, with the reason in a sentence; ``field`` names the form field."""

    status = 400

    def __init__(self, message: str, *, field: str = "image"):
        super().__init__(message)
        self.message = message
        self.field = field


class MediaTooLarge(MediaRefused):
    """An image over the size limit (HTTP 413)."""

    status = 413


class MediaInUse(DomainError):
    """An image a lesson (published or in the draft) still shows."""


@dataclass(frozen=True)
class CheckedImage:
    """An image that passed every check, its metadata stripped: what is stored and served."""

    content_type: str
    data: bytes = field(repr=False)
    width: int
    height: int
    sha256: str

    @property
    def extension(self) -> str:
        return EXTENSION[self.content_type]


def _size(count: int) -> str:
    """A byte count as people write it: "1.5 MB", "800 KB"."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f}".rstrip("0").rstrip(".") + " MB"
    if count >= 1024:
        return f"{round(count / 1024)} KB"
    return f"{count} bytes"


def _looks_like_svg(data: bytes) -> bool:
    """Whether the bytes are an SVG document (XML text with an <svg> element), whatever the name."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in head


def image_check(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> CheckedImage:
    """Check an image by its content and return it with its metadata removed.

    Raises MediaTooLarge over ``max_bytes`` (before and after stripping), MediaRefused for an empty
    file, SVG, anything that is not a PNG, JPEG or WebP, an animation, too many pixels, or a file
    that does not decode completely.
    """
    if not data:
        raise MediaRefused("The file is empty.")
    if len(data) > max_bytes:
        raise MediaTooLarge(
            f"The image is {_size(len(data))}; the limit is {_size(max_bytes)}. "
            "Save it smaller (fewer pixels, or as JPEG or WebP) and upload it again."
        )
    if _looks_like_svg(data):
        raise MediaRefused(
            "SVG images are not accepted: an SVG file can carry script. Save it as PNG or WebP and upload that."
        )
    image = _open(data)
    content_type = CONTENT_TYPES["JPEG" if image.format == "MPO" else str(image.format)]
    # A phone's photo may be stored sideways with an EXIF note to turn it; the note goes with
    # the metadata, so such a photo is turned now (re-encoded once), as are MPO files (a JPEG with
    # a second picture appended, from some cameras), which keep only their first picture.
    if image.format == "MPO" or image.getexif().get(ExifTags.Base.Orientation, 1) != 1:
        data = _reencode(image, content_type)
    try:
        stored = strip_metadata(data, content_type)
    except ValueError:
        raise MediaRefused(_UNREADABLE) from None
    checked_again = _open(stored)
    if len(stored) > max_bytes:
        raise MediaTooLarge(
            f"Turned the right way up, the image is {_size(len(stored))}; the limit is {_size(max_bytes)}. "
            "Save it smaller and upload it again."
        )
    width, height = checked_again.size
    return CheckedImage(
        content_type=content_type,
        data=stored,
        width=width,
        height=height,
        sha256=hashlib.sha256(stored).hexdigest(),
    )


_UNREADABLE = "The image cannot be read: the file is damaged or incomplete. Save it again and upload the new file."


def _open(data: bytes) -> Image.Image:
    """Open and fully decode an image with Pillow's PNG, JPEG and WebP readers only."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than refuses) between its own pixel limit and twice that.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP"))
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise MediaRefused(
                    f"The image is {width} × {height} pixels; the limit is {MAX_IMAGE_PIXELS // 1_000_000} "
                    "million pixels (for example 4000 × 4000). Make it smaller and upload it again."
                )
            if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
                raise MediaRefused(
                    "Animated images are not accepted: movement distracts from reading and cannot be "
                    "paused. Upload a still image."
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRefused(
            f"The image has too many pixels; the limit is {MAX_IMAGE_PIXELS // 1_000_000} million. "
            "Make it smaller and upload it again."
        ) from None
    except UnidentifiedImageError:
        raise MediaRefused(
            "The file is not a PNG, JPEG or WebP image. Save it in one of those formats and upload it again."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise MediaRefused(_UNREADABLE) from None
    return image


def _reencode(image: Image.Image, content_type: str) -> bytes:
    """The image turned upright and saved afresh: PNG losslessly, JPEG and WebP at high quality."""
    image.seek(0)
    upright = ImageOps.exif_transpose(image)
    options: dict = {}
    if icc := image.info.get("icc_profile"):
        options["icc_profile"] = icc  # the colours as meant; no personal data in a colour profile
    buffer = io.BytesIO()
    if content_type == "image/png":
        upright.save(buffer, format="PNG", **options)
    elif content_type == "image/jpeg":
        upright.convert("RGB").save(buffer, format="JPEG", quality=92, **options)
    else:
        upright.save(buffer, format="WEBP", quality=90, **options)
    return buffer.getvalue()


# --- metadata -----------------------------------------------------------------------------------

# PNG chunks kept: the image itself and how to show its colours. Text (tEXt, zTXt, iTXt), EXIF
# (eXIf), the time (tIME) and anything unknown are dropped, as is whatever follows IEND.
_PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"cICP"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG segments dropped: APP1 (EXIF, XMP), APP3 to APP13 (APP13 is IPTC), APP15 and comments.
# Kept: APP0 (JFIF), APP2 (colour profile), APP14 (Adobe's colour transform, needed to decode).
_JPEG_DROP = {0xE1, *range(0xE3, 0xEE), 0xEF, 0xFE}
# WebP chunks kept: the image data, alpha and colour profile; EXIF and "XMP " are dropped.
_WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP"}


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """The image's bytes with its metadata removed and its pixels untouched.

    Done on the file's structure, not by decoding and re-encoding: a JPEG loses nothing, and
    stripping a stripped file changes nothing, so export and import give back the same bytes.
    Raises ValueError if the structure is broken.
    """
    if content_type == "image/png":
        return _strip_png(data)
    if content_type == "image/jpeg":
        return _strip_jpeg(data)
    return _strip_webp(data)


def _strip_png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    out, position = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG chunk")
        if kind in _PNG_KEEP:
            out.append(data[position:end])
        position = end
        if kind == b"IEND":
            return b"".join(out)
    raise ValueError("PNG without IEND")


def _strip_jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    out, position = [b"\xff\xd8"], 2
    while position < len(data):
        if data[position] != 0xFF:
            raise ValueError("JPEG marker expected")
        while position < len(data) and data[position] == 0xFF:
            position += 1  # fill bytes before a marker
        if position >= len(data):
            break
        marker = data[position]
        position += 1
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            return b"".join(out)  # end of image: anything after it is dropped
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(bytes((0xFF, marker)))
            continue
        (length,) = struct.unpack(">H", data[position : position + 2])
        end = position + length
        if length < 2 or end > len(data):
            raise ValueError("truncated JPEG segment")
        if marker not in _JPEG_DROP:
            out.append(bytes((0xFF, marker)) + data[position:end])
        position = end
        if marker == 0xDA:
            # Entropy-coded data follows a scan's header, up to the next marker that is not a
            # stuffed 0xFF00 or a restart marker (RST0 to RST7).
            scan_start = position
            while position + 1 < len(data):
                if data[position] == 0xFF and data[position + 1] != 0x00 and not 0xD0 <= data[position + 1] <= 0xD7:
                    break
                position += 1
            out.append(data[scan_start:position])
    raise ValueError("JPEG without an end")


def _strip_webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    (riff_size,) = struct.unpack("<I", data[4:8])
    end_of_riff = min(len(data), 8 + riff_size)
    chunks, position = [], 12
    while position + 8 <= end_of_riff:
        kind = data[position : position + 4]
        (size,) = struct.unpack("<I", data[position + 4 : position + 8])
        end = position + 8 + size + (size & 1)
        if position + 8 + size > end_of_riff:
            raise ValueError("truncated WebP chunk")
        chunk = data[position : min(end, end_of_riff)]
        if kind == b"VP8X":
            # Its flags must no longer claim EXIF (0x08) or XMP (0x04) metadata.
            chunk = chunk[:8] + bytes((chunk[8] & ~0x0C,)) + chunk[9:]
        if kind in _WEBP_KEEP:
            chunks.append(chunk + (b"\x00" if len(chunk) % 2 else b""))
        position = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# --- names and URLs -----------------------------------------------------------------------------


def media_name(requested: str, filename: str, content_type: str) -> str:
    """A safe file name for the image: the name asked for (or else the uploaded file's), made of
    lower-case letters, digits and hyphens, ending in the extension of what the image really is."""
    stem = (requested or "").strip() or (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    base, dot, extension = stem.rpartition(".")
    if dot and extension.lower() in EXTENSIONS:
        stem = base
    words = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    suffix = "." + EXTENSION[content_type]
    words = words[: MAX_NAME_LENGTH - len(suffix)].strip("-") or "image"
    return words + suffix


def name_problem(name: str) -> str | None:
    """Why a file name cannot be a course image's name, or None if it can."""
    if len(name) > MAX_NAME_LENGTH:
        return f"the file name must be {MAX_NAME_LENGTH} characters or fewer"
    if not NAME_PATTERN.match(name):
        return (
            "the file name must be lower-case letters and digits, words joined by '-' or '_', "
            "ending in .png, .jpg, .jpeg or .webp"
        )
    return None


def media_version(sha256: str) -> str:
    """The part of an image's URL that changes whenever its bytes do."""
    return sha256[:VERSION_LENGTH]


def media_url(course_slug: str, name: str, sha256: str) -> str:
    """Where the site serves a course image (the route in app/main/media.py)."""
    return f"/media/{course_slug}/{media_version(sha256)}/{name}"


def media_sources(session: Session, course: Course) -> dict[str, ImageSource]:
    """Each of the course's images by name, with its URL and size, for rendering (one query)."""
    rows = session.execute(
        select(CourseMedia.name, CourseMedia.sha256, CourseMedia.width, CourseMedia.height).where(
            CourseMedia.course_id == course.id
        )
    )
    return {row.name: ImageSource(media_url(course.slug, row.name, row.sha256), row.width, row.height) for row in rows}


def media_names(session: Session, course: Course) -> set[str]:
    """The names of the course's images, for the course rules' "no such image" check (one query)."""
    return set(session.scalars(select(CourseMedia.name).where(CourseMedia.course_id == course.id)))


# --- which lessons show an image ---------------------------------------------------------------


def referenced_names(markdown_texts: Iterable[str]) -> dict[str, int]:
    """How many times each ``media/<name>`` is shown as an image in the texts."""
    counts: dict[str, int] = {}
    for text in markdown_texts:
        for image in markdown_images(text or ""):
            if image.src.startswith(MEDIA_PREFIX):
                name = image.src[len(MEDIA_PREFIX) :]
                counts[name] = counts.get(name, 0) + 1
    return counts


@dataclass
class MediaItem:
    """One image on the course's images page: the row (without its bytes) and where it is shown."""

    media: CourseMedia
    url: str
    uploaded_by: str | None  # the uploader's display name; None when imported or the account is gone
    published_in: list[str]  # titles of published lessons (and "Where to get help") that show it
    draft_in: list[str]  # the same in the draft, when there is one

    @property
    def in_use(self) -> bool:
        return bool(self.published_in or self.draft_in)

    @property
    def snippet(self) -> str:
        """The Markdown that shows the image; the author writes its description between [ and ]."""
        return f"![]({MEDIA_PREFIX}{self.media.name})"


def _texts_published(session: Session, course: Course) -> list[tuple[str, str]]:
    """(where, Markdown) of the published course: each live lesson, then the shared help text."""
    lessons = session.execute(
        select(Lesson.title, Lesson.body_markdown)
        .where(Lesson.course_id == course.id, Lesson.retired_at.is_(None))
        .order_by(Lesson.position)
    )
    return [(row.title, row.body_markdown) for row in lessons] + [("Where to get help", course.help_markdown or "")]


def _texts_of_draft(data: dict) -> list[tuple[str, str]]:
    """(where, Markdown) of a draft's data, in the same shape as the files."""
    texts = []
    for lesson in (data.get("lessons") or {}).values():
        front = lesson.get("front") or {}
        texts.append((str(front.get("title") or ""), str(lesson.get("body") or "")))
    help_text = (data.get("course") or {}).get("help")
    return texts + [("Where to get help", str(help_text or ""))]


def _uses(texts: list[tuple[str, str]]) -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for title, text in texts:
        for name in referenced_names([text]):
            where.setdefault(name, []).append(title)
    return where


def media_list(session: Session, *, course: Course) -> list[MediaItem]:
    """The course's images, newest first, each with where it is shown; three queries whatever their number."""
    rows = session.execute(
        select(CourseMedia, User.display_name)
        .outerjoin(User, User.id == CourseMedia.uploaded_by_id)
        .where(CourseMedia.course_id == course.id)
        .order_by(CourseMedia.uploaded_at.desc(), CourseMedia.id.desc())
    ).all()
    published = _uses(_texts_published(session, course))
    draft = session.scalar(select(CourseDraft.data).where(CourseDraft.course_id == course.id))
    in_draft = _uses(_texts_of_draft(draft)) if draft is not None else {}
    return [
        MediaItem(
            media=row,
            url=media_url(course.slug, row.name, row.sha256),
            uploaded_by=uploader,
            published_in=published.get(row.name, []),
            draft_in=in_draft.get(row.name, []),
        )
        for row, uploader in rows
    ]


# --- upload and delete --------------------------------------------------------------------------


def media_upload(
    session: Session,
    *,
    course: Course,
    data: bytes,
    filename: str = "",
    name: str = "",
    user_id: int | None = None,
    max_bytes: int = MAX_IMAGE_BYTES,
) -> CourseMedia:
    """Check an image and add it to the course under a safe name; commit and return its row.

    The same image uploaded again under the same name changes nothing. Another image under a
    name the course already uses is refused (MediaRefused on ``name``): a lesson showing the old
    one would change without anyone editing it.
    """
    checked = image_check(data, max_bytes=max_bytes)
    final_name = media_name(name, filename, checked.content_type)
    existing = session.scalar(
        select(CourseMedia).where(CourseMedia.course_id == course.id, CourseMedia.name == final_name)
    )
    if existing is not None:
        if existing.sha256 == checked.sha256:
            return existing
        raise _name_taken(final_name)
    row = CourseMedia(
        course_id=course.id,
        name=final_name,
        content_type=checked.content_type,
        sha256=checked.sha256,
        data=checked.data,
        size_bytes=len(checked.data),
        width=checked.width,
        height=checked.height,
        uploaded_by_id=user_id,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        # Another upload took the name a moment ago.
        session.rollback()
        raise _name_taken(final_name) from None
    return row


def _name_taken(name: str) -> MediaRefused:
    return MediaRefused(
        f"The course already has a different image named “{name}”. Give this one another name, "
        "or delete the old one first (possible once no lesson shows it).",
        field="name",
    )


def media_delete(session: Session, *, course: Course, name: str) -> None:
    """Delete an image no lesson shows, published or in the draft; commit.

    Raises LookupError for an unknown name and MediaInUse while a lesson (or the course's help
    text) still shows it, naming where.
    """
    row = session.scalar(select(CourseMedia).where(CourseMedia.course_id == course.id, CourseMedia.name == name))
    if row is None:
        raise LookupError(name)
    item = next(item for item in media_list(session, course=course) if item.media.id == row.id)
    if item.in_use:
        places = list(dict.fromkeys(item.published_in + item.draft_in))
        raise MediaInUse(
            f"“{name}” is still shown in {', '.join(f'“{place}”' for place in places)}. "
            "Take it out of the text (and publish, if learners see it) before deleting it."
        )
    session.delete(row)
    session.commit()


# --- serving and export -------------------------------------------------------------------------


def media_for_serving(session: Session, *, course_slug: str, version: str, name: str) -> CourseMedia | None:
    """The image at this URL with its bytes (one query), or None if the name or version is not current."""
    if len(version) != VERSION_LENGTH or not NAME_PATTERN.match(name):
        return None
    row = session.scalar(
        select(CourseMedia)
        .join(Course, Course.id == CourseMedia.course_id)
        .where(Course.slug == course_slug, CourseMedia.name == name)
        .options(undefer(CourseMedia.data))
    )
    if row is None or media_version(row.sha256) != version:
        return None
    return row


def media_files(session: Session, course: Course) -> dict[str, bytes]:
    """The course's images as files of its folder: {"media/<name>": bytes}."""
    rows = session.scalars(
        select(CourseMedia)
        .where(CourseMedia.course_id == course.id)
        .order_by(CourseMedia.name)
        .options(undefer(CourseMedia.data))
    )
    return {f"{MEDIA_PREFIX}{row.name}": row.data for row in rows}
