"""Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C vc-di-eddsa 1.0, section 3.2).

Create: hash the canonical proof configuration and the canonical document (RDFC-1.0, SHA-256), sign the two
hashes with Ed25519, attach the proof. Verify: the same in reverse, with the public key of the verification
method taken from the controller's document (the issuer's DID document), which must list it under
`assertionMethod`. Canonicalization is pyld's URDNA2015: RDFC-1.0 is URDNA2015 as the W3C standardised it, and
the W3C test vectors (tests/credentials/test_vectors.py) check that the output is the same.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld

from credentials.documents import DocumentLoader, UnknownContext, document_loader
from credentials.multikey import MultibaseError, multibase_decode, multibase_encode, public_key_decode

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
# The canonicalization algorithm, named explicitly: pyld's default (URGNA2012) is an older, different one.
CANONICALIZATION = "URDNA2015"
PROOF_PURPOSE = "assertionMethod"
# XML Schema dateTimeStamp: a date, a time and a time zone.
DATE_TIME_STAMP = re.compile(r"^-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class ProofError(ValueError):
    """A document or proof that cannot be signed or verified as it is; the message says why."""


@dataclass(frozen=True)
class Verification:
    verified: bool
    reason: str = ""


def canonicalize(document: dict[str, Any], loader: DocumentLoader | None = None) -> str:
    """The document's RDFC-1.0 canonical N-Quads. Raises UnknownContext, or ProofError for what would be lost."""
    loader = loader or document_loader()
    options = {"documentLoader": loader}
    try:
        expanded = jsonld.expand(document, options)
        canonical = jsonld.normalize(
            document, {**options, "algorithm": CANONICALIZATION, "format": "application/n-quads"}
        )
    except jsonld.JsonLdError as error:
        raise _unknown_context(error) or ProofError(f"not valid JSON-LD: {error}") from error
    except (ValueError, TypeError, KeyError, AttributeError) as error:  # what pyld lets through on odd input
        raise ProofError(f"not valid JSON-LD: {error}") from error
    _refuse_lossy(document, expanded)
    return str(canonical)


def _unknown_context(error: BaseException) -> UnknownContext | None:
    while error is not None:
        if isinstance(error, UnknownContext):
            return error
        details = getattr(error, "details", None) or {}
        cause = details.get("cause") if isinstance(details, dict) else None
        error = error.__cause__ or error.__context__ or cause  # type: ignore[assignment]
    return None


def _leaves(value: Any, *, skip_context: bool) -> int:
    if isinstance(value, dict):
        return sum(
            _leaves(item, skip_context=skip_context)
            for key, item in value.items()
            if not (skip_context and key == "@context")
        )
    if isinstance(value, list):
        return sum(_leaves(item, skip_context=skip_context) for item in value)
    return 0 if value is None else 1


def _refuse_lossy(document: dict[str, Any], expanded: Any) -> None:
    """What a signature does not cover must not be in the document (jsonld.js calls this "safe mode").

    JSON-LD silently drops a property its context does not define and a relative IRI; signing such a document
    would leave that part unprotected, and a verifier would accept it changed. Every value of the document must
    survive expansion (as a value, an @id or a @type), and every @id and @type must be an absolute IRI.
    """
    kept = 0
    stack = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "@value" in node:
                # The value's @type comes from the context (e.g. xsd:dateTime), not from the document.
                kept += _leaves(node["@value"], skip_context=False) + ("@language" in node) + ("@direction" in node)
                continue
            for key, item in node.items():
                if key in ("@id", "@type"):
                    for iri in item if isinstance(item, list) else [item]:
                        # pyld resolves a relative IRI against its placeholder base instead of keeping it.
                        if not (IRI.match(iri) or iri.startswith("_:")) or iri.startswith(jsonld.DEFAULT_BASE_IRI):
                            raise ProofError(f"relative IRI {iri!r} would not be signed")
                        kept += 1
                else:
                    stack.append(item)
    if kept != _leaves(_without_value_types(document), skip_context=True):
        raise ProofError("the document has properties its JSON-LD contexts do not define; they would not be signed")


def _without_value_types(value: Any) -> Any:
    # A value object's own @type is not a value of the document: expansion keeps it beside @value.
    if isinstance(value, dict):
        return {k: _without_value_types(v) for k, v in value.items() if not ("@value" in value and k == "@type")}
    if isinstance(value, list):
        return [_without_value_types(item) for item in value]
    return value


def hash_data(document: dict[str, Any], proof_config: dict[str, Any], loader: DocumentLoader | None = None) -> bytes:
    """SHA-256 of the canonical proof configuration, then SHA-256 of the canonical document (64 bytes)."""
    config_hash = hashlib.sha256(canonicalize(proof_config, loader).encode()).digest()
    return config_hash + hashlib.sha256(canonicalize(document, loader).encode()).digest()


def proof_create(
    document: dict[str, Any],
    *,
    key: Ed25519PrivateKey,
    verification_method: str,
    created: str | None = None,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """The document with an `eddsa-rdfc-2022` proof attached (a new dict; the input is left as it was).

    Raises:
        UnknownContext: the document names a context that is not shipped with the app.
        ProofError: the document already has a proof, or has content its contexts would drop.
    """
    if "proof" in document:
        raise ProofError("the document already has a proof")
    if created is not None and not DATE_TIME_STAMP.match(created):
        raise ProofError(f"created {created!r} is not an XML Schema dateTimeStamp")
    options = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE, "verificationMethod": verification_method}
    options |= {"proofPurpose": PROOF_PURPOSE} | ({"created": created} if created else {})
    signature = key.sign(hash_data(document, {**options, "@context": document.get("@context")}, loader))
    return {**copy.deepcopy(document), "proof": {**options, "proofValue": multibase_encode(signature)}}


def proof_verify(
    document: dict[str, Any], *, controller_document: dict[str, Any], loader: DocumentLoader | None = None
) -> Verification:
    """Whether the document's one `eddsa-rdfc-2022` proof holds, by a key its controller lists for assertions.

    The controller document is the issuer's DID document (or any controller document of the same shape). That
    the credential's `issuer` is this controller is the caller's check: a proof does not know what it signs.
    """
    try:
        return _verify(document, controller_document, loader or document_loader())
    except UnknownContext as error:
        return Verification(False, str(error))
    except (ProofError, MultibaseError) as error:
        return Verification(False, str(error))


def _verify(document: dict[str, Any], controller: dict[str, Any], loader: DocumentLoader) -> Verification:
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return Verification(False, "the document has no proof, or more than one")
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    problem = _proof_problem(proof, controller)
    if problem:
        return Verification(False, problem)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    method = _method(controller, proof["verificationMethod"])
    assert method is not None  # _proof_problem found it
    public_key = public_key_decode(method["publicKeyMultibase"])
    signature = multibase_decode(proof["proofValue"])
    data = hash_data(unsecured, {**options, "@context": document.get("@context")}, loader)
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return Verification(False, "the signature does not match the document")
    return Verification(True)


def _proof_problem(proof: dict[str, Any], controller: dict[str, Any]) -> str:
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return f"not a {PROOF_TYPE} with the {CRYPTOSUITE} cryptosuite"
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        return f"the proof's purpose is not {PROOF_PURPOSE}"
    if not isinstance(proof.get("proofValue"), str):
        return "the proof has no proofValue"
    if "created" in proof and not (isinstance(proof["created"], str) and DATE_TIME_STAMP.match(proof["created"])):
        return "the proof's created is not an XML Schema dateTimeStamp"
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or _method(controller, method) is None:
        return f"the verification method {method!r} is not one of the issuer's keys"
    if method not in controller.get("assertionMethod", []):
        return f"the verification method {method!r} is not listed for assertions by its controller"
    return ""


def _method(controller: dict[str, Any], method_id: str) -> dict[str, Any] | None:
    for method in controller.get("verificationMethod", []):
        if (
            isinstance(method, dict)
            and method.get("id") == method_id
            and method.get("type") == "Multikey"
            and method.get("controller") == controller.get("id")
        ):
            return method
    return None
