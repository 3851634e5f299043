"""Independent verification: Digital Bazaar's JavaScript stack (tests/js/) checks what the app signs, and the app
checks what that stack signs, both over the same local contexts and the app's DID document.

Needs `npm ci` in tests/js (`.ci/run` does it); marked slow, so `make test-fast` leaves it out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from credentials import proofs
from credentials.did import did_document, issuer_did, verification_method_id
from credentials.documents import CONTEXT_FILES, CONTEXTS_DIR
from credentials.keys import IssuerKey
from tests.conftest import REPO
from tests.credentials.helpers import make_open_badge

pytestmark = pytest.mark.slow
JS = REPO / "tests" / "js"


def node(action: str, payload: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    if shutil.which("node") is None:
        pytest.fail("Node.js is not installed: the independent verifier needs Node 20 (`node` on PATH).")
    if not (JS / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        pytest.fail("tests/js/node_modules is missing: run `npm ci --prefix tests/js` (.ci/run does).")
    source = tmp_path / "input.json"
    contexts = {url: str(CONTEXTS_DIR / name) for url, name in CONTEXT_FILES.items()}
    source.write_text(json.dumps({**payload, "contextFiles": contexts}))
    result = subprocess.run(
        ["node", "verify.mjs", action, str(source)], cwd=JS, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def signed_badge(key: IssuerKey) -> dict[str, Any]:
    assert key.secret_key is not None
    credential = make_open_badge(issuer_did())
    return proofs.proof_create(credential, key=key.secret_key, verification_method=verification_method_id(key))


def test_the_javascript_stack_verifies_what_the_app_signs(issuer_key: IssuerKey, tmp_path: Path) -> None:
    result = node("verify", {"credential": signed_badge(issuer_key), "didDocument": did_document()}, tmp_path)
    assert result == {"verified": True, "errors": []}


def test_the_javascript_stack_rejects_one_changed_character(issuer_key: IssuerKey, tmp_path: Path) -> None:
    credential = signed_badge(issuer_key)
    credential["credentialSubject"]["achievement"]["name"] = "Kerax"
    result = node("verify", {"credential": credential, "didDocument": did_document()}, tmp_path)
    assert result["verified"] is False and result["errors"], result


def test_the_javascript_stack_rejects_a_key_the_issuer_does_not_publish(issuer_key: IssuerKey, tmp_path: Path) -> None:
    credential = signed_badge(IssuerKey.generate())
    result = node("verify", {"credential": credential, "didDocument": did_document()}, tmp_path)
    assert result["verified"] is False, result


def test_the_javascript_stack_refuses_an_unknown_context(issuer_key: IssuerKey, tmp_path: Path) -> None:
    credential = signed_badge(issuer_key)
    credential["@context"].append("https://example.com/extra-context.json")
    result = node("verify", {"credential": credential, "didDocument": did_document()}, tmp_path)
    # jsonld.js wraps the loader's "unknown context" in its own dereferencing error, which names the URL.
    assert result["verified"] is False and "https://example.com/extra-context.json" in str(result["errors"]), result


def test_the_app_verifies_what_the_javascript_stack_signs(key_file: Path, tmp_path: Path) -> None:
    did = issuer_did()
    result = node("sign", {"credential": make_open_badge(did), "did": did}, tmp_path)
    key = IssuerKey.parse(result["publicKeyMultibase"])
    controller = did_document([key])
    assert result["credential"]["proof"]["verificationMethod"] == verification_method_id(key)
    assert proofs.proof_verify(result["credential"], controller_document=controller) == proofs.Verification(True)
    result["credential"]["name"] = "Keras: proficienT"
    assert not proofs.proof_verify(result["credential"], controller_document=controller).verified


def test_the_javascript_stack_verifies_the_credential_the_app_issues(issued: Any, tmp_path: Path) -> None:
    from credentials.services import credential_revoke, status_list_document

    def verify() -> dict[str, Any]:
        status_list = status_list_document(status_list=issued.status_list)
        payload = {"credential": issued.document, "didDocument": did_document(), "statusList": status_list}
        return node("verify", payload, tmp_path)

    assert verify() == {"verified": True, "revoked": False, "errors": []}
    credential_revoke(credential=issued, reason="Plagiarised.")
    # @digitalbazaar/vc reports a status it could check as verified; the set bit is its `status`.
    assert verify() == {"verified": True, "revoked": True, "errors": []}


def test_the_javascript_stack_reads_the_status_list_before_and_after_revocation(issued: Any, tmp_path: Path) -> None:
    from credentials.services import credential_revoke, status_list_document

    def status() -> dict[str, Any]:
        payload = {
            "credential": issued.document,
            "didDocument": did_document(),
            "statusList": status_list_document(status_list=issued.status_list),
        }
        return node("status", payload, tmp_path)

    assert status() == {"verified": True, "revoked": False, "errors": []}
    credential_revoke(credential=issued, reason="Plagiarised.")
    assert status() == {"verified": True, "revoked": True, "errors": []}
