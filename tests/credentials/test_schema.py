"""The issued credential against 1EdTech's JSON Schema for the Open Badges 3.0 AchievementCredential
(`ob_v3p0_achievementcredential_schema.json` beside this file; its source is in tests/credentials/README.md).

That schema predates VC 2.0: it requires `issuanceDate`, which VC 2.0 renamed `validFrom`, and which the VC 2.0 and
OB 3.0.3 contexts no longer define (a signed document with it would carry a term no context defines, which the
signer refuses). That one requirement is checked as its VC 2.0 successor: `validFrom` present and a date-time.
Every other violation fails the test.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator, FormatChecker

from credentials.models import IssuedCredential
from credentials.selectors import credential_verify_here
from evidence.services import EvidenceInput, evidence_create, review_record
from tracker.models import Competency
from tracker.services import mentor_assign

SCHEMA = json.loads((Path(__file__).parent / "ob_v3p0_achievementcredential_schema.json").read_text())
VC1_ONLY = ("$", "'issuanceDate' is a required property")
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    # RFC 3339 with a zone, as the schema's DateTimeZ says (jsonschema checks it only with an extra package).
    return not isinstance(value, str) or datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def violations(document: dict[str, Any]) -> list[tuple[str, str]]:
    Draft201909Validator.check_schema(SCHEMA)
    validator = Draft201909Validator(SCHEMA, format_checker=FORMATS)
    found = [(error.json_path, error.message) for error in validator.iter_errors(document)]
    if VC1_ONLY in found:
        found.remove(VC1_ONLY)
        if not _date_time(document.get("validFrom")) or "validFrom" not in document:
            found.append(("$.validFrom", "VC 2.0's successor of issuanceDate is missing or not a date-time"))
    return found


def test_the_schema_is_1edtechs_for_ob_3_0() -> None:
    assert (
        SCHEMA["$id"] == "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
    )
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2019-09/schema#"


def test_an_issued_credential_validates(issued: IssuedCredential) -> None:
    assert violations(issued.document) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["credentialSubject"]["achievement"].pop("criteria"), "'criteria' is a required property"),
        (lambda d: d["credentialSubject"]["identifier"][0].update(extra=1), "Additional properties are not allowed"),
        (lambda d: d.pop("validFrom"), "successor of issuanceDate"),
        (lambda d: d["credentialSubject"]["achievement"].update(achievementType="Skill"), "is not valid under any"),
    ],
)
def test_the_check_catches_violations(issued: IssuedCredential, change: Any, expected: str) -> None:
    document = json.loads(json.dumps(issued.document))
    change(document)
    assert any(expected in message for _path, message in violations(document))


@pytest.fixture
def trained(issuer_key: Any, alice: Any, keras: Competency, tiny_task: Any) -> IssuedCredential:
    """Alice's Keras credential where one claim is proved by a scored attempt at the tiny Fashion-MNIST task, filed
    and approved; the run is left as the worker leaves it (the worker tests train for real)."""
    from tests.conftest import make_user
    from tests.trainer.conftest import REFERENCE, submit
    from tests.trainer.test_attempts import finish
    from trainer.filings import run_file

    mentor = make_user("mona")
    mentor_assign(mentor=mentor, competencies=[keras])
    run = finish(submit(alice, tiny_task, REFERENCE), accuracy=0.875, code_sha256="ab" * 32)
    approve = [run_file(run=run, learner=alice, claim=tiny_task.claim)]
    for claim in keras.active_claims().filter(required=True).exclude(pk=tiny_task.claim_id).order_by("order"):
        body = f"My answer to {claim.text}, in enough words to count."
        approve.append(
            evidence_create(learner=alice, claim=claim, data=EvidenceInput(kind="written", body=body), submit=True)
        )
    for evidence in approve:
        review_record(evidence=evidence, reviewer=mentor, decision="approve")
    return IssuedCredential.objects.get(learner=alice, competency=keras)


def test_a_credential_with_trained_results_validates_and_verifies(trained: IssuedCredential, tiny_task: Any) -> None:
    document = trained.document
    assert violations(document) == []
    assert credential_verify_here(document).valid
    achievement = document["credentialSubject"]["achievement"]
    [description] = achievement["resultDescription"]
    [result] = document["credentialSubject"]["result"]
    assert result["resultDescription"] == description["id"] and result["value"] == "0.875"
    assert description["requiredValue"] == f"{tiny_task.threshold:g}" and description["resultType"] == "RawScore"
    narrative = next(e["narrative"] for e in document["evidence"] if "Trained and scored" in e["narrative"])
    assert "accuracy 0.875" in narrative and "ab" * 32 in narrative and tiny_task.dataset.checksum in narrative
