"""Baked badges (Open Badges 3.0, "Baking"): the signed credential carried inside its badge image, and read back.

- PNG: one iTXt chunk with the keyword `openbadgecredential` whose text is the credential's JSON; compression
  MUST NOT be used, and the chunk MUST NOT appear more than once.
- SVG: `xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` on the `<svg>` element and, directly after it, one
  `<openbadges:credential>` element holding the JSON in a CDATA section (a `verify` attribute instead would be a
  VC-JWT, which this site does not issue).

`credential_read` takes what a person uploads (JSON, a baked PNG or a baked SVG) and returns the credential, or
raises `CredentialParseError` saying exactly why not. Uploads are hostile until read: the size is bounded before
anything is parsed, PNG chunks are walked with their lengths and CRCs checked (Pillow keeps only the last of two
chunks with one keyword, and the spec's "at most once" must be checked), and SVG goes through defusedxml with DTDs
forbidden, so no entity expansion or external reference is ever followed.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.conf import settings

from credentials.badge import badge_png, badge_svg

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
OB2_KEYWORD = b"openbadges"
OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


class CredentialParseError(ValueError):
    """What a person gave is not a credential we can read; the message says why."""


def baked_text(document: dict[str, Any]) -> str:
    """The credential as the image carries it: JSON, ASCII only (so no byte of it needs escaping in XML)."""
    text = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    # "]]>" would end the CDATA section early: split it across two sections, which XML joins back.
    return text.replace("]]>", "]]]]><![CDATA[>")


def bake(document: dict[str, Any], *, image_format: str, name: str, issuer: str) -> bytes:
    """The badge image of `name` with the signed credential baked in."""
    draw = badge_png if image_format == "png" else badge_svg
    return draw(name=name, issuer=issuer, baked=baked_text(document))


def credential_parse(data: bytes, what: str = "file") -> dict[str, Any]:
    """A JSON object from bytes, or a sentence saying why it is not one."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise CredentialParseError(f"The {what} is not UTF-8 text.") from error
    except (ValueError, RecursionError) as error:
        raise CredentialParseError(f"The {what} is not valid JSON: {str(error)[:200]}") from error
    if not isinstance(document, dict):
        raise CredentialParseError(f"The {what} is JSON but not a credential (a JSON object).")
    return document


def credential_read(data: bytes) -> dict[str, Any]:
    """The credential in an upload: a JSON file, or a PNG or SVG badge with the credential baked in."""
    limit = settings.CREDENTIALS_VERIFY_MAX_BYTES
    if len(data) > limit:
        raise CredentialParseError(
            f"The file is larger than {limit // 1024} KB; a credential or baked badge is smaller."
        )
    if data.startswith(PNG_SIGNATURE):
        return credential_parse(png_extract(data), "credential baked in the PNG")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return credential_parse(svg_extract(data), "credential baked in the SVG")
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CredentialParseError(
            "The file is not UTF-8 text, nor a PNG or SVG badge: upload the credential's JSON file or its baked badge."
        ) from error
    return credential_parse(data)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk up to IEND, each length and CRC checked."""
    chunks, offset = [], len(PNG_SIGNATURE)
    while True:
        if offset + 8 > len(data):
            raise CredentialParseError("The PNG is cut short: it ends before its IEND chunk.")
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        end = offset + 8 + length + 4
        if length > 0x7FFFFFFF or end > len(data):
            raise CredentialParseError("The PNG is damaged: a chunk runs past the end of the file.")
        body = data[offset + 8 : end - 4]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4 : end])[0]:
            raise CredentialParseError(f"The PNG is damaged: the {kind.decode('latin-1')!r} chunk fails its CRC.")
        chunks.append((kind, body))
        if kind == b"IEND":
            return chunks
        offset = end


def _itxt(body: bytes) -> tuple[bytes, int, bytes]:
    """(keyword, compression flag, text bytes) of an iTXt chunk."""
    keyword, _, rest = body.partition(b"\0")
    if len(rest) < 2:
        raise CredentialParseError("The PNG is damaged: an iTXt chunk is cut short.")
    flag, _language, _translated, text = rest[0], *rest[2:].split(b"\0", 2)
    return keyword, flag, text


def png_extract(data: bytes) -> bytes:
    """The credential text of a baked PNG."""
    found, ob2 = [], False
    for kind, body in _png_chunks(data):
        if kind == b"iTXt":
            try:
                keyword, flag, text = _itxt(body)
            except ValueError as error:  # fewer than three NUL separators
                raise CredentialParseError("The PNG is damaged: an iTXt chunk is malformed.") from error
            if keyword == PNG_KEYWORD:
                found.append((flag, text))
            ob2 = ob2 or keyword == OB2_KEYWORD
        elif kind == b"tEXt":
            ob2 = ob2 or body.split(b"\0", 1)[0] == OB2_KEYWORD
    if not found:
        hint = " It is an Open Badges 2.0 badge, which this site does not verify." if ob2 else ""
        raise CredentialParseError(f"The PNG has no baked credential (no iTXt chunk 'openbadgecredential').{hint}")
    if len(found) > 1:
        raise CredentialParseError(
            f"The PNG has {len(found)} 'openbadgecredential' chunks; Open Badges 3.0 allows one, so it is ambiguous."
        )
    flag, text = found[0]
    if flag != 0:
        raise CredentialParseError("The baked credential is compressed, which Open Badges 3.0 forbids.")
    return text


def svg_extract(data: bytes) -> bytes:
    """The credential text of a baked SVG."""
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise CredentialParseError(f"The SVG is refused: {error.__class__.__name__} (no DTDs or entities).") from error
    except SyntaxError as error:  # ElementTree.ParseError
        raise CredentialParseError(f"The SVG is not well-formed XML: {error}") from error
    if root.tag != f"{{{SVG_NAMESPACE}}}svg":
        raise CredentialParseError("The file is XML but not an SVG image.")
    elements = list(root.iter(f"{{{OB_NAMESPACE}}}credential"))
    if not elements:
        raise CredentialParseError(f"The SVG has no baked credential (no <openbadges:credential> in {OB_NAMESPACE}).")
    if len(elements) > 1:
        raise CredentialParseError(
            f"The SVG has {len(elements)} <openbadges:credential> elements; Open Badges 3.0 allows one."
        )
    if elements[0].get("verify") is not None:
        raise CredentialParseError("The SVG carries a VC-JWT (verify attribute); this site verifies JSON credentials.")
    return (elements[0].text or "").strip().encode()
