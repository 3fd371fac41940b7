"""The certificate as a PDF: one landscape A4 page with the verification URL and its QR code.

A private certificate's URL answers "Page not found", so its PDF leaves the URL and QR code out
and says that online checking is off; it prints only the code.

Drawn with fpdf2 and segno, both pure Python: nothing is fetched at render time. The text is set
in DejaVu Sans, a free font kept in the repository (app/fonts) and embedded as a subset, so names
in Latin, Greek and Cyrillic scripts print as written. A name with letters the font does not
have (Chinese, Arabic, ...) is printed without its accents if that is enough, and otherwise left
off the PDF (which then reads like a certificate that shows no name); the verification page, in
the browser's fonts, still shows it as the learner chose.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

import segno
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fontTools ships no type information
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos

FONT_PATH = Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans.ttf"
FONT = "DejaVu"
QR_ERROR = "m"  # medium error correction: survives a crease or a smudge on paper
QR_SCALE = 8  # pixels per module: a sharp image however the viewer scales it
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules
PRIVATE_NOTE = (
    "Its holder keeps this certificate private, so it cannot be checked online. "
    "To check it, ask them to switch checking on and send a fresh copy."
)


@dataclass(frozen=True)
class CertificateText:
    """What the PDF says, already worded and formatted by the caller."""

    holder_name: str | None  # as the learner chose to show it; None for no name
    course_title: str
    issued_on: str  # the date as people read it, e.g. "1 Dec 2026"
    issuer: str
    url: str | None  # the verification URL; None while the certificate is private (the URL is a 404 then)
    code: str


@cache
def _font_characters() -> frozenset[int]:
    return frozenset(TTFont(FONT_PATH)["cmap"].getBestCmap())


def printable(text: str) -> str | None:
    """``text`` if the font can print all of it, else without accents if that suffices, else None."""
    covered = _font_characters()
    if all(ord(ch) in covered or ch.isspace() for ch in text):
        return text
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    if plain.strip() and all(ord(ch) in covered or ch.isspace() for ch in plain):
        return plain
    return None


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG, QR_SCALE pixels a module with the standard quiet zone."""
    buffer = io.BytesIO()
    segno.make_qr(url, error=QR_ERROR).save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buffer.getvalue()


def _line(pdf: FPDF, text: str, size: float, height: float) -> None:
    pdf.set_font(FONT, size=size)
    pdf.multi_cell(0, height, text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


# The name and the course title shrink, a step at a time, until each takes at most two lines or
# reaches its smallest size: at full size a long one (a name may have 80 characters, in Cyrillic
# say) ran to three or four and pushed the lines below it under the QR code and the words beside it.
MOST_LINES = 2
SHRINK_STEP = 2


def _fitted(pdf: FPDF, text: str, size: float, smallest: float) -> float:
    """The largest size from ``size`` down to ``smallest`` at which ``text`` takes at most MOST_LINES lines."""
    while size > smallest:
        pdf.set_font(FONT, size=size)
        lines = cast("list[str]", pdf.multi_cell(0, 1, text, dry_run=True, output=MethodReturnValue.LINES))
        if len(lines) <= MOST_LINES:
            break
        size -= SHRINK_STEP
    return max(size, smallest)


def _fitted_line(pdf: FPDF, text: str, size: float, smallest: float) -> None:
    """``text`` centred at the size ``_fitted`` finds, lines half the size high (in mm), as the others."""
    fitted = _fitted(pdf, text, size, smallest)
    _line(pdf, text, fitted, fitted / 2)


def certificate_pdf(text: CertificateText) -> bytes:
    """The certificate as the bytes of a one-page PDF."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(25, 25, 25)
    pdf.add_font(FONT, "", str(FONT_PATH))
    pdf.set_title(f"Certificate: {text.course_title}")
    pdf.set_creator(text.issuer)
    pdf.add_page()
    # A thin frame, as on a paper certificate.
    pdf.set_draw_color(60, 60, 60)
    pdf.set_line_width(0.6)
    pdf.rect(12, 12, pdf.w - 24, pdf.h - 24)
    pdf.set_text_color(20, 20, 20)

    pdf.set_y(32)
    _line(pdf, "Certificate of completion", 30, 14)
    pdf.ln(8)
    name = printable(text.holder_name) if text.holder_name else None
    if name:
        _line(pdf, "This certifies that", 14, 8)
        _fitted_line(pdf, name, 26, 16)
        _line(pdf, "completed the course", 14, 8)
    else:
        _line(pdf, "This certifies the completion of the course", 14, 8)
    pdf.ln(2)
    _fitted_line(pdf, printable(text.course_title) or "", 22, 14)
    pdf.ln(4)
    _line(pdf, f"on {text.issued_on}", 14, 8)
    _line(pdf, f"Issued by {printable(text.issuer) or ''}", 14, 8)

    # Bottom: how to check it, with the QR code beside the words.
    qr_size = 42
    top = pdf.h - 25 - qr_size
    pdf.set_xy(25, top + 8)
    width = pdf.w - 50 - qr_size - 8
    pdf.set_font(FONT, size=11)
    if text.url:
        pdf.image(io.BytesIO(qr_png(text.url)), x=pdf.w - 25 - qr_size, y=top, w=qr_size, h=qr_size)
        pdf.multi_cell(width, 6, "Check this certificate at:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, size=10)
        pdf.multi_cell(width, 6, text.url, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        # Whoever reads the paper (an employer) must not be sent to a link that says "Page not found".
        pdf.multi_cell(width, 6, PRIVATE_NOTE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, size=10)
    pdf.multi_cell(width, 6, f"Code: {text.code}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
