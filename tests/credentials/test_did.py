"""The issuer's did:web identifier and the DID document at /.well-known/did.json."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from credentials.did import did_document, issuer_did
from credentials.keys import issuer_keys, keyfile_rotate
from credentials.proofs import canonicalize


@pytest.mark.parametrize(
    ("site_url", "did"),
    [
        ("https://skillproof.example.com", "did:web:skillproof.example.com"),
        ("https://Skillproof.Example.com/", "did:web:skillproof.example.com"),
        ("http://localhost:8000", "did:web:localhost%3A8000"),
        ("https://skillproof.example.com/ignored/path", "did:web:skillproof.example.com"),
    ],
)
def test_the_did_comes_from_the_site_url(site_url: str, did: str) -> None:
    assert issuer_did(site_url) == did


def test_the_did_document_publishes_every_key_for_assertions(client: Client, key_file: Path) -> None:
    keyfile_rotate(key_file)
    old, new = issuer_keys()
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    did = "did:web:skillproof.example.com"
    ids = [f"{did}#{new.public_key_multibase}", f"{did}#{old.public_key_multibase}"]
    assert response.json() == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": ids[0], "type": "Multikey", "controller": did, "publicKeyMultibase": new.public_key_multibase},
            {"id": ids[1], "type": "Multikey", "controller": did, "publicKeyMultibase": old.public_key_multibase},
        ],
        "assertionMethod": ids,
    }
    assert "z3u2" not in response.content.decode()  # never a secret key


def test_the_did_document_is_read_only(client: Client, key_file: Path) -> None:
    assert client.post("/.well-known/did.json").status_code == 405


def test_the_did_document_is_json_ld_over_the_shipped_contexts(key_file: Path) -> None:
    canonical = canonicalize(did_document())
    assert "<https://w3id.org/security#Multikey>" in canonical
    assert "<https://w3id.org/security#assertionMethod>" in canonical
