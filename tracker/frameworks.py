"""Framework trees: reading a Moodle or CASE file, previewing what an import would change, importing, exporting.

An import is two steps on purpose. `framework_plan` parses the file and compares it with what is stored, changing
nothing; the admin sees that plan (which nodes become competencies, which claims, what is added, updated or
retired). `framework_import` applies a plan made afresh from the same file, in one transaction. Nodes are matched
across versions by their source identifier (Moodle id number, CASE identifier), never by position or text; a node
gone from the file is retired, never deleted, so evidence filed against its claim keeps pointing at it.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from tracker import services
from tracker.formats.base import FormatError
from tracker.formats.case_tree import export_case_tree, parse_case_tree
from tracker.formats.moodle_tree import parse_moodle_tree, write_moodle_tree
from tracker.formats.tree import CLAIM, COMPETENCY, LinkData, NodeData, TreeData, assign_roles
from tracker.models import Claim, Competency, Framework, FrameworkNode, NodeAssociation

ADDED, UPDATED, UNCHANGED, RETIRED = "added", "updated", "unchanged", "retired"
_SIGNING_SALT = "tracker.frameworks.upload"
# Moodle's cross references are one symmetric relation; CASE's isRelatedTo and isPeerOf are symmetric too.
_SYMMETRIC = {"isRelatedTo", "isPeerOf"}


@dataclass
class PlannedNode:
    """One node of the file as the import would store it, with what happens to it."""

    data: NodeData
    level: int
    change: str
    existing: FrameworkNode | None = None
    children: list[PlannedNode] = field(default_factory=list)


@dataclass
class ImportPlan:
    """What importing a file would do. Made from the file and the database; saving nothing."""

    name: str
    tree: TreeData
    levels: dict[int, str]
    framework: Framework | None
    nodes: list[PlannedNode]
    retired: list[FrameworkNode]
    root: PlannedNode | None = None

    def all_nodes(self) -> list[PlannedNode]:
        found, stack = [], list(reversed(self.nodes))
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed(node.children))
        return found

    def counts(self) -> dict[str, int]:
        planned = self.all_nodes() + ([self.root] if self.root else [])
        counts = {change: sum(node.change == change for node in planned) for change in (ADDED, UPDATED, UNCHANGED)}
        counts[RETIRED] = len(self.retired)
        counts |= {role: sum(node.data.role == role for node in planned) for role in ("group", COMPETENCY, CLAIM)}
        return counts

    def level_choices(self) -> list[tuple[int, str, str]]:
        """(level, the role chosen for it or "", what the default gives) for the level form of the preview."""
        depth = self.tree.depth()
        return [(level, self.levels.get(level, ""), _level_default(self.tree, level)) for level in range(depth + 1)]


def _level_default(tree: TreeData, level: int) -> str:
    """The roles the nodes of a level have now, in words ("competency, claim")."""
    if level == 0:
        return tree.role
    return ", ".join(sorted({node.role for node, _, at in tree.walk() if at == level}))


# --- reading files ---------------------------------------------------------------------------------------------


def framework_file_parse(*, name: str, data: bytes) -> TreeData:
    """Parse a framework file by its extension (`.csv` Moodle, `.json` CASE); its nodes have no roles yet.

    Raises:
        services.FrameworkImportError: naming the file and, where known, the line.
    """
    try:
        if len(data) > settings.IMPORT_MAX_BYTES:
            raise FormatError(f"the file is larger than {settings.IMPORT_MAX_BYTES // 1024} KB")
        text = _decode(data)
        if name.lower().endswith(".csv"):
            tree = parse_moodle_tree(text)
        elif name.lower().endswith(".json"):
            tree = parse_case_tree(text)
        else:
            raise FormatError("a framework file is a Moodle CSV (.csv) or a CASE 1.1 package (.json)")
    except FormatError as error:
        raise services.FrameworkImportError(name, error) from error
    return tree


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FormatError("the file is not UTF-8 text (save it as UTF-8 and try again)", line=line) from error


# --- planning --------------------------------------------------------------------------------------------------


def framework_plan(*, name: str, data: bytes, levels: Mapping[int, str] | None = None) -> ImportPlan:
    """What importing this file would change, read from the file and the database; nothing is saved."""
    tree = framework_file_parse(name=name, data=data)
    framework = _existing_framework(tree)
    # No choice made: a re-import keeps the roles chosen at the last import (else the default mapping).
    levels = dict(levels or {}) or {int(level): role for level, role in (framework.levels if framework else {}).items()}
    planner = _Planner.of(framework, tree)
    try:
        assign_roles(tree, levels)
        root = None
        if tree.role == COMPETENCY:
            root_data = NodeData(key=tree.key, short_name=tree.title, description=tree.description, role=COMPETENCY)
            root_data.idnumber, root_data.case_identifier = tree.idnumber, tree.source_identifier
            root_data.source_data = {"is_framework": True}
            root = planner.plan(root_data, 0, "", 0)
        top = tree.key if root else ""
        nodes = [planner.plan(node, 1, top, order) for order, node in enumerate(tree.nodes, start=1)]
    except FormatError as error:
        raise services.FrameworkImportError(name, error) from error
    planned = {id(p.existing) for p in _flatten(nodes) + ([root] if root else []) if p.existing}
    retired = [n for n in planner.existing.values() if id(n) not in planned and n.retired_at is None]
    return ImportPlan(name=name, tree=tree, levels=levels, framework=framework, nodes=nodes, retired=retired, root=root)


def _flatten(nodes: list[PlannedNode]) -> list[PlannedNode]:
    return [n for node in nodes for n in [node, *_flatten(node.children)]]


def _existing_framework(tree: TreeData) -> Framework | None:
    """The stored framework this file is a version of: by CFDocument identifier, else by Moodle id number.

    A competency written here is exported to CASE under its own UUID (the document identifier), so that package
    finds its framework of one through the competency.
    """
    if tree.source_identifier:
        found = Framework.objects.filter(source_identifier=tree.source_identifier).first()
        root = FrameworkNode.objects.filter(parent__isnull=True, competency__uuid=tree.source_identifier).first()
        return found or (root.framework if root and root.is_root_competency else None)
    return Framework.objects.filter(idnumber=tree.idnumber).first() if tree.idnumber else None


def _node_key(node: FrameworkNode, tree: TreeData) -> str:
    """A stored node's key in this file's terms: Moodle id number, or CASE identifier (a claim's or competency's
    own UUID where the node has none: what the site's CASE exports use)."""
    if node.is_root_competency:
        return tree.key
    if tree.source_format != "case":
        return node.idnumber
    own = node.claim.uuid if node.claim else node.competency.uuid if node.competency else ""
    return str(node.case_identifier or own or "")


LinkKey = tuple[str, str]  # (kind, the other end's key or an outside URI)


@dataclass
class _Planner:
    """Compares the file's nodes with the stored ones: by key; then place, names, text and links."""

    tree: TreeData
    existing: dict[str, FrameworkNode]
    keys: dict[int, str]
    stored_links: dict[str, set[LinkKey]]
    file_links: dict[str, set[LinkKey]]

    @classmethod
    def of(cls, framework: Framework | None, tree: TreeData) -> _Planner:
        nodes = list(framework.nodes.select_related("claim", "competency")) if framework else []
        keys = {node.pk: key for node in nodes if (key := _node_key(node, tree))}
        stored: dict[str, set[LinkKey]] = {}
        for link in NodeAssociation.objects.filter(origin__in=nodes):
            origin, other = keys.get(link.origin_id, ""), keys.get(link.destination_id or 0, link.destination_uri)
            stored.setdefault(origin, set()).add((link.kind, other))
            if link.kind in _SYMMETRIC and link.destination_id:
                stored.setdefault(other, set()).add((link.kind, origin))
        found: dict[str, set[LinkKey]] = {}
        for node, _parent, _level in tree.walk():
            for file_link in node.links:
                other = file_link.target or file_link.uri
                found.setdefault(node.key, set()).add((file_link.kind, other))
                if file_link.kind in _SYMMETRIC and file_link.target:
                    found.setdefault(other, set()).add((file_link.kind, node.key))
        existing = {keys[node.pk]: node for node in nodes if node.pk in keys}
        return cls(tree=tree, existing=existing, keys=keys, stored_links=stored, file_links=found)

    def plan(self, data: NodeData, level: int, parent: str, order: int) -> PlannedNode:
        row = self.existing.get(data.key)
        if row is not None and row.role != data.role:
            raise FormatError(
                f"{data.key!r} is a {row.get_role_display().lower()} here and would become a {data.role}; "
                "a node keeps its role across versions (choose the same role for its level, or import it as a new "
                "framework)",
                line=data.line,
            )
        change = ADDED if row is None else (UPDATED if self._differs(row, data, parent, order) else UNCHANGED)
        children = [self.plan(child, level + 1, data.key, n) for n, child in enumerate(data.children, start=1)]
        return PlannedNode(data=data, level=level, change=change, existing=row, children=children)

    def _differs(self, row: FrameworkNode, data: NodeData, parent: str, order: int) -> bool:
        text = row.claim.text if row.claim else row.short_name
        wanted = data.text if data.role == CLAIM else data.short_name
        return (
            row.retired_at is not None
            or (self.keys.get(row.parent_id or 0, ""), row.order) != (parent, order)
            or (row.short_name, row.description, text) != (data.short_name[:1000], data.description, wanted)
            or row.human_coding_scheme != data.human_coding_scheme
            or self.stored_links.get(data.key, set()) != self.file_links.get(data.key, set())
        )


# --- importing -------------------------------------------------------------------------------------------------


@transaction.atomic
def framework_import(*, name: str, data: bytes, levels: Mapping[int, str] | None = None) -> Framework:
    """Import (or re-import) a framework file, all or nothing.

    Raises:
        services.FrameworkImportError: the file, or a value in it, cannot be imported; nothing was changed.
    """
    plan = framework_plan(name=name, data=data, levels=levels)
    try:
        return _apply(plan)
    except FormatError as error:
        raise services.FrameworkImportError(name, error) from error


def _apply(plan: ImportPlan) -> Framework:
    tree = plan.tree
    framework = plan.framework or Framework()
    fields = {
        "title": tree.title[:200],
        # A format that has no such identifier keeps the other format's: a CASE import keeps the Moodle id number.
        "idnumber": tree.idnumber or framework.idnumber,
        "description": tree.description,
        "source_format": tree.source_format,
        "source_identifier": tree.source_identifier or framework.source_identifier,
        "source_uri": tree.source_uri,
        "source_version": tree.source_version,
        "scale_values": tree.scale_values or framework.scale_values,
        "scale_configuration": tree.scale_configuration or framework.scale_configuration,
        "taxonomies": tree.taxonomies or framework.taxonomies,
        "levels": {str(level): role for level, role in plan.levels.items()},
    }
    _save_if_changed(framework, fields, where=tree.title)
    saver = _Saver(framework=framework, tree=tree)
    top = saver.save(plan.root, None, None, 0) if plan.root else None
    for order, node in enumerate(plan.nodes, start=1):
        saver.save(node, top, top.competency if top else None, order)
    for gone in plan.retired:
        _retire(gone, where=tree.title)
    _save_links(framework, saver.saved, plan)
    return framework


def _save_if_changed(obj: object, fields: Mapping[str, object], *, where: str) -> None:
    services._save_if_changed(obj, fields, where=_clip(where))  # type: ignore[arg-type]


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Saver:
    framework: Framework
    tree: TreeData
    saved: dict[str, FrameworkNode] = field(default_factory=dict)
    claim_orders: dict[int, int] = field(default_factory=dict)

    def save(
        self, planned: PlannedNode, parent: FrameworkNode | None, competency: Competency | None, order: int
    ) -> FrameworkNode:
        data = planned.data
        node = planned.existing or FrameworkNode(framework=self.framework, role=data.role)
        where = f"{self.tree.title}, {data.key}"
        if data.role == COMPETENCY:
            competency = self._competency(node, data, where)
        elif data.role == CLAIM:
            if competency is None:  # assign_roles guarantees one; kept as a clear error rather than a crash
                raise FormatError(f"the claim {data.key!r} has no competency above it", line=data.line)
            node.claim = self._claim(node, data, competency, where)
        fields = {
            "parent": parent,
            "order": order,
            "short_name": data.short_name[:1000],
            "description": data.description,
            "idnumber": data.idnumber[:100] or node.idnumber,
            "case_identifier": uuid.UUID(data.case_identifier) if data.case_identifier else node.case_identifier,
            "human_coding_scheme": data.human_coding_scheme,
            "source_data": data.source_data,
            "competency": competency if data.role == COMPETENCY else None,
            "claim": node.claim if data.role == CLAIM else None,
            "retired_at": None,
        }
        _save_if_changed_node(node, fields)
        self.saved[data.key] = node
        for child_order, child in enumerate(planned.children, start=1):
            self.save(child, node, competency, child_order)
        return node

    def _competency(self, node: FrameworkNode, data: NodeData, where: str) -> Competency:
        competency = node.competency or Competency(slug=_free_slug(data.idnumber or data.short_name))
        fields = {
            "title": _clip(data.short_name, 200),
            "description": data.description,
            "category": competency.category or _clip(self.tree.title, 200),
            # New or back in the file: published. A draft stays a draft (the admin's choice, not the file's).
            "status": Competency.Status.DRAFT
            if competency.status == Competency.Status.DRAFT and competency.pk
            else Competency.Status.PUBLISHED,
        }
        services._save_if_changed(competency, fields, where=_clip(where))
        return competency

    def _claim(self, node: FrameworkNode, data: NodeData, competency: Competency, where: str) -> Claim:
        claim = node.claim or Claim(competency=competency)
        if claim.pk and claim.competency_id != competency.pk and services._claim_has_evidence(claim):
            raise FormatError(
                f"the claim {data.key!r} would move from the competency {claim.competency.title!r} to "
                f"{competency.title!r}, but evidence was filed for it there; give it a new id number instead "
                "(the old claim is then retired with its evidence)",
                line=data.line,
            )
        order = self.claim_orders[competency.pk] = self.claim_orders.get(competency.pk, 0) + 1
        fields: dict[str, object] = {"competency": competency, "text": data.text, "order": order, "is_active": True}
        stated = data.source_data.get("skillproof")
        if isinstance(stated, dict):
            kinds = tuple(str(kind) for kind in stated.get("evidenceKinds") or ())
            if claim.pk:
                services._check_keeps_training(claim, kinds, order=order, where=_clip(where))
            fields |= {"required": bool(stated.get("required", True)), "evidence_kinds": list(kinds)}
        services._save_if_changed(claim, fields, where=_clip(where))
        return claim


def _save_if_changed_node(node: FrameworkNode, fields: Mapping[str, object]) -> None:
    # Saving only on change keeps history meaningful on a re-import of an unchanged file.
    if node.pk and all(getattr(node, name) == value for name, value in fields.items()):
        return
    for name, value in fields.items():
        setattr(node, name, value)
    node.save()


def _free_slug(text: str) -> str:
    base = slugify(text)[:190] or "competency"
    slug, n = base, 1
    while Competency.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _retire(node: FrameworkNode, *, where: str) -> None:
    """Removed upstream: the node stays (retired); its claim takes no new evidence, its competency is retired."""
    if node.claim is not None and node.claim.is_active:
        services._retire_claim_keeping(node.claim, where=_clip(where))
    if node.competency is not None:
        services._save_if_changed(node.competency, {"status": Competency.Status.RETIRED}, where=_clip(where))
    node.retired_at = timezone.now()
    node.save(update_fields=["retired_at"])


def _save_links(framework: Framework, saved: dict[str, FrameworkNode], plan: ImportPlan) -> None:
    """Replace the framework's links with the file's (links carry no evidence; the file is their source)."""
    NodeAssociation.objects.filter(origin__framework=framework).delete()
    seen: set[tuple[str, str, str]] = set()
    rows = []
    for planned in plan.all_nodes():
        for order, link in enumerate(planned.data.links, start=1):
            ends = (planned.data.key, link.target)
            if link.target and link.kind in _SYMMETRIC and (link.kind, *sorted(ends)) in seen:  # type: ignore[arg-type]
                continue
            seen.add((link.kind, *sorted(ends)))  # type: ignore[arg-type]
            rows.append(
                NodeAssociation(
                    origin=saved[planned.data.key],
                    kind=link.kind,
                    destination=saved.get(link.target) if link.target else None,
                    destination_uri=link.uri,
                    destination_title=link.title,
                    destination_identifier=link.target_identifier,
                    case_identifier=link.identifier or None,
                    order=order,
                )
            )
    NodeAssociation.objects.bulk_create(rows)


# --- staging an upload for the preview -------------------------------------------------------------------------


def framework_upload_stage(*, name: str, data: bytes) -> str:
    """Keep an uploaded file server-side until the admin confirms; returns a signed token naming it."""
    directory = Path(settings.IMPORT_STAGING_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    _sweep(directory)
    file_id = secrets.token_hex(16)
    (directory / file_id).write_bytes(data)
    return signing.dumps({"id": file_id, "name": name}, salt=_SIGNING_SALT)


def framework_upload_load(*, token: str) -> tuple[str, bytes]:
    """The staged file a token names, as (file name, bytes).

    Raises:
        services.FrameworkImportError: the token is forged, expired or its file is gone.
    """
    try:
        payload = signing.loads(token, salt=_SIGNING_SALT, max_age=settings.IMPORT_STAGING_SECONDS)
        return str(payload["name"]), (Path(settings.IMPORT_STAGING_DIR) / str(payload["id"])).read_bytes()
    except (signing.BadSignature, OSError, KeyError, TypeError) as error:
        message = "the uploaded file has expired or is not known here; upload it again"
        raise services.FrameworkImportError("upload", FormatError(message)) from error


def framework_upload_discard(*, token: str) -> None:
    try:
        payload = signing.loads(token, salt=_SIGNING_SALT)
        (Path(settings.IMPORT_STAGING_DIR) / str(payload["id"])).unlink(missing_ok=True)
    except (signing.BadSignature, KeyError, TypeError):
        pass


def _sweep(directory: Path) -> None:
    """Forget staged files older than their tokens (an abandoned preview leaves one behind)."""
    limit = timezone.now().timestamp() - settings.IMPORT_STAGING_SECONDS
    for path in directory.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


# --- exporting -------------------------------------------------------------------------------------------------


def framework_tree_data(*, framework: Framework) -> TreeData:
    """The stored framework as a tree (retired nodes left out), with an id number on every node for Moodle."""
    roots = framework.roots()
    tree = TreeData(
        key=framework.idnumber or framework.source_identifier or str(framework.uuid),
        title=framework.title,
        source_format=framework.source_format,
        description=framework.description,
        idnumber=framework.idnumber or slugify(framework.title) or str(framework.uuid),
        source_identifier=framework.source_identifier,
        source_uri=framework.source_uri,
        source_version=framework.source_version,
        scale_values=framework.scale_values,
        scale_configuration=framework.scale_configuration,
        taxonomies=framework.taxonomies,
    )
    if len(roots) == 1 and roots[0].is_root_competency:
        root = roots[0]
        tree.role, roots = COMPETENCY, root.loaded_children
        if not tree.source_identifier and root.competency:
            # A competency written here is exported (as before) under its own UUID.
            tree.source_identifier = str(root.case_identifier or root.competency.uuid)
    idnumbers = _export_idnumbers(framework, tree)
    tree.nodes = [_node_data(node, idnumbers) for node in roots if node.retired_at is None]
    _add_links(framework, tree, idnumbers)
    return tree


def _export_idnumbers(framework: Framework, tree: TreeData) -> dict[int, str]:
    """Each node's Moodle id number: its own, else its human coding scheme, else its CASE identifier, else derived."""
    taken: set[str] = {tree.idnumber}
    idnumbers: dict[int, str] = {}
    nodes = list(framework.nodes.order_by("order", "id"))
    for node in nodes:
        if node.idnumber:
            taken.add(node.idnumber)
            idnumbers[node.pk] = node.idnumber
    for node in nodes:
        if node.pk in idnumbers:
            continue
        for candidate in (node.human_coding_scheme, str(node.case_identifier or ""), f"{tree.idnumber}-{node.pk}"):
            if candidate and candidate not in taken:
                taken.add(candidate)
                idnumbers[node.pk] = candidate
                break
    return idnumbers


def _node_data(node: FrameworkNode, idnumbers: dict[int, str]) -> NodeData:
    short_name, description = node.short_name, node.description
    if node.competency is not None and node.competency.title != _clip(node.short_name, 200):
        short_name, description = node.competency.title, node.competency.description  # edited on the site
    return NodeData(
        key=idnumbers[node.pk],
        idnumber=idnumbers[node.pk],
        short_name=short_name,
        text=node.claim.text if node.claim else short_name,
        description=description,
        case_identifier=str(node.case_identifier or (node.claim.uuid if node.claim else "")),
        human_coding_scheme=node.human_coding_scheme,
        source_data=_export_source_data(node),
        role=node.role,
        children=[_node_data(child, idnumbers) for child in node.loaded_children if child.retired_at is None],
    )


def _export_source_data(node: FrameworkNode) -> dict[str, object]:
    data = dict(node.source_data)
    if node.claim is not None:
        # What this site knows of a claim, for CASE's extension (a Moodle export has no column for it).
        data["skillproof"] = {"required": node.claim.required, "evidenceKinds": list(node.claim.evidence_kinds)}
    return data


def _add_links(framework: Framework, tree: TreeData, idnumbers: dict[int, str]) -> None:
    by_key = {node.key: node for node, _, _ in tree.walk()}
    links = NodeAssociation.objects.filter(origin__framework=framework).select_related("origin", "destination")
    for link in links.order_by("origin", "order", "id"):
        origin = by_key.get(idnumbers.get(link.origin_id, ""))
        destination = by_key.get(idnumbers.get(link.destination_id or 0, ""))
        if origin is None or (link.destination_id and destination is None):
            continue  # an end was retired
        identifier = str(link.case_identifier or "")
        origin.links.append(
            LinkData(
                link.kind,
                destination.key if destination else "",
                link.destination_uri,
                link.destination_title,
                identifier,
                link.destination_identifier,
            )
        )
        if destination is not None and link.kind in _SYMMETRIC:
            destination.links.append(LinkData(link.kind, origin.key, title=origin.short_name))


def framework_export(*, framework: Framework, fmt: str) -> tuple[str, str, str]:
    """A framework as (filename, content type, text) in `moodle` or `case` format."""
    tree = framework_tree_data(framework=framework)
    name = slugify(tree.idnumber) or "framework"
    if fmt == "moodle":
        return f"{name}.moodle.csv", "text/csv; charset=utf-8", write_moodle_tree(tree)
    package = export_case_tree(tree, uri_base=settings.SITE_URL, last_change=framework.updated_at)
    return f"{name}.case.json", "application/json", json.dumps(package, indent=2, ensure_ascii=False)


# --- frameworks of one competency ------------------------------------------------------------------------------


def framework_sync_competency(*, competency: Competency) -> None:
    """Keep a competency's framework nodes in step with what was written on this site (admin, seed Markdown).

    A competency with no framework gets its framework of one. Each claim without a node (added by hand) gets one
    under the competency's node; a retired claim's node is retired; a deleted claim's node is retired. The
    framework of one also follows the competency's title, description and claim order; an imported tree keeps
    its own names and order (the file is their source).
    """
    root = FrameworkNode.objects.filter(competency=competency).select_related("framework").first()
    if root is None:
        framework = Framework.objects.create(
            title=competency.title, idnumber=_free_idnumber(competency.slug), description=competency.description
        )
        root = FrameworkNode.objects.create(
            framework=framework,
            role=COMPETENCY,
            short_name=competency.title,
            idnumber=framework.idnumber,
            competency=competency,
            source_data={"is_framework": True},
        )
    framework, own = root.framework, root.is_root_competency
    if own:
        _save_if_changed_node(root, {"short_name": competency.title, "description": competency.description})
        names = {"title": competency.title, "description": competency.description}
        _save_if_changed(framework, names, where=competency.title)
    orphans = root.children.filter(role=CLAIM, claim__isnull=True, retired_at__isnull=True)
    for orphan in orphans:
        _save_if_changed_node(orphan, {"retired_at": timezone.now()})  # its claim was deleted
    # Claim nodes may sit under grouping nodes of the competency in an imported tree: found by claim, not by place.
    nodes = {node.claim_id: node for node in FrameworkNode.objects.filter(claim__competency=competency)}
    taken = set(framework.nodes.values_list("idnumber", flat=True))
    for claim in competency.claims.order_by("order", "id"):
        node = nodes.get(claim.pk)
        if node is None:
            idnumber = f"{root.idnumber or framework.idnumber}-{claim.order:02d}"
            while idnumber in taken:
                idnumber += "-b"
            taken.add(idnumber)
            node = FrameworkNode(framework=framework, parent=root, role=CLAIM, claim=claim, idnumber=idnumber)
            node.order, node.short_name = claim.order if own else root.children.count() + 1, claim.text[:1000]
        retired = (node.retired_at or timezone.now()) if not claim.is_active else None
        fields: dict[str, object] = {"retired_at": retired}
        if own:
            fields |= {"order": claim.order, "short_name": claim.text[:1000]}
        _save_if_changed_node(node, fields)


def _free_idnumber(slug: str) -> str:
    idnumber, n = slug[:100], 1
    while Framework.objects.filter(idnumber=idnumber).exists():
        n += 1
        idnumber = f"{slug[:95]}-{n}"
    return idnumber
