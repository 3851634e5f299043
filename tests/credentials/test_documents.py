"""The document loader serves the shipped contexts, unchanged, and refuses every other URL."""

from __future__ import annotations

import hashlib
import re

import pytest

from credentials.documents import CONTEXT_FILES, CONTEXTS_DIR, OB_V3P0, VC_V2, UnknownContext, document_loader
from credentials.proofs import ProofError, canonicalize
from tests.conftest import FIXTURES

# Byte-for-byte copies of the packages named in credentials/contexts/README.md.
CONTEXT_SHA256 = {
    "credentials-v2.jsonld": "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f",
    "ob-v3p0-context-3.0.3.json": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    "data-integrity-v2.jsonld": "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363",
    "multikey-v1.jsonld": "c5f3806f8286920573221938917988a18a4cc5a09e968d29649613c7a1c2b1f6",
    "did-v1.jsonld": "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f",
}


@pytest.mark.parametrize("name", sorted(CONTEXT_SHA256))
def test_shipped_context_is_an_unchanged_copy(name: str) -> None:
    assert hashlib.sha256((CONTEXTS_DIR / name).read_bytes()).hexdigest() == CONTEXT_SHA256[name]


def test_every_served_url_has_a_pinned_file() -> None:
    assert sorted(CONTEXT_FILES.values()) == sorted(CONTEXT_SHA256)


def test_the_ob_context_is_the_one_the_fixtures_hold() -> None:
    fixture = FIXTURES / "schemas" / "ob-v3p0-context-3.0.3.json"
    assert (CONTEXTS_DIR / CONTEXT_FILES[OB_V3P0]).read_bytes() == fixture.read_bytes()


def test_loader_serves_a_copy_of_a_shipped_context() -> None:
    loader = document_loader()
    first = loader(VC_V2)
    first["document"]["@context"]["tampered"] = "https://evil.example/"
    assert "tampered" not in loader(VC_V2)["document"]["@context"]
    assert first["documentUrl"] == VC_V2


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/2018/credentials/v1",
        "https://www.w3.org/ns/credentials/v2/",  # a near miss is another URL
        "http://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        "file:///etc/passwd",
    ],
)
def test_loader_refuses_any_other_url(url: str) -> None:
    with pytest.raises(UnknownContext, match="unknown context"):
        document_loader()(url)


def test_canonicalizing_a_document_with_an_unknown_context_is_refused() -> None:
    document = {"@context": [VC_V2, "https://example.com/my-context.json"], "type": ["VerifiableCredential"]}
    with pytest.raises(UnknownContext, match=re.escape("unknown context: https://example.com/my-context.json")):
        canonicalize(document)


def test_properties_the_contexts_drop_are_refused() -> None:
    # A term defined as null is dropped by JSON-LD: it would not be signed, so it may not be there at all.
    document = {
        "@context": [VC_V2, {"secretlyUnsigned": None}],
        "type": ["VerifiableCredential"],
        "secretlyUnsigned": "x",
    }
    with pytest.raises(ProofError, match="do not define"):
        canonicalize(document)


def test_relative_iris_are_refused() -> None:
    with pytest.raises(ProofError, match="relative IRI"):
        canonicalize({"@context": [VC_V2], "id": "credentials/1", "type": ["VerifiableCredential"]})
