"""Small images made on the spot for the course-image tests, with the metadata a camera writes."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, PngImagePlugin

GPS = 0x8825  # EXIF's GPS block
MAKE = 0x010F  # EXIF's camera maker
ORIENTATION = 0x0112


def png_bytes(size: tuple[int, int] = (40, 30), colour=(200, 30, 30), *, text: str | None = None) -> bytes:
    """A PNG, optionally carrying a text chunk (as editors write "Comment" or "Location")."""
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif[GPS] = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    return exif


def jpeg_bytes(size: tuple[int, int] = (40, 30), *, orientation: int = 1, progressive: bool = False) -> bytes:
    """A JPEG as a phone writes it: EXIF with the maker and a GPS position, and a comment."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 160, 60)).save(
        buffer, "JPEG", exif=camera_exif(orientation), comment=b"taken at home", progressive=progressive
    )
    return buffer.getvalue()


def webp_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    """A WebP with EXIF and XMP metadata."""
    buffer = io.BytesIO()
    Image.new("RGBA", size, (30, 60, 200, 200)).save(
        buffer, "WEBP", exif=camera_exif(), xmp=b"<x:xmpmeta>GPSLatitude 51.5</x:xmpmeta>", lossless=True
    )
    return buffer.getvalue()


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (8, 8)).save(buffer, "GIF")
    return buffer.getvalue()


def animated_png_bytes() -> bytes:
    frames = [Image.new("RGB", (10, 10), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


SVG = (
    b'<?xml version="1.0"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG of a few hundred bytes that declares a huge image (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + _chunk(b"IEND", b"")
    )


def pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    """An image's size and decoded pixels, to compare two files' pictures."""
    image = Image.open(io.BytesIO(data))
    return image.size, image.convert("RGBA").tobytes()
