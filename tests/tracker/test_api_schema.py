"""The OpenAPI schema documents every status each operation can answer, errors included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

WRITES = ("post", "put", "patch", "delete")
# Open to anyone: no sign-in to refuse, so no 401 for a missing one (an invalid token still is a 401).
ANONYMOUS_WRITES = {("post", "/api/auth/token/")}
SUBMISSIONS = {("post", "/api/evidence/"), ("post", "/api/tasks/{slug}/runs/")}
STATE_CHANGES = {
    ("post", "/api/evidence/"),
    ("post", "/api/evidence/{id}/submit/"),
    ("post", "/api/evidence/{id}/withdraw/"),
    ("post", "/api/evidence/{id}/reviews/"),
    ("post", "/api/runs/{id}/cancel/"),
}


def schema() -> dict[str, Any]:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return dict(json.loads(response.content))


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema()["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def expected_statuses(method: str, path: str, operation: dict[str, Any]) -> set[str]:
    """The statuses an operation can answer from what it is, whatever it does."""
    parameters = operation.get("parameters", [])
    expected = {"401"}  # an invalid token, on any operation
    if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
        expected.add("400")
    if "requestBody" in operation:
        expected.add("413")  # MAX_REQUEST_BYTES
    if method in WRITES:
        expected.add("403")  # roles, ownership, CSRF with a session
    if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
        expected.add("404")
    return expected


def test_every_operation_lists_the_errors_it_can_answer() -> None:
    missing = []
    for method, path, operation in operations():
        lacking = expected_statuses(method, path, operation) - set(operation["responses"])
        if lacking:
            missing.append(f"{method.upper()} {path}: {sorted(lacking)}")
    assert not missing, "\n".join(missing)


def test_authenticated_writes_list_400_401_403_and_404_where_they_address_an_object() -> None:
    for method, path, operation in operations():
        if method not in WRITES or (method, path) in ANONYMOUS_WRITES:
            continue
        documented = set(operation["responses"])
        assert {"401", "403"} <= documented, (method, path)
        if "requestBody" in operation:
            assert "400" in documented, (method, path)
        if "{" in path:
            assert "404" in documented, (method, path)


def test_submissions_list_429_with_retry_after() -> None:
    found = {(method, path): op for method, path, op in operations() if (method, path) in SUBMISSIONS}
    assert set(found) == SUBMISSIONS
    for operation in found.values():
        assert {"400", "401", "403", "404", "413", "429"} <= set(operation["responses"])
        assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_the_token_operation_lists_the_login_lockout_429_with_retry_after() -> None:
    responses = schema()["paths"]["/api/auth/token/"]["post"]["responses"]
    assert "Retry-After" in responses["429"]["headers"]
    assert responses["429"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_standing_lists_the_404_of_a_competency_it_does_not_know() -> None:
    assert "404" in schema()["paths"]["/api/me/standing/"]["get"]["responses"]


def test_state_changes_list_409() -> None:
    found = {(method, path): op for method, path, op in operations() if (method, path) in STATE_CHANGES}
    assert set(found) == STATE_CHANGES
    assert all("409" in operation["responses"] for operation in found.values())


def test_error_responses_describe_their_body() -> None:
    document = schema()
    assert document["components"]["schemas"]["Error"]["properties"]["detail"]["type"] == "string"
    for method, path, operation in operations():
        for code, response in operation["responses"].items():
            if code >= "400":
                assert response["description"], (method, path, code)
                assert "application/json" in response["content"], (method, path, code)


def test_only_the_list_documents_the_list_parameters() -> None:
    paths = schema()["paths"]
    assert {p["name"] for p in paths["/api/runs/{id}/"]["get"]["parameters"]} == {"id"}
    assert {p["name"] for p in paths["/api/evidence/{id}/reviews/"]["get"]["parameters"]} == {"id"}


def test_page_is_documented_as_the_whole_number_from_1_it_is_checked_against() -> None:
    pages = [
        parameter
        for _, _, operation in operations()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "page"
    ]
    assert pages and all(page["schema"] == {"type": "integer", "minimum": 1} for page in pages)
