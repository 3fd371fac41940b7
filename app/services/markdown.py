"""Turn lesson Markdown into sanitised HTML, stored at import or save time."""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")

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
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(markdown_text: str) -> str:
    """Render Markdown to HTML that is safe to serve as-is.

    Raw HTML and script URLs are removed from the source first (not merely escaped), then the
    output is sanitised again with an allow-list, so nothing executable can reach a page.
    """
    rendered = _markdown.render(sanitise_markdown(markdown_text))
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


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


def sanitise_text(text: str, *, keep_lines: bool = False) -> str:
    """Strip every HTML tag (and script/style contents) and script URL schemes from author text.

    Repeats until stable, so nested or entity-encoded tricks cannot survive a pass.
    Templates escape text anyway; this keeps stored content clean for every later use
    (exports, CSV, other clients of the data).
    """
    previous = None
    while previous != text:
        previous = text
        text = html.unescape(nh3.clean(text, tags=set(), strip_comments=True))
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
