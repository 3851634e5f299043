"""The unsigned OpenBadgeCredential (Open Badges 3.0 on VC 2.0) of one learner's competency: pure in, pure out.

Everything it says comes from `BadgeData`, which the issuing service fills from the database; nothing here reads
the database, the clock or the keys, so the shape is tested on plain data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from credentials.documents import OB_V3P0, VC_V2

Json = dict[str, Any]


@dataclass(frozen=True)
class IssuerData:
    did: str
    name: str
    url: str
    email: str = ""
    image: str = ""


@dataclass(frozen=True)
class ClaimItem:
    """A claim of the competency, aligned to the CASE CFItem the site publishes for it."""

    text: str
    code: str
    case_uri: str


@dataclass(frozen=True)
class TrainedResult:
    """The trusted metric of one training evidence: the platform measured it, not the learner."""

    key: str  # unique within the credential: names the ResultDescription
    task: str
    metric: str
    value: float
    threshold: float


@dataclass(frozen=True)
class EvidenceItem:
    url: str
    name: str
    narrative: str
    genre: str


@dataclass(frozen=True)
class BadgeData:
    credential_id: str
    issuer: IssuerData
    valid_from: str
    valid_until: str | None
    email: str
    salt: str
    achievement_id: str
    competency: str
    description: str
    version: int
    image: str
    claims: list[ClaimItem]
    status_list_url: str
    status_index: int
    evidence: list[EvidenceItem] = field(default_factory=list)
    results: list[TrainedResult] = field(default_factory=list)


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 `IdentityObject.identityHash`: "sha256$" and the hex SHA-256 of the address followed by the salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def criteria_narrative(claims: list[ClaimItem]) -> str:
    lines = [f"{n}. {claim.text}" for n, claim in enumerate(claims, start=1)]
    return "Every required claim proved with evidence a mentor approved:\n\n" + "\n".join(lines)


def _image(url: str) -> Json:
    return {"id": url, "type": "Image"}


def _issuer(issuer: IssuerData) -> Json:
    profile: Json = {"id": issuer.did, "type": ["Profile"], "name": issuer.name, "url": issuer.url}
    if issuer.email:
        profile["email"] = issuer.email
    if issuer.image:
        profile["image"] = _image(issuer.image)
    return profile


def _alignment(claim: ClaimItem, framework: str) -> Json:
    return {
        "type": ["Alignment"],
        "targetName": claim.text[:200],
        "targetUrl": claim.case_uri,
        "targetType": "CFItem",
        "targetCode": claim.code,
        "targetFramework": framework,
    }


def _result_description(data: BadgeData, result: TrainedResult) -> Json:
    return {
        "id": f"{data.achievement_id}#result-{result.key}",
        "type": ["ResultDescription"],
        "name": f"{result.task}: {result.metric}",
        "resultType": "RawScore",
        "requiredValue": f"{result.threshold:g}",
    }


def _achievement(data: BadgeData) -> Json:
    achievement: Json = {
        "id": data.achievement_id,
        "type": ["Achievement"],
        "achievementType": "Competency",
        "name": data.competency,
        "description": data.description or f"Proficiency in {data.competency}.",
        "criteria": {"narrative": criteria_narrative(data.claims)},
        "image": _image(data.image),
        "version": str(data.version),
        "alignment": [_alignment(claim, data.competency) for claim in data.claims],
    }
    if data.results:
        achievement["resultDescription"] = [_result_description(data, result) for result in data.results]
    return achievement


def _subject(data: BadgeData) -> Json:
    subject: Json = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": identity_hash(data.email, data.salt),
                "identityType": "emailAddress",
                "hashed": True,
                "salt": data.salt,
            }
        ],
        "achievement": _achievement(data),
    }
    if data.results:
        subject["result"] = [
            {
                "type": ["Result"],
                "resultDescription": f"{data.achievement_id}#result-{result.key}",
                "value": f"{result.value:g}",
                "status": "Completed",
            }
            for result in data.results
        ]
    return subject


def _evidence(item: EvidenceItem) -> Json:
    return {"id": item.url, "type": ["Evidence"], "name": item.name, "narrative": item.narrative, "genre": item.genre}


def open_badge(data: BadgeData) -> Json:
    """The unsigned OpenBadgeCredential."""
    credential: Json = {
        "@context": [VC_V2, OB_V3P0],
        "id": data.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{data.competency}: proficient",
        "issuer": _issuer(data.issuer),
        "validFrom": data.valid_from,
    }
    if data.valid_until:
        credential["validUntil"] = data.valid_until
    credential["credentialSubject"] = _subject(data)
    if data.evidence:
        credential["evidence"] = [_evidence(item) for item in data.evidence]
    credential["credentialStatus"] = {
        "id": f"{data.status_list_url}#{data.status_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(data.status_index),
        "statusListCredential": data.status_list_url,
    }
    return credential


def status_list_credential(*, url: str, issuer_did: str, valid_from: str, encoded_list: str) -> Json:
    """The unsigned BitstringStatusListCredential of a revocation list."""
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    }
