"""The W3C vc-di-eddsa `eddsa-rdfc-2022` test vectors (Recommendation, appendix B.1), reproduced exactly.

The data is in tests/fixtures/vc-di-eddsa/, whose README names its source.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from credentials import proofs
from credentials.documents import DocumentLoader, document_loader
from credentials.multikey import multibase_encode, public_key_encode, secret_key_decode
from tests.conftest import FIXTURES

VECTORS = FIXTURES / "vc-di-eddsa"
DID_KEY = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def read(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8")


def load(name: str) -> Any:
    return json.loads(read(name))


@pytest.fixture
def loader() -> DocumentLoader:
    return document_loader().with_documents(
        {"https://www.w3.org/ns/credentials/examples/v2": load("credentials-examples-v2.jsonld")}
    )


def test_key_pair() -> None:
    keys = load("key-pair.json")
    secret = secret_key_decode(keys["secretKeyMultibase"])
    assert public_key_encode(secret.public_key()) == keys["publicKeyMultibase"]


def test_canonical_credential_and_its_hash(loader: DocumentLoader) -> None:
    canonical = proofs.canonicalize(load("credential.json"), loader)
    assert canonical == read("canonical-credential.nq")
    assert hashlib.sha256(canonical.encode()).hexdigest() == read("credential-hash.txt")


def test_canonical_proof_options_and_their_hash(loader: DocumentLoader) -> None:
    canonical = proofs.canonicalize(load("proof-options.json"), loader)
    assert canonical == read("canonical-proof-options.nq")
    assert hashlib.sha256(canonical.encode()).hexdigest() == read("proof-options-hash.txt")


def test_combined_hash_signature_and_proof_value(loader: DocumentLoader) -> None:
    data = proofs.hash_data(load("credential.json"), load("proof-options.json"), loader)
    assert data.hex() == read("combined-hash.txt")
    signature = secret_key_decode(load("key-pair.json")["secretKeyMultibase"]).sign(data)
    assert signature.hex() == read("signature-hex.txt")
    assert multibase_encode(signature) == read("proof-value.txt")


def test_signed_credential(loader: DocumentLoader) -> None:
    options = load("proof-options.json")
    signed = proofs.proof_create(
        load("credential.json"),
        key=secret_key_decode(load("key-pair.json")["secretKeyMultibase"]),
        verification_method=options["verificationMethod"],
        created=options["created"],
        loader=loader,
    )
    assert signed == load("signed-credential.json")


def test_the_signed_credential_verifies_against_its_did_key(loader: DocumentLoader) -> None:
    controller = {
        "id": DID_KEY,
        "verificationMethod": [
            {
                "id": f"{DID_KEY}#{DID_KEY[8:]}",
                "type": "Multikey",
                "controller": DID_KEY,
                "publicKeyMultibase": DID_KEY[8:],
            }
        ],
        "assertionMethod": [f"{DID_KEY}#{DID_KEY[8:]}"],
    }
    assert proofs.proof_verify(load("signed-credential.json"), controller_document=controller, loader=loader).verified
