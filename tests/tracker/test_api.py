import pytest
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tracker.models import Competency, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_list_is_public(api: APIClient, keras: Competency) -> None:
    response = api.get("/api/competencies/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["slug"] == "keras"
    assert row["claim_count"] == 10


def test_detail_has_claims_with_ids_and_resources(api: APIClient, keras: Competency) -> None:
    data = api.get("/api/competencies/keras/").json()
    assert len(data["claims"]) == 10
    assert all(isinstance(c["id"], int) for c in data["claims"])
    assert [c["order"] for c in data["claims"]] == list(range(1, 11))
    assert len(data["resources"]) == 7


def test_unknown_slug_is_404_json(api: APIClient) -> None:
    response = api.get("/api/competencies/nope/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Competency matches the given query."} or response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    ["/api/competencies/%C3%9E%03/", "/api/runs/1.5/", "/api/evidence/-1.5/file/", "/api/tasks/+0.0/", "/api/nope/"],
)
def test_an_api_path_that_matches_no_route_is_404_json(api: APIClient, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("who,status", [("anonymous", 401), ("learner", 403), ("admin", 200)])
def test_only_admins_write(
    api: APIClient, keras: Competency, alice: User, admin_user: User, who: str, status: int
) -> None:
    user = {"learner": alice, "admin": admin_user}.get(who)
    if user:
        api.force_authenticate(user)
    response = api.patch("/api/competencies/keras/", {"summary": "Neural networks in Python."}, format="json")
    assert response.status_code in ({status, 403} if who == "anonymous" else {status})
    keras.refresh_from_db()
    assert (keras.summary == "Neural networks in Python.") == (who == "admin")


def test_admin_creates_competency_and_bad_input_is_400(api: APIClient, admin_user: User) -> None:
    api.force_authenticate(admin_user)
    assert api.post("/api/competencies/", {"title": "PyTorch"}, format="json").status_code == 201
    response = api.post("/api/competencies/", {"title": ""}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()


def test_token_auth(api: APIClient, alice: User) -> None:
    response = api.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/competencies/").status_code == 200
    assert api.post("/api/auth/token/", {"username": "alice", "password": "x"}, format="json").status_code == 400


def test_schema_and_docs(api: APIClient) -> None:
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/competencies/{slug}/" in schema.json()["paths"]
    assert api.get("/api/docs/").status_code == 200


def test_deleting_a_competency_in_use_is_refused_with_409(api: APIClient, keras: Competency, admin_user: User) -> None:
    from evidence.services import EvidenceInput, evidence_create
    from tests.evidence.helpers import ANSWER

    learner = User.objects.create_user("user-with-evidence", password=PASSWORD)
    claim = keras.claims.get(order=1)
    evidence_create(learner=learner, claim=claim, data=EvidenceInput(kind="written", body=ANSWER), submit=True)
    api.force_authenticate(admin_user)
    response = api.delete(f"/api/competencies/{keras.slug}/")
    assert response.status_code == 409 and "still in use" in response.json()["detail"]
    assert Competency.objects.filter(pk=keras.pk).exists()


@pytest.mark.parametrize(
    "url", ["/api/credentials/verify/", "/api/evidence/", "/api/auth/token/", "/api/tasks/x/runs/"]
)
def test_a_body_nested_too_deeply_is_a_400_everywhere(url: str, alice: User) -> None:
    """json.loads raises RecursionError (not ValueError) past Python's recursion limit: it was a 500."""
    api = APIClient()
    api.force_authenticate(alice)
    response = api.post(url, data="[" * 50_000, content_type="application/json")
    assert response.status_code in (400, 404), response.status_code
    if url != "/api/tasks/x/runs/":
        assert response.status_code == 400 and "nested too deeply" in response.json()["detail"]
