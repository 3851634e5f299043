"""Verify a credential: its proof, its issuer's key, its revocation status and its validity period.

Pure of the database and the network: the issuer's DID document and the status list credentials come from the
caller (`status_lists`: URL → the signed list, or None when it cannot be had). The web views pass this site's
DID document and lists; `manage.py verify_credential` passes files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from credentials.bitstring import BitstringError, bit_is_set, bitstring_decode
from credentials.proofs import DATE_TIME_STAMP, proof_verify

StatusLists = Callable[[str], dict[str, Any] | None]
CREDENTIAL_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
RESULT_KEYS = ("valid", "proof", "issuer_key", "status", "expired", "not_yet_valid", "errors")


@dataclass
class VerificationResult:
    """What a verifier found. `valid` only when every check passed; `errors` says exactly why not."""

    proof: bool = False
    issuer_key: bool = False
    status: str = "unchecked"  # "active", "revoked", or "unchecked" (the list could not be read)
    expired: bool = False
    not_yet_valid: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        checks = self.proof and self.issuer_key and self.status == "active"
        return checks and not (self.expired or self.not_yet_valid or self.errors)

    @property
    def revoked(self) -> bool:
        return self.status == "revoked"

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, **asdict(self)}


def _issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    value = issuer.get("id") if isinstance(issuer, dict) else issuer
    return value if isinstance(value, str) else None


def _check_issuer(document: dict[str, Any], did_document: dict[str, Any], result: VerificationResult) -> None:
    issuer, proof = _issuer_id(document), document.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    if issuer != did_document.get("id"):
        result.errors.append(f"the issuer {issuer!r} is not the DID document's subject {did_document.get('id')!r}")
    elif not (isinstance(method, str) and method.split("#")[0] == issuer):
        result.errors.append(f"the proof's key {method!r} is not one of the issuer's")
    elif not any(m.get("id") == method for m in did_document.get("verificationMethod", []) if isinstance(m, dict)):
        result.errors.append(f"the issuer does not publish the key {method!r}")
    else:
        result.issuer_key = True


def _moment(value: Any, name: str, result: VerificationResult) -> datetime | None:
    if value is None:
        return None
    if not (isinstance(value, str) and DATE_TIME_STAMP.match(value)):
        result.errors.append(f"{name} {value!r} is not an XML Schema dateTimeStamp")
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _check_period(document: dict[str, Any], now: datetime, result: VerificationResult) -> None:
    valid_from = _moment(document.get("validFrom"), "validFrom", result)
    valid_until = _moment(document.get("validUntil"), "validUntil", result)
    if valid_from is not None and now < valid_from:
        result.not_yet_valid = True
        result.errors.append(f"not valid before {document['validFrom']}")
    if valid_until is not None and now > valid_until:
        result.expired = True
        result.errors.append(f"expired on {document['validUntil']}")


def _entries(document: dict[str, Any]) -> list[Any]:
    status = document.get("credentialStatus")
    return status if isinstance(status, list) else [status] if status is not None else []


def _check_status(
    document: dict[str, Any], did_document: dict[str, Any], status_lists: StatusLists, result: VerificationResult
) -> None:
    entries = [e for e in _entries(document) if isinstance(e, dict) and e.get("statusPurpose") == "revocation"]
    if not entries:
        result.errors.append("the credential has no revocation status entry")
        return
    for entry in entries:
        problem = _entry_revoked(entry, did_document, status_lists)
        if problem is True:
            result.status = "revoked"
            result.errors.append("the issuer has revoked this credential")
            return
        if isinstance(problem, str):
            result.errors.append(problem)
            return
    result.status = "active"


def _entry_revoked(entry: dict[str, Any], did_document: dict[str, Any], status_lists: StatusLists) -> bool | str:
    """True when revoked, False when not, or a sentence saying why the list could not be read."""
    url, index = entry.get("statusListCredential"), entry.get("statusListIndex")
    if entry.get("type") != "BitstringStatusListEntry" or not isinstance(url, str):
        return "the status entry is not a BitstringStatusListEntry"
    if not (isinstance(index, str) and index.isdigit()):
        return f"the status list index {index!r} is not a number"
    status_list = status_lists(url)
    if status_list is None:
        return f"the status list {url} is not available, so revocation could not be checked"
    if status_list.get("id") != url or "BitstringStatusListCredential" not in status_list.get("type", []):
        return f"{url} is not a BitstringStatusListCredential"
    if _issuer_id(status_list) != did_document.get("id"):
        return "the status list is not issued by the credential's issuer"
    if not (checked := proof_verify(status_list, controller_document=did_document)).verified:
        return f"the status list's proof does not hold: {checked.reason}"
    subject = status_list.get("credentialSubject") or {}
    if not isinstance(subject, dict) or subject.get("statusPurpose") != "revocation":
        return "the status list is not a revocation list"
    try:
        return bit_is_set(bitstring_decode(subject.get("encodedList", "")), int(index))
    except BitstringError as error:
        return f"the status list cannot be read: {error}"


def credential_verify(
    document: Any, *, did_document: dict[str, Any], status_lists: StatusLists, now: datetime | None = None
) -> VerificationResult:
    """Every check of one credential; never raises for what the document holds."""
    try:
        return _verify(document, did_document, status_lists, now or datetime.now(UTC))
    except RecursionError:
        return VerificationResult(errors=["the document is nested too deeply to be a credential"])


def _verify(
    document: Any, did_document: dict[str, Any], status_lists: StatusLists, now: datetime
) -> VerificationResult:
    result = VerificationResult()
    if not isinstance(document, dict):
        result.errors.append("a credential is a JSON object")
        return result
    types = document.get("type")
    if not CREDENTIAL_TYPES & set(types if isinstance(types, list) else [types]):
        result.errors.append("not an OpenBadgeCredential")
    checked = proof_verify(document, controller_document=did_document)
    result.proof = checked.verified
    if not checked.verified:
        result.errors.append(f"the proof does not hold: {checked.reason}")
    _check_issuer(document, did_document, result)
    _check_period(document, now, result)
    _check_status(document, did_document, status_lists, result)
    return result
