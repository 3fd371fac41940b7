"""Revocation as a W3C Bitstring Status List: one bit per certificate, set when it is not valid.

A certificate's place is its row id: list ``id // LIST_SIZE``, bit ``id % LIST_SIZE``. A bit is
clear only for a certificate that exists and is not revoked, so a revoked certificate, one erased
with its account and an id never issued all read as revoked. Lists are computed from the
certificates table when asked for, never stored, so they cannot drift from it.
"""

from __future__ import annotations

import gzip

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.credentials.multibase import base64url_encode
from app.models import Certificate
from app.parsing import ID_MAX

# The specification's minimum length (16 KiB of bits), which hides any one holder in the crowd.
LIST_SIZE = 131072
LAST_LIST = ID_MAX // LIST_SIZE  # the list of the largest id a certificate can have


def status_position(certificate_id: int) -> tuple[int, int]:
    """The status list number and the bit index of a certificate."""
    return divmod(certificate_id, LIST_SIZE)


def encode_bits(clear: set[int]) -> str:
    """The encodedList of a list whose bits are all set except the ``clear`` indexes.

    Bit 0 is the left-most (most significant) bit of the first byte; the bytes are GZIP-compressed
    and written as multibase base64url, as the specification says.
    """
    bits = bytearray(b"\xff" * (LIST_SIZE // 8))
    for index in clear:
        bits[index // 8] &= ~(0x80 >> (index % 8)) & 0xFF
    # mtime=0: the same list always encodes (and so signs) to the same bytes.
    return base64url_encode(gzip.compress(bytes(bits), mtime=0))


def list_in_use(session: Session, list_number: int) -> bool:
    """Whether list ``list_number`` can hold a certificate issued so far: the first always, a later
    one once an id has reached it (1 query). Any other number is no list: asking for one must
    not make the site sign lists nobody is on."""
    if list_number == 0:
        return True
    if not 0 < list_number <= LAST_LIST:  # past the largest id the table can hold
        return False
    highest = session.scalar(select(func.max(Certificate.id)))
    return highest is not None and highest // LIST_SIZE >= list_number


def valid_indexes(session: Session, list_number: int) -> set[int]:
    """The bit indexes, in one list, of the certificates that exist and are not revoked (1 query)."""
    first = list_number * LIST_SIZE
    ids = session.scalars(
        select(Certificate.id).where(
            Certificate.id >= first, Certificate.id < first + LIST_SIZE, Certificate.revoked_at.is_(None)
        )
    )
    return {certificate_id - first for certificate_id in ids}
