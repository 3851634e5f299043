"""A sample Open Badges 3.0 credential, shaped as the issuer will issue them (OB 3.0, VC 2.0)."""

from __future__ import annotations

from typing import Any

from credentials.documents import OB_V3P0, VC_V2

SITE = "https://skillproof.example.com"


def make_open_badge(issuer: str, *, name: str = "Keras") -> dict[str, Any]:
    return {
        "@context": [VC_V2, OB_V3P0],
        "id": "urn:uuid:2f1b7f4c-4d0e-4a4b-9a57-0c7f8e5d9b31",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{name}: proficient",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Skillproof", "url": f"{SITE}/"},
        "validFrom": "2026-01-15T12:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": "sha256$5b7c4b7a8b0d1f9e2c3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": "s4lt-f0r-th3-t3st",
                }
            ],
            "achievement": {
                "id": f"{SITE}/competencies/keras/",
                "type": ["Achievement"],
                "achievementType": "Competency",
                "name": name,
                "description": "Builds, trains and evaluates deep-learning models with Keras.",
                "criteria": {
                    "narrative": "Every required claim approved by a mentor:\n\n1. Builds a CNN.\n2. Trains an RNN."
                },
            },
        },
    }


def approve_every_claim(learner: Any, competency: Any, mentor: Any) -> None:
    """The learner's written evidence for every required claim, each approved by the mentor (through the review
    service, so the credential is issued the way it is in production)."""
    from evidence.services import EvidenceInput, evidence_create, review_record

    for claim in competency.active_claims().filter(required=True).order_by("order"):
        data = EvidenceInput(kind="written", body=f"My answer to {claim.text}, in enough words to count.")
        evidence = evidence_create(learner=learner, claim=claim, data=data, submit=True)
        review_record(evidence=evidence, reviewer=mentor, decision="approve")
