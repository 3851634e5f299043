"""Issuer keys: from the environment or a private key file; the newest signs, every one stays published."""

from __future__ import annotations

import stat
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from credentials import proofs
from credentials.checks import signing_key_check
from credentials.did import did_document, issuer_did, verification_method_id
from credentials.keys import IssuerKey, SigningKeyMissing, issuer_keys, keyfile_create, keyfile_rotate
from credentials.multikey import secret_key_encode
from tests.credentials.helpers import make_open_badge


def secret(key: IssuerKey) -> str:
    assert key.secret_key is not None
    return secret_key_encode(key.secret_key)


def sign(key: IssuerKey) -> dict[str, Any]:
    assert key.secret_key is not None
    return proofs.proof_create(
        make_open_badge(issuer_did()), key=key.secret_key, verification_method=verification_method_id(key)
    )


def test_the_key_file_is_created_private_and_holds_one_secret_key(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    assert keyfile_create(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("z3u2") and len(path.read_text().split()) == 1
    before = path.read_text()
    assert keyfile_create(path) is False and path.read_text() == before


def test_in_development_a_missing_key_file_is_created_on_first_use(settings: Any, tmp_path: Path) -> None:
    settings.DEBUG, settings.CREDENTIALS_SIGNING_KEY = True, ""
    settings.CREDENTIALS_KEY_FILE = tmp_path / "var" / "credentials_keys"
    assert len(issuer_keys()) == 1
    assert stat.S_IMODE(settings.CREDENTIALS_KEY_FILE.stat().st_mode) == 0o600


def test_in_production_a_missing_key_is_an_error_not_a_new_key(settings: Any, tmp_path: Path) -> None:
    settings.DEBUG, settings.CREDENTIALS_SIGNING_KEY = False, ""
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials_keys"
    with pytest.raises(SigningKeyMissing, match="CREDENTIALS_SIGNING_KEY"):
        issuer_keys()
    assert not settings.CREDENTIALS_KEY_FILE.exists()
    [error] = signing_key_check()
    assert error.id == "credentials.E001" and "credentials_key create" in error.msg


def test_the_environment_wins_over_the_file(settings: Any, key_file: Path) -> None:
    older, newer = IssuerKey.generate(), IssuerKey.generate()
    settings.CREDENTIALS_SIGNING_KEY = f"{secret(older)}, {secret(newer)}"
    assert [k.public_key_multibase for k in issuer_keys()] == [older.public_key_multibase, newer.public_key_multibase]
    assert signing_key_check() == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not-a-key", "not an Ed25519 Multikey"),
        (" , ", "no key"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "public key"),
    ],
)
def test_a_bad_key_ring_is_refused_with_a_reason(settings: Any, key_file: Path, value: str, message: str) -> None:
    settings.CREDENTIALS_SIGNING_KEY = value
    with pytest.raises(SigningKeyMissing, match=message):
        issuer_keys()
    if value.strip(" ,"):
        assert signing_key_check()[0].id == "credentials.E001"


def test_a_key_file_others_can_read_is_warned_about(key_file: Path) -> None:
    key_file.chmod(0o644)
    [warning] = signing_key_check()
    assert warning.id == "credentials.W001"


def test_after_rotation_the_new_key_signs_and_old_credentials_still_verify(key_file: Path) -> None:
    old = issuer_keys()[-1]
    signed_before = sign(old)
    new = keyfile_rotate(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert issuer_keys()[-1].public_key_multibase == new.public_key_multibase
    published = [m["publicKeyMultibase"] for m in did_document()["verificationMethod"]]
    assert published == [new.public_key_multibase, old.public_key_multibase]  # newest first
    assert proofs.proof_verify(signed_before, controller_document=did_document()).verified
    assert proofs.proof_verify(sign(issuer_keys()[-1]), controller_document=did_document()).verified


def test_a_retired_key_kept_as_its_public_key_stays_published(settings: Any, key_file: Path) -> None:
    retired, current = IssuerKey.generate(), IssuerKey.generate()
    signed = sign(retired)
    settings.CREDENTIALS_SIGNING_KEY = f"{retired.public_key_multibase},{secret(current)}"
    keys = issuer_keys()
    assert keys[0].secret_key is None and keys[-1].public_key_multibase == current.public_key_multibase
    assert proofs.proof_verify(signed, controller_document=did_document()).verified


def test_the_command_creates_rotates_and_lists_keys(settings: Any, tmp_path: Path) -> None:
    settings.DEBUG, settings.CREDENTIALS_SIGNING_KEY = False, ""
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials_keys"
    out = StringIO()
    call_command("credentials_key", "create", stdout=out)
    call_command("credentials_key", "create", stdout=out)
    call_command("credentials_key", "rotate", stdout=out)
    call_command("credentials_key", "show", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Created") and lines[1].startswith("Kept the existing")
    assert lines[3].endswith("published") and lines[4].endswith("signs") and lines[4].startswith(issuer_did())


def test_the_command_prints_a_new_key_and_stores_nothing(settings: Any, tmp_path: Path) -> None:
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials_keys"
    out = StringIO()
    call_command("credentials_key", "new", stdout=out)
    assert IssuerKey.parse(out.getvalue().strip()).secret_key is not None
    assert not settings.CREDENTIALS_KEY_FILE.exists()


def test_the_command_will_not_rotate_keys_it_does_not_hold(settings: Any, key_file: Path) -> None:
    settings.CREDENTIALS_SIGNING_KEY = secret(IssuerKey.generate())
    with pytest.raises(CommandError, match="append a new key"):
        call_command("credentials_key", "rotate")
