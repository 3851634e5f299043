"""Round trips of an Open Badges 3.0 credential: what is signed verifies, and nothing else does."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from credentials import proofs
from credentials.did import did_document, issuer_did, verification_method_id
from credentials.documents import UnknownContext
from credentials.keys import IssuerKey
from tests.credentials.helpers import make_open_badge

Path = tuple[Any, ...]


def sign(key: IssuerKey, document: dict[str, Any] | None = None) -> dict[str, Any]:
    assert key.secret_key is not None
    document = document or make_open_badge(issuer_did())
    return proofs.proof_create(document, key=key.secret_key, verification_method=verification_method_id(key))


def verify(document: dict[str, Any]) -> proofs.Verification:
    return proofs.proof_verify(document, controller_document=did_document())


def test_a_signed_credential_verifies(issuer_key: IssuerKey) -> None:
    signed = sign(issuer_key)
    assert verify(signed) == proofs.Verification(True)
    proof = signed["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod" and proof["proofValue"].startswith("z")
    assert proof["verificationMethod"] == f"did:web:skillproof.example.com#{issuer_key.public_key_multibase}"
    assert "@context" not in proof  # the credential's own contexts cover it


def test_signing_leaves_the_input_alone(issuer_key: IssuerKey) -> None:
    document = make_open_badge(issuer_did())
    before = copy.deepcopy(document)
    sign(issuer_key, document)
    assert document == before


def test_a_proof_survives_a_json_round_trip_and_reordering(issuer_key: IssuerKey) -> None:
    signed = sign(issuer_key)
    reordered = json.loads(json.dumps(dict(reversed(list(signed.items()))), indent=4))
    assert verify(reordered).verified


def _string_places(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every key and every string value, as (path, text); a key's path ends with ("key", name)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, ("key", key)), key
            yield from _string_places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_places(item, (*path, index))
    elif isinstance(value, str):
        yield path, value


def _changed(char: str) -> str:
    if char.isdigit():
        return str((int(char) + 1) % 10)
    if char.isalpha() and char.isascii():
        base = "a" if char.islower() else "A"
        return chr((ord(char) - ord(base) + 1) % 26 + ord(base))
    return "x" if char != "x" else "y"


def _with_change(document: dict[str, Any], path: Path, position: int) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, last = path
    holder: Any = changed
    for step in parents:
        holder = holder[step]
    if isinstance(last, tuple):  # a key
        name = last[1]
        new = name[:position] + _changed(name[position]) + name[position + 1 :]
        holder[new] = holder.pop(name)
    else:
        text = holder[last]
        holder[last] = text[:position] + _changed(text[position]) + text[position + 1 :]
    return changed


def _assert_every_change_fails(signed: dict[str, Any], positions: Any) -> int:
    tried = 0
    for path, text in _string_places(signed):
        for position in positions(text):
            result = verify(_with_change(signed, path, position))
            assert not result.verified, f"changing {path} at {position} still verifies"
            tried += 1
    return tried


def test_one_changed_character_in_any_key_or_value_fails(issuer_key: IssuerKey) -> None:
    # First, middle and last character of every key and every string, the proof's own included.
    tried = _assert_every_change_fails(sign(issuer_key), lambda text: sorted({0, len(text) // 2, len(text) - 1}))
    assert tried > 100


@pytest.mark.slow
def test_every_single_character_change_fails(issuer_key: IssuerKey) -> None:
    assert _assert_every_change_fails(sign(issuer_key), lambda text: range(len(text))) > 1000


def test_a_changed_boolean_fails(issuer_key: IssuerKey) -> None:
    signed = sign(issuer_key)
    signed["credentialSubject"]["identifier"][0]["hashed"] = False
    assert not verify(signed).verified


def test_an_added_property_fails(issuer_key: IssuerKey) -> None:
    signed = sign(issuer_key)
    signed["credentialSubject"]["achievement"]["image"] = {"id": "https://evil.example/badge.png", "type": "Image"}
    assert verify(signed) == proofs.Verification(False, "the signature does not match the document")


def test_a_key_the_issuer_does_not_publish_is_refused(issuer_key: IssuerKey) -> None:
    stranger = IssuerKey.generate()
    signed = sign(stranger)
    result = verify(signed)
    assert not result.verified and "not one of the issuer's keys" in result.reason


def test_a_wrong_key_under_the_issuers_key_id_fails(issuer_key: IssuerKey) -> None:
    stranger = IssuerKey.generate()
    assert stranger.secret_key is not None
    signed = proofs.proof_create(
        make_open_badge(issuer_did()), key=stranger.secret_key, verification_method=verification_method_id(issuer_key)
    )
    assert verify(signed) == proofs.Verification(False, "the signature does not match the document")


def test_a_key_not_listed_for_assertions_is_refused(issuer_key: IssuerKey) -> None:
    signed = sign(issuer_key)
    controller = did_document()
    controller["assertionMethod"] = []
    result = proofs.proof_verify(signed, controller_document=controller)
    assert not result.verified and "not listed for assertions" in result.reason


def test_an_unknown_context_is_refused_when_signing_and_when_verifying(issuer_key: IssuerKey) -> None:
    document = make_open_badge(issuer_did())
    document["@context"].append("https://example.com/extra-context.json")
    with pytest.raises(UnknownContext, match="unknown context"):
        sign(issuer_key, document)
    signed = sign(issuer_key)
    signed["@context"].append("https://example.com/extra-context.json")
    assert verify(signed) == proofs.Verification(
        False,
        "unknown context: https://example.com/extra-context.json (only the contexts shipped in credentials/contexts/ are used)",
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("cryptosuite", "eddsa-jcs-2022", "eddsa-rdfc-2022 cryptosuite"),
        ("type", "Ed25519Signature2020", "eddsa-rdfc-2022 cryptosuite"),
        ("proofPurpose", "authentication", "purpose"),
        ("created", "yesterday", "dateTimeStamp"),
        ("proofValue", "u" + "A" * 86, "base58btc"),
    ],
)
def test_a_malformed_proof_is_refused_with_its_reason(
    issuer_key: IssuerKey, field: str, value: str, reason: str
) -> None:
    signed = sign(issuer_key)
    signed["proof"][field] = value
    result = verify(signed)
    assert not result.verified and reason in result.reason


def test_a_document_without_a_proof_or_with_several_is_refused(issuer_key: IssuerKey) -> None:
    signed = sign(issuer_key)
    assert not verify(make_open_badge(issuer_did())).verified
    assert not verify({**signed, "proof": [signed["proof"], signed["proof"]]}).verified


def test_signing_twice_is_refused(issuer_key: IssuerKey) -> None:
    with pytest.raises(proofs.ProofError, match="already has a proof"):
        sign(issuer_key, sign(issuer_key))
