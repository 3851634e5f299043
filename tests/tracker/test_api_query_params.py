"""Every query parameter the API documents is validated: bad values answer 400 naming the parameter, never 500.

The parameters come from the OpenAPI schema itself, so a new list endpoint or filter is covered by adding it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tracker.models import Competency, User

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = [
    "abc", "-1", "0", "1.5", "1e10", "-1e10", "NaN", "Infinity", "99999999999999999999999", "0x10", " 1", "１",
    "", "[]", "{}", "%", "%00", "\x00", "' OR 1=1 --", "x" * 5000, "../../etc/passwd", "true",
]  # fmt: skip
# Values each schema type must accept, so that a refusal can be told from a wrong one.
GOOD_VALUES = {"integer": "1", "number": "1", "string": "keras", "boolean": "true"}


def schema() -> dict[str, Any]:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return dict(json.loads(response.content))


def list_operations() -> list[tuple[str, dict[str, Any]]]:
    """(path, query parameter) for every GET operation without path parameters that takes query parameters.

    Each parameter carries the statuses its operation documents, under "documented".
    """
    found = []
    for path, operations in schema()["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        documented = set(get["responses"])
        found += [
            (path, {**parameter, "documented": documented})
            for parameter in get.get("parameters", [])
            if parameter["in"] == "query"
        ]
    return found


@pytest.fixture(scope="module")
def operations(django_db_blocker: Any) -> list[tuple[str, dict[str, Any]]]:
    with django_db_blocker.unblock():
        return list_operations()


@pytest.fixture
def api(alice: User, keras: Competency) -> APIClient:
    client = APIClient(raise_request_exception=False)  # a 500 is a finding to report, not a crash of the test
    client.force_authenticate(alice)
    return client


def is_valid(parameter: dict[str, Any], value: str) -> bool:
    """Whether `value` is a valid value for the parameter as the schema describes it."""
    described = parameter.get("schema", {})
    if "enum" in described:
        return value in described["enum"]
    kind = described.get("type", "string")
    if kind == "integer":
        try:
            return int(value) >= 0 if parameter["name"] == "min_age_days" else int(value) >= 1
        except ValueError:
            return False
    if kind == "boolean":
        return value in ("true", "false")
    return "\x00" not in value and len(value) <= 200


def problems(api: APIClient, path: str, parameter: dict[str, Any]) -> list[str]:
    """How the endpoint mishandles hostile values of one parameter (empty when it handles them all)."""
    name, found = parameter["name"], []
    for value in HOSTILE_VALUES:
        response = api.get(path, {name: value})
        answered, where = response.status_code, f"{path}?{name}={value[:20]!r}"
        valid = is_valid(parameter, value) or value == ""  # empty means "not given"
        if answered not in (200, 400, 404):
            found.append(f"{where}: {answered}")
        elif str(answered) not in parameter["documented"]:
            found.append(f"{where}: {answered}, which the schema does not list for the operation")
        elif answered == 400 and name not in response.json():
            found.append(f"{where}: 400 without naming it: {response.content[:120]!r}")
        elif answered == 404 and not (name == "page" and valid):
            found.append(f"{where}: 404, which only a page past the end answers")
        elif answered == 200 and not valid:
            found.append(f"{where}: accepted")
    return found


# Parameters validated by other work in progress (accounts and tokens): only "never a server error" is asked
# of them here. /api/me/standing/ answers 404 for an unknown competency by design.
ELSEWHERE = {("/api/runs/", "learner"), ("/api/me/standing/", "competency")}


def test_the_documented_parameters_are_found(operations: list[tuple[str, dict[str, Any]]]) -> None:
    names = {(path, parameter["name"]) for path, parameter in operations}
    expected = {"claim", "competency", "kind", "learner", "min_age_days", "page", "scope", "status"}
    assert {("/api/evidence/", name) for name in expected} <= names
    assert {("/api/runs/", "task"), ("/api/tasks/", "page"), ("/api/competencies/", "page")} <= names


def test_min_age_days_out_of_range_is_a_400(api: APIClient) -> None:
    response = api.get("/api/evidence/", {"min_age_days": "1e10"})
    assert response.status_code == 400
    assert response.json() == {"min_age_days": ["Enter a whole number."]}
    assert "min_age_days" in api.get("/api/evidence/", {"min_age_days": "3651"}).json()


def test_every_documented_parameter_refuses_bad_values_by_name(
    api: APIClient, operations: list[tuple[str, dict[str, Any]]]
) -> None:
    found = []
    for path, parameter in operations:
        if (path, parameter["name"]) not in ELSEWHERE:
            found += problems(api, path, parameter)
    assert not found, "\n".join(found)


def test_parameters_validated_elsewhere_never_answer_500(
    api: APIClient, operations: list[tuple[str, dict[str, Any]]]
) -> None:
    for path, parameter in operations:
        if (path, parameter["name"]) in ELSEWHERE:
            for value in HOSTILE_VALUES:
                assert api.get(path, {parameter["name"]: value}).status_code < 500, (path, value)


def test_a_page_past_the_end_is_404_and_last_is_the_last(api: APIClient) -> None:
    assert api.get("/api/competencies/", {"page": "2"}).status_code == 404
    assert api.get("/api/competencies/", {"page": "last"}).status_code == 200
    response = api.get("/api/competencies/", {"page": "abc"})
    assert response.status_code == 400
    assert response.json() == {"page": ["Enter a page number: a whole number from 1, or last."]}


def test_runs_task_must_be_a_slug(api: APIClient) -> None:
    assert "task" in api.get("/api/runs/", {"task": "not a slug!"}).json()
    assert api.get("/api/runs/", {"task": "unknown-task"}).json()["results"] == []
