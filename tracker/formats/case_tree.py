"""A CASE 1.1 package (CFPackage JSON) read and written as a framework tree.

Reading: the `CFDocument` is the framework; each `CFItem` a node; `isChildOf` associations (origin = child,
destination = parent item or the document) give the tree, their `sequenceNumber` the order (file order where there
is none); every other association is a link (to a node of the package, or to a URI outside it). Identifiers are kept
as given (in canonical lower case): they are what a re-import matches nodes by.

Writing: the framework's own identifiers where it has them (an imported package gets back its identifiers), and
identifiers derived from stable names where it has none (see `tracker.formats.case._derived_identifier`), so two
exports of unchanged data are identical.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

from tracker.formats.base import ClaimData, FormatError
from tracker.formats.case import CREATOR, _claim_notes, _derived_identifier, _timestamp
from tracker.formats.tree import CLAIM, COMPETENCY, GROUP, MAX_NODES, LinkData, NodeData, TreeData, check_sizes

Json = dict[str, Any]
CHILD_OF = "isChildOf"
SYMMETRIC = frozenset({"isRelatedTo", "isPeerOf"})
ITEM_TYPES = {GROUP: "Grouping", COMPETENCY: "Competency", CLAIM: "Claim"}
ITEM_TYPE_DESCRIPTIONS = {
    GROUP: "A heading that groups competencies.",
    COMPETENCY: "What a learner earns by proving its claims.",
    CLAIM: "A statement a person proves with evidence to show they have the competency.",
}


def parse_case_tree(text: str) -> TreeData:
    """Read a CFPackage.

    Raises:
        FormatError: naming the line where it can: not JSON, no CFDocument, an identifier that is not a UUID, an
            item without a statement, a parent that is not in the package, an item with two parents, a loop.
    """
    package = _load(text)
    document = package.get("CFDocument")
    if not isinstance(document, dict) or not document.get("identifier") or not document.get("title"):
        raise FormatError("the package has no CFDocument with an identifier and a title", line=1)
    items, associations = package.get("CFItems") or [], package.get("CFAssociations") or []
    if not isinstance(items, list) or not isinstance(associations, list):
        raise FormatError("CFItems and CFAssociations must be lists", line=1)
    if len(items) > MAX_NODES:
        raise FormatError(f"the package has {len(items):,} items; the limit is {MAX_NODES:,}", line=1)
    tree = TreeData(
        key=_uuid(document["identifier"], text),
        title=str(document["title"])[:200],
        source_format="case",
        description=str(document.get("description", "")),
        source_identifier=_uuid(document["identifier"], text),
        source_uri=str(document.get("uri", "")),
        source_version=str(document.get("version", "")),
    )
    nodes: dict[str, NodeData] = {}
    for item in items:
        node = _node(item, text)
        if node.key in nodes or node.key == tree.key:
            raw = str(item["identifier"]) if isinstance(item, dict) else node.key
            second = text.find(raw, text.find(raw) + 1)  # the repeat, not the first use
            line = text.count("\n", 0, second) + 1 if second >= 0 else node.line
            raise FormatError(f"the identifier {node.key} is used twice in the package", line=line)
        nodes[node.key] = node
    _build(tree, nodes, associations, text)
    return tree


def _load(text: str) -> Json:
    try:
        package = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError(f"the file is not JSON ({error.msg})", line=error.lineno) from error
    except RecursionError as error:
        raise FormatError("the JSON is nested too deeply") from error
    if not isinstance(package, dict):
        raise FormatError("a CASE package is a JSON object with CFDocument, CFItems and CFAssociations", line=1)
    return package


def _line(text: str, needle: str) -> int | None:
    """The line where `needle` first appears in the file: JSON records carry no line numbers of their own."""
    at = text.find(needle) if needle else -1
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _uuid(value: object, text: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as error:
        raise FormatError(f"the identifier {value!r} is not a UUID", line=_line(text, str(value))) from error


def _node(item: object, text: str) -> NodeData:
    if not isinstance(item, dict) or "identifier" not in item:
        raise FormatError("every CFItem needs an identifier", line=_line(text, json.dumps(item)[:40]))
    key = _uuid(item["identifier"], text)
    line = _line(text, str(item["identifier"]))
    statement = str(item.get("fullStatement") or "").strip()
    if not statement:
        raise FormatError(f"the CFItem {key} has no fullStatement", line=line)
    skillproof = (item.get("extensions") or {}).get("skillproof") if isinstance(item.get("extensions"), dict) else None
    node = NodeData(
        key=key,
        case_identifier=key,
        short_name=str(item.get("abbreviatedStatement") or statement),
        text=statement,
        # Our own notes say what the skillproof extension says; others' notes are the item's description.
        description="" if skillproof else str(item.get("notes") or ""),
        human_coding_scheme=str(item.get("humanCodingScheme") or "")[:100],
        source_data={"CFItemType": str(item.get("CFItemType") or "")}
        | ({"skillproof": skillproof} if skillproof else {}),
        line=line,
    )
    check_sizes(node)
    return node


def _build(tree: TreeData, nodes: dict[str, NodeData], associations: list[Any], text: str) -> None:
    parents: dict[str, tuple[str, float, int]] = {}
    for n, association in enumerate(associations):
        if not isinstance(association, dict):
            raise FormatError("every CFAssociation must be an object", line=None)
        origin = _end(association, "originNodeURI", text)
        destination = _end(association, "destinationNodeURI", text)
        kind = str(association.get("associationType", ""))
        line = _line(text, str(association.get("identifier", "")))
        if kind == CHILD_OF:
            _check_child(tree, nodes, parents, origin, destination, line)
            sequence = association.get("sequenceNumber")
            parents[origin] = (destination, sequence if isinstance(sequence, int | float) else float("inf"), n)
            nodes[origin].source_data["child_association"] = _uuid(association.get("identifier"), text)
        elif origin in nodes:
            dest = association["destinationNodeURI"]
            nodes[origin].links.append(
                LinkData(
                    kind=kind,
                    target=destination if destination in nodes else "",
                    uri="" if destination in nodes else str(dest.get("uri", "")),
                    title=str(dest.get("title", "")),
                    identifier=_uuid(association.get("identifier"), text),
                    target_identifier="" if destination in nodes else destination[:100],
                )
            )
    ordered = sorted(nodes.values(), key=lambda node: parents.get(node.key, (tree.key, float("inf"), 0))[1:])
    for node in ordered:
        parent = parents.get(node.key, (tree.key, 0, 0))[0]
        (tree.nodes if parent == tree.key else nodes[parent].children).append(node)
    reached = {id(node) for node, _, _ in tree.walk()}
    for node in nodes.values():
        if id(node) not in reached:
            raise FormatError(f"the isChildOf associations of {node.key} form a loop", line=node.line)


def _end(association: Json, name: str, text: str) -> str:
    end = association.get(name)
    if not isinstance(end, dict) or "identifier" not in end:
        raise FormatError(f"a CFAssociation has no {name}", line=_line(text, str(association.get("identifier", ""))))
    try:
        return str(uuid.UUID(str(end["identifier"])))
    except ValueError:
        # Outside the package, an end may be any URI-like identifier; it is then never a node of ours.
        return str(end["identifier"])


def _check_child(
    tree: TreeData, nodes: dict[str, NodeData], parents: dict[str, Any], child: str, parent: str, line: int | None
) -> None:
    if child not in nodes:
        raise FormatError(f"an isChildOf association starts at {child}, which is not a CFItem of the package", line)
    if parent != tree.key and parent not in nodes:
        raise FormatError(f"the parent {parent} of {child} is neither the CFDocument nor a CFItem of the package", line)
    if child in parents:
        raise FormatError(f"the CFItem {child} has two parents (isChildOf); a framework here is a tree", line)


def export_case_tree(tree: TreeData, *, uri_base: str, last_change: datetime.datetime) -> Json:
    """The CFPackage of a framework tree: one CFItem per node (claims, competencies and groupings alike)."""
    base = uri_base.rstrip("/")
    stamp = _timestamp(last_change)
    document_id = tree.source_identifier or _derived_identifier(f"{base}/framework/{tree.key}")

    def uri(identifier: str) -> str:
        return f"{base}/case/{identifier}"

    def link(identifier: str, title: str) -> Json:
        return {"title": title[:1000], "identifier": identifier, "uri": uri(identifier)}

    types = {role: _item_type(role, base, stamp, uri) for role in ITEM_TYPES}
    ids = {
        node.key: node.case_identifier or _derived_identifier(f"{uri(document_id)}/node/{node.key}")
        for node, _, _ in tree.walk()
    }
    names = {node.key: node.text if node.role == CLAIM else node.short_name for node, _, _ in tree.walk()}
    document = {"identifier": document_id, "uri": tree.source_uri or uri(document_id), "creator": CREATOR}
    document |= {"title": tree.title, "lastChangeDateTime": stamp, "caseVersion": "1.1"}
    if tree.source_version:
        document["version"] = tree.source_version
    if tree.description:
        document["description"] = tree.description
    items, associations = [], []
    siblings: dict[int, int] = {}
    written: set[tuple[str, frozenset[str]]] = set()
    for node, parent, _level in tree.walk():
        identifier = ids[node.key]
        items.append(_item(node, identifier, uri(identifier), types[node.role], stamp))
        position = siblings[id(parent)] = siblings.get(id(parent), 0) + 1
        destination = link(ids[parent.key], parent.short_name) if parent else link(document_id, tree.title)
        child_id = str(node.source_data.get("child_association") or _derived_identifier(f"{identifier}/{CHILD_OF}"))
        origin = link(identifier, node.short_name)
        associations.append(_association(child_id, CHILD_OF, origin, destination, position, stamp, uri))
        for n, target in enumerate(node.links, start=1):
            pair = (target.kind, frozenset((identifier, ids.get(target.target, target.uri))))
            if target.kind in SYMMETRIC and pair in written:
                continue  # a symmetric relation (Moodle's cross references) is one association, not two
            written.add(pair)
            end = (
                link(ids[target.target], names[target.target])
                if target.target in ids
                else {
                    "title": target.title or target.uri,
                    "identifier": target.target_identifier or _derived_identifier(target.uri),
                    "uri": target.uri,
                }
            )
            assoc_id = target.identifier or _derived_identifier(f"{identifier}/{target.kind}/{end['identifier']}")
            associations.append(_association(assoc_id, target.kind, origin, end, n, stamp, uri))
    return {
        "CFDocument": document,
        "CFItems": items,
        "CFAssociations": associations,
        "CFDefinitions": {"CFItemTypes": list(types.values())},
    }


def _item_type(role: str, base: str, stamp: str, uri: Any) -> Json:
    name = ITEM_TYPES[role]
    identifier = _derived_identifier(f"{base}/item-type/{name}")
    return {
        "identifier": identifier,
        "uri": uri(identifier),
        "title": name,
        "description": ITEM_TYPE_DESCRIPTIONS[role],
        "hierarchyCode": name,
        "typeCode": name,
        "lastChangeDateTime": stamp,
    }


def _item(node: NodeData, identifier: str, uri: str, item_type: Json, stamp: str) -> Json:
    statement = node.text if node.role == CLAIM else node.short_name
    item: Json = {"identifier": identifier, "uri": uri, "fullStatement": statement, "lastChangeDateTime": stamp}
    if node.short_name != statement:
        item["abbreviatedStatement"] = node.short_name
    code = node.human_coding_scheme or node.idnumber
    if code:
        item["humanCodingScheme"] = code
    item["CFItemType"] = item_type["title"]
    item["CFItemTypeURI"] = {key: item_type[key] for key in ("title", "identifier", "uri")}
    skillproof = node.source_data.get("skillproof")
    if node.role == CLAIM and isinstance(skillproof, dict):
        kinds = tuple(skillproof.get("evidenceKinds") or ())
        item["notes"] = _claim_notes(
            ClaimData(text=statement, required=bool(skillproof.get("required")), evidence_kinds=kinds)
        )
        item["extensions"] = {"skillproof": skillproof}
    elif node.description:
        item["notes"] = node.description
    return item


def _association(identifier: str, kind: str, origin: Json, destination: Json, n: int, stamp: str, uri: Any) -> Json:
    return {
        "identifier": identifier,
        "associationType": kind,
        "sequenceNumber": n,
        "uri": uri(identifier),
        "originNodeURI": origin,
        "destinationNodeURI": destination,
        "lastChangeDateTime": stamp,
    }
