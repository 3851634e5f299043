"""Baked badges (Open Badges 3.0 "Baking"): the issued credential inside its PNG or SVG badge, downloaded,
extracted and verified by the page, the API and the offline command; tampered and hostile images are refused with a
sentence, never a 500."""

from __future__ import annotations

import html
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from rest_framework.test import APIClient

from credentials.badge import badge_png, badge_svg
from credentials.baking import (
    CredentialParseError,
    baked_text,
    credential_read,
    png_extract,
    svg_extract,
)
from credentials.did import did_document
from credentials.models import IssuedCredential
from credentials.selectors import credential_badge, credential_verify_here
from credentials.services import status_list_document

FORMATS = ["png", "svg"]


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        chunks.append((kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    out = [b"\x89PNG\r\n\x1a\n"]
    for kind, body in chunks:
        out.append(struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body)))
    return b"".join(out)


@pytest.mark.parametrize("image_format", FORMATS)
def test_bake_extract_verify_is_valid(issued: IssuedCredential, image_format: str) -> None:
    image = credential_badge(credential=issued, image_format=image_format)
    extracted = credential_read(image)
    assert extracted == issued.document
    result = credential_verify_here(extracted)
    assert result.valid, result.errors


def test_the_png_carries_one_uncompressed_itxt_chunk_named_openbadgecredential(issued: IssuedCredential) -> None:
    image = credential_badge(credential=issued, image_format="png")
    itxt = [body for kind, body in _png_chunks(image) if kind == b"iTXt"]
    assert len(itxt) == 1
    keyword, rest = itxt[0].split(b"\0", 1)
    assert keyword == b"openbadgecredential" and rest[:2] == b"\0\0"  # compression flag and method 0
    assert Image.open(io.BytesIO(image)).size == (512, 512)


def test_the_svg_declares_the_namespace_and_puts_the_credential_first(issued: IssuedCredential) -> None:
    svg = credential_badge(credential=issued, image_format="svg").decode()
    opening, _, rest = svg.partition(">")
    assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in opening
    assert rest.startswith("<openbadges:credential><![CDATA[{")
    assert svg.count("<openbadges:credential>") == 1
    assert "Widgets" in svg and 'role="img"' in svg


def test_a_cdata_terminator_inside_the_credential_survives(issued: IssuedCredential) -> None:
    document = dict(issued.document, name="Widgets ]]> proficient")
    svg = badge_svg(name="Widgets", issuer="Skillproof", baked=baked_text(document))
    assert json.loads(svg_extract(svg)) == document


@pytest.mark.parametrize("image_format", FORMATS)
def test_a_tampered_baked_credential_is_invalid_with_the_reason(issued: IssuedCredential, image_format: str) -> None:
    image = credential_badge(credential=issued, image_format=image_format)
    if image_format == "svg":
        tampered = image.replace(b"Widgets: proficient", b"Widgets: expert!!!!")
    else:
        chunks = [
            (kind, body.replace(b"Widgets: proficient", b"Widgets: expert!!!!") if kind == b"iTXt" else body)
            for kind, body in _png_chunks(image)
        ]
        tampered = _png(chunks)  # valid CRCs: only the signature can tell
    assert tampered != image
    result = credential_verify_here(credential_read(tampered))
    assert not result.valid and not result.proof
    assert any("the proof does not hold" in error for error in result.errors), result.errors


@pytest.mark.parametrize("image_format", FORMATS)
def test_the_learner_downloads_the_baked_badge(
    issued: IssuedCredential, alice: Any, bob: Any, image_format: str
) -> None:
    url = f"/credentials/{issued.pk}/badge.{image_format}"
    response = login(alice).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == {"png": "image/png", "svg": "image/svg+xml"}[image_format]
    assert "attachment" in response["Content-Disposition"]
    assert credential_read(response.content) == issued.document
    assert login(bob).get(url).status_code == 404  # private: only its learner
    assert f'href="{url}"' in login(alice).get("/credentials/").content.decode()


@pytest.mark.parametrize("image_format", FORMATS)
def test_the_verify_page_and_the_api_read_a_baked_badge(issued: IssuedCredential, bob: Any, image_format: str) -> None:
    image = credential_badge(credential=issued, image_format=image_format)
    upload = SimpleUploadedFile(f"badge.{image_format}", image, content_type=f"image/{image_format}")
    page = Client().post("/credentials/verify/", {"file": upload})
    assert page.status_code == 200 and ">Verified<" in page.content.decode()
    api = APIClient()
    api.force_authenticate(bob)
    upload.seek(0)
    result = api.post("/api/credentials/verify/", {"file": upload}, format="multipart").json()
    assert result["valid"] is True, result


@pytest.mark.parametrize("image_format", FORMATS)
def test_the_command_verifies_a_baked_badge_offline(
    issued: IssuedCredential, tmp_path: Path, capsys: Any, image_format: str
) -> None:
    badge = tmp_path / f"badge.{image_format}"
    badge.write_bytes(credential_badge(credential=issued, image_format=image_format))
    status = tmp_path / "status.json"
    status.write_text(json.dumps(status_list_document(status_list=issued.status_list)))
    did = tmp_path / "did.json"
    did.write_text(json.dumps(did_document()))
    call_command("verify_credential", str(badge), "--did-document", str(did), "--status-list", str(status))
    assert json.loads(capsys.readouterr().out)["valid"] is True


def _two_chunks() -> bytes:
    info = PngInfo()
    info.add_itxt("openbadgecredential", "{}", zip=False)
    info.add_itxt("openbadgecredential", '{"a": 1}', zip=False)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _compressed() -> bytes:
    info = PngInfo()
    info.add_itxt("openbadgecredential", "{}" * 200, zip=True)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _ob2() -> bytes:
    info = PngInfo()
    info.add_itxt("openbadges", '{"type": "Assertion"}', zip=False)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&x;</openbadges:credential></svg>"""
TWO_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
    b"<openbadges:credential><![CDATA[{}]]></openbadges:credential>"
    b"<openbadges:credential><![CDATA[{}]]></openbadges:credential></svg>"
)
JWT_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
    b'<openbadges:credential verify="eyJhbGciOiJSUzI1NiJ9.e30.c2ln"/></svg>'
)
HOSTILE = [
    (badge_png(name="Widgets", issuer="Skillproof"), "no baked credential"),
    (_two_chunks(), "2 'openbadgecredential' chunks"),
    (_compressed(), "compressed, which Open Badges 3.0 forbids"),
    (_ob2(), "Open Badges 2.0"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d", "cut short"),
    (_png([(b"IHDR", b"x" * 13), (b"IEND", b"")])[:-1] + b"\x00", "fails its CRC"),
    (b"\x89PNG\r\n\x1a\n\x7f\xff\xff\xffiTXt", "runs past the end"),
    (b"\x00\x01\x02\x03 random bytes \xff\xfe", "not UTF-8 text, nor a PNG or SVG"),
    (b"GIF89a\x01\x00\x01\x00", "not valid JSON"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 300_000, "larger than"),
    (badge_svg(name="Widgets", issuer="Skillproof"), "no baked credential"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "not well-formed XML"),
    (b"<html><body>hi</body></html>", "not an SVG"),
    (BOMB, "refused"),
    (EXTERNAL, "refused"),
    (TWO_SVG, "2 <openbadges:credential> elements"),
    (JWT_SVG, "VC-JWT"),
]


@pytest.mark.parametrize(("content", "message"), HOSTILE)
def test_hostile_files_get_a_sentence(content: bytes, message: str, settings: Any) -> None:
    with pytest.raises(CredentialParseError, match=message.replace("(", r"\(")):
        credential_read(content)


@pytest.mark.parametrize(("content", "message"), HOSTILE)
def test_hostile_uploads_are_400_on_the_page_and_the_api(db: None, bob: Any, content: bytes, message: str) -> None:
    page = Client().post("/credentials/verify/", {"file": SimpleUploadedFile("x.png", content)})
    assert page.status_code == 400 and message in html.unescape(page.content.decode())
    api = APIClient()
    api.force_authenticate(bob)
    response = api.post("/api/credentials/verify/", {"file": SimpleUploadedFile("x.png", content)}, format="multipart")
    assert response.status_code == 400 and message in response.json()["detail"]


def test_an_api_upload_without_a_file_is_a_400(db: None, bob: Any) -> None:
    api = APIClient()
    api.force_authenticate(bob)
    response = api.post("/api/credentials/verify/", {"other": "x"}, format="multipart")
    assert response.status_code == 400 and "`file`" in response.json()["detail"]


def test_the_extractors_return_the_exact_text() -> None:
    png = badge_png(name="X", issuer="Y", baked='{"id": "urn:uuid:1"}')
    svg = badge_svg(name="X", issuer="Y", baked='{"id": "urn:uuid:1"}')
    assert png_extract(png) == svg_extract(svg) == b'{"id": "urn:uuid:1"}'


def test_the_achievement_image_is_the_unbaked_badge(issued: IssuedCredential, widgets: Any) -> None:
    url = issued.document["credentialSubject"]["achievement"]["image"]["id"]
    assert url.endswith(f"/credentials/achievements/{widgets.uuid}/badge.svg")
    response = Client().get(url.split("skillproof.example.com", 1)[1])
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert b"Widgets" in response.content and b"openbadges:credential" not in response.content
    widgets.status = "draft"
    widgets.save()
    assert Client().get(url.split("skillproof.example.com", 1)[1]).status_code == 404
