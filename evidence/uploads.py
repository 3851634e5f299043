"""Generic evidence files: which types are accepted, checking content against the name, hashing, naming.

The file name and the browser's content type are both chosen by the learner, so neither is trusted: the
extension picks the rules and the bytes must then prove they are what the extension claims. Archives are
accepted as opaque blobs and never extracted here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from typing import IO

MB = 1024 * 1024
MAX_FILE_BYTES = 10 * MB
HEAD_BYTES = 1024  # how much of the start of a file callers pass as `head` for the magic checks
_HASH_CHUNK_BYTES = 1 * MB
MAX_FILENAME_CHARS = 100
_MAX_KEPT_EXTENSION_CHARS = 16  # a longer "extension" is just part of a long name

# A check looks at the first bytes (`head`) and, for text types, the whole file (`data`); it returns None
# when the content fits the extension, else the end of the sentence "This file is named .x but ...".
FileCheck = Callable[[bytes, bytes | None], str | None]


class UploadError(ValueError):
    """A file that cannot be accepted; `message` is a sentence a learner understands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _magic(signature: bytes, description: str) -> FileCheck:
    def check(head: bytes, data: bytes | None) -> str | None:
        return None if head.startswith(signature) else f"its content is not {description}"

    return check


def _utf8_text(head: bytes, data: bytes | None) -> str | None:
    if data is None:
        # A programming error, not the learner's: the first KiB cannot prove the rest is text.
        raise TypeError("file_validate() needs data= (the whole file) for text file types")
    if b"\x00" in data:
        return "it contains NUL bytes, so it is not a text file"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "its content is not UTF-8 text"
    return None


ALLOWED_FILE_TYPES: dict[str, tuple[str, FileCheck]] = {
    ".pdf": ("PDF document", _magic(b"%PDF-", "a PDF document")),
    ".png": ("PNG image", _magic(b"\x89PNG\r\n\x1a\n", "a PNG image")),
    ".jpg": ("JPEG image", _magic(b"\xff\xd8\xff", "a JPEG image")),
    ".jpeg": ("JPEG image", _magic(b"\xff\xd8\xff", "a JPEG image")),
    ".txt": ("text file", _utf8_text),
    ".md": ("Markdown file", _utf8_text),
    ".py": ("Python source file", _utf8_text),
    ".csv": ("CSV file", _utf8_text),
    ".json": ("JSON file", _utf8_text),
    # Only the local-file-header magic: an empty archive (PK\x05\x06) is no evidence of anything.
    ".zip": ("ZIP archive", _magic(b"PK\x03\x04", "a ZIP archive")),
}  # fmt: skip


def file_validate(*, name: str, data: bytes | None = None, size: int, head: bytes) -> str:
    """Check an uploaded evidence file against ALLOWED_FILE_TYPES and MAX_FILE_BYTES.

    Args:
        name: The file name the browser sent.
        data: The whole file; required for text types (UTF-8 and NUL checks), optional otherwise.
        size: The file's size in bytes (ignored in favour of len(data) when data is given).
        head: The first HEAD_BYTES bytes, for the magic-number checks.

    Returns:
        The normalised extension, lower case with its dot (".png").

    Raises:
        UploadError: No or unaccepted extension, empty, too big, or content not matching the extension.
        TypeError: `data` was not given for a text type.
    """
    extension = file_extension(name)
    if not extension:
        raise UploadError(f"This file has no extension, so its type is unknown. Accepted: {_accepted()}.")
    if extension not in ALLOWED_FILE_TYPES:
        shown = extension if len(extension) <= 12 else extension[:11] + "…"
        raise UploadError(f"Files of type {shown} are not accepted. Accepted: {_accepted()}.")
    if data is not None:
        size = len(data)
    if size <= 0:
        raise UploadError("This file is empty.")
    if size > MAX_FILE_BYTES:
        raise UploadError(f"This file is {_megabytes(size)} MB; the limit is {_megabytes(MAX_FILE_BYTES)} MB.")
    _description, check = ALLOWED_FILE_TYPES[extension]
    problem = check(head if data is None else data[:HEAD_BYTES], data)
    if problem:
        raise UploadError(f"This file is named {extension} but {problem}.")
    return extension


def file_extension(name: str) -> str:
    """The lower-case extension of the base name, with its dot; "" when there is none."""
    base = _basename(name)
    stem, dot, extension = base.rpartition(".")
    # ".bashrc" and "notes." have no extension; neither has a name whose only dot is the first character.
    if not dot or not stem.strip(".") or not extension:
        return ""
    return "." + extension.lower()


def _accepted() -> str:
    return ", ".join(extension.lstrip(".").upper() for extension in ALLOWED_FILE_TYPES)


def _megabytes(size: int) -> str:
    # Round up so a file just over the limit never reads as exactly the limit.
    return f"{-(-size * 10 // MB) / 10:.1f}"


def file_sha256(fileobj: IO[bytes]) -> str:
    """Hex SHA-256 of a whole file object, read in chunks from the start; leaves it rewound."""
    digest = hashlib.sha256()
    fileobj.seek(0)
    while chunk := fileobj.read(_HASH_CHUNK_BYTES):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def safe_filename(name: str) -> str:
    """A file name safe to store and to offer for download.

    Keeps only the base name, removes control and formatting characters (NUL, right-to-left overrides),
    folds accents to ASCII and replaces anything else outside [A-Za-z0-9._-] with "_". The result has at
    most MAX_FILENAME_CHARS characters, keeps its extension, never starts with a dot and is never empty.
    """
    name = "".join(char for char in _basename(name) if unicodedata.category(char) not in ("Cc", "Cf"))
    # NFKD splits "é" into "e" plus a combining accent, which the next step drops rather than replaces.
    name = "".join(char for char in unicodedata.normalize("NFKD", name) if not unicodedata.combining(char))
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    # Leading dots would hide the file (and "." / ".." are not names at all).
    name = name.lstrip(".")
    return _shorten(name) or "file"


def _basename(name: str) -> str:
    # Browsers on Windows have sent full paths; treat both separators as separators whatever the OS.
    return re.split(r"[\\/]", name)[-1]


def _shorten(name: str) -> str:
    if len(name) <= MAX_FILENAME_CHARS:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) < _MAX_KEPT_EXTENSION_CHARS:
        return stem[: MAX_FILENAME_CHARS - len(extension) - 1] + "." + extension
    return name[:MAX_FILENAME_CHARS]


__all__ = [
    "ALLOWED_FILE_TYPES",
    "HEAD_BYTES",
    "MAX_FILE_BYTES",
    "UploadError",
    "file_extension",
    "file_sha256",
    "file_validate",
    "safe_filename",
]
