"""Bitstring Status List v1.0 encoding: pure in, pure out.

The list is a bitstring, index 0 the left-most (most significant) bit of the first byte; `encodedList` is the
bitstring GZIP-compressed, then base64url without padding, with the multibase prefix `u` (spec section 2.1).
"""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Iterable

MAX_ENCODED_CHARS = 1_000_000  # a list this size would be ~8 M entries; refuse more rather than inflate a bomb


class BitstringError(ValueError):
    """An `encodedList` that is not a GZIP'd, base64url multibase bitstring."""


def bitstring_encode(set_indexes: Iterable[int], length: int) -> str:
    bits = bytearray(length // 8 + (length % 8 > 0))
    for index in set_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same list always encodes the same way.
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def bitstring_decode(encoded: str, *, max_bytes: int = 1 << 20) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u") or len(encoded) > MAX_ENCODED_CHARS:
        raise BitstringError("encodedList is not a base64url multibase value (starting with 'u')")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as handle:
            bits = handle.read(max_bytes + 1)
    except (ValueError, OSError, EOFError) as error:
        raise BitstringError(f"encodedList is not a GZIP-compressed bitstring: {error}") from error
    if len(bits) > max_bytes:
        raise BitstringError("encodedList is larger than any list this verifier accepts")
    return bits


def bit_is_set(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise BitstringError(f"status index {index} is outside the list ({len(bits) * 8} entries)")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
