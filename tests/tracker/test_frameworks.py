"""Framework trees: Moodle's example framework and an OpenSALT CASE package imported, exported and re-imported."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from jsonschema import Draft202012Validator

from evidence.models import Evidence
from tests.conftest import CASE_SCHEMA_FILE, FIXTURES, make_user
from tracker.formats.moodle import COLUMNS
from tracker.frameworks import framework_export, framework_import, framework_plan
from tracker.models import Claim, Competency, Framework, FrameworkNode, NodeAssociation
from tracker.services import FrameworkImportError

pytestmark = pytest.mark.django_db

MOODLE_FILE = FIXTURES / "frameworks" / "moodle-example.csv"
OPENSALT_FILE = FIXTURES / "frameworks" / "opensalt-smartlevel.json"
MOODLE = MOODLE_FILE.read_bytes()
OPENSALT = OPENSALT_FILE.read_bytes()
# Every id number of Moodle's example, read independently of our parser (Python's csv module).
EXAMPLE_ROWS = list(csv.reader(io.StringIO(MOODLE.decode(), newline="")))[2:]


def import_moodle(data: bytes = MOODLE, **levels: str) -> Framework:
    return framework_import(name="example.csv", data=data, levels={int(k[1:]): v for k, v in levels.items()})


def shape(framework: Framework) -> list[tuple[Any, ...]]:
    """What a round trip must keep: each live node's id number, parent, role, order, name, text and description."""
    rows = []
    for node in framework.nodes.filter(retired_at__isnull=True).select_related("parent", "claim"):
        parent = node.parent.idnumber if node.parent else ""
        text = node.claim.text if node.claim else ""
        rows.append((node.idnumber, parent, node.role, node.order, node.short_name, text, node.description))
    return sorted(rows)


def relations(framework: Framework) -> set[frozenset[str]]:
    links = NodeAssociation.objects.filter(origin__framework=framework, kind="isRelatedTo")
    return {
        frozenset((link.origin.idnumber, link.destination.idnumber))
        for link in links.select_related("origin", "destination")
    }


def test_moodle_example_imports_as_a_tree_with_every_id_number_and_cross_reference() -> None:
    framework = import_moodle()
    assert (framework.idnumber, framework.title, framework.source_format) == ("OECD-CORE", "OECD", "moodle")
    assert set(framework.nodes.values_list("idnumber", flat=True)) == {row[1] for row in EXAMPLE_ROWS}
    delivery = framework.nodes.get(idnumber="delivery")
    assert (delivery.role, delivery.parent.idnumber, delivery.short_name) == (
        "group",
        "competencies",
        "Delivery-related",
    )
    assert delivery.description == "Achieving Results"  # the description stays a description, not a claim
    thinking = framework.nodes.get(idnumber="analytical-thinking")
    assert thinking.role == "competency" and thinking.competency.title == "Analytical Thinking"
    assert [n.idnumber for n in thinking.children.order_by("order")] == ["DR-AT1", "DR-AT-2"]
    claim = Claim.objects.get(framework_node__idnumber="DR-AT1")
    assert claim.text == "Distinguishes between critical and irrelevant pieces of information"
    assert claim.competency == thinking.competency
    # Moodle cut this shortname at 100 characters; the claim keeps the whole statement from the description.
    assert Claim.objects.get(framework_node__idnumber="DR-MR-2").text.endswith("within the given deadlines.")
    expected = {
        frozenset(("level-1", ref)) for row in EXAMPLE_ROWS if row[1] == "level-1" for ref in row[10].split(",")
    }
    assert relations(framework) == expected and len(expected) == 39
    assert framework.scale_values == "Not yet competent,Competent"
    assert framework.scale_configuration == '[{"scaleid":"2"},{"id":2,"scaledefault":1,"proficient":1}]'
    assert "<p>" not in framework.description and "OECD’s overall success" in framework.description


def test_moodle_export_then_reimport_is_a_fixed_point() -> None:
    framework = import_moodle()
    before, links = shape(framework), relations(framework)
    _name, _type, text = framework_export(framework=framework, fmt="moodle")
    framework.delete()
    again = import_moodle(text.encode())
    assert shape(again) == before
    assert relations(again) == links
    assert framework_export(framework=again, fmt="moodle")[2] == text


def test_moodle_export_has_moodles_header_columns_and_quoting() -> None:
    text = framework_export(framework=import_moodle(), fmt="moodle")[2]
    header, framework_row, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert header == list(COLUMNS)
    assert text.split("\n", 1)[0] == MOODLE.decode().split("\n", 1)[0]  # byte for byte, quotes included
    assert all(len(row) == len(COLUMNS) for row in rows)
    # The JSON scale configuration is written as fputcsv writes it: quoted, inner quotes doubled.
    assert ',"[{""scaleid"":""2""},{""id"":2,""scaledefault"":1,""proficient"":1}]",' in text
    assert framework_row[5:7] == [
        "Not yet competent,Competent",
        '[{"scaleid":"2"},{"id":2,"scaledefault":1,"proficient":1}]',
    ]
    assert framework_row[12] == "1" and {row[12] for row in rows} == {""}
    by_id = {row[1]: row for row in rows}
    assert by_id["DR-AT1"][0] == "analytical-thinking" and by_id["DR-AT1"][10] == "level-1"
    assert set(by_id["level-1"][10].split(",")) == {r[1] for r in EXAMPLE_ROWS if r[10] == "level-1"}
    assert (by_id["levels"][8], by_id["levels"][9], by_id["levels"][11]) == ("0", "null", "1")


def test_the_admin_chooses_the_role_of_a_level() -> None:
    framework = import_moodle(l2="competency")
    delivery = framework.nodes.get(idnumber="delivery")
    assert delivery.role == "competency" and delivery.competency.title == "Delivery-related"
    # Below a level chosen by hand, the default still applies: parents of leaves are competencies, leaves claims.
    assert framework.nodes.get(idnumber="analytical-thinking").role == "competency"
    assert framework.nodes.get(idnumber="DR-AT1").role == "claim"
    assert framework.levels == {"2": "competency"}


def test_a_claim_cannot_contain_nodes() -> None:
    with pytest.raises(FrameworkImportError, match="claims cannot contain other nodes"):
        import_moodle(l3="claim")
    assert Framework.objects.filter(idnumber="OECD-CORE").count() == 0


def case_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(CASE_SCHEMA_FILE.read_text()))


def test_case_package_imports_with_its_identifiers_order_and_tree() -> None:
    framework = framework_import(name="smartlevel.json", data=OPENSALT)
    assert framework.source_identifier == "d0000000-0000-0000-0000-000000000000"
    item1 = framework.nodes.get(case_identifier="00000000-0000-0000-0000-000000000001")
    assert item1.role == "competency" and item1.competency.title == "Item 1"
    children = [str(n.case_identifier)[-2:] for n in item1.children.order_by("order")]
    assert children == ["03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]  # file order (no sequenceNumber)
    assert Claim.objects.filter(competency=item1.competency).count() == 10


def test_case_export_reimports_to_identical_identifiers() -> None:
    framework = framework_import(name="smartlevel.json", data=OPENSALT)
    package = json.loads(framework_export(framework=framework, fmt="case")[2])
    original = json.loads(OPENSALT)
    assert {item["identifier"] for item in package["CFItems"]} == {item["identifier"] for item in original["CFItems"]}
    child_of = {a["identifier"] for a in package["CFAssociations"] if a["associationType"] == "isChildOf"}
    assert child_of == {a["identifier"] for a in original["CFAssociations"]}
    before = shape(framework)
    framework.delete()
    again = framework_import(name="again.json", data=json.dumps(package).encode())
    assert shape(again) == before


def test_the_sites_own_tree_export_validates_and_round_trips_links() -> None:
    framework = import_moodle()
    text = framework_export(framework=framework, fmt="case")[2]
    package = json.loads(text)
    assert not list(case_validator().iter_errors(package))
    related = [a for a in package["CFAssociations"] if a["associationType"] == "isRelatedTo"]
    assert len(related) == 39
    before = shape(framework)
    again = framework_import(name="oecd.json", data=text.encode())
    assert {n.human_coding_scheme for n in again.nodes.all()} >= {row[1] for row in EXAMPLE_ROWS}
    assert len(shape(again)) == len(before)
    assert NodeAssociation.objects.filter(origin__framework=again, kind="isRelatedTo").count() == 39
    again_package = json.loads(framework_export(framework=again, fmt="case")[2])
    assert {i["identifier"] for i in again_package["CFItems"]} == {i["identifier"] for i in package["CFItems"]}


def rewrite(change: Any) -> bytes:
    """Moodle's example with its rows passed through `change` (a list of rows in, a list of rows out)."""
    rows = list(csv.reader(io.StringIO(MOODLE.decode(), newline="")))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(change(rows))
    return out.getvalue().encode()


def changed_example() -> bytes:
    """Moodle's example with DR-AT-2 removed (and from level-1's cross references), DR-AT1 renamed, S-ST-2 new."""

    def change(rows: list[list[str]]) -> list[list[str]]:
        rows = [row for row in rows if row[1] != "DR-AT-2"]
        for row in rows:
            row[10] = ",".join(ref for ref in row[10].split(",") if ref != "DR-AT-2")
            if row[1] == "DR-AT1":
                row[2] = "Tells critical from irrelevant information"
        return [
            *rows,
            ["strategic-thinking", "S-ST-2", "Thinks ahead.", "", "1", "", "", "", "0", "null", "", "65", "", ""],
        ]

    return rewrite(change)


def test_reimport_updates_in_place_and_retires_a_removed_node_that_has_evidence() -> None:
    framework = import_moodle()
    removed = Claim.objects.get(framework_node__idnumber="DR-AT-2")
    renamed = Claim.objects.get(framework_node__idnumber="DR-AT1")
    learner = make_user("alice", "learner")
    evidence = Evidence.objects.create(
        learner=learner, claim=removed, competency=removed.competency, kind="written", body="I gathered it."
    )
    plan = framework_plan(name="v2.csv", data=changed_example())
    counts = plan.counts()
    assert (counts["added"], counts["updated"], counts["retired"]) == (1, 2, 1)
    updated = {node.data.key for node in plan.all_nodes() if node.change == "updated"}
    assert updated == {"DR-AT1", "level-1"}  # renamed; lost its cross reference to DR-AT-2
    assert [node.idnumber for node in plan.retired] == ["DR-AT-2"]
    framework_import(name="v2.csv", data=changed_example())
    renamed.refresh_from_db()
    removed.refresh_from_db()
    assert renamed.text == "Tells critical from irrelevant information"  # same row: matched by id number
    assert Claim.objects.get(pk=renamed.pk).framework_node.idnumber == "DR-AT1"
    assert not removed.is_active and Evidence.objects.get(pk=evidence.pk).claim == removed
    assert framework.nodes.get(idnumber="DR-AT-2").retired_at is not None
    assert framework.nodes.get(idnumber="S-ST-2").claim.text == "Thinks ahead."
    assert Framework.objects.count() == 1


def test_a_competency_removed_upstream_is_retired() -> None:
    framework = import_moodle()
    gone = {"analytical-thinking", "DR-AT1", "DR-AT-2"}

    def change(rows: list[list[str]]) -> list[list[str]]:
        rows = [row for row in rows if row[1] not in gone]
        for row in rows:
            row[10] = ",".join(ref for ref in row[10].split(",") if ref not in gone)
        return rows

    framework_import(name="v2.csv", data=rewrite(change))
    node = framework.nodes.get(idnumber="analytical-thinking")
    assert node.retired_at is not None and node.competency.status == Competency.Status.RETIRED
    assert not Claim.objects.get(framework_node__idnumber="DR-AT1").is_active


def test_preview_saves_nothing() -> None:
    counts = (
        Framework.objects.count(),
        FrameworkNode.objects.count(),
        Competency.objects.count(),
        Claim.objects.count(),
    )
    plan = framework_plan(name="example.csv", data=MOODLE)
    assert plan.counts()["added"] == len(EXAMPLE_ROWS) and plan.framework is None
    after = (
        Framework.objects.count(),
        FrameworkNode.objects.count(),
        Competency.objects.count(),
        Claim.objects.count(),
    )
    assert after == counts


def test_dry_run_command_prints_the_tree_and_saves_nothing(capsys: Any) -> None:
    call_command("import_competencies", str(MOODLE_FILE), "--dry-run", "--level", "2=competency")
    out = capsys.readouterr().out
    assert "competency: Delivery-related [delivery] (added)" in out
    assert "Dry run: nothing was saved." in out
    assert Framework.objects.filter(idnumber="OECD-CORE").count() == 0
    call_command("import_competencies", str(MOODLE_FILE))
    assert Framework.objects.get(idnumber="OECD-CORE").nodes.count() == len(EXAMPLE_ROWS)


def _row(parent: str, idnumber: str, shortname: str, description: str = "", related: str = "") -> str:
    return f"{parent},{idnumber},{shortname},{description},1,,,,0,null,{related},,,\n"


HEADER = MOODLE.decode().split("\n", 1)[0] + "\n"
FRAMEWORK_ROW = ',F1,"Frame",,1,"Not yet competent,Competent","[{""scaleid"":""2""}]",,,,,,1,\n'


@pytest.mark.parametrize(
    "name,data,where,message",
    [
        ("cols.csv", b'"Id number",Shortname\nF,x\n', "cols.csv, line 1", "the header has 2 columns"),
        ("parent.csv", (HEADER + FRAMEWORK_ROW + _row("", "a", "A") + _row("nope", "b", "B")).encode(), "parent.csv, line 4", "'nope'"),
        ("loop.csv", (HEADER + FRAMEWORK_ROW + _row("", "a", "A") + _row("c", "b", "B") + _row("b", "c", "C")).encode(), "loop.csv, line 4", "loop"),
        ("ref.csv", (HEADER + FRAMEWORK_ROW + _row("", "a", "A", related="zz")).encode(), "ref.csv, line 3", "cross reference 'zz'"),
        ("big.csv", (HEADER + FRAMEWORK_ROW + "".join(_row("", f"n{i}", "N") for i in range(10_000))).encode(), "big.csv, line 5003", "10,000 competency rows"),
        ("long.csv", (HEADER + FRAMEWORK_ROW + _row("", "a", "A", "x" * 5_000_000)).encode(), "long.csv, line 3", "longer than 131,072 characters"),
        ("long2.csv", (HEADER + FRAMEWORK_ROW + _row("", "a", "A", "x" * 100_000)).encode(), "long2.csv, line 3", "the limit is 20,000"),
        ("latin1.csv", (HEADER + FRAMEWORK_ROW).encode() + _row("", "a", "Caf\xe9").encode("latin-1"), "latin1.csv, line 3", "not UTF-8"),
        ("bad.json", b'{"CFDocument": {"identifier": "x",\n "title": "T"}}', "bad.json, line 1", "is not a UUID"),
        ("dup.csv", (HEADER + FRAMEWORK_ROW + _row("", "a", "A") + _row("", "a", "B")).encode(), "dup.csv, line 4", "already used on line 3"),
        ("self.csv", (HEADER + FRAMEWORK_ROW + _row("", "F1", "A")).encode(), "self.csv, line 3", "framework's own"),
        ("longid.csv", (HEADER + FRAMEWORK_ROW + _row("", "i" * 101, "A")).encode(), "longid.csv, line 3", "limit is 100"),
        ("twice.json", json.dumps({"CFDocument": {"identifier": str(uuid.UUID(int=1, version=4)), "title": "T"}, "CFItems": [{"identifier": str(uuid.UUID(int=2, version=4)), "fullStatement": "A"}, {"identifier": str(uuid.UUID(int=2, version=4)), "fullStatement": "B"}]}, indent=1).encode(), "twice.json, line 12", "used twice"),
        ("trunc.json", b'{"CFDocument": {\n', "trunc.json, line 2", "not JSON"),
        ("orphan.json", json.dumps({"CFDocument": {"identifier": str(uuid.uuid4()), "title": "T"}, "CFItems": [], "CFAssociations": [{"identifier": str(uuid.uuid4()), "associationType": "isChildOf", "originNodeURI": {"identifier": str(uuid.uuid4())}, "destinationNodeURI": {"identifier": str(uuid.uuid4())}}]}, indent=1).encode(), "orphan.json, line", "not a CFItem of the package"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_naming_file_and_line_and_save_nothing(
    name: str, data: bytes, where: str, message: str, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 10 * 1024 * 1024  # the size cap has its own test; here the parser's limits answer
    with pytest.raises(FrameworkImportError) as caught:
        framework_import(name=name, data=data)
    assert str(caught.value).startswith(where) and message in str(caught.value)
    assert Framework.objects.count() == FrameworkNode.objects.count() == Competency.objects.count() == 0


def test_files_over_the_size_limit_are_refused() -> None:
    with pytest.raises(FrameworkImportError, match="larger than 1024 KB"):
        framework_import(name="x.csv", data=b"x" * (1024 * 1024 + 1))


def test_keras_is_a_framework_of_one_competency_and_ten_claims(keras: Competency) -> None:
    node = FrameworkNode.objects.get(competency=keras)
    assert node.is_root_competency and node.parent is None
    assert [child.claim for child in node.children.order_by("order")] == list(keras.claims.order_by("order"))
    assert [child.idnumber for child in node.children.order_by("order")][:2] == ["keras-01", "keras-02"]
    package = json.loads(framework_export(framework=node.framework, fmt="case")[2])
    assert package["CFDocument"]["identifier"] == str(keras.uuid)
    assert {item["identifier"] for item in package["CFItems"]} == {str(c.uuid) for c in keras.claims.all()}
    assert not list(case_validator().iter_errors(package))


def test_keras_moodle_tree_export_reimports_onto_the_same_claims(keras: Competency) -> None:
    framework = FrameworkNode.objects.get(competency=keras).framework
    text = framework_export(framework=framework, fmt="moodle")[2]
    claims = {c.pk: c.text for c in keras.claims.all()}
    framework_import(name="keras.csv", data=text.encode())
    assert {c.pk: c.text for c in keras.claims.all()} == claims
    assert Framework.objects.count() == 1 and Competency.objects.count() == 1


def test_framework_page_shows_the_tree_and_the_competency_page_its_ids_and_links(client: Any) -> None:
    framework = import_moodle()
    page = client.get(framework.get_absolute_url()).content.decode()
    assert page.count("<ul") > 3 and "Delivery-related" in page and "DR-AT1" in page
    levels = Competency.objects.get(framework_node__idnumber="levels")
    thinking = Competency.objects.get(framework_node__idnumber="analytical-thinking")
    detail = client.get(thinking.get_absolute_url()).content.decode()
    assert "Moodle id number <code>analytical-thinking</code>" in detail
    assert "Moodle id number <code>DR-AT1</code>" in detail
    level_1 = Claim.objects.get(framework_node__idnumber="level-1")
    assert f'href="{levels.get_absolute_url()}#claim-{level_1.pk}"' in detail  # the cross reference, as a link


def test_external_links_are_only_http(client: Any) -> None:
    framework = framework_import(name="smartlevel.json", data=OPENSALT)
    origin = framework.nodes.get(case_identifier="00000000-0000-0000-0000-000000000001")
    NodeAssociation.objects.create(
        origin=origin, kind="exactMatchOf", destination_uri="javascript:alert(1)", destination_title="evil"
    )
    NodeAssociation.objects.create(
        origin=origin, kind="isRelatedTo", destination_uri="https://example.org/x", destination_title="good"
    )
    page = client.get(origin.competency.get_absolute_url()).content.decode()
    assert 'href="https://example.org/x"' in page and "javascript:" not in page


def test_admin_previews_then_imports(admin_client: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("example.csv", MOODLE, content_type="text/csv")
    preview = admin_client.post("/admin/tracker/competency/import/", {"file": upload})
    assert preview.status_code == 200 and b"Nothing is saved yet" in preview.content
    assert Framework.objects.count() == 0
    token = preview.context["token"]
    again = admin_client.post(
        "/admin/tracker/competency/import/", {"token": token, "level-2": "competency", "action": "preview"}
    )
    default, chosen = preview.context["plan"].counts(), again.context["plan"].counts()
    assert chosen["competency"] == default["competency"] + 3 + 5  # delivery, interpersonal, strategic, level-1..5
    assert b'<option value="competency" selected>' in again.content
    assert Framework.objects.count() == 0
    done = admin_client.post(
        "/admin/tracker/competency/import/", {"token": token, "level-2": "competency", "action": "import"}
    )
    assert done.status_code == 302
    framework = Framework.objects.get(idnumber="OECD-CORE")
    assert framework.nodes.get(idnumber="delivery").role == "competency"
    assert admin_client.get(f"/admin/tracker/framework/{framework.pk}/change/").status_code == 200


def test_a_forged_token_is_refused(admin_client: Any) -> None:
    response = admin_client.post("/admin/tracker/competency/import/", {"token": "forged", "action": "import"})
    assert response.status_code == 200 and b"upload it again" in response.content
    assert Framework.objects.count() == 0


def test_the_data_migration_gives_existing_competencies_a_framework_of_one(keras: Competency) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("tracker.migrations.0007_frameworks_for_existing_competencies")
    keras.claims.filter(order=10).update(is_active=False)
    Framework.objects.all().delete()  # as before frameworks existed
    migration.forwards(apps, None)
    root = FrameworkNode.objects.get(competency=keras)
    assert (root.framework.idnumber, root.role, root.is_root_competency) == ("keras", "competency", True)
    children = list(root.children.order_by("order"))
    assert [child.claim for child in children] == list(keras.claims.order_by("order"))
    assert [child.idnumber for child in children][-1] == "keras-10" and children[-1].retired_at is not None


def test_reimporting_the_same_file_changes_nothing() -> None:
    framework = import_moodle()
    history = FrameworkNode.history.count()
    counts = framework_plan(name="example.csv", data=MOODLE).counts()
    assert (counts["added"], counts["updated"], counts["retired"]) == (0, 0, 0)
    assert counts["unchanged"] == len(EXAMPLE_ROWS)
    import_moodle()
    assert FrameworkNode.history.count() == history  # no save, no history row
    assert framework.nodes.count() == len(EXAMPLE_ROWS)


def test_a_moved_node_and_a_changed_cross_reference_are_updates() -> None:
    import_moodle()

    def change(rows: list[list[str]]) -> list[list[str]]:
        for row in rows:
            if row[1] == "DR-AT-2":
                row[0] = "acheivement-focus"  # moved to another competency
            if row[1] == "I-N-1":
                row[10] = "level-2"  # a new cross reference
        return rows

    plan = framework_plan(name="v2.csv", data=rewrite(change))
    changed = {node.data.key for node in plan.all_nodes() if node.change == "updated"}
    assert {"DR-AT-2", "I-N-1", "level-2"} <= changed
    framework_import(name="v2.csv", data=rewrite(change))
    moved = Claim.objects.get(framework_node__idnumber="DR-AT-2")
    assert moved.competency.title == "Achievement Focus"


@pytest.mark.parametrize(
    "html,markdown",
    [
        ("<p>One line<br></p>", "One line"),
        ("<p>a</p><p>• x <br>• y\n<br>• z</p>", "a\n\n• x \\\n• y \\\n• z"),
        ('<p>see <a href="https://e.org">this</a>, not <a href="javascript:alert(1)">that</a></p>', "see [this](https://e.org), not that"),
        ("<ul><li>one</li><li><b>two</b></li></ul>", "- one\n- **two**"),
        ("<p>1 * 2 [x]</p><script>alert(1)</script>", "1 \\* 2 \\[x\\]"),
    ],
)  # fmt: skip
def test_moodle_html_descriptions_become_markdown(html: str, markdown: str) -> None:
    from tracker.formats.html_markdown import html_to_markdown

    assert html_to_markdown(html) == markdown


def test_framework_list_links_frameworks_and_hides_drafts(client: Any, keras: Competency) -> None:
    framework = import_moodle()
    draft = Competency.objects.create(title="Secret", slug="secret", status=Competency.Status.DRAFT)
    from tracker.frameworks import framework_sync_competency

    framework_sync_competency(competency=draft)
    page = client.get("/frameworks/").content.decode()
    assert framework.get_absolute_url() in page and "Keras" in page and "Secret" not in page
    hidden = FrameworkNode.objects.get(competency=draft).framework
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_admin_refuses_a_bad_framework_file_naming_the_line(admin_client: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = (HEADER + FRAMEWORK_ROW + _row("", "a", "A") + _row("missing", "b", "B")).encode()
    response = admin_client.post("/admin/tracker/competency/import/", {"file": SimpleUploadedFile("bad.csv", bad)})
    assert response.status_code == 200
    assert b"bad.csv, line 4: &#x27;Parent id number&#x27; &#x27;missing&#x27;" in response.content
    assert Framework.objects.count() == 0


def test_case_associations_other_than_child_of_become_links_and_round_trip() -> None:
    package = json.loads(OPENSALT)
    item = {"title": "Item 1.1", "identifier": "00000000-0000-0000-0000-000000000003", "uri": "https://server/x"}
    later = {"title": "Item 1.2", "identifier": "00000000-0000-0000-0000-000000000004", "uri": "https://server/y"}
    outside = {
        "title": "A state standard",
        "identifier": str(uuid.UUID(int=7, version=4)),
        "uri": "https://example.org/std/7",
    }
    package["CFAssociations"] += [
        {
            "identifier": str(uuid.UUID(int=8, version=4)),
            "associationType": "exactMatchOf",
            "originNodeURI": item,
            "destinationNodeURI": outside,
            "uri": "https://server/a8",
            "lastChangeDateTime": "2017-09-22T23:16:32+00:00",
        },
        {
            "identifier": str(uuid.UUID(int=9, version=4)),
            "associationType": "precedes",
            "originNodeURI": item,
            "destinationNodeURI": later,
            "uri": "https://server/a9",
            "lastChangeDateTime": "2017-09-22T23:16:32+00:00",
        },
    ]
    framework = framework_import(name="links.json", data=json.dumps(package).encode())
    links = {
        (a.kind, a.destination.short_name if a.destination else a.destination_uri)
        for a in NodeAssociation.objects.filter(origin__framework=framework).select_related("destination")
    }
    assert links == {("exactMatchOf", "https://example.org/std/7"), ("precedes", "Item 1.2")}
    exported = json.loads(framework_export(framework=framework, fmt="case")[2])
    kept = {a["identifier"]: a for a in exported["CFAssociations"] if a["associationType"] != "isChildOf"}
    assert {key: a["associationType"] for key, a in kept.items()} == {
        str(uuid.UUID(int=8, version=4)): "exactMatchOf",
        str(uuid.UUID(int=9, version=4)): "precedes",
    }
    # The outside end keeps its own identifier, title and URI; an inside end is the item as exported.
    assert kept[str(uuid.UUID(int=8, version=4))]["destinationNodeURI"] == outside
    assert kept[str(uuid.UUID(int=9, version=4))]["destinationNodeURI"]["title"] == "Item 1.2"


def test_a_case_framework_exports_to_moodle_with_the_same_tree() -> None:
    framework = framework_import(name="smartlevel.json", data=OPENSALT)
    text = framework_export(framework=framework, fmt="moodle")[2]
    rows = list(csv.reader(io.StringIO(text, newline="")))[2:]
    parents = {row[1]: row[0] for row in rows}
    assert len(rows) == 14 and parents["00000000-0000-0000-0000-000000000003"] == "00000000-0000-0000-0000-000000000001"
    framework.delete()
    again = framework_import(name="smartlevel.csv", data=text.encode())
    assert [(n.short_name, n.role) for n in again.nodes.order_by("parent__order", "order")] == [
        (n.short_name, n.role)
        for n in framework_import(name="s.json", data=OPENSALT).nodes.order_by("parent__order", "order")
    ]


def test_the_sites_own_competency_case_export_reimports_onto_the_same_rows(keras: Competency) -> None:
    from tracker.exporters import EXPORTERS

    _name, _type, text = EXPORTERS["case"](Competency.objects.filter(pk=keras.pk))
    claims = {c.pk: (c.text, c.required, c.evidence_kinds) for c in keras.claims.all()}
    framework = framework_import(name="keras.case.json", data=text.encode())
    assert Framework.objects.count() == 1 and Competency.objects.count() == 1
    assert {c.pk: (c.text, c.required, c.evidence_kinds) for c in keras.claims.all()} == claims
    assert framework.idnumber == "keras" and framework.source_identifier == str(keras.uuid)
    assert framework.nodes.filter(idnumber="keras-01").exists()  # the Moodle id numbers stay
    history = FrameworkNode.history.count()
    plan = framework_plan(name="keras.case.json", data=text.encode())
    assert plan.counts()["updated"] == plan.counts()["added"] == 0
    framework_import(name="keras.case.json", data=text.encode())
    assert FrameworkNode.history.count() == history


def test_case_reimport_of_an_unchanged_package_saves_nothing() -> None:
    framework_import(name="smartlevel.json", data=OPENSALT)
    history = FrameworkNode.history.count()
    assert framework_plan(name="smartlevel.json", data=OPENSALT).counts()["unchanged"] == 14
    framework_import(name="smartlevel.json", data=OPENSALT)
    assert FrameworkNode.history.count() == history


def test_framework_admin_lists_frameworks_with_their_node_counts(admin_client: Any, keras: Competency) -> None:
    import_moodle()
    page = admin_client.get("/admin/tracker/framework/").content.decode()
    assert "OECD" in page and "Keras" in page and "Import a framework…" in page
    assert '<td class="field-node_count">64</td>' in page and '<td class="field-node_count">11</td>' in page


def test_a_claim_with_evidence_cannot_move_to_another_competency() -> None:
    import_moodle()
    claim = Claim.objects.get(framework_node__idnumber="DR-AT-2")
    Evidence.objects.create(
        learner=make_user("alice", "learner"), claim=claim, competency=claim.competency, kind="written", body="x"
    )

    def change(rows: list[list[str]]) -> list[list[str]]:
        for row in rows:
            if row[1] == "DR-AT-2":
                row[0] = "acheivement-focus"
        return rows

    data = rewrite(change)
    line = (
        data.decode()
        .split("\n")
        .index(next(li for li in data.decode().split("\n") if li.startswith("acheivement-focus,DR-AT-2,")))
        + 1
    )
    with pytest.raises(FrameworkImportError, match="evidence was filed for it there") as caught:
        framework_import(name="v2.csv", data=data)
    assert f"v2.csv, line {line}:" in str(caught.value)
    claim.refresh_from_db()
    assert claim.competency.title == "Analytical Thinking"


def test_a_draft_competency_stays_a_draft_on_reimport() -> None:
    import_moodle()
    Competency.objects.filter(framework_node__idnumber="delivery").update(status="draft")
    Competency.objects.filter(framework_node__idnumber="analytical-thinking").update(status="draft")
    import_moodle()
    assert Competency.objects.get(framework_node__idnumber="analytical-thinking").status == "draft"


def test_a_reimport_keeps_the_roles_chosen_at_the_last_import() -> None:
    framework = import_moodle(l2="competency")
    plan = framework_plan(name="example.csv", data=MOODLE)
    assert plan.levels == {2: "competency"} and plan.counts()["updated"] == 0
    framework_import(name="example.csv", data=MOODLE)
    assert framework.nodes.get(idnumber="delivery").role == "competency"


def test_export_framework_command_writes_a_valid_case_package(tmp_path: Path) -> None:
    import_moodle()
    out = tmp_path / "oecd.json"
    call_command("export_framework", "OECD-CORE", "--format", "case", "-o", str(out))
    assert not list(case_validator().iter_errors(json.loads(out.read_text())))
    call_command("export_framework", "OECD-CORE", "--format", "moodle", "-o", str(tmp_path / "oecd.csv"))
    assert (tmp_path / "oecd.csv").read_text().startswith(HEADER)


def test_an_expired_preview_is_refused_and_saves_nothing(admin_client: Any, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    preview = admin_client.post(
        "/admin/tracker/competency/import/", {"file": SimpleUploadedFile("example.csv", MOODLE)}
    )
    settings.IMPORT_STAGING_SECONDS = -1  # an hour later
    done = admin_client.post(
        "/admin/tracker/competency/import/", {"token": preview.context["token"], "action": "import"}
    )
    assert done.status_code == 200 and b"expired" in done.content
    assert Framework.objects.count() == 0


def test_a_claim_added_by_hand_to_an_imported_competency_joins_its_tree() -> None:
    from tracker.frameworks import framework_sync_competency

    framework = import_moodle()
    thinking = Competency.objects.get(framework_node__idnumber="analytical-thinking")
    claim = Claim.objects.create(competency=thinking, order=3, text="Checks sources.")
    framework_sync_competency(competency=thinking)  # what saving the competency in the admin does
    node = FrameworkNode.objects.get(claim=claim)
    assert (node.framework, node.parent.idnumber, node.order) == (framework, "analytical-thinking", 3)
    assert node.idnumber == "analytical-thinking-03"
    rows = list(csv.reader(io.StringIO(framework_export(framework=framework, fmt="moodle")[2], newline="")))
    assert ["analytical-thinking", "analytical-thinking-03", "Checks sources."] in [row[:3] for row in rows]
    assert framework.nodes.get(idnumber="DR-AT1").short_name.startswith("Distinguishes")  # imported names kept


def _grown(groups: int, competencies: int, claims: int) -> bytes:
    """A Moodle framework of groups → competencies → claims, each claim cross-referenced to its neighbour."""
    rows = [HEADER, FRAMEWORK_ROW]
    for g in range(groups):
        rows.append(_row("", f"g{g}", f"Group {g}", "A *grouping* node."))
        for c in range(competencies):
            rows.append(_row(f"g{g}", f"g{g}c{c}", f"Competency {g}.{c}", "What learners earn."))
            for n in range(claims):
                other = f"g{g}c{c}l{(n + 1) % claims}"
                rows.append(_row(f"g{g}c{c}", f"g{g}c{c}l{n}", f"Claim {g}.{c}.{n}", "Proven so.", related=other))
    return "".join(rows).encode()


def test_framework_pages_take_the_same_queries_with_ten_times_the_nodes(client: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    counts = []
    for size, data in enumerate([_grown(2, 2, 3), _grown(4, 5, 6)]):  # 18 nodes, then 144
        Framework.objects.all().delete()
        framework = framework_import(name=f"grown{size}.csv", data=data)
        competency = Competency.objects.get(framework_node__idnumber="g1c1")
        counts.append(
            (queries("/frameworks/"), queries(framework.get_absolute_url()), queries(competency.get_absolute_url()))
        )
    assert counts[0] == counts[1], counts
