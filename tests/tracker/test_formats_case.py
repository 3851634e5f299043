"""CASE 1.1 export: schema validity, mapping and stable identifiers (no database needed)."""

from __future__ import annotations

import copy
import datetime
import json
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tracker.formats.base import ClaimData, FrameworkData, ResourceData
from tracker.formats.case import export_case

URI_BASE = "https://skillproof.example.org"
LAST_CHANGE = datetime.datetime(2024, 5, 17, 9, 30, 12, 345678, tzinfo=datetime.UTC)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

from tests.conftest import CASE_SCHEMA_FILE  # noqa: E402
from tests.tracker.keras_data import CLAIMS, RESOURCES  # noqa: E402


def _uuid4(seed: str) -> str:
    """A fixed, valid version-4 UUID per seed, standing in for one stored in the database."""
    return str(uuid.UUID(bytes=uuid.uuid5(uuid.NAMESPACE_DNS, seed).bytes, version=4))


def keras(*, with_uuids: bool) -> FrameworkData:
    """The seed's Keras competency; every other claim is optional and has a key."""
    claims = [
        ClaimData(
            text=text,
            required=n % 2 == 1,
            evidence_kinds=("written", "link") if n == 3 else ("written", "link", "file", "notebook"),
            key=f"keras-{n:02d}" if n % 2 else "",
            uuid=_uuid4(f"claim-{n}") if with_uuids else "",
        )
        for n, text in enumerate(CLAIMS, start=1)
    ]
    resources = [
        ResourceData(title=title, url=url, uuid=_uuid4(f"resource-{n}") if with_uuids else "")
        for n, (title, url) in enumerate(RESOURCES, start=1)
    ]
    return FrameworkData(
        title="Keras",
        category="ML Framework",
        description="Keras is an open-source neural-network library written in Python.",
        claims=claims,
        resources=resources,
        key="keras",
        uuid=_uuid4("document") if with_uuids else "",
        version=3,
    )


def export(data: FrameworkData, **overrides: Any) -> dict[str, Any]:
    """export_case with this module's defaults."""
    options: dict[str, Any] = {"uri_base": URI_BASE, "last_change": LAST_CHANGE} | overrides
    return export_case(data, **options)


def _is_rfc3339(value: object) -> bool:
    """The "date-time" check jsonschema skips unless rfc3339-validator is installed."""
    if not isinstance(value, str) or not RFC3339.match(value):
        return False
    datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _is_uri(value: object) -> bool:
    """The "uri" check jsonschema skips unless rfc3987 is installed: absolute, no spaces."""
    if not isinstance(value, str) or re.search(r"\s", value):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(CASE_SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    checker = FormatChecker()
    checker.checks("date-time", raises=ValueError)(_is_rfc3339)
    checker.checks("uri")(_is_uri)
    return Draft202012Validator(schema, format_checker=checker)


def _errors(validator: Draft202012Validator, package: dict[str, Any]) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(package)]


def _all_identifiers(package: dict[str, Any]) -> list[str]:
    records = [package["CFDocument"], *package["CFItems"], *package["CFAssociations"]]
    return [record["identifier"] for record in records + package["CFDefinitions"]["CFItemTypes"]]


@pytest.mark.parametrize("with_uuids", [True, False])
def test_export_validates_against_the_schema(validator: Draft202012Validator, with_uuids: bool) -> None:
    assert _errors(validator, export(keras(with_uuids=with_uuids))) == []


def test_export_of_a_bare_competency_validates(validator: Draft202012Validator) -> None:
    package = export(FrameworkData(title="Empty"))
    assert _errors(validator, package) == []
    assert package["CFItems"] == [] and package["CFAssociations"] == []


def test_export_has_one_item_per_claim_and_one_association_per_claim_and_resource() -> None:
    package = export(keras(with_uuids=True))
    kinds = [association["associationType"] for association in package["CFAssociations"]]
    assert len(package["CFItems"]) == 10
    assert kinds.count("isChildOf") == 10
    assert kinds.count("exemplar") == 7
    assert len(kinds) == 17


def test_document_carries_the_competency() -> None:
    document = export(keras(with_uuids=True))["CFDocument"]
    assert document["identifier"] == _uuid4("document")
    assert document["uri"] == f"{URI_BASE}/case/{_uuid4('document')}"
    assert document["title"] == "Keras"
    assert document["subject"] == ["ML Framework"]
    assert document["version"] == "3"
    assert document["caseVersion"] == "1.1"
    assert document["description"].startswith("Keras is an open-source")


def test_claims_become_ordered_items_under_the_document() -> None:
    data = keras(with_uuids=True)
    package = export(data)
    document_id = package["CFDocument"]["identifier"]
    children = [a for a in package["CFAssociations"] if a["associationType"] == "isChildOf"]
    for n, (claim, item, child) in enumerate(zip(data.claims, package["CFItems"], children, strict=True), start=1):
        assert item["identifier"] == claim.uuid
        assert item["fullStatement"] == claim.text
        assert item["CFItemType"] == "Claim"
        assert item["listEnumeration"] == str(n)
        assert "educationLevel" not in item
        assert item["extensions"]["skillproof"] == {
            "required": claim.required,
            "evidenceKinds": list(claim.evidence_kinds),
        }
        assert item["notes"].startswith("Required claim" if claim.required else "Optional claim")
        assert (child["originNodeURI"]["identifier"], child["destinationNodeURI"]["identifier"]) == (
            claim.uuid,
            document_id,
        )
        assert child["sequenceNumber"] == n
    assert package["CFItems"][0]["humanCodingScheme"] == "keras-01"
    assert "humanCodingScheme" not in package["CFItems"][1]
    assert package["CFItems"][2]["notes"] == "Required claim. Accepted evidence: written, link."


def test_claim_items_point_at_the_claim_item_type_definition() -> None:
    package = export(keras(with_uuids=False))
    (item_type,) = package["CFDefinitions"]["CFItemTypes"]
    assert item_type["title"] == "Claim"
    assert {item["CFItemTypeURI"]["identifier"] for item in package["CFItems"]} == {item_type["identifier"]}


def test_resources_are_exemplars_of_the_document_pointing_at_their_urls() -> None:
    data = keras(with_uuids=True)
    package = export(data)
    exemplars = [a for a in package["CFAssociations"] if a["associationType"] == "exemplar"]
    for n, (resource, association) in enumerate(zip(data.resources, exemplars, strict=True), start=1):
        assert association["originNodeURI"]["identifier"] == package["CFDocument"]["identifier"]
        assert association["destinationNodeURI"] == {
            "title": resource.title,
            "identifier": resource.uuid,
            "uri": resource.url,
            "targetType": "ext:LearningResource",
        }
        assert association["sequenceNumber"] == n


@pytest.mark.parametrize("with_uuids", [True, False])
def test_identifiers_are_stable_unique_and_shaped_like_version_4(with_uuids: bool) -> None:
    first = _all_identifiers(export(keras(with_uuids=with_uuids)))
    second = _all_identifiers(export(keras(with_uuids=with_uuids), last_change=LAST_CHANGE.replace(year=2025)))
    assert first == second
    assert len(set(first)) == len(first)
    for identifier in first:
        parsed = uuid.UUID(identifier)
        assert str(parsed) == identifier
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_derived_identifiers_depend_on_the_site() -> None:
    here = _all_identifiers(export(keras(with_uuids=False)))
    elsewhere = _all_identifiers(export(keras(with_uuids=False), uri_base="https://other.example.org/"))
    assert set(here).isdisjoint(elsewhere)


def test_claims_with_the_same_text_get_different_identifiers(validator: Draft202012Validator) -> None:
    data = FrameworkData(title="Twice", claims=[ClaimData(text="Same"), ClaimData(text="Same")])
    package = export(data)
    assert package["CFItems"][0]["identifier"] != package["CFItems"][1]["identifier"]
    assert _errors(validator, package) == []


def test_uri_base_trailing_slash_is_ignored() -> None:
    package = export(keras(with_uuids=True), uri_base=URI_BASE + "/")
    assert package["CFDocument"]["uri"] == f"{URI_BASE}/case/{_uuid4('document')}"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (LAST_CHANGE, "2024-05-17T09:30:12+00:00"),
        (
            datetime.datetime(2024, 5, 17, 11, 30, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
            "2024-05-17T09:30:12+00:00",
        ),
        (datetime.datetime(2024, 5, 17, 9, 30, 12), "2024-05-17T09:30:12+00:00"),  # naive: taken as UTC
    ],
)
def test_last_change_is_rfc3339_in_utc(moment: datetime.datetime, expected: str) -> None:
    package = export(keras(with_uuids=True), last_change=moment)
    stamps = {record["lastChangeDateTime"] for record in [package["CFDocument"], *package["CFItems"]]}
    assert stamps == {expected}


def _break_item_identifier(package: dict[str, Any]) -> None:
    package["CFItems"][0]["identifier"] = "keras-claim-1"


def _break_association_type(package: dict[str, Any]) -> None:
    package["CFAssociations"][0]["associationType"] = "hasResource"


def _break_timestamp(package: dict[str, Any]) -> None:
    package["CFDocument"]["lastChangeDateTime"] = "17/05/2024 09:30"


def _break_document_creator(package: dict[str, Any]) -> None:
    del package["CFDocument"]["creator"]


def _break_uri(package: dict[str, Any]) -> None:
    package["CFItems"][0]["uri"] = "not a uri"


@pytest.mark.parametrize(
    "breakage",
    [_break_item_identifier, _break_association_type, _break_timestamp, _break_document_creator, _break_uri],
)
def test_broken_exports_fail_validation(validator: Draft202012Validator, breakage: Any) -> None:
    package = copy.deepcopy(export(keras(with_uuids=True)))
    breakage(package)
    assert _errors(validator, package) != []


@pytest.mark.parametrize("bad", ["claim-1", "00000000-0000-4000-c000-000000000000"])
def test_a_stored_uuid_that_the_schema_would_reject_is_refused(bad: str) -> None:
    data = keras(with_uuids=True)
    data.claims[0].uuid = bad
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        export(data)


def test_stored_uuids_are_written_in_canonical_lower_case() -> None:
    data = keras(with_uuids=True)
    data.uuid = data.uuid.upper()
    assert export(data)["CFDocument"]["identifier"] == _uuid4("document")
