"""The certificate PDF: one page that reads back with its URL and code, and a QR code of the URL."""

import io

import pypdf
import pytest
import segno

from app.services.certificate_pdf import (
    QR_BORDER,
    QR_ERROR,
    QR_SCALE,
    CertificateText,
    certificate_pdf,
    printable,
)

CODE = "q3Jv1dV5Vq2m8lW0yTtY0u7kG5b9cXnA"
URL = f"https://course.example.org/certificates/{CODE}"


def text(**changes) -> CertificateText:
    values = {
        "holder_name": "Ada Lovelace",
        "course_title": "How Naltrexone Works",
        "issued_on": "1 Dec 2026",
        "issuer": "How Naltrexone Works",
        "url": URL,
        "code": CODE,
    }
    return CertificateText(**(values | changes))


def read(pdf: bytes) -> pypdf.PageObject:
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0]


def page_text(pdf: bytes) -> str:
    return read(pdf).extract_text()


def test_the_pdf_reads_back_with_everything_on_it():
    written = page_text(certificate_pdf(text()))
    for part in ["Certificate of completion", "Ada Lovelace", "How Naltrexone Works", "1 Dec 2026", URL, CODE]:
        assert part in written


def test_the_qr_code_in_the_pdf_is_the_url_s():
    """The image in the PDF, read module by module, is the QR code segno makes of the URL."""
    [image] = read(certificate_pdf(text())).images
    picture = image.image.convert("L")
    expected = segno.make_qr(URL, error=QR_ERROR)
    size = expected.symbol_size(scale=1, border=QR_BORDER)[0]
    assert picture.size == (size * QR_SCALE, size * QR_SCALE)
    half = QR_SCALE // 2  # the middle of each module
    modules = [
        tuple(
            picture.getpixel((x * QR_SCALE + half, y * QR_SCALE + half)) < 128
            for x in range(QR_BORDER, size - QR_BORDER)
        )
        for y in range(QR_BORDER, size - QR_BORDER)
    ]
    assert modules == [tuple(bool(m) for m in row) for row in expected.matrix]
    assert expected.designator.endswith("M") and not expected.is_micro


def test_segno_encodes_the_whole_url():
    """A QR symbol of this version holds the URL in byte mode at medium correction, nothing cut."""
    qr = segno.make_qr(URL, error=QR_ERROR)
    assert qr.mode == "byte" and qr.error == "M"
    # Byte mode at M: version 4 holds 62 bytes; a longer URL would get a bigger version, never a cut.
    assert len(URL.encode()) <= {3: 42, 4: 62, 5: 84}[qr.version]


def test_without_a_url_the_pdf_says_checking_is_off_and_has_no_qr_code():
    pdf = certificate_pdf(text(url=None))
    written = " ".join(page_text(pdf).split())
    assert "Check this certificate at" not in written and "/certificates/" not in written
    assert "cannot be checked online" in written and f"Code: {CODE}" in written
    assert len(read(pdf).images) == 0


def test_no_name_reads_as_a_certificate_without_one():
    written = page_text(certificate_pdf(text(holder_name=None)))
    assert "This certifies the completion of the course" in written and "This certifies that" not in written


@pytest.mark.parametrize("name", ["Łukasz Żółwiński", "Ιωάννα Παππά", "Мария Иванова", "Zoë O’Brien"])
def test_names_beyond_latin_1_print_as_written(name):
    assert printable(name) == name
    assert name in page_text(certificate_pdf(text(holder_name=name)))


def test_a_name_the_font_lacks_loses_only_its_accents_if_that_suffices():
    assert printable("Ngô Bảo Châu") == "Ngô Bảo Châu"  # in the font as it is
    assert printable("A\u0363da") == "Ada"  # a combining mark the font has no glyph for: dropped


def test_a_name_the_font_cannot_print_is_left_off_not_garbled():
    assert printable("山田太郎") is None
    written = page_text(certificate_pdf(text(holder_name="山田太郎")))
    assert "This certifies the completion of the course" in written
    assert URL in written


def test_a_long_course_title_and_name_still_fit_on_one_page():
    written = page_text(certificate_pdf(text(holder_name="Bartholomew " * 6, course_title="A long course title " * 5)))
    assert URL in written  # read(...) has checked there is one page


POINTS_A_MM = 72 / 25.4


def lines_from_the_top(pdf: bytes) -> list[tuple[float, str]]:
    """Each piece of text on the page with how far down the page it starts (pypdf's y is from the bottom)."""
    page = read(pdf)
    height = float(page.mediabox.height)
    pieces: list[tuple[float, str]] = []

    def visit(piece, cm, tm, font, size):
        if piece.strip():
            pieces.append((height - tm[5], piece.strip()))

    page.extract_text(visitor_text=visit)
    return pieces


@pytest.mark.parametrize(
    "name",
    [
        "Александра Константиновна Преображенская-Великорецкая Долгорукова-Оболенская",  # 77 characters
        "Bartholomew " * 6,
    ],
)
def test_a_long_name_and_title_shrink_and_stay_above_the_checking_lines(name):
    """A long name ran to three lines at full size, and "Issued by" went under the QR code's words."""
    pdf = certificate_pdf(text(holder_name=name.strip(), course_title="A long course title for testing " * 4))
    pieces = lines_from_the_top(pdf)
    issued_by = next(y for y, piece in pieces if piece.startswith("Issued by"))
    check_at = next(y for y, piece in pieces if piece.startswith("Check this certificate at"))
    # The QR code's top is 8 mm above the words beside it, whose first line's baseline is about
    # 4 mm into its cell: "Issued by" must sit wholly above it (y in points).
    assert issued_by < check_at - 12 * POINTS_A_MM


def test_the_pdf_is_made_without_the_network(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the PDF must not touch the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert certificate_pdf(text()).startswith(b"%PDF-")
