"""Turn lesson Markdown into sanitised HTML (stored at import and publish), and tell what sanitising
author text would take out (``markup_removed``: the course rules refuse such text)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markupsafe import Markup, escape

# Phone numbers as UK readers write them: 0300 123 1110, 020 7946 0000, 07700 900123, the short
# lines 116 123 and 116 117, and 999, 111 (or "NHS 111", linked whole) and 112 standing alone.
# "text 82111" is an SMS line.
_PHONE = re.compile(
    r"(?<![\w£$€.,/-])(?:0\d{2,4}(?: ?\d{3,4}){2}|116 ?\d{3}|999|(?:NHS )?111|112)(?![\w.,/-]?\d)"
    r"|(?<=\btext )(?P<sms>\d{5})\b",
    re.IGNORECASE,
)


def _phone_href(match: re.Match) -> str:
    """The link a matched number dials (tel:) or texts (sms:): its digits."""
    return ("sms:" if match.group("sms") else "tel:") + re.sub(r"\D", "", match.group(0))


def _phone_links(state) -> None:
    """Make every phone number in lesson text a tap-to-call (or tap-to-text) link.

    A core rule, so every course gets it and numbers inside links or code are left alone.
    """
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, inside_link = [], 0
        for token in block.children:
            inside_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type != "text" or inside_link or not _PHONE.search(token.content):
                children.append(token)
                continue
            text, start = token.content, 0
            for match in _PHONE.finditer(text):
                if match.start() > start:
                    children.append(_text_token(text[start : match.start()]))
                number = match.group(0)
                link = Token("link_open", "a", 1)
                link.attrs = {"href": _phone_href(match)}
                children += [link, _text_token(number), Token("link_close", "a", -1)]
                start = match.end()
            if start < len(text):
                children.append(_text_token(text[start:]))
        block.children = children


def phone_links(text: str) -> Markup:
    """Plain text (a quiz choice's feedback, an explanation) as HTML, escaped, with each phone
    number a tap-to-call (or tap-to-text) link, as lesson text has them (``_phone_links``)."""
    parts, start = [], 0
    for match in _PHONE.finditer(text):
        number = match.group(0)
        link = Markup('<a href="{}">{}</a>').format(_phone_href(match), number)
        parts += [escape(text[start : match.start()]), link]
        start = match.end()
    parts.append(escape(text[start:]))
    return Markup("").join(parts)


def _text_token(content: str):
    token = Token("text", "", 0)
    token.content = content
    return token


@dataclass(frozen=True)
class ImageSource:
    """Where a course image is served from, and its size in pixels (so the page keeps its room)."""

    url: str
    width: int
    height: int


# Lessons name their images as the files format does, ``media/<name>``.
MEDIA_PREFIX = "media/"
# The only image URLs a rendered page may hold: the course's own images, served by this site.
SERVED_MEDIA_PREFIX = "/media/"


def _course_images(state) -> None:
    """Point each ``media/<name>`` image at the course image's URL; any other image becomes its alt text.

    ``state.env["media"]`` maps the course's image names to ImageSource. A remote image would
    make the learner's browser ask a third party for it, and an unknown name would show a broken
    image, so neither reaches the page (the course rules refuse both before saving anyway).
    """
    if "media" not in state.env:
        return  # parsed, not rendered (markdown_images): images stay as written
    media: Mapping[str, ImageSource] = state.env["media"]
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children = []
        for token in block.children:
            if token.type == "image":
                src = str(token.attrGet("src") or "")
                source = media.get(src[len(MEDIA_PREFIX) :]) if src.startswith(MEDIA_PREFIX) else None
                if source is None:
                    alt = _image_alt(token)
                    if alt:
                        children.append(_text_token(alt))
                    continue
                token.attrSet("src", source.url)
                token.attrSet("width", str(source.width))
                token.attrSet("height", str(source.height))
                token.attrSet("loading", "lazy")
            children.append(token)
        block.children = children


def _image_alt(token) -> str:
    """An image token's alt text as plain text (emphasis and code in it kept as their words)."""
    return _PLAIN.renderInlineAsText(token.children or [], _markdown.options, {}).strip()


_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
_PLAIN = RendererHTML()  # for an image's alt text as plain text
_markdown.core.ruler.push("phone_links", _phone_links)
_markdown.core.ruler.push("course_images", _course_images)

ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "blockquote",
    "code",
    "pre",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height", "loading"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel", "sms"}


def _same_site_images(tag: str, attribute: str, value: str) -> str | None:
    """nh3's last word on attributes: an image's source must be one of the course images served here."""
    if tag == "img" and attribute == "src" and not value.startswith(SERVED_MEDIA_PREFIX):
        return None
    return value


def render_markdown(markdown_text: str, *, media: Mapping[str, ImageSource] | None = None) -> str:
    """Render Markdown to HTML that is safe to serve as-is.

    Raw HTML and script URLs are removed from the source first (not merely escaped), then the
    output is sanitised again with an allow-list, so nothing executable can reach a page.
    ``media`` maps the course's image names to where they are served: ``![alt](media/name.png)``
    becomes that image; any other image (remote, or not in ``media``) is left out, its alt text
    kept, so no page ever asks another site for an image.
    """
    rendered = _markdown.render(sanitise_markdown(markdown_text), {"media": media or {}})
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=_same_site_images,
    )


@dataclass(frozen=True)
class MarkdownImage:
    """An image written in Markdown: its source as written, and its alt text as plain text."""

    src: str
    alt: str


def markdown_images(markdown_text: str) -> list[MarkdownImage]:
    """Every image in the Markdown, in order (images shown as code are not images)."""
    images = []
    for block in _markdown.parse(markdown_text, {}):
        for token in block.children or []:
            if token.type == "image":
                images.append(MarkdownImage(src=str(token.attrGet("src") or ""), alt=_image_alt(token)))
    return images


def plain_text(markdown_text: str) -> str:
    """Return the readable text of Markdown, block ends counted as sentence ends.

    Used to measure reading ease; headings and list items end a sentence for a reader
    even without a full stop.
    """
    rendered = _markdown.render(markdown_text)
    rendered = re.sub(r"</(p|h[1-6]|li)>", ".\n", rendered)
    text = re.sub(r"<[^>]+>", " ", rendered)
    text = re.sub(r"([.!?:])(\s*\.)+", r"\1", html.unescape(text))
    return re.sub(r"\s+", " ", text).strip()


# A script-running URL scheme when written as a link target (followed by something, not a space).
_DANGEROUS_SCHEME = re.compile(r"(?i)(?:javascript|vbscript|data)\s*:(?=\S)")


# The elements of HTML, SVG and MathML: text that opens or closes one of these is markup to strip.
_ELEMENTS = (  # noqa: SIM905 - the names as text, a space apart
    "a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big blink "
    "blockquote body br button canvas caption center cite code col colgroup data datalist dd del details "
    "dfn dialog dir div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 "
    "h3 h4 h5 h6 head header hgroup hr html i iframe image img input ins isindex kbd keygen label legend "
    "li link listing main map mark marquee menu menuitem meta meter nav nobr noembed noframes noscript "
    "object ol optgroup option output p param picture plaintext portal pre progress q rb rp rt rtc ruby "
    "s samp script search section select slot small source spacer span strike strong style sub summary "
    "sup table tbody td template textarea tfoot th thead time title tr track tt u ul var video wbr xmp "
    "svg animate animatemotion animatetransform circle clippath defs desc ellipse feimage filter "
    "foreignobject g line lineargradient marker mask path pattern polygon polyline radialgradient rect "
    "set stop switch symbol text textpath tspan use view "
    "math annotation annotation-xml maction menclose merror mfenced mfrac mi mmultiscripts mn mo mover "
    "mpadded mphantom mroot mrow ms mspace msqrt mstyle msub msubsup msup mtable mtd mtext mtr munder "
    "munderover semantics"
).split()
# Where a "<" starts markup: a comment or declaration; one of those elements followed by a space,
# "/" or ">" and then by a ">" or an "=" before any other "<" (a tag, even one broken over lines or
# left unclosed with an attribute: "<script\n>", "<img src=x onerror=...", "<svg/onload=..."); or
# any tag that sets an attribute ("<x onclick=..."). Any other "<" is the author's writing: "in <a
# few weeks." or "a<b" is no tag, and the sanitiser, taking it for one, dropped everything after it
# to the end of the text.
_ELEMENT_NAMES = "|".join(sorted(_ELEMENTS, key=len, reverse=True))  # longest first: "summary" before "sub"
_MARKUP = re.compile(
    rf"<(?:[!?]|/?(?:{_ELEMENT_NAMES})(?=[\s/>])[^<>=]*[>=]|/?[a-z][\w:-]*[\s/][^<>]*=)",
    re.IGNORECASE,
)
# A Markdown autolink, <https://www.nhs.uk/> or <help@clinic.example>: a link, not markup.
_AUTOLINK = re.compile(r"<(?:[a-z][a-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>@]+)>", re.IGNORECASE)


def _writing_kept(text: str) -> str:
    """``text`` with every "<" that starts no markup written as ``&lt;``, so the sanitiser keeps it as
    text: it dropped "food <or milk>", "x<y and more" and "<https://www.nhs.uk/>" with what followed."""

    def written(found: re.Match) -> str:
        at = found.start()
        return "<" if _MARKUP.match(text, at) and not _AUTOLINK.match(text, at) else "&lt;"

    return re.sub("<", written, text)


def sanitise_text(text: str, *, keep_lines: bool = False) -> str:
    """Strip every HTML tag (and script/style contents) and script URL schemes from author text.

    Repeats until stable, so nested or entity-encoded tricks cannot survive a pass. A "<" that
    starts no markup is the author's writing and stays ("5 < 6", "food <or milk>", a Markdown
    autolink). Templates escape text anyway; this keeps stored content clean for every later
    use (exports, CSV, other clients of the data).
    """
    previous = None
    while previous != text:
        previous = text
        text = html.unescape(nh3.clean(_writing_kept(text), tags=set(), strip_comments=True))
        text = _DANGEROUS_SCHEME.sub("", text)
    return text.rstrip() + "\n" if keep_lines else text.strip()


# A Markdown link or image whose target uses a script-running scheme.
_DANGEROUS_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?\s*(?:javascript|vbscript|data)\s*:[^)]*\)", re.IGNORECASE)


def sanitise_markdown(markdown_text: str) -> str:
    """Clean Markdown source: a link to a script URL keeps only its text; then tags and schemes go."""
    previous = None
    while previous != markdown_text:
        previous = markdown_text
        markdown_text = _DANGEROUS_LINK.sub(r"\1", markdown_text)
    return sanitise_text(markdown_text, keep_lines=True)


def markup_removed(text: str, *, markdown: bool = False) -> str | None:
    """What sanitising ``text`` would take out beyond spacing, as the author wrote it (its first
    stretch, shortened), or None when nothing would go.

    The course rules refuse such text (app/services/course_files.py) rather than let it be
    changed without a word: an author who wrote a tag, a script link or something the sanitiser
    takes for one sees what would be lost and can write it otherwise. ``markdown``: lesson text,
    whose links to script URLs keep only their text.
    """
    if "\r" in text:  # a browser sends a textarea's lines ending "\r\n": spacing, not markup
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    written = html.unescape(text).strip()
    kept = (sanitise_markdown(text) if markdown else sanitise_text(text)).strip()
    if kept == written:
        return None
    link = _DANGEROUS_LINK.search(text) if markdown else None
    if link:
        return _shortened(link.group(0))
    return _shortened(_first_removed(written, kept))


def _first_removed(written: str, kept: str) -> str:
    """The first stretch of ``written`` that ``kept`` lacks (``kept`` being ``written`` with parts
    taken out). Linear in the text's length: a 50,000-character lesson is checked on every save."""
    start = 0
    while start < len(kept) and written[start] == kept[start]:
        start += 1
    # Where the text picks up again: the next few characters kept, found further on.
    for size in (12, 6, 3):
        anchor = kept[start : start + size]
        if len(anchor) == size:
            found = written.find(anchor, start + 1)
            if found > start:
                return written[start:found].strip() or written[start:found]
    end = 0  # else everything between what both keep at the start and at the end
    while end < len(kept) - start and written[-1 - end] == kept[-1 - end]:
        end += 1
    removed = written[start : len(written) - end]
    return removed.strip() or removed


def _shortened(text: str, longest: int = 60) -> str:
    return text if len(text) <= longest else text[: longest - 3] + "..."
