"""The authorization matrix: every evidence/review endpoint, persona and read/write, exact status codes.

Personas: anonymous, owner (Alice), other learner (Bob), mentor of the competency (Charlie),
mentor of another competency (Dana), admin. Someone else's evidence is always a 404 (its
existence is not disclosed); a visible resource the persona may not change is a 403.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from evidence.models import Evidence, Status
from evidence.services import EvidenceInput, evidence_create
from tests.evidence.helpers import ANSWER, make_evidence, written_claim
from tracker.models import Competency, User

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "owner", "other_learner", "mentor", "other_mentor", "admin"]

# endpoint name -> (method, path template, evidence state it acts on, expected status per persona)
API: dict[str, tuple[str, str, str, dict[str, int]]] = {
    "list": ("get", "/api/evidence/", "submitted",
             dict(anonymous=401, owner=200, other_learner=200, mentor=200, other_mentor=200, admin=200)),
    "detail": ("get", "/api/evidence/{id}/", "submitted",
               dict(anonymous=401, owner=200, other_learner=404, mentor=200, other_mentor=404, admin=200)),
    "detail of a draft": ("get", "/api/evidence/{id}/", "draft",
                          dict(anonymous=401, owner=200, other_learner=404, mentor=404, other_mentor=404, admin=200)),
    "submit": ("post", "/api/evidence/{id}/submit/", "draft",
               dict(anonymous=401, owner=200, other_learner=404, mentor=404, other_mentor=404, admin=403)),
    "withdraw": ("post", "/api/evidence/{id}/withdraw/", "submitted",
                 dict(anonymous=401, owner=200, other_learner=404, mentor=403, other_mentor=404, admin=403)),
    "reviews list": ("get", "/api/evidence/{id}/reviews/", "submitted",
                     dict(anonymous=401, owner=200, other_learner=404, mentor=200, other_mentor=404, admin=200)),
    "review": ("post", "/api/evidence/{id}/reviews/", "submitted",
               dict(anonymous=401, owner=403, other_learner=404, mentor=201, other_mentor=404, admin=403)),
    "create": ("post", "/api/evidence/", "submitted",
               dict(anonymous=401, owner=201, other_learner=201, mentor=201, other_mentor=201, admin=201)),
    "standing": ("get", "/api/me/standing/", "submitted",
                 dict(anonymous=401, owner=200, other_learner=200, mentor=200, other_mentor=200, admin=200)),
    "update (not allowed)": ("patch", "/api/evidence/{id}/", "submitted",
                             dict(anonymous=401, owner=405, other_learner=405, mentor=405, other_mentor=405, admin=405)),
    "delete (not allowed)": ("delete", "/api/evidence/{id}/", "submitted",
                             dict(anonymous=401, owner=405, other_learner=405, mentor=405, other_mentor=405, admin=405)),
}  # fmt: skip

PAGES: dict[str, tuple[str, str, str, dict[str, int]]] = {
    "page": ("get", "/evidence/{id}/", "submitted",
             dict(anonymous=302, owner=200, other_learner=404, mentor=200, other_mentor=404, admin=200)),
    "draft page": ("get", "/evidence/{id}/", "draft",
                   dict(anonymous=302, owner=200, other_learner=404, mentor=404, other_mentor=404, admin=200)),
    "file download": ("get", "/evidence/{id}/file/", "file",
                      dict(anonymous=302, owner=200, other_learner=404, mentor=200, other_mentor=404, admin=200)),
    "edit draft page": ("get", "/evidence/{id}/edit/", "draft",
                        dict(anonymous=302, owner=200, other_learner=404, mentor=404, other_mentor=404, admin=302)),
    "withdraw form": ("post", "/evidence/{id}/withdraw/", "submitted",
                      dict(anonymous=302, owner=302, other_learner=404, mentor=302, other_mentor=404, admin=302)),
    "review form": ("post", "/evidence/{id}/review/", "submitted",
                    dict(anonymous=302, owner=302, other_learner=404, mentor=302, other_mentor=404, admin=302)),
    "review queue": ("get", "/review/", "submitted",
                     dict(anonymous=302, owner=404, other_learner=404, mentor=200, other_mentor=200, admin=404)),
    "dashboard": ("get", "/dashboard/", "submitted",
                  dict(anonymous=302, owner=200, other_learner=200, mentor=200, other_mentor=200, admin=200)),
}  # fmt: skip

# Whether a write leaves the evidence changed, per persona (checked after the call).
CHANGES = {
    "withdraw": {"owner"},
    "withdraw form": {"owner"},
    "submit": {"owner"},
    "review": {"mentor"},
    "review form": {"mentor"},
}

CASES = [
    (kind, name, persona) for kind, table in (("api", API), ("page", PAGES)) for name in table for persona in PERSONAS
]


@pytest.fixture
def people(alice: User, bob: User, charlie: User, dana: User, admin_user: User) -> dict[str, User | None]:
    return dict(anonymous=None, owner=alice, other_learner=bob, mentor=charlie, other_mentor=dana, admin=admin_user)


def make_state(state: str, alice: User, keras: Competency) -> Evidence:
    if state == "file":
        claim = keras.claims.get(order=6)
        upload = SimpleUploadedFile("notes.txt", b"my notes about R and Keras\n")
        return evidence_create(learner=alice, claim=claim, data=EvidenceInput(kind="file", file=upload), submit=True)
    return make_evidence(alice, written_claim(keras), submit=state != "draft")


def payload(name: str, keras: Competency) -> dict[str, object]:
    if name in ("review", "review form"):
        return {"decision": "approve", "comment": "Good."}
    if name == "create":
        return {"claim": keras.claims.get(order=4).pk, "kind": "written", "body": ANSWER}
    return {}


@pytest.mark.parametrize("kind,name,persona", CASES, ids=[f"{k}:{n}:{p}" for k, n, p in CASES])
def test_authorization_matrix(
    kind: str, name: str, persona: str, people: dict[str, User | None], keras: Competency
) -> None:
    method, template, state, expected = (API if kind == "api" else PAGES)[name]
    alice = people["owner"]
    assert alice is not None
    evidence = make_state(state, alice, keras)
    before = evidence.status
    user = people[persona]
    client: APIClient | Client = APIClient() if kind == "api" else Client()
    if user is not None:
        client.force_login(user)
    call: Callable[..., object] = getattr(client, method)
    data = payload(name, keras)
    response = call(template.format(id=evidence.pk), data, **({"format": "json"} if kind == "api" else {}))
    assert response.status_code == expected[persona], getattr(response, "content", b"")[:300]
    evidence.refresh_from_db()
    changed = evidence.status != before
    assert changed == (persona in CHANGES.get(name, set())), f"status went {before} -> {evidence.status}"


def test_list_shows_each_persona_only_what_it_may_see(people: dict[str, User | None], keras: Competency) -> None:
    alice, bob = people["owner"], people["other_learner"]
    assert alice and bob
    mine = make_evidence(alice, written_claim(keras))
    draft = make_evidence(alice, keras.claims.get(order=4), submit=False)
    bobs = make_evidence(bob, written_claim(keras))
    expected = {
        "owner": {mine.pk, draft.pk},
        "other_learner": {bobs.pk},
        "mentor": {mine.pk, bobs.pk},
        "other_mentor": set(),
        "admin": {mine.pk, draft.pk, bobs.pk},
    }
    for persona, ids in expected.items():
        client = APIClient()
        client.force_authenticate(people[persona])
        got = {row["id"] for row in client.get("/api/evidence/").json()["results"]}
        assert got == ids, persona


def test_matrix_size() -> None:
    # Documented in the closing note; fails if an endpoint is added without its row.
    assert len(CASES) == (len(API) + len(PAGES)) * len(PERSONAS) == 114
    assert Status.SUBMITTED in {s for *_rest, s in [("", "", Status.SUBMITTED)]}
