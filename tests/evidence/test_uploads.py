"""Generic evidence files: accepted types, content checked against the extension, hashing, safe names."""

from __future__ import annotations

import hashlib
import io

import pytest

from evidence.uploads import (
    ALLOWED_FILE_TYPES,
    MAX_FILE_BYTES,
    UploadError,
    file_sha256,
    file_validate,
    safe_filename,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
SAMPLES = {
    ".pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    ".png": PNG,
    ".jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    ".jpeg": b"\xff\xd8\xff\xe1\x00\x10Exif",
    ".txt": "Notes about résumés\n".encode(),
    ".md": b"# Heading\n\nText.\n",
    ".py": b"print('hello')\n",
    ".csv": b"a,b\n1,2\n",
    ".json": b'{"a": 1}',
    ".zip": b"PK\x03\x04\x14\x00\x00\x00",
}


def validate(name: str, data: bytes) -> str:
    return file_validate(name=name, data=data, size=len(data), head=data[:1024])


def refusal(name: str, data: bytes | None = None, *, size: int | None = None, head: bytes = b"") -> str:
    with pytest.raises(UploadError) as caught:
        file_validate(name=name, data=data, size=len(data or b"") if size is None else size, head=head)
    return caught.value.message


def test_samples_cover_every_allowed_type() -> None:
    assert set(SAMPLES) == set(ALLOWED_FILE_TYPES)


@pytest.mark.parametrize("extension", sorted(SAMPLES))
def test_each_accepted_type(extension: str) -> None:
    assert validate(f"evidence{extension}", SAMPLES[extension]) == extension


@pytest.mark.parametrize("extension", [".pdf", ".png", ".jpg", ".zip"])
def test_binary_types_need_only_the_head(extension: str) -> None:
    data = SAMPLES[extension]
    assert file_validate(name=f"x{extension}", size=5 * 1024 * 1024, head=data) == extension


def test_extension_is_normalised() -> None:
    assert validate("Photo.JPEG", SAMPLES[".jpeg"]) == ".jpeg"
    assert validate("C:\\Users\\me\\Report.PDF", SAMPLES[".pdf"]) == ".pdf"


def test_wrong_magic() -> None:
    message = refusal("cat.png", SAMPLES[".jpg"], head=SAMPLES[".jpg"])
    assert message == "This file is named .png but its content is not a PNG image."
    assert "not a PDF" in refusal("cv.pdf", b"<html>", head=b"<html>")
    assert "not a ZIP" in refusal("code.zip", b"PK\x05\x06" + b"\x00" * 18, head=b"PK\x05\x06" + b"\x00" * 18)


def test_head_is_taken_from_data_when_given() -> None:
    # A caller passing a head that disagrees with the data cannot smuggle the data past the check.
    assert "not a PNG" in refusal("x.png", b"GIF89a", head=PNG)


@pytest.mark.parametrize("name", ["virus.exe", "page.html", "image.svg", "archive.tar.gz", "x.png.exe"])
def test_unaccepted_types(name: str) -> None:
    message = refusal(name, b"MZ", head=b"MZ")
    extension = "." + name.rsplit(".", 1)[1]
    assert message.startswith(f"Files of type {extension} are not accepted. Accepted: PDF, PNG, JPG, JPEG, TXT")


@pytest.mark.parametrize("name", ["README", ".bashrc", "notes.", "", "dir/"])
def test_no_extension(name: str) -> None:
    assert refusal(name, b"x", head=b"x").startswith("This file has no extension")


def test_too_big_says_limit_and_size() -> None:
    message = refusal("big.pdf", size=MAX_FILE_BYTES + 1, head=SAMPLES[".pdf"])
    assert message == "This file is 10.1 MB; the limit is 10.0 MB."
    message = refusal("big.pdf", size=25 * 1024 * 1024 + 300_000, head=SAMPLES[".pdf"])
    assert message == "This file is 25.3 MB; the limit is 10.0 MB."


def test_exactly_the_limit_is_accepted() -> None:
    assert file_validate(name="big.pdf", size=MAX_FILE_BYTES, head=SAMPLES[".pdf"]) == ".pdf"


def test_empty() -> None:
    assert refusal("empty.txt", b"") == "This file is empty."
    assert refusal("empty.png", size=0, head=b"") == "This file is empty."


def test_nul_in_text() -> None:
    message = refusal("script.py", b"print(1)\x00\x00", head=b"print(1)\x00\x00")
    assert message == "This file is named .py but it contains NUL bytes, so it is not a text file."


def test_text_not_utf8() -> None:
    data = "café".encode("latin-1")
    assert refusal("notes.md", data, head=data) == "This file is named .md but its content is not UTF-8 text."


def test_text_types_require_data() -> None:
    with pytest.raises(TypeError):
        file_validate(name="notes.txt", size=10, head=b"0123456789")


def test_sha256_reads_from_start_and_rewinds() -> None:
    data = b"abc" * 1_000_000  # spans several 1 MiB chunks
    fileobj = io.BytesIO(data)
    fileobj.seek(1234)
    assert file_sha256(fileobj) == hashlib.sha256(data).hexdigest()
    assert fileobj.tell() == 0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("a\x00b.py", "ab.py"),
        ("..hidden", "hidden"),
        (".env", "env"),
        ("..", "file"),
        ("", "file"),
        ("dir/", "file"),
        ("my report (final).pdf", "my_report_final_.pdf"),
        ("résumé.pdf", "resume.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("<script>alert(1)</script>.md", "script_.md"),  # "/" is a separator
        ("<b>alert(1)<b> x.md", "_b_alert_1_b_x.md"),
        ("日本語.txt", "_.txt"),
        ("ok-name_1.2.txt", "ok-name_1.2.txt"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_long_names_keep_extension() -> None:
    result = safe_filename("a" * 500 + ".ipynb")
    assert len(result) == 100
    assert result.endswith(".ipynb")
    assert safe_filename("b" * 500) == "b" * 100
    assert len(safe_filename("c" * 50 + "." + "d" * 200)) == 100
