"""Verification: valid, one changed character, revoked, expired, an unknown context, a foreign key; and offline."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from credentials.bitstring import bit_is_set, bitstring_decode, bitstring_encode
from credentials.did import did_document
from credentials.keys import IssuerKey
from credentials.models import IssuedCredential
from credentials.selectors import credential_verify_here
from credentials.services import credential_issue, credential_revoke, status_list_document
from credentials.verification import credential_verify


def test_a_bitstring_round_trips_with_index_zero_the_leftmost_bit() -> None:
    encoded = bitstring_encode([0, 9, 131_071], 131_072)
    bits = bitstring_decode(encoded)
    assert encoded.startswith("u") and "=" not in encoded and len(bits) == 16_384
    assert bits[0] == 0x80 and bits[1] == 0x40
    assert [i for i in (0, 1, 9, 131_071) if bit_is_set(bits, i)] == [0, 9, 131_071]


def test_a_compressed_bomb_is_refused() -> None:
    import base64
    import gzip

    from credentials.bitstring import BitstringError

    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(8 << 20))).decode().rstrip("=")
    with pytest.raises(BitstringError):
        bitstring_decode(bomb)


@pytest.mark.parametrize(
    "path",
    [
        ("name",),
        ("validFrom",),
        ("credentialSubject", "achievement", "name"),
        ("credentialSubject", "identifier", 0, "identityHash"),
        ("evidence", 0, "narrative"),
        ("credentialStatus", "statusListIndex"),
    ],
)
def test_one_changed_character_anywhere_is_invalid(issued: IssuedCredential, path: tuple[Any, ...]) -> None:
    document = copy.deepcopy(issued.document)
    node = document
    for key in path[:-1]:
        node = node[key]
    value = node[path[-1]]
    node[path[-1]] = value[:-1] + ("0" if value[-1] != "0" else "1")
    result = credential_verify_here(document)
    assert not result.valid and not result.proof


def test_a_revoked_credential_reads_revoked(issued: IssuedCredential) -> None:
    credential_revoke(credential=issued, reason="Evidence found plagiarised.")
    result = credential_verify_here(issued.document)
    assert result.proof and result.issuer_key and result.status == "revoked" and not result.valid
    assert "revoked" in " ".join(result.errors)
    issued.refresh_from_db()
    assert issued.revocation_reason == "Evidence found plagiarised."


def test_revocation_re_signs_the_list_and_sets_only_that_bit(issued: IssuedCredential) -> None:
    before = status_list_document(status_list=issued.status_list)
    credential_revoke(credential=issued, reason="Plagiarised.")
    after = status_list_document(status_list=issued.status_list)
    assert before["proof"]["proofValue"] != after["proof"]["proofValue"]
    bits = bitstring_decode(after["credentialSubject"]["encodedList"])
    assert [i for i, byte in enumerate(bits) if byte] == [issued.status_index // 8]
    assert bit_is_set(bits, issued.status_index)


def test_an_expired_credential_reads_expired(
    settings: Any, issuer_key: IssuerKey, alice: Any, widgets: Any, mentor: Any
) -> None:
    settings.CREDENTIALS_VALID_DAYS = 30
    from tests.credentials.helpers import approve_every_claim

    approve_every_claim(alice, widgets, mentor)
    credential = IssuedCredential.objects.get(learner=alice)
    later = timezone.now() + timedelta(days=31)
    result = credential_verify(
        credential.document, did_document=did_document(), status_lists=lambda url: status_list_document(
            status_list=credential.status_list
        ),
    )  # fmt: skip
    assert result.valid
    result = credential_verify(
        credential.document, did_document=did_document(), now=later,
        status_lists=lambda url: status_list_document(status_list=credential.status_list),
    )  # fmt: skip
    assert result.expired and not result.valid and result.proof


def test_an_unknown_context_is_refused(issued: IssuedCredential) -> None:
    document = copy.deepcopy(issued.document)
    document["@context"].append("https://example.com/evil-context.json")
    result = credential_verify_here(document)
    assert not result.valid and "unknown context" in " ".join(result.errors)


def test_a_key_the_issuer_does_not_publish_is_refused(issued: IssuedCredential) -> None:
    stranger = did_document([IssuerKey.generate()])
    result = credential_verify(issued.document, did_document=stranger, status_lists=lambda url: None)
    assert not result.valid and not result.proof


def test_a_re_issue_after_revocation_gets_a_new_entry(issued: IssuedCredential, alice: Any, widgets: Any) -> None:
    credential_revoke(credential=issued, reason="Mistake.")
    again = credential_issue(learner=alice, competency=widgets)
    assert again is not None and again.pk != issued.pk and again.status_index != issued.status_index
    assert credential_verify_here(again.document).valid


@pytest.mark.parametrize("junk", [None, [], "text", {}, {"proof": 1}, {"@context": 5, "proof": {}}])
def test_junk_is_invalid_never_an_exception(issued: IssuedCredential, junk: Any) -> None:
    result = credential_verify_here(junk)
    assert not result.valid and result.errors


def _write(path: Path, document: Any) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def test_the_command_verifies_offline_from_files(
    issued: IssuedCredential, tmp_path: Path, capsys: Any, django_assert_max_num_queries: Any
) -> None:
    credential = _write(tmp_path / "credential.json", issued.document)
    did = _write(tmp_path / "did.json", did_document())
    status = _write(tmp_path / "status.json", status_list_document(status_list=issued.status_list))
    with django_assert_max_num_queries(0):
        call_command("verify_credential", credential, "--did-document", did, "--status-list", status)
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_the_command_reports_revoked_and_exits_1(issued: IssuedCredential, tmp_path: Path, capsys: Any) -> None:
    credential_revoke(credential=issued, reason="Plagiarised.")
    credential = _write(tmp_path / "credential.json", issued.document)
    status = _write(tmp_path / "status.json", status_list_document(status_list=issued.status_list))
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_credential", credential, "--status-list", status)
    assert exit_.value.code == 1
    assert json.loads(capsys.readouterr().out)["status"] == "revoked"


def test_the_command_without_a_status_list_says_it_could_not_check(
    issued: IssuedCredential, tmp_path: Path, capsys: Any
) -> None:
    with pytest.raises(SystemExit):
        call_command("verify_credential", _write(tmp_path / "c.json", issued.document))
    out = json.loads(capsys.readouterr().out)
    assert out["proof"] is True and out["status"] == "unchecked"
